#pragma once
// A source of randomness, injected so that jitter (and anything else drawn at random) is
// reproducible in tests: a seeded source gives the same draws for the same seed.

#include <cstdint>
#include <mutex>
#include <random>

namespace agent {

class random_source {
public:
    virtual ~random_source() = default;
    /// A uniformly distributed integer in [lo, hi] (lo <= hi). Thread-safe.
    virtual std::int64_t uniform(std::int64_t lo, std::int64_t hi) = 0;
};

/// std::mt19937_64 behind a mutex; seeded from std::random_device unless a seed is given.
class seeded_random final : public random_source {
public:
    seeded_random() : engine_(std::random_device{}()) {}
    explicit seeded_random(std::uint64_t seed) : engine_(seed) {}
    std::int64_t uniform(std::int64_t lo, std::int64_t hi) override {
        std::lock_guard lock(mutex_);
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(engine_);
    }

private:
    std::mutex mutex_;
    std::mt19937_64 engine_;
};

} // namespace agent
