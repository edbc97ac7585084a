// The WebSocket routes (PROTOCOL.md §5): GET /agents/{id}/status and GET /events/stream.
// Routing and authentication ran already (the token is on the upgrade request); this checks
// the resource and the query, then hands the connection to the transport as a stream_plan.
#include <boost/beast/websocket/rfc6455.hpp>

#include "reference/handlers/app.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/util/text.hpp"

namespace agent::handlers {

void handle_stream(const app& a, const exchange_ptr& x) {
    stream_plan plan;
    plan.request_id = x->request_id;
    plan.traceresponse = x->trace.header();
    if (x->route.id == route_id::agent_status) {
        plan.what = stream_plan::kind::agent_status;
        plan.agent_id = x->route.agent_id;
        plan.snapshot = a.svc().agents.get(plan.agent_id);
        // WS-002: an unknown agent is 404 before the upgrade.
        if (!plan.snapshot && !AGENT_FAILPOINT("WS-002.unknown-agent-upgraded"))
            return a.fail(x, {errc::not_found, "no agent with id " + plan.agent_id, {}});
    } else {
        auto params = parse_query(x->req.target());
        if (!params) return a.fail(x, params.error());
        for (const auto& p : *params) {
            if (p.name == "after") {
                auto n = util::parse_int(p.value);
                if (!n || *n < 0)
                    return a.fail(
                        x,
                        {errc::bad_request, "query parameter 'after' must be an integer >= 0", {}});
                // WS-006: the events after `after` are replayed before the live ones.
                if (!AGENT_FAILPOINT("WS-006.after-ignored")) plan.after = *n;
            } else if (p.name == "types") {
                std::string_view rest = p.value;
                while (!rest.empty()) {
                    const auto comma = rest.find(',');
                    auto type = std::string(util::trim(rest.substr(0, comma)));
                    rest = comma == std::string_view::npos ? std::string_view{}
                                                           : rest.substr(comma + 1);
                    if (type.empty()) continue;
                    if (!models::is_event_type(type))
                        return a.fail(
                            x, {errc::bad_request,
                                "query parameter 'types': \"" + type + "\" is not an event type",
                                {}});
                    plan.types.push_back(std::move(type));
                }
            }
        }
    }
    if (!boost::beast::websocket::is_upgrade(x->req) || !x->upgrade) {
        return a.fail(x, {errc::upgrade_required,
                          std::string(x->route.route_template) +
                              " is a WebSocket stream: send the request as a WebSocket upgrade",
                          {}});
    }
    plan.req = std::move(x->req);
    auto upgrade = std::move(x->upgrade);
    upgrade(std::move(plan));
}

} // namespace agent::handlers
