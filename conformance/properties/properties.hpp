#pragma once
// The property layer: generated operation sequences run against a live target and checked
// against a model of the protocol after every step (RapidCheck's rc::state), and histories
// from concurrent clients checked for linearizability (conformance/properties/
// linearizability.hpp). Black-box: the target is known only through its URL, its discovery
// document and the credentials the run mints.

#include "conformance/harness/check.hpp"

namespace agentcheck {

/// Registers the property checks (layer `property`).
void register_properties(check_registry& registry);

} // namespace agentcheck
