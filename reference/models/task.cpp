#include "reference/models/task.hpp"

#include <algorithm>

#include "reference/util/failpoint.hpp"
#include "reference/util/uuid.hpp"

namespace agent::models {

const char* to_string(task_status s) noexcept {
    switch (s) {
    case task_status::queued:
        return "queued";
    case task_status::running:
        return "running";
    case task_status::succeeded:
        return "succeeded";
    case task_status::dead_lettered:
        return "dead_lettered";
    }
    return "queued";
}

std::optional<task_status> parse_task_status(std::string_view s) noexcept {
    for (auto st : {task_status::queued, task_status::running, task_status::succeeded,
                    task_status::dead_lettered})
        if (s == to_string(st)) return st;
    return std::nullopt;
}

nlohmann::json to_json(const task& t) {
    nlohmann::json j = {{"id", t.id},
                        {"type", t.type},
                        {"payload", t.payload},
                        {"status", to_string(t.status)},
                        {"attempts", t.attempts},
                        {"max_attempts", t.max_attempts},
                        {"owner", t.owner},
                        {"created_at", t.created_at},
                        {"updated_at", t.updated_at}};
    if (t.last_error) j["last_error"] = *t.last_error;
    if (t.result) j["result"] = *t.result;
    return j;
}

nlohmann::json to_stored_json(const task& t) {
    auto j = to_json(t);
    j["next_attempt_ms"] = t.next_attempt_ms;
    return j;
}

std::optional<task> task_from_stored_json(const nlohmann::json& j) {
    try {
        task t;
        t.id = j.at("id").get<std::string>();
        t.type = j.at("type").get<std::string>();
        t.payload = j.value("payload", nlohmann::json::object());
        auto st = parse_task_status(j.at("status").get<std::string>());
        if (!st) return std::nullopt;
        t.status = *st;
        t.attempts = j.at("attempts").get<int>();
        t.max_attempts = j.at("max_attempts").get<int>();
        if (j.contains("last_error")) t.last_error = j["last_error"].get<std::string>();
        if (j.contains("result")) t.result = j["result"];
        t.owner = j.value("owner", std::string());
        t.created_at = j.at("created_at").get<std::string>();
        t.updated_at = j.at("updated_at").get<std::string>();
        t.next_attempt_ms = j.value("next_attempt_ms", std::int64_t{0});
        return t;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

namespace {

void check_payload(const std::string& type, const nlohmann::json& payload,
                   std::vector<field_error>& errs) {
    auto need_int = [&](const char* key, long long lo, long long hi) {
        if (!payload.contains(key) || !payload[key].is_number_integer() ||
            payload[key].get<long long>() < lo || payload[key].get<long long>() > hi)
            errs.push_back(
                {std::string("/payload/") + key,
                 "required: an integer from " + std::to_string(lo) + " to " + std::to_string(hi)});
    };
    if (type == "flaky") need_int("fail_times", 0, task_limits::max_attempts_max);
    if (type == "sleep") need_int("ms", 0, task_limits::sleep_ms_max);
    if (type == "agent_health_check") {
        if (!payload.contains("agent_id") || !payload["agent_id"].is_string() ||
            !util::is_uuid(payload["agent_id"].get<std::string>()))
            errs.push_back({"/payload/agent_id", "required: an agent id"});
    }
}

} // namespace

util::expected<task_input, error> parse_task_input(const nlohmann::json& body) {
    if (!body.is_object())
        return util::unexpected(error{errc::validation_failed,
                                      "the request body must be a JSON object",
                                      {{"", "must be an object"}}});
    std::vector<field_error> errs;
    task_input in;
    for (const auto& [k, v] : body.items())
        if (k != "type" && k != "payload" && k != "max_attempts")
            errs.push_back({"/" + k, "unknown field"});
    if (!body.contains("type") || !body["type"].is_string()) {
        errs.push_back({"/type", "required: a task type"});
    } else {
        in.type = body["type"].get<std::string>();
        // TASK-003: a task of unknown type is 422.
        if (std::find(std::begin(task_types), std::end(task_types), in.type) ==
                std::end(task_types) &&
            !AGENT_FAILPOINT("TASK-003.unknown-type-accepted"))
            errs.push_back({"/type", "unknown task type (noop, echo, fail, flaky, sleep, "
                                     "agent_health_check)"});
    }
    if (!body.contains("payload") || !body["payload"].is_object())
        errs.push_back({"/payload", "required: an object"});
    else
        in.payload = body["payload"];
    if (body.contains("max_attempts")) {
        const auto& m = body["max_attempts"];
        // TASK-002: 1 to 10 (the failpoint's upper bound is off by one).
        const long long max_attempts_max =
            task_limits::max_attempts_max +
            (AGENT_FAILPOINT("TASK-002.eleven-attempts-accepted") ? 1 : 0);
        if (!m.is_number_integer() || m.get<long long>() < task_limits::max_attempts_min ||
            m.get<long long>() > max_attempts_max)
            errs.push_back({"/max_attempts", "must be an integer from 1 to 10"});
        else
            in.max_attempts = m.get<int>();
    }
    if (errs.empty()) check_payload(in.type, in.payload, errs);
    if (!errs.empty())
        return util::unexpected(
            error{errc::validation_failed, "the request body breaks the task schema", errs});
    return in;
}

} // namespace agent::models
