#pragma once
// Tasks (PROTOCOL.md §6): the resource, its JSON, the built-in types and their payloads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reference/errors/errors.hpp"
#include "reference/util/expected.hpp"

namespace agent::models {

enum class task_status { queued, running, succeeded, dead_lettered };
const char* to_string(task_status s) noexcept;
std::optional<task_status> parse_task_status(std::string_view s) noexcept;

/// The built-in task types.
inline constexpr std::string_view task_types[] = {"noop",  "echo",  "fail",
                                                  "flaky", "sleep", "agent_health_check"};

/// Bounds of §6.
struct task_limits {
    static constexpr int max_attempts_min = 1;
    static constexpr int max_attempts_max = 10;
    static constexpr int max_attempts_default = 3;
    static constexpr long long sleep_ms_max = 10000;
};

struct task {
    std::int64_t seq = 0; ///< creation order (set by the store)
    std::string id;
    std::string type;
    nlohmann::json payload = nlohmann::json::object();
    task_status status = task_status::queued;
    int attempts = 0;
    int max_attempts = task_limits::max_attempts_default;
    std::optional<std::string> last_error;
    std::optional<nlohmann::json> result;
    std::string owner; ///< the sub that submitted it
    std::string created_at;
    std::string updated_at;
    std::int64_t next_attempt_ms = 0; ///< when it may run next (ms since the epoch)
};

/// The wire form (without next_attempt_ms).
nlohmann::json to_json(const task& t);
/// The stored form (with next_attempt_ms) and back.
nlohmann::json to_stored_json(const task& t);
std::optional<task> task_from_stored_json(const nlohmann::json& j);

/// What POST /tasks carries, validated.
struct task_input {
    std::string type;
    nlohmann::json payload = nlohmann::json::object();
    int max_attempts = task_limits::max_attempts_default;
};

/// Validates a POST /tasks body: a known type, a payload that suits it, max_attempts 1–10.
/// errc::validation_failed with a pointer per problem.
util::expected<task_input, error> parse_task_input(const nlohmann::json& body);

} // namespace agent::models
