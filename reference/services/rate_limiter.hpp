#pragma once
// Rate limits (PROTOCOL.md §8, feature `rate_limit`): a token bucket per principal — the
// token's `sub`, or the client's address when the request carries no valid token — holding
// up to `burst` tokens and refilled at `requests_per_second`. A request takes one token;
// without one it is answered 429 with Retry-After and the RateLimit-* headers.
//
// No lock is shared by all requests: the buckets live in 64 shards chosen by a hash of the
// principal, each with its own mutex. Memory is bounded: a shard keeps at most
// max_principals / 64 buckets. When a new principal arrives at a full shard, the bucket used
// least recently is dropped — a full bucket loses nothing by being dropped (a new one starts
// full), and a bucket that is not full is dropped only once a shard's worth of other
// principals has arrived since its last request.

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "reference/interfaces/clock.hpp"

namespace agent {

struct rate_limit_settings {
    double requests_per_second = 100;
    std::int64_t burst = 200;
    std::size_t max_principals = 100000; ///< buckets kept at most (over all shards)
};

/// What taking a token decided, and what the RateLimit-* headers say.
struct rate_decision {
    bool allowed = true;
    std::int64_t limit = 0;         ///< RateLimit-Limit: the burst
    std::int64_t remaining = 0;     ///< RateLimit-Remaining: whole tokens left
    std::int64_t reset_s = 0;       ///< RateLimit-Reset: seconds until the bucket is full
    std::int64_t retry_after_s = 0; ///< Retry-After when refused: seconds until one token
};

/// Thread-safe.
class rate_limiter {
public:
    static constexpr std::size_t shard_count = 64;

    rate_limiter(rate_limit_settings s, const clock& clk);

    /// Takes a token from `principal`'s bucket.
    rate_decision take(std::string_view principal);

    /// Buckets kept now (all shards).
    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] const rate_limit_settings& settings() const noexcept { return settings_; }

private:
    struct bucket {
        double tokens = 0;
        std::int64_t at_ns = 0; ///< when tokens was last brought up to date
        std::list<std::string>::iterator lru;
    };
    struct shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, bucket> buckets;
        std::list<std::string> lru; ///< least recently used first
    };

    rate_limit_settings settings_;
    const clock& clk_;
    std::size_t per_shard_max_;
    std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace agent
