// POST/GET /tasks, GET /tasks/{id}, POST /tasks/{id}/retry (PROTOCOL.md §6).
#include <algorithm>

#include "reference/handlers/app.hpp"
#include "reference/util/base64url.hpp"
#include "reference/util/text.hpp"

namespace agent::handlers {
namespace {

constexpr std::string_view cursor_kind = "t1";

response task_response(const app& a, const exchange& x, http::status st, const models::task& t) {
    auto res = a.json_response(x, st, models::to_json(t).dump());
    res.set(http::field::location, "/tasks/" + t.id);
    return res;
}

void submit_task(const app& a, const exchange_ptr& x) {
    auto idem = idempotency_of(*x, "POST /tasks");
    if (!idem) return a.fail(x, idem.error());
    auto in = models::parse_task_input(x->body);
    if (!in) return a.fail(x, in.error());
    a.svc().tasks.submit(
        *x->who, std::move(*in), std::move(*idem),
        [&a, x](util::expected<task_outcome, error> r) {
            if (!r) return a.fail(x, r.error());
            if (r->replay) return a.reply(x, replayed(a, *x, *r->replay));
            if (a.svc().stats != nullptr) a.svc().stats->count_task("submitted");
            a.reply(x, task_response(a, *x, http::status::accepted, *r->task));
        },
        a.audit_write(x, 202));
}

void list_tasks(const app& a, const exchange_ptr& x) {
    const auto& cfg = a.svc().cfg;
    auto params = parse_query(x->req.target());
    if (!params) return a.fail(x, params.error());
    task_query q;
    page_position pos{cfg.page_limit_default, 0};
    for (const auto& p : *params) {
        auto paging = apply_page_param(p, cursor_kind, cfg.page_limit_max, pos);
        if (!paging) return a.fail(x, paging.error());
        if (*paging) continue;
        if (p.name == "status") {
            auto st = models::parse_task_status(p.value);
            if (!st)
                return a.fail(x, {errc::bad_request,
                                  "query parameter 'status' must be one of queued, running, "
                                  "succeeded, dead_lettered",
                                  {}});
            q.status = *st;
        }
    }
    q.after_seq = pos.after_seq;
    const auto limit = pos.limit;
    q.limit = limit + 1; // one more: is there a next page?
    auto items = a.svc().tasks.list(q);
    if (!items) return a.fail(x, items.error());
    const bool more = items->size() > limit;
    if (more) items->resize(limit);
    nlohmann::json body = {{"items", nlohmann::json::array()}, {"next_cursor", nullptr}};
    for (const auto& t : *items)
        body["items"].push_back(models::to_json(t));
    if (more && !items->empty())
        body["next_cursor"] = encode_cursor(cursor_kind, items->back().seq);
    a.reply(x, a.json_response(*x, http::status::ok, body.dump()));
}

void get_task(const app& a, const exchange_ptr& x) {
    auto t = a.svc().tasks.get(x->route.agent_id);
    if (!t) return a.fail(x, {errc::not_found, "no task with id " + x->route.agent_id, {}});
    a.reply(x, a.json_response(*x, http::status::ok, models::to_json(*t).dump()));
}

void retry_task(const app& a, const exchange_ptr& x) {
    a.svc().tasks.retry(
        *x->who, x->route.agent_id,
        [&a, x](util::expected<models::task, error> r) {
            if (!r) return a.fail(x, r.error());
            a.reply(x, task_response(a, *x, http::status::accepted, *r));
        },
        a.audit_write(x, 202));
}

} // namespace

void handle_tasks(const app& a, const exchange_ptr& x) {
    switch (x->route.id) {
    case route_id::tasks:
        return x->req.method() == http::verb::post ? submit_task(a, x) : list_tasks(a, x);
    case route_id::task:
        return get_task(a, x);
    default:
        return retry_task(a, x);
    }
}

} // namespace agent::handlers
