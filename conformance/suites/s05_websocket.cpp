// §5 WebSocket streams: the upgrade's auth and 404, the status stream (snapshot, every change
// in order within 1 s, deleted then 1000), the event stream (replay, then live; reconnecting
// with `after` loses and repeats nothing while another client writes), pings, and the bound
// on what an agent queues for a client that does not read.

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "conformance/client/ws.hpp"
#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using namespace std::chrono_literals;
using client::ws_client;
using client::ws_event;

/// The upgrade request as reports show it (and replay sends it).
request upgrade_request(const std::string& path, const std::string& token) {
    request r("GET", path);
    r.with("Upgrade", "websocket")
        .with("Connection", "Upgrade")
        .with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .with("Sec-WebSocket-Version", "13");
    if (!token.empty()) r.bearer(token);
    return r;
}

/// Opens a stream as `identity` ("" = no token). Returns null when the agent refused the
/// upgrade (its answer in *refused).
std::unique_ptr<ws_client> open_stream(context& ctx, const std::string& path,
                                       std::string_view identity, response* refused = nullptr,
                                       int receive_buffer = 0) {
    const std::string token = identity.empty() ? std::string() : ctx.token(identity);
    client::header_list headers;
    if (!token.empty()) headers.push_back({"Authorization", "Bearer " + token});
    ws_client::options o;
    o.timeout = ctx.scaled(10000ms);
    o.receive_buffer_bytes = receive_buffer;
    response answer;
    auto ws = ws_client::open(ctx.target(), path, headers, o, &answer);
    if (!ws) {
        ctx.record(upgrade_request(path, token), &answer, "upgrade refused");
        if (refused != nullptr) *refused = answer;
        return nullptr;
    }
    response switched;
    switched.status = 101;
    switched.reason = "Switching Protocols";
    ctx.record(upgrade_request(path, token), &switched, "upgraded");
    return ws;
}

/// Opens a stream that must be accepted (blocked by `requirement` otherwise).
std::unique_ptr<ws_client> must_open(context& ctx, const std::string& path,
                                     std::string_view requirement) {
    response refused;
    auto ws = open_stream(ctx, path, "viewer", &refused);
    if (!ws)
        ctx.block(std::string(requirement),
                  "the upgrade of " + path + " as a viewer answered " + describe(refused));
    return ws;
}

/// The next message as JSON, within `wait`; fails naming `what` when none (or a close) came.
json next_json(context& ctx, ws_client& ws, std::chrono::milliseconds wait, std::string_view what) {
    auto e = ws.read(wait);
    if (e.what == ws_event::kind::timeout)
        ctx.fail("no WebSocket message within " + std::to_string(wait.count()) +
                     " ms: " + std::string(what),
                 std::string(what), "nothing");
    if (e.what == ws_event::kind::closed)
        ctx.fail("the stream closed (" + std::to_string(e.close_code) + " " + e.close_reason +
                     ") while waiting for " + std::string(what),
                 std::string(what), "close " + std::to_string(e.close_code));
    auto j = json::parse(e.text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        ctx.fail("a WebSocket message is not a JSON object", "a JSON object", e.text);
    ctx.note("received: " + e.text.substr(0, 300));
    return j;
}

json publish_event(context& ctx, const std::string& type, const json& data) {
    auto req = authed(ctx, "operator", "POST", "/events");
    req.json({{"type", type}, {"data", data}});
    auto r = ctx.send(req);
    if (r.status != 201)
        ctx.block("EVT-007", "POST /events answered " + describe(r) + " to a valid custom event");
    return *r.json();
}

void need_events(context& ctx) {
    if (!ctx.has_feature("events"))
        ctx.skip("the event stream checks publish custom events: feature events is not declared");
}

} // namespace

void register_s05_websocket(check_registry& reg) {
    reg.add({"WS-001.no-token-401",
             {"WS-001"},
             layer::unit,
             "Upgrading /events/stream or /agents/{id}/status without a token is 401 before the "
             "upgrade; a viewer's token is accepted",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "ws"));
                 for (const std::string& path :
                      {std::string("/events/stream"), "/agents/" + id_of(ctx, a) + "/status"}) {
                     response refused;
                     auto ws = open_stream(ctx, path, "", &refused);
                     if (ws) ctx.fail(path + " was upgraded without a token", "401", "101");
                     expect_refused(ctx, refused, 401,
                                    "an upgrade of " + path + " without a token");
                     auto ok = open_stream(ctx, path, "viewer", &refused);
                     if (!ok)
                         ctx.fail(path + " refused a viewer's upgrade", "101", describe(refused));
                     ok->close();
                 }
             }});

    reg.add({"WS-001.bad-token-401",
             {"WS-001", "AUTH-017"},
             layer::unit,
             "Upgrading /events/stream with an expired token is 401 invalid_token before the "
             "upgrade",
             [](context& ctx) {
                 client::header_list headers = {
                     {"Authorization", "Bearer " + ctx.variant_token("expired")}};
                 ws_client::options o;
                 o.timeout = ctx.scaled(10000ms);
                 response refused;
                 auto ws = ws_client::open(ctx.target(), "/events/stream", headers, o, &refused);
                 ctx.record(upgrade_request("/events/stream", ctx.variant_token("expired")),
                            ws ? nullptr : &refused, ws ? "upgraded" : "upgrade refused");
                 if (ws) ctx.fail("an expired token was accepted on the upgrade", "401", "101");
                 expect_refused(ctx, refused, 401, "an upgrade with an expired token");
                 expect_bearer_challenge(ctx, refused, "error=\"invalid_token\"");
             }});

    reg.add({"WS-002.unknown-agent-404",
             {"WS-002"},
             layer::unit,
             "Upgrading /agents/{random uuid}/status is 404 before the upgrade",
             [](context& ctx) {
                 response refused;
                 auto ws = open_stream(ctx, "/agents/" + random_uuid(ctx) + "/status", "viewer",
                                       &refused);
                 if (ws) ctx.fail("an unknown agent's status stream was upgraded", "404", "101");
                 expect_refused(ctx, refused, 404, "the status stream of an unknown agent");
             }});

    reg.add({"WS-003.snapshot-first",
             {"WS-003"},
             layer::unit,
             "The status stream's first message is a snapshot: type, agent_id, status "
             "registered, revision 1, seq",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "ws"));
                 const auto id = id_of(ctx, a);
                 auto ws = must_open(ctx, "/agents/" + id + "/status", "WS-003");
                 auto m = next_json(ctx, *ws, ctx.scaled(2000ms), "the snapshot");
                 ctx.expect(m.value("type", json()) == "snapshot",
                            "the first message is the snapshot", "\"snapshot\"",
                            m.value("type", json()).dump());
                 ctx.expect(m.value("agent_id", json()) == id, "the snapshot names the agent", id,
                            m.value("agent_id", json()).dump());
                 ctx.expect(m.value("status", json()) == "registered",
                            "the snapshot has the agent's status", "\"registered\"",
                            m.value("status", json()).dump());
                 ctx.expect(m.value("revision", json()) == a.value("revision", json()),
                            "the snapshot has the agent's revision",
                            a.value("revision", json()).dump(), m.value("revision", json()).dump());
                 ctx.expect(m.contains("seq") && m["seq"].is_number_integer(),
                            "the snapshot carries seq (an integer)", "integer",
                            m.value("seq", json()).dump());
                 ws->close();
             }});

    reg.add({"WS-004.changes-in-order",
             {"WS-004"},
             layer::integration,
             "Three status moves are streamed as status_changed, in order, with growing seq, "
             "each within 1 s of the move's response",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "ws"));
                 const auto id = id_of(ctx, a);
                 auto ws = must_open(ctx, "/agents/" + id + "/status", "WS-004");
                 (void)next_json(ctx, *ws, ctx.scaled(2000ms), "the snapshot");
                 const std::vector<std::pair<std::string, std::string>> moves = {
                     {"registered", "active"}, {"active", "inactive"}, {"inactive", "active"}};
                 long long last_seq = 0;
                 for (const auto& [from, to] : moves) {
                     auto r = put_status(ctx, id, to);
                     if (r.status != 200)
                         ctx.block("REG-046", "PUT /agents/{id}/status " + from + "→" + to +
                                                  " answered " + describe(r));
                     const auto answered = std::chrono::steady_clock::now();
                     auto m = next_json(ctx, *ws, ctx.scaled(1000ms),
                                        "status_changed " + from + "→" + to + " within 1 s");
                     const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - answered);
                     ctx.expect(m.value("type", json()) == "status_changed" &&
                                    m.value("old_status", json()) == from &&
                                    m.value("new_status", json()) == to,
                                "the move " + from + "→" + to + " is streamed next",
                                R"({"type":"status_changed","old_status":")" + from +
                                    R"(","new_status":")" + to + "\"}",
                                m.dump());
                     ctx.expect(m.value("agent_id", json()) == id, "the message names the agent",
                                id, m.value("agent_id", json()).dump());
                     ctx.expect(m.contains("at") && m["at"].is_string() &&
                                    is_rfc3339_ms_utc(m["at"].get<std::string>()),
                                "the message carries at (RFC 3339 UTC, milliseconds)",
                                "2026-11-24T15:10:00.123Z", m.value("at", json()).dump());
                     const auto seq = m.value("seq", json());
                     ctx.expect(seq.is_number_integer() && seq.get<long long>() > last_seq,
                                "seq grows from message to message",
                                "> " + std::to_string(last_seq), seq.dump());
                     last_seq = seq.get<long long>();
                     ctx.note(from + "→" + to + " streamed " + std::to_string(took.count()) +
                              " ms after the response");
                 }
                 ws->close();
             }});

    reg.add({"WS-004.same-seq-as-events",
             {"WS-004", "EVT-008"},
             layer::integration,
             "One status move gives one event in /events and one status_changed message, "
             "with the same seq",
             [](context& ctx) {
                 if (!ctx.has_feature("events")) ctx.skip("feature events is not declared");
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "ws"));
                 const auto id = id_of(ctx, a);
                 auto ws = must_open(ctx, "/agents/" + id + "/status", "WS-004");
                 (void)next_json(ctx, *ws, ctx.scaled(2000ms), "the snapshot");
                 auto r = put_status(ctx, id, "active");
                 if (r.status != 200)
                     ctx.block("REG-046", "registered→active answered " + describe(r));
                 auto m = next_json(ctx, *ws, ctx.scaled(1000ms), "status_changed");
                 auto list = ctx.send(authed(ctx, "viewer", "GET",
                                             "/events?type=agent_status_changed&agent_id=" + id));
                 auto j = ctx.expect_json(list);
                 const auto& items = j.value("items", json::array());
                 ctx.expect(items.size() == 1, "/events lists exactly one agent_status_changed",
                            "1", std::to_string(items.size()));
                 ctx.expect(items[0].value("seq", json()) == m.value("seq", json()),
                            "the message and the event have the same seq",
                            items[0].value("seq", json()).dump(), m.value("seq", json()).dump());
                 auto more = ws->read(ctx.scaled(300ms));
                 ctx.expect(more.what == ws_event::kind::timeout,
                            "no second message for one change", "nothing", more.text);
             }});

    reg.add({"WS-005.deleted-then-1000",
             {"WS-005"},
             layer::unit,
             "Deleting the agent streams {type: deleted, agent_id, seq}, then a close with 1000",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const auto a = create_exact(ctx, guard, base_body(ctx, "ws"));
                 const auto id = id_of(ctx, a);
                 auto ws = must_open(ctx, "/agents/" + id + "/status", "WS-005");
                 (void)next_json(ctx, *ws, ctx.scaled(2000ms), "the snapshot");
                 auto del = ctx.send(authed(ctx, "operator", "DELETE", "/agents/" + id));
                 if (del.status != 204) ctx.block("REG-034", "DELETE answered " + describe(del));
                 auto m = next_json(ctx, *ws, ctx.scaled(1000ms), "the deleted message");
                 ctx.expect(m.value("type", json()) == "deleted" &&
                                m.value("agent_id", json()) == id && m.contains("seq"),
                            "the message says the agent was deleted",
                            R"({"type":"deleted","agent_id":")" + id + "\",\"seq\":…}", m.dump());
                 auto e = ws->read(ctx.scaled(2000ms));
                 ctx.expect(e.what == ws_event::kind::closed, "the stream closes after deleted",
                            "close 1000", e.what == ws_event::kind::message ? e.text : "nothing");
                 ctx.expect(e.close_code == 1000, "the close code is 1000", "1000",
                            std::to_string(e.close_code));
             }});

    reg.add({"WS-006.replay-then-live",
             {"WS-006"},
             layer::integration,
             "/events/stream?after=&types= sends the events published before it opened, then "
             "one published after, exactly as POST /events answered them",
             [](context& ctx) {
                 need_events(ctx);
                 const auto type = "x_ac_ws_" + random_hex(ctx, 8);
                 auto e1 = publish_event(ctx, type, {{"n", 1}});
                 auto e2 = publish_event(ctx, type, {{"n", 2}});
                 const auto after = e1.value("seq", 1LL) - 1;
                 auto ws = must_open(
                     ctx, "/events/stream?after=" + std::to_string(after) + "&types=" + type,
                     "WS-006");
                 auto m1 = next_json(ctx, *ws, ctx.scaled(2000ms), "the first replayed event");
                 auto m2 = next_json(ctx, *ws, ctx.scaled(2000ms), "the second replayed event");
                 ctx.expect(m1 == e1 && m2 == e2, "the replay sends the two events as published",
                            e1.dump() + "\n" + e2.dump(), m1.dump() + "\n" + m2.dump());
                 auto e3 = publish_event(ctx, type, {{"n", 3}});
                 auto m3 = next_json(ctx, *ws, ctx.scaled(1000ms), "the live event within 1 s");
                 ctx.expect(m3 == e3, "the live event is sent as published", e3.dump(), m3.dump());
                 ws->close();
             }});

    reg.add({"WS-006.long-replay-not-cut",
             {"WS-006", "WS-008"},
             layer::integration,
             "A client that reads gets a replay larger than limits.ws_buffer_bytes in full: "
             "the bound is for clients that do not read",
             [](context& ctx) {
                 need_events(ctx);
                 const auto bound = ctx.limit("ws_buffer_bytes", 256 * 1024);
                 if (bound > (4LL << 20)) ctx.skip("limits.ws_buffer_bytes is over 4 MiB");
                 const auto type = "x_ac_long_" + random_hex(ctx, 8);
                 const std::string pad(4000, 'r');
                 const long long count = bound / 4000 * 2 + 10;
                 auto conn = ctx.open_connection();
                 const auto token = ctx.token("operator");
                 long long first = 0;
                 for (long long i = 0; i < count; ++i) {
                     request r("POST", "/events");
                     r.bearer(token);
                     r.json({{"type", type}, {"data", {{"i", i}, {"pad", pad}}}});
                     auto resp = client::send_honouring_rate_limits(conn, r);
                     if (resp.status != 201)
                         ctx.block("EVT-007", "POST /events answered " + describe(resp));
                     if (i == 0) first = resp.json()->value("seq", 0LL);
                 }
                 auto ws = must_open(
                     ctx, "/events/stream?after=" + std::to_string(first - 1) + "&types=" + type,
                     "WS-006");
                 long long received = 0;
                 for (;;) {
                     auto e = ws->read(ctx.scaled(5000ms));
                     if (e.what != ws_event::kind::message) {
                         ctx.expect(received == count,
                                    "every replayed event arrived before the stream ended or "
                                    "went quiet",
                                    std::to_string(count),
                                    std::to_string(received) +
                                        (e.what == ws_event::kind::closed
                                             ? " then close " + std::to_string(e.close_code)
                                             : " then nothing"));
                         break;
                     }
                     if (json::parse(e.text).value("data", json()).value("i", -1LL) != received)
                         ctx.fail("the replay is out of order", "i = " + std::to_string(received),
                                  e.text.substr(0, 200));
                     if (++received == count) break;
                 }
                 ws->close();
             }});

    reg.add({"WS-006.reconnect-under-writes",
             {"WS-006"},
             layer::integration,
             "While another client publishes 60 events, a stream read in two connections (the "
             "second with after = the last seq seen) gets every one once, in order",
             [](context& ctx) {
                 need_events(ctx);
                 const auto type = "x_ac_wsw_" + random_hex(ctx, 8);
                 auto first = publish_event(ctx, type, {{"n", 0}});
                 std::vector<long long> published = {first.value("seq", 0LL)};
                 std::mutex m;
                 std::atomic<bool> failed{false};
                 std::thread writer([&] {
                     try {
                         auto conn = ctx.open_connection();
                         const auto token = ctx.token("operator");
                         for (int i = 1; i < 60; ++i) {
                             request r("POST", "/events");
                             r.bearer(token);
                             r.json({{"type", type}, {"data", {{"n", i}}}});
                             auto resp = client::send_honouring_rate_limits(conn, r);
                             if (resp.status != 201) {
                                 failed = true;
                                 return;
                             }
                             std::lock_guard lock(m);
                             published.push_back(resp.json()->value("seq", 0LL));
                             std::this_thread::sleep_for(3ms);
                         }
                     } catch (...) {
                         failed = true;
                     }
                 });
                 ctx.mark_concurrent();
                 std::vector<long long> seen;
                 std::string failure;
                 try {
                     const auto path = [&](long long after) {
                         return "/events/stream?after=" + std::to_string(after) + "&types=" + type;
                     };
                     auto ws = must_open(ctx, path(published.front() - 1), "WS-006");
                     while (seen.size() < 20) {
                         auto e = ws->read(ctx.scaled(3000ms));
                         if (e.what != ws_event::kind::message) break;
                         seen.push_back(json::parse(e.text).value("seq", 0LL));
                     }
                     ws->close();
                     auto again = must_open(ctx, path(seen.empty() ? 0 : seen.back()), "WS-006");
                     while (seen.size() < 60) {
                         auto e = again->read(ctx.scaled(3000ms));
                         if (e.what != ws_event::kind::message) break;
                         seen.push_back(json::parse(e.text).value("seq", 0LL));
                     }
                     again->close();
                 } catch (...) {
                     writer.join();
                     throw;
                 }
                 writer.join();
                 if (failed) ctx.block("EVT-007", "the writing client's POST /events failed");
                 ctx.expect(seen == published,
                            "the two connections together saw every event once, in order",
                            json(published).dump(), json(seen).dump());
             }});

    reg.add({"WS-007.ping-pong",
             {"WS-007"},
             layer::unit,
             "A ping on /events/stream is answered with a pong carrying the same payload",
             [](context& ctx) {
                 auto ws = must_open(ctx, "/events/stream?types=x_ac_none", "WS-007");
                 ws->ping("agentcheck-ping");
                 ctx.expect(ws->wait_pong("agentcheck-ping", ctx.scaled(2000ms)),
                            "a pong with the ping's payload within 2 s", "pong \"agentcheck-ping\"",
                            "none");
                 ws->close();
             }});

    reg.add({"WS-008.slow-consumer-closed",
             {"WS-008"},
             layer::integration,
             "A stream client that stops reading while 8 MiB more than limits.ws_buffer_bytes "
             "is published is closed with 1008 or 1013",
             [](context& ctx) {
                 need_events(ctx);
                 const auto bound = ctx.limit("ws_buffer_bytes", -1);
                 if (bound <= 0)
                     ctx.skip("limits.ws_buffer_bytes is not declared: the bound cannot be tested");
                 if (bound > (16LL << 20)) ctx.skip("limits.ws_buffer_bytes is over 16 MiB");
                 const auto type = "x_ac_slow_" + random_hex(ctx, 8);
                 auto ws = must_open(ctx, "/events/stream?types=" + type, "WS-008");
                 // Stop reading; publish until what the agent must hold is well past its bound.
                 const std::string pad(8000, 'p');
                 const long long total = bound + (8LL << 20);
                 const long long count = total / 8000 + 1;
                 auto conn = ctx.open_connection();
                 const auto token = ctx.token("operator");
                 for (long long i = 0; i < count; ++i) {
                     request r("POST", "/events");
                     r.bearer(token);
                     r.json({{"type", type}, {"data", {{"pad", pad}}}});
                     auto resp = client::send_honouring_rate_limits(conn, r);
                     if (resp.status != 201)
                         ctx.block("EVT-007", "POST /events answered " + describe(resp));
                 }
                 ctx.note("published " + std::to_string(count) + " events of 8 KB without reading");
                 long long received = 0;
                 for (;;) {
                     auto e = ws->read(ctx.scaled(10000ms));
                     if (e.what == ws_event::kind::message) {
                         ++received;
                         continue;
                     }
                     ctx.note("read " + std::to_string(received) + " messages before the end");
                     ctx.expect(e.what == ws_event::kind::closed,
                                "the agent closes a client that does not read",
                                "close 1008 or 1013", "the stream stayed open");
                     ctx.expect(e.close_code == 1008 || e.close_code == 1013,
                                "the close code is 1008 or 1013", "1008 or 1013",
                                std::to_string(e.close_code) + " " + e.close_reason);
                     break;
                 }
                 ctx.expect(received < count, "not every event was queued for the slow client",
                            "< " + std::to_string(count), std::to_string(received));
             }});
}

} // namespace agentcheck
