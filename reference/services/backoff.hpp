#pragma once
// Retry backoff (PROTOCOL.md §6, shared by tasks and invoke): attempt n waits
// min(cap, base · 2^(n-1)), jittered uniformly within [half, full] of that ("equal jitter").

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "reference/interfaces/random.hpp"

namespace agent {

/// The ceiling before jitter for the wait after failed attempt `attempt` (1-based).
inline std::chrono::milliseconds backoff_ceiling(int attempt, std::chrono::milliseconds base,
                                                 std::chrono::milliseconds cap) {
    const int doublings = std::clamp(attempt - 1, 0, 40);
    const auto grown = base.count() * (std::int64_t{1} << std::min(doublings, 30));
    return std::chrono::milliseconds(std::min<std::int64_t>(cap.count(), grown));
}

/// The jittered wait: uniform in [ceiling / 2, ceiling].
inline std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                               std::chrono::milliseconds cap, random_source& rnd) {
    const auto ceiling = backoff_ceiling(attempt, base, cap).count();
    return std::chrono::milliseconds(rnd.uniform(ceiling / 2, ceiling));
}

} // namespace agent
