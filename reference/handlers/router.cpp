#include "reference/handlers/router.hpp"

#include "reference/util/failpoint.hpp"

namespace agent::handlers {
namespace {

using boost::beast::http::verb;

const std::vector<method_rule>& rules_for(route_id id) {
    static const std::vector<method_rule> none;
    static const std::vector<method_rule> public_get = {{verb::get, role::none, false}};
    static const std::vector<method_rule> agents = {{verb::get, role::viewer, false},
                                                    {verb::post, role::operator_, true}};
    static const std::vector<method_rule> agent = {{verb::get, role::viewer, false},
                                                   {verb::put, role::operator_, true},
                                                   {verb::delete_, role::operator_, false}};
    static const std::vector<method_rule> caps = {{verb::get, role::viewer, false}};
    static const std::vector<method_rule> status = {{verb::get, role::viewer, false},
                                                    {verb::put, role::operator_, true}};
    static const std::vector<method_rule> stream = {{verb::get, role::viewer, false}};
    static const std::vector<method_rule> tasks = {{verb::get, role::viewer, false},
                                                   {verb::post, role::operator_, true}};
    static const std::vector<method_rule> task = {{verb::get, role::viewer, false}};
    static const std::vector<method_rule> retry = {{verb::post, role::operator_, false}};
    // INV-011: invoking needs operator (the failpoint lets viewers invoke).
    static const std::vector<method_rule> invoke = {
        {verb::post, AGENT_FAILPOINT("INV-011.viewer-may-invoke") ? role::viewer : role::operator_,
         true}};
    // AUD-003: the audit log is for admins (the failpoint opens it to operators).
    static const std::vector<method_rule> audit = {
        {verb::get, AGENT_FAILPOINT("AUD-003.operator-reads-audit") ? role::operator_ : role::admin,
         false}};
    // EVT-010: viewers read events; publishing needs operator.
    static const std::vector<method_rule> events = {
        {verb::get, role::viewer, false},
        {verb::post, AGENT_FAILPOINT("EVT-010.viewer-may-publish") ? role::viewer : role::operator_,
         true}};
    switch (id) {
    case route_id::discovery:
    case route_id::health:
    case route_id::livez:
    case route_id::readyz:
    case route_id::metrics:
        return public_get;
    case route_id::agents:
        return agents;
    case route_id::agent:
        return agent;
    case route_id::agent_capabilities:
        return caps;
    case route_id::agent_status:
        return status;
    case route_id::events:
        return events;
    case route_id::events_stream:
        return stream;
    case route_id::tasks:
        return tasks;
    case route_id::task:
        return task;
    case route_id::task_retry:
        return retry;
    case route_id::agent_invoke:
        return invoke;
    case route_id::audit:
        return audit;
    case route_id::none:
        break;
    }
    return none;
}

} // namespace

route_match match_route(std::string_view target) {
    auto path = target.substr(0, target.find('?'));
    if (path == "/.well-known/agent-service")
        return {route_id::discovery, "/.well-known/agent-service", {}};
    if (path == "/health") return {route_id::health, "/health", {}};
    if (path == "/livez") return {route_id::livez, "/livez", {}};
    if (path == "/readyz") return {route_id::readyz, "/readyz", {}};
    if (path == "/metrics") return {route_id::metrics, "/metrics", {}};
    if (path == "/agents") return {route_id::agents, "/agents", {}};
    if (path == "/events") return {route_id::events, "/events", {}};
    if (path == "/events/stream") return {route_id::events_stream, "/events/stream", {}};
    if (path == "/tasks") return {route_id::tasks, "/tasks", {}};
    if (path == "/audit") return {route_id::audit, "/audit", {}};
    if (path.starts_with("/tasks/")) {
        auto rest = path.substr(7);
        auto slash = rest.find('/');
        auto id = rest.substr(0, slash);
        if (id.empty()) return {};
        if (slash == std::string_view::npos)
            return {route_id::task, "/tasks/{id}", std::string(id)};
        if (rest.substr(slash) == "/retry")
            return {route_id::task_retry, "/tasks/{id}/retry", std::string(id)};
        return {};
    }
    constexpr std::string_view prefix = "/agents/";
    if (!path.starts_with(prefix)) return {};
    auto rest = path.substr(prefix.size());
    auto slash = rest.find('/');
    auto id = rest.substr(0, slash);
    if (id.empty()) return {};
    if (slash == std::string_view::npos) return {route_id::agent, "/agents/{id}", std::string(id)};
    auto sub = rest.substr(slash);
    if (sub == "/capabilities")
        return {route_id::agent_capabilities, "/agents/{id}/capabilities", std::string(id)};
    if (sub == "/status") return {route_id::agent_status, "/agents/{id}/status", std::string(id)};
    if (sub == "/invoke") return {route_id::agent_invoke, "/agents/{id}/invoke", std::string(id)};
    return {};
}

const std::vector<method_rule>& route_methods(route_id id) {
    return rules_for(id);
}

const method_rule* find_method(route_id id, verb method) {
    const auto& rules = rules_for(id);
    if (method == verb::head) method = verb::get;
    for (const auto& r : rules)
        if (r.method == method) return &r;
    return nullptr;
}

std::string allow_header(route_id id) {
    std::string out;
    for (const auto& r : rules_for(id)) {
        if (!out.empty()) out += ", ";
        out += std::string(boost::beast::http::to_string(r.method));
        if (r.method == verb::get) out += ", HEAD";
    }
    if (!out.empty()) out += ", OPTIONS";
    return out;
}

} // namespace agent::handlers
