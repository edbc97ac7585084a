#include "reference/models/event.hpp"

#include <algorithm>

#include "reference/util/failpoint.hpp"
#include "reference/util/uuid.hpp"

namespace agent::models {

namespace {
constexpr std::size_t custom_type_max = 62; // "x_" + 60
} // namespace

bool is_custom_event_type(std::string_view type) noexcept {
    if (type.size() < 3 || type.size() > custom_type_max || !type.starts_with("x_")) return false;
    return std::all_of(type.begin() + 2, type.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool is_event_type(std::string_view type) noexcept {
    return is_custom_event_type(type) ||
           std::find(std::begin(event_types), std::end(event_types), type) != std::end(event_types);
}

nlohmann::json to_stored_json(const event& e) {
    nlohmann::json j = {{"id", e.id}, {"type", e.type}, {"at", e.at}};
    if (e.agent_id) j["agent_id"] = *e.agent_id;
    j["data"] = e.data;
    return j;
}

nlohmann::json to_json(const event& e) {
    nlohmann::json j = to_stored_json(e);
    j["seq"] = e.seq;
    return j;
}

std::optional<event> event_from_json(const nlohmann::json& j) {
    if (!j.is_object()) return std::nullopt;
    try {
        event e;
        e.seq = j.at("seq").get<std::int64_t>();
        e.id = j.at("id").get<std::string>();
        e.type = j.at("type").get<std::string>();
        e.at = j.at("at").get<std::string>();
        if (j.contains("agent_id")) e.agent_id = j["agent_id"].get<std::string>();
        e.data = j.value("data", nlohmann::json::object());
        return e;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

util::expected<event_input, error> parse_event_input(const nlohmann::json& body) {
    std::vector<field_error> errs;
    event_input in;
    if (!body.is_object()) {
        return util::unexpected(error{errc::validation_failed,
                                      "the request body must be a JSON object",
                                      {{"", "must be an object"}}});
    }
    for (const auto& [k, v] : body.items()) {
        if (k != "type" && k != "agent_id" && k != "data")
            errs.push_back({"/" + k, "unknown field"});
    }
    if (!body.contains("type") || !body["type"].is_string()) {
        errs.push_back({"/type", "required: a custom event type ^x_[a-z0-9_]{1,60}$"});
    } else {
        in.type = body["type"].get<std::string>();
        // EVT-007: only custom types are published; the built-in ones are the agent's own.
        if (AGENT_FAILPOINT("EVT-007.builtin-type-accepted") ? !is_event_type(in.type)
                                                             : !is_custom_event_type(in.type))
            errs.push_back({"/type", "must match ^x_[a-z0-9_]{1,60}$ (built-in types are "
                                     "emitted by the agent only)"});
    }
    if (body.contains("agent_id")) {
        if (!body["agent_id"].is_string() || !util::is_uuid(body["agent_id"].get<std::string>()))
            errs.push_back({"/agent_id", "must be an agent id (a lowercase UUID)"});
        else
            in.agent_id = body["agent_id"].get<std::string>();
    }
    if (!body.contains("data") || !body["data"].is_object())
        errs.push_back({"/data", "required: an object"});
    else
        in.data = body["data"];
    if (!errs.empty())
        return util::unexpected(
            error{errc::validation_failed, "the request body breaks the event schema", errs});
    return in;
}

} // namespace agent::models
