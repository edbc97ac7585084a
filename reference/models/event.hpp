#pragma once
// Events (PROTOCOL.md §4): what the log holds, its JSON form, and the type rules.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reference/errors/errors.hpp"
#include "reference/util/expected.hpp"

namespace agent::models {

/// One event of the durable log.
struct event {
    std::int64_t seq = 0; ///< 1, 2, 3, … with no gaps, across restarts (set by the store)
    std::string id;       ///< lowercase UUID
    std::string type;     ///< a built-in type or a custom "x_…" one
    std::string at;       ///< RFC 3339 UTC with milliseconds
    std::optional<std::string> agent_id;
    nlohmann::json data = nlohmann::json::object();
};

/// The built-in event types.
inline constexpr std::string_view event_types[] = {
    "agent_registered", "agent_updated",      "agent_status_changed", "agent_deleted",
    "task_succeeded",   "task_dead_lettered", "circuit_opened",       "circuit_closed"};

/// True for ^x_[a-z0-9_]{1,60}$ (a type clients may publish).
bool is_custom_event_type(std::string_view type) noexcept;
/// True for a built-in type or a custom one.
bool is_event_type(std::string_view type) noexcept;

/// {"seq", "id", "type", "at", "agent_id"?, "data"}.
nlohmann::json to_json(const event& e);
/// The stored document: to_json without seq (the store keeps seq in its own column, so
/// the document can be written before the number is known).
nlohmann::json to_stored_json(const event& e);
/// The inverse of to_json (the store's rows); nullopt when the document is not an event.
std::optional<event> event_from_json(const nlohmann::json& j);

/// What POST /events may carry.
struct event_input {
    std::string type;
    std::optional<std::string> agent_id;
    nlohmann::json data = nlohmann::json::object();
};

/// Validates a POST /events body: "type" custom (x_…), "agent_id" a UUID string if present,
/// "data" an object, nothing else. errc::validation_failed with a pointer
/// per problem.
util::expected<event_input, error> parse_event_input(const nlohmann::json& body);

} // namespace agent::models
