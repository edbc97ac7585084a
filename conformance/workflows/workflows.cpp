// End-to-end workflows (layer e2e): several features in one story, checked across every
// channel that tells it — REST answers, the event log, the WebSocket streams, the task
// records and the downstream stub. Each prints the sequence it ran as its notes.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "conformance/client/ws.hpp"
#include "conformance/stub/stub.hpp"
#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using namespace std::chrono_literals;
using client::ws_client;
using client::ws_event;

/// Numbers and notes each step, so that the report shows the sequence the workflow ran.
struct story {
    context& ctx;
    int n = 0;
    void step(const std::string& what) { ctx.note("step " + std::to_string(++n) + ": " + what); }
};

void need(context& ctx, std::initializer_list<const char*> features) {
    for (const char* f : features)
        if (!ctx.has_feature(f)) ctx.skip(std::string("feature ") + f + " is not declared");
}

std::unique_ptr<ws_client> open_ws(context& ctx, const std::string& path) {
    ws_client::options o;
    o.timeout = ctx.scaled(10000ms);
    client::response refused;
    auto ws = ws_client::open(ctx.target(), path,
                              {{"Authorization", "Bearer " + ctx.token("viewer")}}, o, &refused);
    if (!ws) ctx.block("WS-001", "the upgrade of " + path + " answered " + describe(refused));
    return ws;
}

json next_message(context& ctx, ws_client& ws, std::string_view what) {
    auto e = ws.read(ctx.scaled(3000ms));
    if (e.what != ws_event::kind::message)
        ctx.fail(std::string("no WebSocket message: ") + std::string(what), std::string(what),
                 e.what == ws_event::kind::closed ? "close " + std::to_string(e.close_code)
                                                  : "nothing");
    return json::parse(e.text);
}

json run_task(context& ctx, const json& body, const std::string& want) {
    auto req = authed(ctx, "operator", "POST", "/tasks");
    req.json(body);
    auto r = ctx.send(req);
    if (r.status != 202) ctx.block("TASK-001", "POST /tasks answered " + describe(r));
    const std::string id = r.json()->value("id", "");
    const auto deadline = std::chrono::steady_clock::now() + ctx.scaled(20000ms);
    for (;;) {
        auto t = ctx.expect_json(ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + id)));
        const auto st = t.value("status", std::string());
        if (st == want) return t;
        if (st == "succeeded" || st == "dead_lettered" ||
            std::chrono::steady_clock::now() > deadline)
            ctx.fail("task " + id + " ended " + st + ", not " + want, want, t.dump());
        std::this_thread::sleep_for(20ms);
    }
}

/// The next stream message about agent `id` (others' events, written by checks running
/// beside this one, are passed over).
json next_about(context& ctx, ws_client& ws, const std::string& id, std::string_view what) {
    for (int passed = 0; passed < 1000; ++passed) {
        auto m = next_message(ctx, ws, what);
        if (m.value("agent_id", json()) == id) return m;
    }
    ctx.fail("1000 stream messages went by without one about the agent", std::string(what), "none");
    return {};
}

std::vector<json> agent_events(context& ctx, const std::string& id) {
    auto j =
        ctx.expect_json(ctx.send(authed(ctx, "viewer", "GET", "/events?limit=500&agent_id=" + id)));
    std::vector<json> out;
    for (auto& e : j.value("items", json::array()))
        out.push_back(e);
    return out;
}

std::string types(const std::vector<json>& events) {
    std::string out;
    for (const auto& e : events)
        out += (out.empty() ? "" : ", ") + e.value("type", std::string("?"));
    return "[" + out + "]";
}

} // namespace

void register_workflows(check_registry& reg) {
    reg.add(
        {"WF-health.degrade-and-recover",
         {"TASK-007", "WS-004", "EVT-008", "TASK-011"},
         layer::e2e,
         "Register an agent whose endpoint is the stub → activate → the stub fails a health "
         "check → degraded → the stub heals → retry the dead letter → active; the status "
         "stream, the event log, the task records and the final state agree",
         [](context& ctx) {
             need(ctx, {"tasks", "events", "websocket"});
             story s{ctx};
             check_stub down(ctx);
             agent_guard guard(ctx);
             auto body = base_body(ctx, "wf-health");
             body["endpoint"] = down.url();
             s.step("POST /agents with endpoint " + down.url());
             const auto a = create_exact(ctx, guard, body);
             const auto id = id_of(ctx, a);
             auto ws = open_ws(ctx, "/agents/" + id + "/status");
             s.step("open the status stream: " + next_message(ctx, *ws, "the snapshot").dump());
             auto moved = put_status(ctx, id, "active");
             if (moved.status != 200)
                 ctx.block("REG-046", "registered→active answered " + describe(moved));
             s.step("PUT status active: " + next_message(ctx, *ws, "registered→active").dump());
             down.script({}, stub::step::status_code(503));
             const json check = {{"type", "agent_health_check"},
                                 {"payload", {{"agent_id", id}}},
                                 {"max_attempts", 1}};
             auto dead = run_task(ctx, check, "dead_lettered");
             s.step("health check against a failing stub: dead_lettered (" +
                    dead.value("last_error", std::string()) + ")");
             auto degraded = next_message(ctx, *ws, "active→degraded");
             s.step("the stream says " + degraded.dump());
             ctx.expect(degraded.value("new_status", json()) == "degraded",
                        "the status stream shows degraded", "degraded", degraded.dump());
             down.script({}, stub::step::ok());
             auto retry = ctx.send(authed(ctx, "operator", "POST",
                                          "/tasks/" + dead["id"].get<std::string>() + "/retry"));
             if (retry.status != 202) ctx.block("TASK-011", "retry answered " + describe(retry));
             (void)run_task(ctx, check, "succeeded");
             s.step("the stub heals; retry and a new check succeed");
             auto active = next_message(ctx, *ws, "degraded→active");
             s.step("the stream says " + active.dump());
             ctx.expect(active.value("new_status", json()) == "active",
                        "the status stream shows active again", "active", active.dump());
             auto final_state = ctx.expect_json(get_agent(ctx, id));
             ctx.expect(final_state.value("status", json()) == "active", "the agent ends active",
                        "active", final_state.value("status", json()).dump());
             const auto evs = agent_events(ctx, id);
             s.step("the agent's events: " + types(evs));
             std::vector<std::string> moves;
             for (const auto& e : evs)
                 if (e.value("type", "") == "agent_status_changed")
                     moves.push_back(e["data"].value("new_status", "?"));
             ctx.expect(moves.size() >= 3 && moves[0] == "active" && moves[1] == "degraded" &&
                            moves.back() == "active",
                        "the event log tells the same story: active, degraded, active",
                        "[active, degraded, …, active]", json(moves).dump());
         }});

    reg.add(
        {"WF-circuit.open-and-close",
         {"INV-008", "INV-009", "INV-010", "WS-006"},
         layer::e2e,
         "Invoke a failing stub until the circuit opens (the event stream shows "
         "circuit_opened), wait for recovery, heal the stub, invoke again (circuit_closed); "
         "the agent's circuit field follows",
         [](context& ctx) {
             need(ctx, {"invoke", "events", "websocket"});
             const auto threshold = declared(ctx, "resilience", "breaker_failure_threshold", -1);
             const auto recovery = declared(ctx, "resilience", "breaker_recovery_ms", -1);
             if (threshold <= 0 || recovery <= 0 || threshold > 50 || recovery > 10000)
                 ctx.skip("the breaker's knobs are not declared, or too long to watch");
             story s{ctx};
             check_stub down(ctx);
             down.script({}, stub::step::status_code(500));
             agent_guard guard(ctx);
             auto body = base_body(ctx, "wf-circuit");
             body["endpoint"] = down.url();
             body["capabilities"] = json::array({json{{"name", "sum"}}});
             const auto id = id_of(ctx, create_exact(ctx, guard, body));
             s.step("an agent whose endpoint is a stub answering 500");
             auto stream = open_ws(ctx, "/events/stream?types=circuit_opened,circuit_closed");
             auto invoke = [&] {
                 auto req = authed(ctx, "operator", "POST", "/agents/" + id + "/invoke");
                 req.json({{"capability", "sum"}, {"input", 1}});
                 return ctx.send(req);
             };
             int calls = 0;
             for (; calls < threshold + 2; ++calls)
                 if (invoke().status == 503) break;
             s.step(std::to_string(calls + 1) + " invokes until 503 circuit-open (" +
                    std::to_string(down.call_count()) + " calls reached the stub)");
             auto opened = next_about(ctx, *stream, id, "circuit_opened");
             s.step("the event stream says " + opened.value("type", std::string()) + " (seq " +
                    opened.value("seq", json()).dump() + ")");
             ctx.expect(opened.value("type", json()) == "circuit_opened" &&
                            opened.value("agent_id", json()) == id,
                        "circuit_opened for the agent is streamed", "circuit_opened",
                        opened.dump());
             std::this_thread::sleep_for(std::chrono::milliseconds(recovery + 200));
             down.script({}, stub::step::ok(R"({"ok":true})"));
             auto ok = invoke();
             s.step("after breaker_recovery_ms the stub heals; invoke answers " +
                    std::to_string(ok.status));
             ctx.expect_status(ok, 200);
             auto closed = next_about(ctx, *stream, id, "circuit_closed");
             s.step("the event stream says " + closed.value("type", std::string()));
             ctx.expect(closed.value("type", json()) == "circuit_closed" &&
                            closed.value("seq", 0LL) > opened.value("seq", 0LL),
                        "circuit_closed follows circuit_opened", "circuit_closed", closed.dump());
             auto agent = ctx.expect_json(get_agent(ctx, id));
             ctx.expect(agent.value("circuit", json()) == "closed", "the agent's circuit is closed",
                        "closed", agent.value("circuit", json()).dump());
         }});

    reg.add(
        {"WF-channels.one-story-three-channels",
         {"EVT-008", "WS-004", "WS-005", "WS-006"},
         layer::e2e,
         "Create, update, move and delete an agent while the event stream and its status "
         "stream are open: the log, the event stream and the status stream tell the same "
         "changes with the same seq, and the status stream ends with deleted and 1000",
         [](context& ctx) {
             need(ctx, {"events", "websocket"});
             story s{ctx};
             auto events_ws = open_ws(ctx, "/events/stream?types=agent_registered,agent_updated,"
                                           "agent_status_changed,agent_deleted");
             agent_guard guard(ctx);
             const auto a = create_exact(ctx, guard, base_body(ctx, "wf-chan"));
             const auto id = id_of(ctx, a);
             s.step("POST /agents");
             auto status_ws = open_ws(ctx, "/agents/" + id + "/status");
             (void)next_message(ctx, *status_ws, "the snapshot");
             auto b = mutable_fields(a);
             b["version"] = "1.1.0";
             if (put_agent(ctx, id, b, quoted(a.value("revision", 1LL))).status != 200)
                 ctx.block("REG-030", "PUT /agents/{id} was refused");
             s.step("PUT /agents/{id}");
             if (put_status(ctx, id, "active").status != 200)
                 ctx.block("REG-046", "status move refused");
             s.step("PUT status active");
             if (ctx.send(authed(ctx, "operator", "DELETE", "/agents/" + id)).status != 204)
                 ctx.block("REG-034", "DELETE refused");
             s.step("DELETE /agents/{id}");
             const auto logged = agent_events(ctx, id);
             std::vector<json> streamed;
             while (streamed.size() < logged.size())
                 streamed.push_back(
                     next_about(ctx, *events_ws, id, "the agent's events on the stream"));
             s.step("the log: " + types(logged) + "; the event stream: " + types(streamed));
             ctx.expect(streamed == logged, "the event stream sends exactly the logged events",
                        json(logged).dump().substr(0, 400), json(streamed).dump().substr(0, 400));
             auto change = next_message(ctx, *status_ws, "status_changed");
             auto gone = next_message(ctx, *status_ws, "deleted");
             auto end = status_ws->read(ctx.scaled(2000ms));
             s.step("the status stream: " + change.value("type", std::string()) + " (seq " +
                    change.value("seq", json()).dump() + "), " + gone.value("type", std::string()) +
                    " (seq " + gone.value("seq", json()).dump() + "), close " +
                    std::to_string(end.close_code));
             const auto seq_of = [&](const char* type) {
                 for (const auto& e : logged)
                     if (e.value("type", "") == type) return e.value("seq", json());
                 return json();
             };
             ctx.expect(
                 change.value("seq", json()) == seq_of("agent_status_changed") &&
                     gone.value("seq", json()) == seq_of("agent_deleted"),
                 "the status stream's seq match the log's",
                 seq_of("agent_status_changed").dump() + ", " + seq_of("agent_deleted").dump(),
                 change.value("seq", json()).dump() + ", " + gone.value("seq", json()).dump());
             ctx.expect(end.what == ws_event::kind::closed && end.close_code == 1000,
                        "the status stream closes with 1000", "close 1000",
                        std::to_string(end.close_code));
         }});
}

} // namespace agentcheck
