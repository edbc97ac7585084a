#pragma once
// The robustness layer (`agentcheck run --layer robustness`): the request corpus of
// fixtures/requests, one check per case. Not part of a run that names no layer: its cases
// include requests held open for the agent's header timeout.

#include "conformance/harness/check.hpp"

namespace agentcheck {

/// Registers one check per case of the embedded request corpus (layer `robustness`).
void register_robustness(check_registry& registry);

} // namespace agentcheck
