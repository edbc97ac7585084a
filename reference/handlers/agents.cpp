// /agents, /agents/{id}, /agents/{id}/capabilities, /agents/{id}/status (PROTOCOL.md §2).
#include <charconv>

#include "reference/handlers/app.hpp"
#include "reference/util/base64url.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/util/text.hpp"

namespace agent::handlers {
namespace {

constexpr std::string_view cursor_kind = "a1";
constexpr const char* capabilities_cache_control = "private, max-age=300";
// REG-045: the failpoint's Cache-Control lets shared caches keep the capabilities.
constexpr const char* capabilities_cache_control_public = "public, max-age=300";

void list_agents(const app& a, const exchange_ptr& x) {
    const auto& cfg = a.svc().cfg;
    auto params = parse_query(x->req.target());
    if (!params) return a.fail(x, params.error());
    list_query q;
    // REG-037: the default page size is 50 (the failpoint's default is 100).
    page_position pos{AGENT_FAILPOINT("REG-037.default-limit-100") ? std::size_t{100}
                                                                   : cfg.page_limit_default,
                      0};
    // REG-038: limit is 1 to page_limit_max (the failpoint forgets the upper bound).
    const std::size_t limit_max =
        AGENT_FAILPOINT("REG-038.limit-max-unchecked") ? std::size_t{1} << 40 : cfg.page_limit_max;
    for (const auto& p : *params) {
        // REG-039: a cursor this agent did not issue is 400. The failpoint's defect: one it
        // cannot read restarts the walk from the beginning.
        if (p.name == "cursor" && AGENT_FAILPOINT("REG-039.bad-cursor-restarts") &&
            !decode_cursor(cursor_kind, p.value))
            continue;
        auto paging = apply_page_param(p, cursor_kind, limit_max, pos);
        if (!paging) return a.fail(x, paging.error());
        if (*paging) continue;
        if (p.name == "status") {
            auto st = models::parse_status(p.value);
            if (!st)
                return a.fail(x, {errc::bad_request,
                                  "query parameter 'status' must be one of registered, active, "
                                  "inactive, degraded, draining",
                                  {}});
            q.status = *st;
        } else if (p.name == "capability") {
            if (!models::is_valid_capability_name(p.value))
                return a.fail(x, {errc::bad_request,
                                  "query parameter 'capability' is not a valid capability name",
                                  {}});
            // REG-041: ?capability= filters the list (the failpoint validates it, then
            // forgets it).
            if (!AGENT_FAILPOINT("REG-041.capability-filter-ignored")) q.capability = p.value;
        }
    }
    q.limit = pos.limit;
    q.after_seq = pos.after_seq;
    auto page = a.svc().agents.list(q);
    std::string body = "{\"items\":[";
    for (std::size_t i = 0; i < page.items.size(); ++i) {
        if (i) body += ',';
        body += page.items[i]->body;
    }
    body += "],\"next_cursor\":";
    body += page.next_after ? "\"" + encode_cursor(cursor_kind, *page.next_after) + "\""
                            : std::string("null");
    body += '}';
    a.reply(x, a.json_response(*x, http::status::ok, std::move(body)));
}

// 404 for an unknown agent; 403 when the caller may not modify it.
entry_ptr find_for(const app& a, const exchange_ptr& x, bool modify) {
    auto e = a.svc().agents.get(x->route.agent_id);
    if (!e) {
        a.fail(x, {errc::not_found, "no agent with id " + x->route.agent_id, {}});
        return nullptr;
    }
    if (modify && !registry::may_modify(*x->who, e->agent)) {
        a.fail(x, {errc::forbidden, "only the agent's owner or an admin may change it", {}});
        return nullptr;
    }
    return e;
}

response agent_response(const app& a, const exchange& x, http::status st, const agent_entry& e) {
    auto res = a.json_response(x, st, e.body);
    res.set(http::field::etag, e.etag);
    return res;
}

void get_cached(const app& a, const exchange_ptr& x, const std::string& body,
                const std::string& etag, const char* cache_control) {
    auto inm = x->req[http::field::if_none_match];
    // REG-026 (an agent) and REG-044 (its capabilities): a matching If-None-Match is 304.
    // Their failpoints ignore If-None-Match, always answering 200.
    const bool ignore_inm = cache_control == nullptr
                                ? AGENT_FAILPOINT("REG-026.if-none-match-ignored")
                                : AGENT_FAILPOINT("REG-044.capabilities-never-304");
    const bool not_modified =
        !ignore_inm && !inm.empty() && registry::if_none_match_matches(inm, etag);
    response res = not_modified ? response{http::status::not_modified, x->req.version()}
                                : a.json_response(*x, http::status::ok, body);
    // HTTP-032: a 304 carries the ETag the 200 would have (the failpoint leaves it out).
    if (!not_modified || !AGENT_FAILPOINT("HTTP-032.304-without-etag"))
        res.set(http::field::etag, etag);
    if (cache_control) res.set(http::field::cache_control, cache_control);
    a.reply(x, std::move(res));
}

void create_agent(const app& a, const exchange_ptr& x) {
    auto idem = idempotency_of(*x, "POST /agents");
    if (!idem) return a.fail(x, idem.error());
    // REG-051: a repeated Idempotency-Key replays the first answer (the failpoint ignores it).
    if (AGENT_FAILPOINT("REG-051.idempotency-key-ignored")) *idem = std::nullopt;
    auto in = models::parse_agent_input(x->body);
    if (!in) return a.fail(x, in.error());
    a.svc().agents.create(
        *x->who, std::move(*in), std::move(*idem),
        [&a, x](util::expected<write_outcome, error> r) {
            if (!r) return a.fail(x, r.error());
            if (r->replay) return a.reply(x, replayed(a, *x, *r->replay));
            auto res = agent_response(a, *x, http::status::created, *r->entry);
            // REG-020: 201 with Location (the failpoint leaves it out).
            if (!AGENT_FAILPOINT("REG-020.no-location"))
                res.set(http::field::location, "/agents/" + r->entry->agent.id);
            a.reply(x, std::move(res));
        },
        a.audit_write(x, 201));
}

void replace_agent(const app& a, const exchange_ptr& x) {
    auto e = find_for(a, x, true);
    if (!e) return;
    auto if_match = x->req[http::field::if_match];
    // REG-028: PUT without If-Match is 428. The failpoint's defect: a PUT without it is an
    // unconditional overwrite.
    if (if_match.empty() && AGENT_FAILPOINT("REG-028.if-match-optional")) if_match = e->etag;
    if (if_match.empty())
        return a.fail(
            x,
            {errc::precondition_required, "PUT needs If-Match with the agent's current ETag", {}});
    if (!registry::if_match_matches(if_match, e->etag))
        return a.fail(
            x,
            {errc::precondition_failed, "If-Match does not match the current ETag " + e->etag, {}});
    auto in = models::parse_agent_input(x->body);
    if (!in) return a.fail(x, in.error());
    a.svc().agents.replace(
        *x->who, x->route.agent_id, std::move(*in), std::string(if_match),
        [&a, x](util::expected<write_outcome, error> r) {
            if (!r) return a.fail(x, r.error());
            a.reply(x, agent_response(a, *x, http::status::ok, *r->entry));
        },
        a.audit_write(x, 200));
}

void delete_agent(const app& a, const exchange_ptr& x) {
    if (!find_for(a, x, true)) return;
    a.svc().agents.remove(
        *x->who, x->route.agent_id,
        [&a, x](util::expected<write_outcome, error> r) {
            if (!r) return a.fail(x, r.error());
            a.reply(x, response{http::status::no_content, x->req.version()});
        },
        a.audit_write(x, 204));
}

void change_status(const app& a, const exchange_ptr& x) {
    auto e = find_for(a, x, true);
    if (!e) return;
    // AUTH-048: 422 comes before 409. The failpoint's defect checks the move (409) as soon as
    // the body names a status, before the body is validated.
    if (AGENT_FAILPOINT("AUTH-048.move-before-schema") && x->body.is_object() &&
        x->body.contains("status") && x->body["status"].is_string()) {
        const auto to = models::parse_status(x->body["status"].get<std::string>());
        if (to && *to != e->agent.status && !models::transition_allowed(e->agent.status, *to))
            return a.fail(x,
                          {errc::conflict,
                           std::string("cannot move from ") + models::to_string(e->agent.status) +
                               " to " + models::to_string(*to),
                           {}});
    }
    auto change = models::parse_status_change(x->body);
    if (!change) return a.fail(x, change.error());
    a.svc().agents.set_status(
        *x->who, x->route.agent_id, *change,
        [&a, x](util::expected<write_outcome, error> r) {
            if (!r) return a.fail(x, r.error());
            a.reply(x, agent_response(a, *x, http::status::ok, *r->entry));
        },
        a.audit_write(x, 200));
}

} // namespace

void handle_agents(const app& a, const exchange_ptr& x) {
    const bool get = x->req.method() == http::verb::get || x->req.method() == http::verb::head;
    switch (x->route.id) {
    case route_id::agents:
        return get ? list_agents(a, x) : create_agent(a, x);
    case route_id::agent:
        if (get) {
            if (auto e = find_for(a, x, false)) {
                // An agent that has been invoked shows its circuit (§7).
                if (auto circuit = a.svc().invoker.circuit(e->agent.id)) {
                    auto doc = nlohmann::json::parse(e->body);
                    doc["circuit"] = to_string(*circuit);
                    return get_cached(a, x, doc.dump(), e->etag, nullptr);
                }
                get_cached(a, x, e->body, e->etag, nullptr);
            }
            return;
        }
        return x->req.method() == http::verb::put ? replace_agent(a, x) : delete_agent(a, x);
    case route_id::agent_capabilities:
        if (auto e = find_for(a, x, false))
            get_cached(a, x, e->caps_body, e->caps_etag,
                       AGENT_FAILPOINT("REG-045.cache-control-public")
                           ? capabilities_cache_control_public
                           : capabilities_cache_control);
        return;
    case route_id::agent_status:
        return change_status(a, x);
    default:
        a.fail(x, {errc::internal, "unrouted request", {}});
    }
}

} // namespace agent::handlers
