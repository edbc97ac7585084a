// §7 Invoke and resilience, end to end through the downstream stub the harness runs on
// loopback: forwarding, propagation, validation, the allowlist (no connection at all),
// retries spaced by the backoff, no retry on 4xx, 502/504 with attempts, the circuit breaker
// (opens, refuses without contacting the target, half-open trial, closes), its visibility; and
// agent_health_check (§6) moving an agent between active and degraded.

#include <chrono>
#include <string>
#include <thread>

#include "conformance/stub/stub.hpp"
#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using namespace std::chrono_literals;
using stub::downstream;
using stub::step;

/// A declared integer the check needs (it is skipped, saying so, when it is not declared).
long long need_declared(context& ctx, const std::string& object, const std::string& name) {
    const auto v = declared(ctx, object, name, -1);
    if (v <= 0) ctx.skip(object + "." + name + " is not declared");
    return v;
}

/// An agent whose endpoint is `endpoint`, offering capability "sum".
json target_agent(context& ctx, agent_guard& guard, const std::string& endpoint) {
    auto body = base_body(ctx, "inv");
    body["endpoint"] = endpoint;
    body["capabilities"] = json::array({json{{"name", "sum"}}});
    return create_exact(ctx, guard, body);
}

response invoke(context& ctx, const std::string& id, const json& body,
                const client::header_list& extra = {}, std::string_view identity = "operator") {
    auto req = authed(ctx, identity, "POST", "/agents/" + id + "/invoke");
    req.json(body);
    for (const auto& h : extra)
        req.with(h.name, h.value);
    return ctx.send(req);
}

json sum_call() {
    return {{"capability", "sum"}, {"input", {{"a", 1}, {"b", 2}}}};
}

std::string problem_type_of(const response& r) {
    auto j = r.json();
    return j && j->is_object() && j->contains("type") && (*j)["type"].is_string()
               ? (*j)["type"].get<std::string>()
               : std::string();
}

long long attempts_of(const response& r) {
    auto j = r.json();
    return j && j->is_object() ? j->value("attempts", -1LL) : -1;
}

} // namespace

void register_s07_invoke(check_registry& reg) {
    reg.add({"INV-001.forwards",
             {"INV-001"},
             layer::integration,
             "Invoke POSTs {capability, input} to the endpoint + /invoke and answers 200 "
             "{output: the target's JSON, attempts: 1}",
             [](context& ctx) {
                 check_stub s(ctx);
                 s.script({}, step::ok(R"({"sum":3,"from":"stub"})"));
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 auto r = invoke(ctx, id_of(ctx, a), sum_call());
                 ctx.expect_status(r, 200);
                 auto j = ctx.expect_json(r);
                 ctx.expect(j.value("output", json()) == json{{"sum", 3}, {"from", "stub"}},
                            "output is the target's JSON body", R"({"sum":3,"from":"stub"})",
                            j.value("output", json()).dump());
                 ctx.expect(j.value("attempts", json()) == 1, "one attempt", "1",
                            j.value("attempts", json()).dump());
                 const auto calls = s.calls();
                 if (calls.size() != 1)
                     ctx.fail("the target was not called exactly once", "1",
                              std::to_string(calls.size()));
                 ctx.expect(calls[0].method == "POST" && calls[0].target == "/invoke",
                            "the call is POST endpoint + /invoke", "POST /invoke",
                            calls[0].method + " " + calls[0].target);
                 auto sent = json::parse(calls[0].body, nullptr, false);
                 ctx.expect(sent == sum_call(), "the target got {capability, input}",
                            sum_call().dump(), calls[0].body);
             }});

    reg.add({"INV-002.propagation",
             {"INV-002"},
             layer::integration,
             "Invoke passes X-Request-ID on, and traceparent with the same trace id (a new span)",
             [](context& ctx) {
                 check_stub s(ctx);
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 const std::string rid = "ac-inv-" + random_hex(ctx, 8);
                 const std::string trace = random_hex(ctx, 32);
                 const std::string parent = "00-" + trace + "-" + random_hex(ctx, 16) + "-01";
                 auto r = invoke(ctx, id_of(ctx, a), sum_call(),
                                 {{"X-Request-ID", rid}, {"traceparent", parent}});
                 ctx.expect_status(r, 200);
                 const auto calls = s.calls();
                 if (calls.empty()) ctx.fail("the target was not called");
                 ctx.expect(calls[0].header("X-Request-ID") == rid,
                            "the target got the same X-Request-ID", rid,
                            calls[0].header("X-Request-ID"));
                 const auto tp = calls[0].header("traceparent");
                 ctx.expect(tp.size() == 55 && tp.substr(3, 32) == trace,
                            "the target got a traceparent with the same trace id",
                            "00-" + trace + "-…", tp);
                 ctx.expect(tp.size() == 55 && tp.substr(36, 16) != parent.substr(36, 16),
                            "the span id is new", "≠ " + parent.substr(36, 16), tp);
             }});

    reg.add({"INV-003.validation",
             {"INV-003"},
             layer::unit,
             "Invoking a capability the agent does not list, or an agent without an endpoint, "
             "is 422",
             [](context& ctx) {
                 check_stub s(ctx);
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 auto r = invoke(ctx, id_of(ctx, a), {{"capability", "not-listed"}, {"input", 1}});
                 expect_refused(ctx, r, 422, "a capability the agent does not list");
                 auto body = base_body(ctx, "inv-noend");
                 body.erase("endpoint");
                 body["capabilities"] = json::array({json{{"name", "sum"}}});
                 const auto b = create_exact(ctx, guard, body);
                 auto none = invoke(ctx, id_of(ctx, b), sum_call());
                 expect_refused(ctx, none, 422, "an agent without an endpoint");
                 ctx.expect(s.call_count() == 0, "the target was never called", "0",
                            std::to_string(s.call_count()));
             }});

    reg.add({"INV-004.allowlist",
             {"INV-004"},
             layer::integration,
             "An endpoint on 127.0.0.2 (not allowed) is 403, and no connection reaches it",
             [](context& ctx) {
                 check_stub s(ctx);
                 if (s.forbidden_url().empty())
                     ctx.skip("the stub could not listen on 127.0.0.2 here");
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.forbidden_url());
                 auto r = invoke(ctx, id_of(ctx, a), sum_call());
                 expect_refused(ctx, r, 403, "an endpoint outside the allowlist");
                 std::this_thread::sleep_for(100ms); // a connection would have arrived by now
                 ctx.expect(s.forbidden_connections() == 0,
                            "no connection was made to the forbidden address", "0",
                            std::to_string(s.forbidden_connections()));
             }});

    reg.add(
        {"INV-005.retries-then-success",
         {"INV-005"},
         layer::integration,
         "A target answering 500, then a reset, then 200 is called three times, the waits "
         "within the declared backoff, and invoke answers 200 with attempts 3",
         [](context& ctx) {
             const auto max = need_declared(ctx, "resilience", "invoke_max_attempts");
             if (max < 3) ctx.skip("invoke_max_attempts is under 3");
             const auto base = need_declared(ctx, "resilience", "retry_base_ms");
             const auto threshold = declared(ctx, "resilience", "breaker_failure_threshold", 1000);
             if (threshold < 3) ctx.skip("breaker_failure_threshold is under 3");
             check_stub s(ctx);
             step reset;
             reset.reset = true;
             s.script({step::status_code(500), reset}, step::ok(R"({"ok":true})"));
             agent_guard guard(ctx);
             const auto a = target_agent(ctx, guard, s.url());
             auto r = invoke(ctx, id_of(ctx, a), sum_call());
             ctx.expect_status(r, 200);
             ctx.expect(attempts_of(r) == 3, "attempts is 3", "3", std::to_string(attempts_of(r)));
             const auto calls = s.calls();
             if (calls.size() != 3)
                 ctx.fail("the target was not called three times", "3",
                          std::to_string(calls.size()));
             for (std::size_t i = 1; i < calls.size(); ++i) {
                 const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      calls[i].at - calls[i - 1].at)
                                      .count();
                 const long long ceiling = base << (i - 1);
                 ctx.note("wait before attempt " + std::to_string(i + 1) + ": " +
                          std::to_string(gap) + " ms (ceiling " + std::to_string(ceiling) + ")");
                 ctx.expect(gap >= ceiling / 2 - 5, "the wait is at least half the backoff ceiling",
                            ">= " + std::to_string(ceiling / 2) + " ms",
                            std::to_string(gap) + " ms");
             }
         }});

    reg.add({"INV-006.no-retry-on-4xx",
             {"INV-006"},
             layer::integration,
             "A target answering 404 is called once: a 4xx is not retried",
             [](context& ctx) {
                 check_stub s(ctx);
                 s.script({}, step::status_code(404));
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 auto r = invoke(ctx, id_of(ctx, a), sum_call());
                 ctx.expect(r.status != 200, "invoke does not answer 200 for a 404", "an error",
                            describe(r));
                 std::this_thread::sleep_for(200ms);
                 ctx.expect(s.call_count() == 1, "the target was called once", "1",
                            std::to_string(s.call_count()));
             }});

    reg.add({"INV-007.exhausted-502",
             {"INV-007", "INV-005"},
             layer::integration,
             "A target that always answers 500 is called invoke_max_attempts times, then "
             "invoke is a 502 problem with attempts",
             [](context& ctx) {
                 const auto max = need_declared(ctx, "resilience", "invoke_max_attempts");
                 if (declared(ctx, "resilience", "breaker_failure_threshold", 1000) < max)
                     ctx.skip("the breaker would open before the attempts run out");
                 check_stub s(ctx);
                 s.script({}, step::status_code(500));
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 auto r = invoke(ctx, id_of(ctx, a), sum_call());
                 (void)ctx.expect_problem(r, 502);
                 ctx.expect(attempts_of(r) == max, "the problem says how many attempts",
                            std::to_string(max), std::to_string(attempts_of(r)));
                 ctx.expect(static_cast<long long>(s.call_count()) == max,
                            "the target was called invoke_max_attempts times", std::to_string(max),
                            std::to_string(s.call_count()));
             }});

    reg.add({"INV-007.timeout-504",
             {"INV-007", "INV-005"},
             layer::integration,
             "A target slower than invoke_timeout_ms on every attempt makes invoke a 504 problem",
             [](context& ctx) {
                 const auto timeout = need_declared(ctx, "resilience", "invoke_timeout_ms");
                 const auto max = need_declared(ctx, "resilience", "invoke_max_attempts");
                 if (timeout * max > 15000) ctx.skip("invoke_timeout_ms × attempts is over 15 s");
                 if (declared(ctx, "resilience", "breaker_failure_threshold", 1000) < max)
                     ctx.skip("the breaker would open before the attempts run out");
                 check_stub s(ctx);
                 s.script({}, step::slow(std::chrono::milliseconds(timeout + 1000)));
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 auto r = invoke(ctx, id_of(ctx, a), sum_call());
                 (void)ctx.expect_problem(r, 504);
                 ctx.expect(attempts_of(r) == max, "the problem says how many attempts",
                            std::to_string(max), std::to_string(attempts_of(r)));
             }});

    reg.add({"INV-008.circuit-opens",
             {"INV-008", "INV-010"},
             layer::integration,
             "After breaker_failure_threshold failed attempts the circuit opens: invoke is 503 "
             "circuit-open with Retry-After, the target is not contacted, the agent shows "
             "\"circuit\": \"open\"",
             [](context& ctx) {
                 const auto threshold =
                     need_declared(ctx, "resilience", "breaker_failure_threshold");
                 if (threshold > 50) ctx.skip("breaker_failure_threshold is over 50");
                 check_stub s(ctx);
                 s.script({}, step::status_code(500));
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 const auto id = id_of(ctx, a);
                 std::optional<response> open;
                 for (int i = 0; i < threshold + 2 && !open; ++i) {
                     auto r = invoke(ctx, id, sum_call());
                     if (r.status == 503) open = r;
                 }
                 if (!open)
                     ctx.fail("the circuit never opened", "503 circuit-open",
                              std::to_string(s.call_count()) + " failed calls");
                 ctx.expect(static_cast<long long>(s.call_count()) >= threshold,
                            "it opened after at least breaker_failure_threshold failed attempts",
                            ">= " + std::to_string(threshold), std::to_string(s.call_count()));
                 const auto type = problem_type_of(*open);
                 ctx.expect(type.size() >= 12 && type.substr(type.size() - 12) == "circuit-open",
                            "the problem type ends with circuit-open", "…circuit-open", type);
                 (void)ctx.expect_header_present(*open, "Retry-After");
                 const auto before = s.call_count();
                 auto again = invoke(ctx, id, sum_call());
                 ctx.expect(again.status == 503, "while open, invoke stays 503", "503",
                            describe(again));
                 ctx.expect(s.call_count() == before, "while open, the target is not contacted",
                            std::to_string(before), std::to_string(s.call_count()));
                 auto agent = ctx.expect_json(get_agent(ctx, id));
                 ctx.expect(agent.value("circuit", json()) == "open",
                            "the agent shows \"circuit\": \"open\"", "\"open\"",
                            agent.value("circuit", json()).dump());
                 if (ctx.has_feature("events")) {
                     auto evs = ctx.expect_json(ctx.send(authed(
                         ctx, "viewer", "GET", "/events?type=circuit_opened&agent_id=" + id)));
                     ctx.expect(!evs.value("items", json::array()).empty(),
                                "a circuit_opened event names the agent", "one event", evs.dump());
                 }
             }});

    reg.add({"INV-009.half-open-trial-closes",
             {"INV-009", "INV-010"},
             layer::integration,
             "After breaker_recovery_ms one trial goes out (of two invokes at once, one reaches "
             "the target; its failure reopens the circuit); after the next breaker_recovery_ms "
             "a good answer closes the circuit (\"circuit\": \"closed\", circuit_closed)",
             [](context& ctx) {
                 const auto threshold =
                     need_declared(ctx, "resilience", "breaker_failure_threshold");
                 const auto recovery = need_declared(ctx, "resilience", "breaker_recovery_ms");
                 if (threshold > 50 || recovery > 10000)
                     ctx.skip("breaker_failure_threshold over 50 or breaker_recovery_ms over 10 s");
                 check_stub s(ctx);
                 s.script({}, step::status_code(500));
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 const auto id = id_of(ctx, a);
                 bool opened = false;
                 for (int i = 0; i < threshold + 2 && !opened; ++i)
                     opened = invoke(ctx, id, sum_call()).status == 503;
                 if (!opened) ctx.block("INV-008", "the circuit did not open");
                 // One trial, not more: two invokes at once after breaker_recovery_ms, the
                 // target slow to fail. Exactly one reaches it; its failure reopens the
                 // circuit, so neither invoke's retry nor the other call reaches it again.
                 std::this_thread::sleep_for(std::chrono::milliseconds(recovery + 200));
                 s.script({}, step::slow(std::chrono::milliseconds(400), 500));
                 const auto before_race = s.call_count();
                 {
                     auto conn = ctx.open_connection();
                     const auto token = ctx.token("operator");
                     request side("POST", "/agents/" + id + "/invoke");
                     side.bearer(token);
                     side.json(sum_call());
                     std::thread other([&] {
                         try {
                             (void)conn.send(side);
                         } catch (...) { // the count below is what the check reads
                         }
                     });
                     ctx.mark_concurrent();
                     (void)invoke(ctx, id, sum_call());
                     other.join();
                 }
                 std::this_thread::sleep_for(200ms); // a late call would have arrived by now
                 ctx.expect(s.call_count() == before_race + 1,
                            "two invokes at once while half-open: one trial reaches the target",
                            std::to_string(before_race + 1), std::to_string(s.call_count()));
                 // The failed trial reopened the circuit: after breaker_recovery_ms again, a
                 // trial that succeeds closes it.
                 std::this_thread::sleep_for(std::chrono::milliseconds(recovery + 200));
                 s.script({}, step::ok(R"({"healed":true})"));
                 const auto before = s.call_count();
                 auto trial = invoke(ctx, id, sum_call());
                 ctx.expect_status(trial, 200);
                 ctx.expect(s.call_count() == before + 1, "exactly one trial went out",
                            std::to_string(before + 1), std::to_string(s.call_count()));
                 auto agent = ctx.expect_json(get_agent(ctx, id));
                 ctx.expect(agent.value("circuit", json()) == "closed",
                            "the agent shows \"circuit\": \"closed\"", "\"closed\"",
                            agent.value("circuit", json()).dump());
                 if (ctx.has_feature("events")) {
                     auto evs = ctx.expect_json(ctx.send(authed(
                         ctx, "viewer", "GET", "/events?type=circuit_closed&agent_id=" + id)));
                     ctx.expect(!evs.value("items", json::array()).empty(),
                                "a circuit_closed event names the agent", "one event", evs.dump());
                 }
             }});

    reg.add({"INV-011.viewer-403",
             {"INV-011"},
             layer::unit,
             "A viewer may not invoke (403); the target is not called",
             [](context& ctx) {
                 check_stub s(ctx);
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 auto r = invoke(ctx, id_of(ctx, a), sum_call(), {}, "viewer");
                 expect_refused(ctx, r, 403, "invoke as a viewer");
                 ctx.expect(s.call_count() == 0, "the target was not called", "0",
                            std::to_string(s.call_count()));
             }});

    reg.add({"TASK-007.health-check-moves-status",
             {"TASK-007"},
             layer::e2e,
             "agent_health_check against the stub: healthy turns registered into active; a "
             "dead-lettered check turns active into degraded; healthy again, active",
             [](context& ctx) {
                 if (!ctx.has_feature("tasks")) ctx.skip("feature tasks is not declared");
                 check_stub s(ctx);
                 agent_guard guard(ctx);
                 const auto a = target_agent(ctx, guard, s.url());
                 const auto id = id_of(ctx, a);
                 auto run_check = [&](const std::string& want) {
                     auto req = authed(ctx, "operator", "POST", "/tasks");
                     req.json({{"type", "agent_health_check"},
                               {"payload", {{"agent_id", id}}},
                               {"max_attempts", 1}});
                     auto r = ctx.send(req);
                     if (r.status != 202)
                         ctx.block("TASK-001", "POST /tasks answered " + describe(r));
                     const auto task_id = r.json()->value("id", "");
                     const auto deadline = std::chrono::steady_clock::now() + ctx.scaled(15000ms);
                     for (;;) {
                         auto t = ctx.expect_json(
                             ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + task_id)));
                         if (t.value("status", "") == want) return;
                         if (t.value("status", "") == "succeeded" ||
                             t.value("status", "") == "dead_lettered")
                             ctx.fail("the health check ended " + t.value("status", std::string()),
                                      want, t.dump());
                         if (std::chrono::steady_clock::now() > deadline)
                             ctx.fail("the health check did not finish in 15 s", want, t.dump());
                         std::this_thread::sleep_for(20ms);
                     }
                 };
                 auto status = [&] {
                     return ctx.expect_json(get_agent(ctx, id)).value("status", json());
                 };
                 s.script({}, step::ok());
                 run_check("succeeded");
                 ctx.expect(status() == "active", "a passing check turns registered into active",
                            "\"active\"", status().dump());
                 const auto probes = s.calls();
                 ctx.expect(!probes.empty() && probes.back().method == "GET" &&
                                probes.back().target == "/health",
                            "the check GETs endpoint + /health", "GET /health",
                            probes.empty() ? "no call"
                                           : probes.back().method + " " + probes.back().target);
                 s.script({}, step::status_code(503));
                 run_check("dead_lettered");
                 ctx.expect(status() == "degraded",
                            "a dead-lettered check turns active into degraded", "\"degraded\"",
                            status().dump());
                 s.script({}, step::ok());
                 run_check("succeeded");
                 ctx.expect(status() == "active", "a passing check turns degraded into active",
                            "\"active\"", status().dump());
             }});
}

} // namespace agentcheck
