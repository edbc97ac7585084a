// GET /audit (PROTOCOL.md §8): the audit log, oldest first, for admins.
#include "reference/handlers/app.hpp"
#include "reference/util/text.hpp"

namespace agent::handlers {

namespace {

nlohmann::json audit_json(const audit_record& r) {
    return {{"seq", r.seq},
            {"at", r.at},
            {"actor", r.actor.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.actor)},
            {"action", r.action},
            {"resource", r.resource},
            {"status", r.status},
            {"request_id", r.request_id},
            {"remote_addr", r.remote_addr}};
}

} // namespace

void handle_audit(const app& a, const exchange_ptr& x) {
    const auto& cfg = a.svc().cfg;
    auto params = parse_query(x->req.target());
    if (!params) return a.fail(x, params.error());
    std::int64_t after = 0;
    std::size_t limit = cfg.page_limit_default;
    for (const auto& p : *params) {
        if (p.name == "after") {
            auto n = util::parse_int(p.value);
            if (!n || *n < 0)
                return a.fail(
                    x, {errc::bad_request, "query parameter 'after' must be an integer >= 0", {}});
            after = *n;
        } else if (p.name == "limit") {
            auto n = parse_page_limit(p.value, cfg.page_limit_max);
            if (!n) return a.fail(x, n.error());
            limit = *n;
        }
    }
    auto items = a.svc().storage.read_audit(after, limit);
    if (!items) return a.fail(x, items.error());
    // next_after: where the next page starts (as GET /events does).
    nlohmann::json body = {{"items", nlohmann::json::array()},
                           {"next_after", items->empty() ? after : items->back().seq}};
    for (const auto& r : *items)
        body["items"].push_back(audit_json(r));
    a.reply(x, a.json_response(*x, http::status::ok, body.dump()));
}

} // namespace agent::handlers
