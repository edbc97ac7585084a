#pragma once
#include <atomic>

namespace agent {

/// Readiness of the process (PROTOCOL.md §1 and §9). Thread-safe.
struct lifecycle_state {
    std::atomic<bool> ready{false};    ///< start-up finished
    std::atomic<bool> draining{false}; ///< SIGTERM received
    /// True when /readyz should answer 200.
    [[nodiscard]] bool is_ready() const noexcept { return ready.load() && !draining.load(); }
};

} // namespace agent
