// §4 Events: the shape of an event, a gapless seq from 1, every change emitting exactly its
// event, the list with its filters and pages, custom events and who may publish them.
// Checks run beside others that write, so they read the events of their own agents (the
// agent_id filter) or a window of the log ending at an event they made themselves.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;

const std::set<std::string> builtin_types = {
    "agent_registered", "agent_updated",      "agent_status_changed", "agent_deleted",
    "task_succeeded",   "task_dead_lettered", "circuit_opened",       "circuit_closed"};

bool is_custom_type(const std::string& t) {
    static const std::regex re("^x_[a-z0-9_]{1,60}$");
    return std::regex_match(t, re);
}

/// A custom type unique to this check ("x_ac_<8 hex>").
std::string custom_type(context& ctx) {
    return "x_ac_" + random_hex(ctx, 8);
}

/// Fails unless e has the shape of an event; returns its seq.
long long expect_event_shape(context& ctx, const json& e, std::string_view where) {
    const std::string w(where);
    if (!e.is_object()) ctx.fail(w + ": an event is not a JSON object", "object", e.dump());
    if (!e.contains("seq") || !e["seq"].is_number_integer() || e["seq"].get<long long>() < 1)
        ctx.fail(w + ": \"seq\" must be an integer >= 1", ">= 1", e.value("seq", json()).dump());
    if (!e.contains("id") || !e["id"].is_string() || !is_lower_uuid(e["id"].get<std::string>()))
        ctx.fail(w + ": \"id\" must be a lowercase UUID", "uuid", e.value("id", json()).dump());
    if (!e.contains("type") || !e["type"].is_string())
        ctx.fail(w + ": \"type\" must be a string", "string", e.value("type", json()).dump());
    if (!e.contains("at") || !e["at"].is_string() || !is_rfc3339_ms_utc(e["at"].get<std::string>()))
        ctx.fail(w + ": \"at\" must be RFC 3339 UTC with milliseconds", "2026-11-24T15:10:00.123Z",
                 e.value("at", json()).dump());
    if (e.contains("agent_id") && !e["agent_id"].is_null() &&
        (!e["agent_id"].is_string() || !is_lower_uuid(e["agent_id"].get<std::string>())))
        ctx.fail(w + ": \"agent_id\", when present, must be an agent id", "uuid",
                 e["agent_id"].dump());
    if (!e.contains("data") || !e["data"].is_object())
        ctx.fail(w + ": \"data\" must be an object", "object", e.value("data", json()).dump());
    return e["seq"].get<long long>();
}

struct event_page {
    std::vector<json> items;
    json next_after;
};

/// GET /events?query as viewer: 200 {"items": [...], "next_after": ...}.
event_page get_events(context& ctx, const std::string& query) {
    auto r = ctx.send(authed(ctx, "viewer", "GET", "/events" + (query.empty() ? "" : "?" + query)));
    if (r.status != 200)
        ctx.fail("GET /events" + (query.empty() ? "" : "?" + query) + " answered " +
                     std::to_string(r.status),
                 "200", describe(r));
    auto j = ctx.expect_json(r);
    if (!j.is_object() || !j.contains("items") || !j["items"].is_array())
        ctx.fail("the event list has no \"items\" array", "{\"items\": [...], \"next_after\"}",
                 describe(r));
    if (!j.contains("next_after") ||
        !(j["next_after"].is_number_integer() || j["next_after"].is_null()))
        ctx.fail("the event list has no \"next_after\" (an integer, or null)",
                 "{\"items\": [...], \"next_after\": integer|null}", describe(r));
    event_page p;
    for (auto& e : j["items"])
        p.items.push_back(e);
    p.next_after = j["next_after"];
    return p;
}

/// Every event of one agent, oldest first, walking pages of `limit` with next_after.
std::vector<json> events_of(context& ctx, const std::string& agent_id, int limit = 50) {
    std::vector<json> all;
    long long after = 0;
    for (int pages = 0; pages < 200; ++pages) {
        auto p = get_events(ctx, "agent_id=" + agent_id + "&limit=" + std::to_string(limit) +
                                     (after > 0 ? "&after=" + std::to_string(after) : ""));
        for (auto& e : p.items) {
            const auto seq = expect_event_shape(ctx, e, "GET /events?agent_id=");
            if (seq <= after)
                ctx.fail("GET /events?after=" + std::to_string(after) + " listed seq " +
                             std::to_string(seq) + ", which is not after it",
                         "seq > " + std::to_string(after), std::to_string(seq));
            after = seq;
            all.push_back(e);
        }
        if (p.items.empty() || static_cast<int>(p.items.size()) < limit) return all;
        if (p.next_after.is_number_integer()) after = p.next_after.get<long long>();
    }
    ctx.fail("the walk through GET /events did not end within 200 pages");
    return all;
}

/// POST /events as operator; returns the response.
response post_event(context& ctx, const json& body, std::string_view identity = "operator") {
    auto req = authed(ctx, identity, "POST", "/events");
    req.json(body);
    return ctx.send(req);
}

/// Publishes a custom event and returns it (the check is blocked by EVT-007 unless 201).
json publish(context& ctx, const json& body) {
    auto r = post_event(ctx, body);
    if (r.status != 201)
        ctx.block("EVT-007", "POST /events answered " + std::to_string(r.status) +
                                 ", not 201, to a valid custom event");
    auto j = r.json();
    if (!j || !j->is_object())
        ctx.block("EVT-007", "POST /events answered 201 without a JSON event");
    return *j;
}

std::vector<std::string> types_of(const std::vector<json>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
        out.push_back(e.value("type", std::string("?")));
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : ", ") + s;
    return "[" + out + "]";
}

} // namespace

void register_s04_events(check_registry& reg) {
    reg.add({"EVT-001.published-shape",
             {"EVT-001", "EVT-007"},
             layer::unit,
             "POST /events with a custom type, an agent_id and data is 201 with the event: seq, "
             "id, type, at, agent_id and data as sent",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "evt"));
                 const auto type = custom_type(ctx);
                 const json data = {{"stage", "blue"}, {"n", 3}, {"nested", {{"ok", true}}}};
                 auto r = post_event(ctx, {{"type", type}, {"agent_id", a["id"]}, {"data", data}});
                 ctx.expect_status(r, 201);
                 auto e = ctx.expect_json(r);
                 expect_event_shape(ctx, e, "POST /events");
                 ctx.expect(e["type"] == type, "the event's type is the one published", type,
                            e["type"].dump());
                 ctx.expect(e.value("agent_id", json()) == a["id"],
                            "the event's agent_id is the one published", a["id"].dump(),
                            e.value("agent_id", json()).dump());
                 ctx.expect(e["data"] == data, "the event's data is what was published",
                            data.dump(), e["data"].dump());
             }});

    reg.add({"EVT-001.listed-shape",
             {"EVT-001", "EVT-006"},
             layer::unit,
             "The events GET /events lists for a new agent have the event shape",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "evt"));
                 const auto events = events_of(ctx, a["id"].get<std::string>());
                 if (events.empty())
                     ctx.fail("GET /events?agent_id= lists no event for a new agent",
                              "agent_registered", "[]");
             }});

    reg.add({"EVT-002.starts-at-one",
             {"EVT-002"},
             layer::unit,
             "The oldest event (GET /events?limit=1) has seq 1",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 (void)create_exact(ctx, guard, base_body(ctx, "evt"));
                 auto p = get_events(ctx, "limit=1");
                 if (p.items.empty())
                     ctx.fail("GET /events?limit=1 lists nothing after an agent was registered",
                              "one event", "[]");
                 const auto seq = expect_event_shape(ctx, p.items.front(), "GET /events?limit=1");
                 ctx.expect(seq == 1, "the oldest event has seq 1", "1", std::to_string(seq));
             }});

    reg.add(
        {"EVT-002.gapless-window",
         {"EVT-002", "EVT-006"},
         layer::integration,
         "The 300 events up to the second of two this check published have seq growing by "
         "exactly 1, oldest first",
         [](context& ctx) {
             // Two events, so that the window holds a step from one seq to the next even in a
             // log that was empty.
             (void)publish(ctx, {{"type", custom_type(ctx)}, {"data", json::object()}});
             const auto mine = publish(ctx, {{"type", custom_type(ctx)}, {"data", json::object()}});
             const auto last = expect_event_shape(ctx, mine, "POST /events");
             constexpr long long window = 300;
             long long after = std::max(0LL, last - window);
             long long expected = after + 1;
             while (expected <= last) {
                 auto p = get_events(ctx, "after=" + std::to_string(after) + "&limit=100");
                 if (p.items.empty())
                     ctx.fail("GET /events?after=" + std::to_string(after) +
                                  " lists nothing, though event " + std::to_string(last) +
                                  " was acknowledged",
                              "seq " + std::to_string(expected), "[]");
                 for (auto& e : p.items) {
                     const auto seq = expect_event_shape(ctx, e, "GET /events");
                     if (seq > last) break;
                     if (seq != expected)
                         ctx.fail("seq jumps from " + std::to_string(expected - 1) + " to " +
                                      std::to_string(seq),
                                  std::to_string(expected), std::to_string(seq));
                     ++expected;
                 }
                 after = expected - 1;
             }
         }});

    reg.add(
        {"EVT-004.known-types",
         {"EVT-004"},
         layer::unit,
         "Every event of the last 200 has a built-in type or a custom x_ type",
         [](context& ctx) {
             const auto mine = publish(ctx, {{"type", custom_type(ctx)}, {"data", json::object()}});
             const auto last = expect_event_shape(ctx, mine, "POST /events");
             auto p = get_events(ctx, "after=" + std::to_string(std::max(0LL, last - 200)) +
                                          "&limit=200");
             for (auto& e : p.items) {
                 const auto t = e.value("type", std::string());
                 if (!builtin_types.count(t) && !is_custom_type(t))
                     ctx.fail("event " + e.value("seq", json()).dump() + " has type \"" + t +
                                  "\", neither built-in nor ^x_[a-z0-9_]{1,60}$",
                              "a known type", t);
             }
         }});

    reg.add({"EVT-008.each-change-once",
             {"EVT-008", "EVT-005", "EVT-004"},
             layer::integration,
             "Create, update, a status move, the same status again and delete of one agent give "
             "exactly agent_registered, agent_updated, agent_status_changed, agent_deleted, in "
             "that order",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "evt"));
                 const std::string id = a["id"];
                 auto body = mutable_fields(a);
                 body["version"] = "2.0.0";
                 auto put = put_agent(ctx, id, body, quoted(a.value("revision", 1LL)));
                 if (put.status != 200)
                     ctx.block("REG-030",
                               "PUT /agents/{id} with the current ETag answered " + describe(put));
                 auto moved = put_status(ctx, id, "active");
                 if (moved.status != 200)
                     ctx.block("REG-046", "PUT /agents/{id}/status registered→active answered " +
                                              describe(moved));
                 auto same = put_status(ctx, id, "active");
                 if (same.status != 200)
                     ctx.block("REG-048", "PUT /agents/{id}/status to the same status answered " +
                                              describe(same));
                 auto del = ctx.send(authed(ctx, "operator", "DELETE", "/agents/" + id));
                 if (del.status != 204)
                     ctx.block("REG-034", "DELETE /agents/{id} answered " + describe(del));
                 const auto events = events_of(ctx, id);
                 const std::vector<std::string> want = {"agent_registered", "agent_updated",
                                                        "agent_status_changed", "agent_deleted"};
                 const auto got = types_of(events);
                 if (got != want)
                     ctx.fail("the agent's events are not exactly one per change, in order",
                              join(want), join(got));
                 const auto& change = events[2]["data"];
                 ctx.expect(change.value("old_status", json()) == "registered" &&
                                change.value("new_status", json()) == "active",
                            "agent_status_changed carries old_status and new_status",
                            R"({"old_status":"registered","new_status":"active",...})",
                            change.dump());
                 ctx.expect(change.value("reason", json()) == "agentcheck",
                            "agent_status_changed carries the reason given", "\"agentcheck\"",
                            change.value("reason", json()).dump());
                 for (const auto& e : events)
                     ctx.expect(e.value("agent_id", json()) == id,
                                "each of the agent's events names it in agent_id", id,
                                e.value("agent_id", json()).dump());
             }});

    reg.add({"EVT-008.refused-change-no-event",
             {"EVT-008"},
             layer::integration,
             "A refused change (a stale If-Match, a forbidden status move) emits no event",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "evt"));
                 const std::string id = a["id"];
                 auto stale = put_agent(ctx, id, mutable_fields(a), std::string("\"999\""));
                 auto forbidden = put_status(ctx, id, "draining"); // registered → draining
                 ctx.note("stale PUT answered " + std::to_string(stale.status) +
                          ", forbidden move answered " + std::to_string(forbidden.status));
                 const auto got = types_of(events_of(ctx, id));
                 const std::vector<std::string> want = {"agent_registered"};
                 if (got != want)
                     ctx.fail("a refused change emitted an event", join(want), join(got));
             }});

    reg.add({"EVT-006.filters",
             {"EVT-006"},
             layer::unit,
             "type, agent_id, after and limit filter GET /events as asked, oldest first",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "evt"));
                 const std::string id = a["id"];
                 const auto type = custom_type(ctx);
                 std::vector<long long> seqs;
                 for (int i = 0; i < 5; ++i)
                     seqs.push_back(
                         publish(ctx, {{"type", type}, {"agent_id", id}, {"data", {{"i", i}}}})
                             .value("seq", 0LL));
                 auto by_type = get_events(ctx, "type=" + type);
                 std::vector<long long> listed;
                 for (auto& e : by_type.items) {
                     expect_event_shape(ctx, e, "GET /events?type=");
                     ctx.expect(e["type"] == type, "?type= lists only that type", type,
                                e["type"].dump());
                     listed.push_back(e["seq"].get<long long>());
                 }
                 ctx.expect(listed == seqs, "?type= lists the five events, oldest first",
                            json(seqs).dump(), json(listed).dump());
                 auto limited = get_events(ctx, "type=" + type + "&limit=2");
                 ctx.expect(limited.items.size() == 2, "?limit=2 lists two events", "2",
                            std::to_string(limited.items.size()));
                 auto after = get_events(ctx, "type=" + type + "&after=" + std::to_string(seqs[2]));
                 listed.clear();
                 for (auto& e : after.items)
                     listed.push_back(e.value("seq", 0LL));
                 ctx.expect(listed == std::vector<long long>{seqs[3], seqs[4]},
                            "?after=N lists only the events after N",
                            json({seqs[3], seqs[4]}).dump(), json(listed).dump());
                 // Pages of 2 following next_after: every event once, in order.
                 const auto walked = events_of(ctx, id, 2);
                 std::vector<long long> walked_seqs;
                 for (auto& e : walked)
                     if (e.value("type", std::string()) == type)
                         walked_seqs.push_back(e.value("seq", 0LL));
                 ctx.expect(walked_seqs == seqs,
                            "pages of 2 (after = next_after) list every event once, in order",
                            json(seqs).dump(), json(walked_seqs).dump());
             }});

    reg.add({"EVT-011.bad-query",
             {"EVT-011"},
             layer::unit,
             "GET /events with limit 0 or \"x\", or after -1 or \"x\", is 400",
             [](context& ctx) {
                 for (const char* q : {"limit=0", "limit=x", "after=-1", "after=x"}) {
                     auto r = ctx.send(authed(ctx, "viewer", "GET", std::string("/events?") + q));
                     expect_refused(ctx, r, 400, std::string("GET /events?") + q);
                 }
             }});

    reg.add({"EVT-007.builtin-type-refused",
             {"EVT-007"},
             layer::unit,
             "POST /events with a built-in type, or a type outside ^x_[a-z0-9_]{1,60}$, is 422",
             [](context& ctx) {
                 for (const char* t : {"agent_registered", "x_", "x_Upper", "deployed", "x_a-b"}) {
                     auto r = post_event(ctx, {{"type", t}, {"data", json::object()}});
                     expect_refused(ctx, r, 422, std::string("type \"") + t + "\"");
                 }
                 auto too_long = post_event(
                     ctx, {{"type", "x_" + std::string(61, 'a')}, {"data", json::object()}});
                 expect_refused(ctx, too_long, 422, "a type of 63 characters");
             }});

    reg.add({"EVT-007.published-is-listed",
             {"EVT-007", "EVT-006"},
             layer::integration,
             "A published event is listed by GET /events?after=<its seq - 1> as it was answered",
             [](context& ctx) {
                 const auto e = publish(ctx, {{"type", custom_type(ctx)}, {"data", {{"k", "v"}}}});
                 const auto seq = expect_event_shape(ctx, e, "POST /events");
                 auto p = get_events(ctx, "after=" + std::to_string(seq - 1) + "&limit=1");
                 if (p.items.empty()) ctx.fail("the published event is not listed", e.dump(), "[]");
                 ctx.expect(p.items.front() == e, "the listed event equals the one answered",
                            e.dump(), p.items.front().dump());
             }});

    reg.add({"EVT-010.roles",
             {"EVT-010"},
             layer::unit,
             "GET /events: viewer 200, no token 401; POST /events: viewer 403, no token 401",
             [](context& ctx) {
                 (void)get_events(ctx, "limit=1");
                 auto anon = ctx.send(make("GET", "/events?limit=1"));
                 expect_refused(ctx, anon, 401, "GET /events without a token");
                 auto viewer = post_event(
                     ctx, {{"type", custom_type(ctx)}, {"data", json::object()}}, "viewer");
                 expect_refused(ctx, viewer, 403, "POST /events as a viewer");
                 auto req = make("POST", "/events");
                 req.json({{"type", custom_type(ctx)}, {"data", json::object()}});
                 expect_refused(ctx, ctx.send(req), 401, "POST /events without a token");
             }});
}

} // namespace agentcheck
