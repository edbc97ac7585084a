// Token buckets per principal, in simulated time: burst, refill, the headers' figures,
// isolation, and the bound on memory.
#include "reference/services/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace agent {
namespace {

using namespace std::chrono_literals;

TEST(rate_limiter, a_burst_passes_then_the_bucket_refuses_until_it_refills) {
    manual_clock clk;
    rate_limiter rl({10, 5, 1000}, clk);
    for (int i = 0; i < 5; ++i) {
        auto d = rl.take("alice");
        ASSERT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.limit, 5);
        EXPECT_EQ(d.remaining, 4 - i);
    }
    auto refused = rl.take("alice");
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0);
    EXPECT_EQ(refused.retry_after_s, 1) << "one token comes in 0.1 s: rounded up to 1 s";
    EXPECT_EQ(refused.reset_s, 1) << "5 tokens at 10/s: full in 0.5 s, rounded up";
    clk.advance(99ms);
    EXPECT_FALSE(rl.take("alice").allowed);
    clk.advance(2ms); // 0.101 s since the bucket emptied: one token
    EXPECT_TRUE(rl.take("alice").allowed);
    EXPECT_FALSE(rl.take("alice").allowed);
    clk.advance(10s); // refills to the burst, never past it
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(rl.take("alice").allowed) << i;
    EXPECT_FALSE(rl.take("alice").allowed);
}

TEST(rate_limiter, retry_after_is_whole_seconds_until_a_token) {
    manual_clock clk;
    rate_limiter rl({0.25 * 4, 1, 1000}, clk); // 1 per second, burst 1
    EXPECT_TRUE(rl.take("p").allowed);
    auto d = rl.take("p");
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after_s, 1);
    clk.advance(1s);
    EXPECT_TRUE(rl.take("p").allowed) << "after Retry-After seconds the next request passes";
}

TEST(rate_limiter, one_principals_excess_never_limits_another) {
    manual_clock clk;
    rate_limiter rl({1, 3, 1000}, clk);
    for (int i = 0; i < 10; ++i)
        (void)rl.take("greedy");
    EXPECT_FALSE(rl.take("greedy").allowed);
    for (int i = 0; i < 3; ++i)
        EXPECT_TRUE(rl.take("modest").allowed) << i;
}

TEST(rate_limiter, memory_is_bounded_whatever_the_number_of_principals) {
    manual_clock clk;
    rate_limiter rl({100, 200, 6400}, clk); // 100 buckets per shard
    for (int i = 0; i < 100000; ++i)
        (void)rl.take("principal-" + std::to_string(i));
    EXPECT_LE(rl.size(), 6400U);
    EXPECT_GE(rl.size(), 6000U) << "shards fill evenly enough to use the bound";
}

TEST(rate_limiter, a_full_shard_drops_its_least_recently_used_bucket) {
    manual_clock clk;
    rate_limiter rl({1, 2, rate_limiter::shard_count}, clk); // one bucket per shard
    // Three principals of the same shard.
    auto shard_of = [](const std::string& p) {
        return std::hash<std::string_view>{}(p) % rate_limiter::shard_count;
    };
    std::vector<std::string> same;
    for (int i = 0; same.size() < 2; ++i) {
        const auto p = "p" + std::to_string(i);
        if (same.empty() || shard_of(p) == shard_of(same.front())) same.push_back(p);
    }
    (void)rl.take(same[0]);
    (void)rl.take(same[0]);
    EXPECT_FALSE(rl.take(same[0]).allowed) << "empty";
    EXPECT_TRUE(rl.take(same[1]).allowed) << "a new principal in the full shard gets a bucket";
    EXPECT_EQ(rl.size(), 1U) << "the shard still holds one bucket";
    EXPECT_TRUE(rl.take(same[0]).allowed)
        << "the dropped bucket starts again full: the price of the bound";
}

TEST(rate_limiter, concurrent_takes_never_hand_out_more_than_the_burst) {
    manual_clock clk; // time stands still: exactly the burst can pass
    rate_limiter rl({1, 1000, 1000}, clk);
    std::atomic<int> passed{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                passed += rl.take("shared").allowed ? 1 : 0;
        });
    for (auto& t : ts)
        t.join();
    EXPECT_EQ(passed.load(), 1000);
}

} // namespace
} // namespace agent
