// §8 Audit: every mutating request and every 401/403 appends one record
// {seq, at, actor, action, resource, status, request_id, remote_addr}; GET /audit?after=&limit=
// lists them (admin only); no token appears in them; request_id is the request's X-Request-ID.
//
// Each check finds the end of the log first, makes its requests with X-Request-IDs of its own,
// and then reads the records after that end: other checks may write records meanwhile, so
// records are matched by request_id, never by position. A record may be written after the
// answer: the checks read again for up to 2 s (times --timeout-scale) before they conclude.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;

/// The largest page the agent declares for lists (limits.page_limit_max), at most 500.
long long audit_page_limit(context& ctx) {
    return std::clamp(ctx.limit("page_limit_max", 100), 1LL, 500LL);
}

/// One page of GET /audit as admin; blocks on AUD-003 when the agent does not answer one.
std::vector<json> audit_page(context& ctx, long long after, long long limit) {
    auto r = ctx.send(
        authed(ctx, "admin", "GET",
               "/audit?after=" + std::to_string(after) + "&limit=" + std::to_string(limit)));
    auto j = r.json();
    if (r.status != 200 || !j || !j->is_object() || !j->contains("items") ||
        !(*j)["items"].is_array())
        ctx.block("AUD-003", "GET /audit as admin did not answer 200 {\"items\": [...]} (" +
                                 describe(r) + ")");
    std::vector<json> out;
    for (const auto& item : (*j)["items"]) {
        if (!item.is_object() || !item.contains("seq") || !item["seq"].is_number_integer())
            ctx.block("AUD-003", "an audit record without an integer seq: " + item.dump());
        out.push_back(item);
    }
    return out;
}

/// Every record after `after`, oldest first (at most `most` of them).
std::vector<json> audit_after(context& ctx, long long after, std::size_t most = 50000) {
    const auto limit = audit_page_limit(ctx);
    std::vector<json> out;
    while (out.size() < most) {
        auto page = audit_page(ctx, after, limit);
        if (page.empty()) break;
        const auto last = page.back()["seq"].get<long long>();
        if (last <= after)
            ctx.block("AUD-003", "GET /audit?after=" + std::to_string(after) +
                                     " answered records that are not after it (seq " +
                                     std::to_string(last) + ")");
        for (auto& item : page)
            out.push_back(std::move(item));
        after = last;
    }
    return out;
}

/// The seq of the last record now (0 when the log is empty).
long long audit_end(context& ctx) {
    auto all = audit_after(ctx, 0);
    return all.empty() ? 0 : all.back()["seq"].get<long long>();
}

/// The records after `after` whose request_id is one of `ids`, by request_id; reads again
/// for up to 2 s until every id has at least one.
std::map<std::string, std::vector<json>> records_of(context& ctx, long long after,
                                                    const std::set<std::string>& ids) {
    const auto deadline = std::chrono::steady_clock::now() + ctx.scaled(std::chrono::seconds(2));
    std::map<std::string, std::vector<json>> found;
    std::vector<json> seen;
    while (true) {
        auto more = audit_after(ctx, seen.empty() ? after : seen.back()["seq"].get<long long>());
        for (auto& r : more)
            seen.push_back(std::move(r));
        found.clear();
        for (const auto& r : seen)
            if (r.contains("request_id") && r["request_id"].is_string() &&
                ids.count(r["request_id"].get<std::string>()))
                found[r["request_id"].get<std::string>()].push_back(r);
        if (found.size() == ids.size() || std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return found;
}

/// A request id of this check: "ac-aud-<hint>-<12 hex>".
std::string audit_request_id(context& ctx, std::string_view hint) {
    return "ac-aud-" + std::string(hint) + "-" + random_hex(ctx, 12);
}

/// What a request was and what it was answered: its one record is checked against it.
struct audited_request {
    std::string what;       ///< "POST /agents"
    std::string request_id; ///< as sent (or, when none was sent, as answered)
    int status = 0;         ///< the answer
    std::string actor;      ///< the sub expected ("" = not authenticated: null or absent)
    std::string names;      ///< an id the resource must name ("" = any)
};

/// Checks the shape of one record and that it describes `want`.
void expect_record(context& ctx, const json& r, const audited_request& want) {
    const auto field = [&](const char* name) -> const json& {
        if (!r.contains(name))
            ctx.fail("the audit record of " + want.what + " has no \"" + name + "\"",
                     "{seq, at, actor, action, resource, status, request_id, remote_addr}",
                     r.dump());
        return r[name];
    };
    const auto& at = field("at");
    if (!at.is_string() || !is_rfc3339_ms_utc(at.get<std::string>()))
        ctx.fail("the audit record of " + want.what +
                     " has an \"at\" that is not an RFC 3339 "
                     "UTC time",
                 "\"2026-01-02T03:04:05.678Z\"", r.dump());
    for (const char* name : {"action", "resource", "remote_addr"})
        if (!field(name).is_string() || field(name).get<std::string>().empty())
            ctx.fail("the audit record of " + want.what + " has no \"" + name + "\" string",
                     "a non-empty string", r.dump());
    const auto& status = field("status");
    if (!status.is_number_integer() || status.get<int>() != want.status)
        ctx.fail("the audit record of " + want.what + " does not carry the status answered",
                 "\"status\": " + std::to_string(want.status), r.dump());
    const auto& actor = r.contains("actor") ? r["actor"] : json();
    if (want.actor.empty()) {
        if (!actor.is_null() && !actor.is_string())
            ctx.fail("the audit record of " + want.what + " has an actor that is not a string",
                     "null (not authenticated)", r.dump());
    } else if (actor != want.actor) {
        ctx.fail("the audit record of " + want.what + " does not name the token's sub as actor",
                 "\"actor\": \"" + want.actor + "\"", r.dump());
    }
    if (!want.names.empty() &&
        field("resource").get<std::string>().find(want.names) == std::string::npos)
        ctx.fail("the audit record of " + want.what + " does not name the resource acted on",
                 "a resource naming " + want.names, r.dump());
}

/// Sends req with X-Request-ID `rid` and returns what to expect of its record.
audited_request sent(context& ctx, request req, const std::string& what, const std::string& rid,
                     std::string actor, std::string names = {}) {
    req.with("X-Request-ID", rid);
    auto r = ctx.send(req);
    return {what, rid, r.status, std::move(actor), std::move(names)};
}

/// Finds every request's one record; a request without any record fails the check, unless
/// no request id of the check is found at all while new records are there (the records do
/// not carry the request's X-Request-ID: AUD-005's rule, which blocks this one).
void expect_each_recorded_once(context& ctx, long long after,
                               const std::vector<audited_request>& requests,
                               bool request_id_is_the_rule = false) {
    std::set<std::string> ids;
    for (const auto& q : requests)
        ids.insert(q.request_id);
    const auto found = records_of(ctx, after, ids);
    if (found.empty() && !request_id_is_the_rule && !audit_after(ctx, after, 1).empty())
        ctx.block("AUD-005", "new audit records carry none of the X-Request-IDs sent");
    for (const auto& q : requests) {
        auto it = found.find(q.request_id);
        if (it == found.end())
            ctx.fail("no audit record of " + q.what + " (answered " + std::to_string(q.status) +
                         ", X-Request-ID " + q.request_id + ")",
                     "one record with request_id " + q.request_id, "none");
        if (it->second.size() > 1)
            ctx.fail(std::to_string(it->second.size()) + " audit records of " + q.what,
                     "exactly one", it->second.front().dump() + " … " + it->second.back().dump());
        expect_record(ctx, it->second.front(), q);
    }
}

void add_audit_checks(check_registry& reg) {
    reg.add(
        {"AUD-001.mutations-recorded",
         {"AUD-001"},
         layer::integration,
         "Creating, replacing, moving and deleting an agent, a refused create (invalid "
         "body) and, where declared, a task and a custom event each append exactly one "
         "record {seq, at, actor, action, resource, status, request_id, remote_addr} with "
         "the token's sub as actor and the status answered",
         [](context& ctx) {
             const auto after = audit_end(ctx);
             const auto sub = ctx.subject("operator");
             std::vector<audited_request> done;
             auto create = authed(ctx, "operator", "POST", "/agents");
             create.json(ctx.agent_body());
             create.with("X-Request-ID", audit_request_id(ctx, "create"));
             auto created = ctx.send(create);
             block_if_created_without_201(ctx, created);
             const auto agent = *created.json();
             const auto id = id_of(ctx, agent);
             done.push_back({"POST /agents", *create.header("X-Request-ID"), 201, sub, ""});
             auto put = authed(ctx, "operator", "PUT", "/agents/" + id);
             put.json(mutable_fields(agent));
             put.with("If-Match", created.header("ETag").value_or("\"1\""));
             done.push_back(
                 sent(ctx, put, "PUT /agents/{id}", audit_request_id(ctx, "put"), sub, id));
             auto status = authed(ctx, "operator", "PUT", "/agents/" + id + "/status");
             status.json({{"status", "active"}});
             done.push_back(sent(ctx, status, "PUT /agents/{id}/status",
                                 audit_request_id(ctx, "status"), sub, id));
             auto invalid = authed(ctx, "operator", "POST", "/agents");
             invalid.json({{"name", "Not A Valid Name"}});
             done.push_back(sent(ctx, invalid, "POST /agents (invalid)",
                                 audit_request_id(ctx, "invalid"), sub));
             if (ctx.has_feature("tasks")) {
                 auto task = authed(ctx, "operator", "POST", "/tasks");
                 task.json({{"type", "noop"}, {"payload", json::object()}});
                 done.push_back(sent(ctx, task, "POST /tasks", audit_request_id(ctx, "task"), sub));
             }
             if (ctx.has_feature("events")) {
                 auto event = authed(ctx, "operator", "POST", "/events");
                 event.json({{"type", "x_audit_check"}, {"data", json::object()}});
                 done.push_back(
                     sent(ctx, event, "POST /events", audit_request_id(ctx, "event"), sub));
             }
             done.push_back(sent(ctx, authed(ctx, "operator", "DELETE", "/agents/" + id),
                                 "DELETE /agents/{id}", audit_request_id(ctx, "delete"), sub, id));
             expect_each_recorded_once(ctx, after, done);
             ctx.note(std::to_string(done.size()) + " mutating requests, one record each");
         }});
    reg.add(
        {"AUD-002.refusals-recorded",
         {"AUD-002"},
         layer::integration,
         "A request without a token (401), with an expired token (401), a viewer's create "
         "(403) and a viewer's GET /audit (403) each append exactly one record with the "
         "status answered",
         [](context& ctx) {
             const auto after = audit_end(ctx);
             std::vector<audited_request> done;
             done.push_back(sent(ctx, make("GET", "/agents?limit=1"), "GET /agents without a token",
                                 audit_request_id(ctx, "anon"), ""));
             auto expired = make("GET", "/agents?limit=1");
             expired.bearer(ctx.variant_token("expired", "viewer"));
             done.push_back(sent(ctx, expired, "GET /agents with an expired token",
                                 audit_request_id(ctx, "expired"), ""));
             auto create = authed(ctx, "viewer", "POST", "/agents");
             create.json(ctx.agent_body());
             done.push_back(sent(ctx, create, "a viewer's POST /agents",
                                 audit_request_id(ctx, "viewer-create"), ctx.subject("viewer")));
             done.push_back(sent(ctx, authed(ctx, "viewer", "GET", "/audit"),
                                 "a viewer's GET /audit", audit_request_id(ctx, "viewer-read"),
                                 ctx.subject("viewer")));
             // The rule each refusal comes from: a request that was not refused says
             // nothing about the audit of refusals.
             const char* const rules[] = {"AUTH-002", "AUTH-007", "AUTH-021", "AUD-003"};
             const int wanted[] = {401, 401, 403, 403};
             for (std::size_t i = 0; i < done.size(); ++i)
                 if (done[i].status != wanted[i])
                     ctx.block(rules[i], done[i].what + " was answered " +
                                             std::to_string(done[i].status) + ", not " +
                                             std::to_string(wanted[i]));
             expect_each_recorded_once(ctx, after, done);
         }});
    reg.add({"AUD-003.admin-only-and-paged",
             {"AUD-003"},
             layer::integration,
             "GET /audit is 401 without a token and 403 for a viewer and an operator; for an "
             "admin it lists records in increasing seq, after= excludes up to that seq and "
             "limit= bounds the page",
             [](context& ctx) {
                 expect_refused(ctx, ctx.send(make("GET", "/audit")), 401,
                                "GET /audit without a token");
                 for (const char* who : {"viewer", "operator"})
                     expect_refused(ctx, ctx.send(authed(ctx, who, "GET", "/audit")), 403,
                                    std::string("GET /audit as ") + who);
                 // At least three records to page through: three refusals of this check's own.
                 for (int i = 0; i < 3; ++i)
                     (void)ctx.send(make("GET", "/agents?limit=1"));
                 auto r = ctx.send(authed(ctx, "admin", "GET", "/audit?limit=2"));
                 auto page = r.json();
                 if (r.status != 200 || !page || !page->is_object() || !page->contains("items") ||
                     !(*page)["items"].is_array())
                     ctx.fail("GET /audit?limit=2 as admin", "200 {\"items\": [...]}", describe(r));
                 const auto& items = (*page)["items"];
                 if (items.size() > 2)
                     ctx.fail("limit=2 answered " + std::to_string(items.size()) + " records",
                              "at most 2", describe(r));
                 if (items.size() < 2)
                     ctx.fail("limit=2 answered " + std::to_string(items.size()) +
                                  " records of a log holding at least 3",
                              "2", describe(r));
                 for (const auto& item : items)
                     if (!item.is_object() || !item.contains("seq") ||
                         !item["seq"].is_number_integer())
                         ctx.fail("an audit record without an integer seq", "\"seq\": <integer>",
                                  item.dump());
                 const auto first = items[0]["seq"].get<long long>();
                 if (items[1]["seq"].get<long long>() <= first)
                     ctx.fail("audit records not in increasing seq", "increasing", items.dump());
                 auto next = audit_page(ctx, first, 2);
                 if (next.empty() || next.front()["seq"].get<long long>() <= first)
                     ctx.fail("GET /audit?after=" + std::to_string(first) +
                                  " did not start after that seq",
                              "seq > " + std::to_string(first),
                              next.empty() ? "no records" : next.front().dump());
                 if (next.front()["seq"] != items[1]["seq"])
                     ctx.fail("after=" + std::to_string(first) + " skipped or repeated a record",
                              "seq " + items[1]["seq"].dump(), next.front().dump());
             }});
    reg.add({"AUD-004.no-tokens",
             {"AUD-004"},
             layer::integration,
             "None of the tokens agentcheck sends (each identity's, and refused ones) appears "
             "in the audit log (up to 50,000 records) or in an answer (logs are not visible "
             "from outside)",
             [](context& ctx) {
                 std::vector<std::string> tokens;
                 for (auto who : identities)
                     tokens.push_back(ctx.token(who));
                 tokens.push_back(ctx.variant_token("expired", "operator"));
                 tokens.push_back(ctx.variant_token("wrong-secret", "admin"));
                 // A request with each in a place an agent might echo: a create, a refusal.
                 std::string answers;
                 for (const auto& t : tokens) {
                     auto create = make("POST", "/agents");
                     create.bearer(t);
                     create.json({{"name", "Not A Valid Name"}});
                     answers += ctx.send(create).body;
                     auto read = make("GET", "/audit?limit=1");
                     read.bearer(t);
                     answers += ctx.send(read).body;
                 }
                 std::string log;
                 for (const auto& r : audit_after(ctx, 0))
                     log += r.dump();
                 for (const auto& t : tokens) {
                     // The signature alone is as secret as the token.
                     const auto signature = t.substr(t.rfind('.') + 1);
                     if (signature.size() >= 16 && log.find(signature) != std::string::npos)
                         ctx.fail("the audit log holds a bearer token",
                                  "no token or signature in audit records",
                                  "a record holds …" + signature.substr(0, 8) + "…");
                     if (signature.size() >= 16 && answers.find(signature) != std::string::npos)
                         ctx.fail("an answer holds the bearer token it was sent",
                                  "no token in answers", "…" + signature.substr(0, 8) + "…");
                 }
                 if (log.find(ctx.hs256_secret()) != std::string::npos)
                     ctx.fail("the audit log holds the HS256 secret", "no secret", "(redacted)");
             }});
    reg.add({"AUD-005.request-id",
             {"AUD-005"},
             layer::integration,
             "A record's request_id is the request's X-Request-ID: as sent when valid, and the "
             "one the agent answered when none or an invalid one was sent",
             [](context& ctx) {
                 const auto after = audit_end(ctx);
                 std::vector<audited_request> done;
                 done.push_back(sent(ctx, make("POST", "/agents"),
                                     "POST /agents with an X-Request-ID",
                                     audit_request_id(ctx, "given"), ""));
                 for (const auto& [what, rid] :
                      std::vector<std::pair<std::string, std::optional<std::string>>>{
                          {"POST /agents without an X-Request-ID", std::nullopt},
                          {"POST /agents with an invalid X-Request-ID", "not valid!"}}) {
                     auto req = make("POST", "/agents");
                     if (rid) req.with("X-Request-ID", *rid);
                     auto r = ctx.send(req);
                     auto answered = r.header("X-Request-ID");
                     if (!answered || answered->empty() || answered == rid)
                         ctx.block(rid ? "HTTP-026" : "HTTP-027",
                                   what + " was answered without a fresh X-Request-ID");
                     done.push_back({what, *answered, r.status, "", ""});
                 }
                 expect_each_recorded_once(ctx, after, done, true);
             }});
}

} // namespace

void register_s08_audit(check_registry& registry) {
    add_audit_checks(registry);
}

} // namespace agentcheck
