#pragma once
// The protocol's sequential specification of one agent (§2), for the linearizability checker:
// its state is {exists, rev, status, version}; its operations get, put (If-Match),
// set_status and delete, with the answers the protocol allows for each.

#include <string>

#include "conformance/properties/linearizability.hpp"

namespace agentcheck::lin {

/// PROTOCOL.md §2: true when an agent may move from status `from` to `to`.
bool move_allowed(const std::string& from, const std::string& to);

/// The model. `initial_version`: the version the agents start with ("" when unknown: reads
/// then do not compare versions until a PUT sets one).
model agent_model(const std::string& initial_version = "1.0.0");

/// The operation an HTTP exchange on /agents/{id} was, as the model's input ({"op", "key",
/// ...}); null for requests the model does not cover. `if_match` is the revision the
/// request's If-Match named (-1: none).
nlohmann::json agent_input(const std::string& key, const std::string& method,
                           const std::string& path_after_id, const std::string& request_body,
                           long long if_match);

/// The model's output for an answer: {"status"} and, for a 200 with an agent, "rev",
/// "agent_status" and "version".
nlohmann::json agent_output(int status, const std::string& body);

} // namespace agentcheck::lin
