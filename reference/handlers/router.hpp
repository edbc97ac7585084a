#pragma once
// Route table: which paths exist, which methods each takes, and what role each needs.

#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "reference/services/auth.hpp"

namespace agent::handlers {

/// Every route of the protocol that this agent serves.
enum class route_id {
    none,
    discovery,
    health,
    livez,
    readyz,
    metrics,            ///< /metrics (Prometheus text)
    agents,             ///< /agents
    agent,              ///< /agents/{id}
    agent_capabilities, ///< /agents/{id}/capabilities
    agent_status,       ///< /agents/{id}/status
    events,             ///< /events
    events_stream,      ///< /events/stream (WebSocket)
    tasks,              ///< /tasks
    task,               ///< /tasks/{id}
    task_retry,         ///< /tasks/{id}/retry
    agent_invoke,       ///< /agents/{id}/invoke
    audit,              ///< /audit (admin)
};

/// A method a route accepts and what it needs. role::none = no authentication.
struct method_rule {
    boost::beast::http::verb method;
    role needs;
    bool takes_body;
};

/// The result of matching a path.
struct route_match {
    route_id id = route_id::none;
    std::string_view route_template; ///< "/agents/{id}" (for logs and metrics)
    std::string agent_id;            ///< the {id} segment, when the route has one (agent or task)
};

/// Matches a request target's path (the query is ignored). Thread-safe.
route_match match_route(std::string_view target);

/// The methods a route accepts (HEAD is accepted wherever GET is).
const std::vector<method_rule>& route_methods(route_id id);

/// The rule for a method on a route, or null when the method is not allowed.
const method_rule* find_method(route_id id, boost::beast::http::verb method);

/// The Allow header value of a route: "GET, HEAD, POST, OPTIONS".
std::string allow_header(route_id id);

} // namespace agent::handlers
