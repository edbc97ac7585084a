#pragma once
// The agent resource (PROTOCOL.md §2): data, JSON, validation, the status state machine.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reference/errors/errors.hpp"
#include "reference/util/expected.hpp"

namespace agent::models {

/// Schema limits of §2; the agent declares them in discovery "limits".
struct agent_limits {
    static constexpr std::size_t name_max = 64;
    static constexpr std::size_t version_max = 64;
    static constexpr std::size_t capabilities_max = 64;
    static constexpr std::size_t capability_name_max = 64;
    static constexpr std::size_t capability_version_max = 64;
    static constexpr std::size_t description_max = 256;
    static constexpr std::size_t endpoint_max = 2048;
    static constexpr std::size_t metadata_max = 32;
    static constexpr std::size_t metadata_key_max = 64;
    static constexpr std::size_t metadata_value_max = 256;
};

/// Agent statuses.
enum class agent_status { registered, active, inactive, degraded, draining };

/// "registered", "active", ...
const char* to_string(agent_status s) noexcept;
/// Parses a status name; nullopt when unknown.
std::optional<agent_status> parse_status(std::string_view s) noexcept;
/// True when §2 allows moving from `from` to `to` (a move to the same status is not a move).
bool transition_allowed(agent_status from, agent_status to) noexcept;

/// One capability an agent offers.
struct capability {
    std::string name;
    std::optional<std::string> version;
    std::optional<std::string> description;
    bool operator==(const capability&) const = default;
};

/// The fields a client may set (POST body, PUT body in full).
struct agent_input {
    std::string name;
    std::string version;
    std::vector<capability> capabilities;
    std::optional<std::string> endpoint;
    std::map<std::string, std::string> metadata;
};

/// A stored agent.
struct agent {
    std::string id;
    std::int64_t seq = 0; ///< creation order, never reused (cursor position)
    agent_input fields;
    agent_status status = agent_status::registered;
    std::string owner;
    std::string created_at; ///< RFC 3339 UTC ms
    std::string updated_at;
    std::int64_t revision = 1;
};

/// The resource as the wire shows it.
nlohmann::json to_json(const agent& a);
/// {"agent_id", "capabilities"} for GET /agents/{id}/capabilities.
nlohmann::json capabilities_json(const agent& a);
/// to_json(a).dump() and capabilities_json(a).dump(), byte for byte, written directly: every
/// write serialises the agent, and building the JSON tree first costs ten times as much.
std::string to_json_text(const agent& a);
std::string capabilities_json_text(const agent& a);
/// Rebuilds an agent from to_json() output (storage). nullopt when the document is damaged.
std::optional<agent> from_json(const nlohmann::json& j);

/// Validates a POST/PUT body. On failure: errc::validation_failed with one field_error per
/// bad field (JSON Pointers). Thread-safe.
util::expected<agent_input, error> parse_agent_input(const nlohmann::json& body);

/// Validates a PUT /agents/{id}/status body {"status", "reason"?}.
struct status_change {
    agent_status status;
    std::optional<std::string> reason;
};
util::expected<status_change, error> parse_status_change(const nlohmann::json& body);

/// Syntax checks, exposed for tests.
bool is_valid_name(std::string_view s) noexcept;
bool is_valid_capability_name(std::string_view s) noexcept;
bool is_valid_metadata_key(std::string_view s) noexcept;
bool is_valid_semver(std::string_view s) noexcept;
bool is_valid_endpoint(std::string_view s) noexcept;

/// Escapes one reference token for a JSON Pointer (RFC 6901: ~ → ~0, / → ~1).
std::string pointer_escape(std::string_view token);

} // namespace agent::models
