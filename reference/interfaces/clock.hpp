#pragma once
#include <atomic>
#include <chrono>

namespace agent {

/// Source of wall-clock and monotonic time, injected so that token expiry, rate limits,
/// backoff and breakers are tested in simulated time. Implementations are thread-safe.
class clock {
public:
    virtual ~clock() = default;
    /// Wall-clock time (timestamps, JWT exp/nbf/iat).
    [[nodiscard]] virtual std::chrono::system_clock::time_point now() const = 0;
    /// Monotonic time (timeouts, durations).
    [[nodiscard]] virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

/// The real clocks.
class system_clock_source final : public clock {
public:
    [[nodiscard]] std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::now();
    }
    [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::now();
    }
};

/// A clock that only moves when told to (tests). Thread-safe.
class manual_clock final : public clock {
public:
    explicit manual_clock(std::chrono::system_clock::time_point start = {})
        : wall_(start.time_since_epoch().count()) {}
    [[nodiscard]] std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::time_point(
            std::chrono::system_clock::duration(wall_.load()));
    }
    [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::time_point(
            std::chrono::steady_clock::duration(mono_.load()));
    }
    /// Moves both clocks forward by d.
    void advance(std::chrono::nanoseconds d) {
        wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d).count();
        mono_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count();
    }
    /// Sets the wall clock.
    void set(std::chrono::system_clock::time_point t) { wall_ = t.time_since_epoch().count(); }

private:
    std::atomic<std::chrono::system_clock::rep> wall_;
    std::atomic<std::chrono::steady_clock::rep> mono_{0};
};

} // namespace agent
