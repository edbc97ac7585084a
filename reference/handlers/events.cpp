// GET and POST /events (PROTOCOL.md §4).
#include "reference/handlers/app.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/util/text.hpp"
#include "reference/util/uuid.hpp"

namespace agent::handlers {
namespace {

error bad_query(std::string detail) {
    return {errc::bad_request, std::move(detail), {}};
}

void list_events(const app& a, const exchange_ptr& x) {
    const auto& cfg = a.svc().cfg;
    auto params = parse_query(x->req.target());
    if (!params) return a.fail(x, params.error());
    event_query q;
    q.limit = cfg.page_limit_default;
    // EVT-011: a bad after or limit is 400 (with the failpoint it is ignored: the default).
    const bool lenient = AGENT_FAILPOINT("EVT-011.bad-query-ignored");
    for (const auto& p : *params) {
        if (p.name == "after") {
            auto n = util::parse_int(p.value);
            if (!n || *n < 0) {
                if (lenient) continue;
                return a.fail(x, bad_query("query parameter 'after' must be an integer >= 0"));
            }
            q.after = *n;
        } else if (p.name == "limit") {
            auto n = parse_page_limit(p.value, cfg.page_limit_max);
            if (!n) {
                if (lenient) continue;
                return a.fail(x, n.error());
            }
            q.limit = *n;
        } else if (p.name == "type") {
            if (!models::is_event_type(p.value))
                return a.fail(x, bad_query("query parameter 'type' is not an event type (a "
                                           "built-in one or ^x_[a-z0-9_]{1,60}$)"));
            // EVT-006: only events of that type.
            if (AGENT_FAILPOINT("EVT-006.type-filter-ignored")) continue;
            q.type = p.value;
        } else if (p.name == "agent_id") {
            if (!util::is_uuid(p.value))
                return a.fail(x, bad_query("query parameter 'agent_id' is not an agent id"));
            q.agent_id = p.value;
        }
    }
    auto items = a.svc().events.list(q);
    if (!items) return a.fail(x, items.error());
    // next_after: where the next page starts (the last item's seq; `after` when empty), so
    // that a client polls the log by passing it back.
    nlohmann::json body = {{"items", nlohmann::json::array()},
                           {"next_after", items->empty() ? q.after : items->back().seq}};
    for (const auto& e : *items)
        body["items"].push_back(models::to_json(e));
    a.reply(x, a.json_response(*x, http::status::ok, body.dump()));
}

void publish_event(const app& a, const exchange_ptr& x) {
    auto in = models::parse_event_input(x->body);
    if (!in) return a.fail(x, in.error());
    a.svc().events.publish(
        std::move(*in),
        [&a, x](util::expected<models::event, error> r) {
            if (!r) return a.fail(x, r.error());
            a.reply(x, a.json_response(*x, http::status::created, models::to_json(*r).dump()));
        },
        a.audit_write(x, 201));
}

} // namespace

void handle_events(const app& a, const exchange_ptr& x) {
    if (x->req.method() == http::verb::post) return publish_event(a, x);
    list_events(a, x);
}

} // namespace agent::handlers
