#include "reference/services/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace agent {

rate_limiter::rate_limiter(rate_limit_settings s, const clock& clk)
    : settings_(s), clk_(clk),
      per_shard_max_(std::max<std::size_t>(1, s.max_principals / shard_count)) {
    shards_.reserve(shard_count);
    for (std::size_t i = 0; i < shard_count; ++i)
        shards_.push_back(std::make_unique<shard>());
}

rate_decision rate_limiter::take(std::string_view principal) {
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            clk_.steady_now().time_since_epoch())
                            .count();
    const double rate = settings_.requests_per_second;
    const auto burst = static_cast<double>(settings_.burst);
    auto& sh = *shards_[std::hash<std::string_view>{}(principal) % shard_count];
    double tokens = 0;
    bool allowed = false;
    {
        std::lock_guard lock(sh.mutex);
        auto it = sh.buckets.find(std::string(principal));
        if (it == sh.buckets.end()) {
            if (sh.buckets.size() >= per_shard_max_) {
                sh.buckets.erase(sh.lru.front());
                sh.lru.pop_front();
            }
            sh.lru.emplace_back(principal);
            it = sh.buckets
                     .emplace(std::string(principal),
                              bucket{burst, now_ns, std::prev(sh.lru.end())})
                     .first;
        } else {
            sh.lru.splice(sh.lru.end(), sh.lru, it->second.lru); // now the most recent
        }
        auto& b = it->second;
        const double elapsed_s =
            static_cast<double>(std::max<std::int64_t>(0, now_ns - b.at_ns)) / 1e9;
        b.tokens = std::min(burst, b.tokens + elapsed_s * rate);
        b.at_ns = now_ns;
        if (b.tokens >= 1) {
            b.tokens -= 1;
            allowed = true;
        }
        tokens = b.tokens;
    }
    rate_decision d;
    d.allowed = allowed;
    d.limit = settings_.burst;
    d.remaining = static_cast<std::int64_t>(std::floor(tokens));
    d.reset_s = static_cast<std::int64_t>(std::ceil((burst - tokens) / rate));
    d.retry_after_s = allowed ? 0
                              : std::max<std::int64_t>(
                                    1, static_cast<std::int64_t>(std::ceil((1 - tokens) / rate)));
    return d;
}

std::size_t rate_limiter::size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s->mutex);
        n += s->buckets.size();
    }
    return n;
}

} // namespace agent
