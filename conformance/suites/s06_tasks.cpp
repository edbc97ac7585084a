// §6 Tasks: submitting, the task's shape, validation, every built-in type's life, retries
// spaced by the declared backoff, dead letters and their retry, idempotency, roles, and a full
// queue answering 503 without dropping what it accepted.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using namespace std::chrono_literals;

response post_task(context& ctx, const json& body, std::string_view identity = "operator",
                   const client::header_list& extra = {}) {
    auto req = authed(ctx, identity, "POST", "/tasks");
    req.json(body);
    for (const auto& h : extra)
        req.with(h.name, h.value);
    return ctx.send(req);
}

/// Submits a task that must be accepted (the check is blocked by TASK-001 otherwise).
json submit(context& ctx, const json& body, std::string_view identity = "operator") {
    auto r = post_task(ctx, body, identity);
    if (r.status != 202)
        ctx.block("TASK-001", "POST /tasks answered " + describe(r) + " to a valid task");
    auto j = r.json();
    if (!j || !j->is_object() || !j->contains("id") || !(*j)["id"].is_string())
        ctx.block("TASK-001", "POST /tasks answered 202 without a JSON task carrying \"id\"");
    return *j;
}

/// Fails unless t has the shape of a task.
void expect_task_shape(context& ctx, const json& t, std::string_view where) {
    const std::string w(where);
    auto need = [&](bool ok, const std::string& what, const json& got) {
        if (!ok) ctx.fail(w + ": " + what, what, got.dump());
    };
    need(t.is_object(), "a task is a JSON object", t);
    need(t.contains("id") && t["id"].is_string() && is_lower_uuid(t["id"].get<std::string>()),
         "\"id\" is a lowercase UUID", t.value("id", json()));
    need(t.contains("type") && t["type"].is_string(), "\"type\" is a string",
         t.value("type", json()));
    need(t.contains("payload") && t["payload"].is_object(), "\"payload\" is an object",
         t.value("payload", json()));
    static const std::set<std::string> statuses = {"queued", "running", "succeeded",
                                                   "dead_lettered"};
    need(t.contains("status") && t["status"].is_string() &&
             statuses.count(t["status"].get<std::string>()),
         "\"status\" is queued, running, succeeded or dead_lettered", t.value("status", json()));
    need(t.contains("attempts") && t["attempts"].is_number_integer() &&
             t["attempts"].get<long long>() >= 0,
         "\"attempts\" is an integer >= 0", t.value("attempts", json()));
    need(t.contains("max_attempts") && t["max_attempts"].is_number_integer(),
         "\"max_attempts\" is an integer", t.value("max_attempts", json()));
    for (const char* k : {"created_at", "updated_at"})
        need(t.contains(k) && t[k].is_string() && is_rfc3339_ms_utc(t[k].get<std::string>()),
             std::string("\"") + k + "\" is RFC 3339 UTC with milliseconds", t.value(k, json()));
    if (t.contains("last_error") && !t["last_error"].is_null())
        need(t["last_error"].is_string(), "\"last_error\", when present, is a string",
             t["last_error"]);
}

json get_task(context& ctx, const std::string& id) {
    auto r = ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + id));
    if (r.status != 200) ctx.fail("GET /tasks/{id} of a submitted task answered " + describe(r));
    return ctx.expect_json(r);
}

/// Polls the task until its status is `want` (or a final status) or `wait` passes.
json wait_for(context& ctx, const std::string& id, const std::string& want,
              std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + ctx.scaled(wait);
    json t;
    for (;;) {
        t = get_task(ctx, id);
        const auto st = t.value("status", std::string());
        if (st == want) return t;
        if ((st == "succeeded" || st == "dead_lettered") && st != want)
            ctx.fail("the task ended " + st + ", not " + want, want, t.dump());
        if (std::chrono::steady_clock::now() > deadline)
            ctx.fail("the task was still " + st + " after " + std::to_string(wait.count()) +
                         " ms, not " + want,
                     want, t.dump());
        std::this_thread::sleep_for(20ms);
    }
}

long long millis_of(const std::string& rfc3339) {
    // "2026-11-24T15:10:00.123Z" → ms since the epoch (UTC).
    std::tm tm{};
    tm.tm_year = std::stoi(rfc3339.substr(0, 4)) - 1900;
    tm.tm_mon = std::stoi(rfc3339.substr(5, 2)) - 1;
    tm.tm_mday = std::stoi(rfc3339.substr(8, 2));
    tm.tm_hour = std::stoi(rfc3339.substr(11, 2));
    tm.tm_min = std::stoi(rfc3339.substr(14, 2));
    tm.tm_sec = std::stoi(rfc3339.substr(17, 2));
    return static_cast<long long>(timegm(&tm)) * 1000 + std::stoi(rfc3339.substr(20, 3));
}

} // namespace

void register_s06_tasks(check_registry& reg) {
    reg.add({"TASK-001.submit-202",
             {"TASK-001", "TASK-005"},
             layer::unit,
             "POST /tasks with a noop task is 202 with the task (status queued or later, "
             "attempts, max_attempts 3 by default) and Location: /tasks/{id}",
             [](context& ctx) {
                 auto r = post_task(ctx, {{"type", "noop"}, {"payload", json::object()}});
                 ctx.expect_status(r, 202);
                 auto t = ctx.expect_json(r);
                 expect_task_shape(ctx, t, "POST /tasks");
                 ctx.expect(t.value("type", json()) == "noop", "the task's type is noop",
                            "\"noop\"", t.value("type", json()).dump());
                 ctx.expect(t.value("max_attempts", json()) == 3, "max_attempts defaults to 3", "3",
                            t.value("max_attempts", json()).dump());
                 ctx.expect_header(r, "Location", "/tasks/" + t["id"].get<std::string>());
             }});

    reg.add(
        {"TASK-002.max-attempts-range",
         {"TASK-002"},
         layer::unit,
         "max_attempts 0, 11, 2.5 and \"3\" are 422; 1 and 10 are accepted",
         [](context& ctx) {
             for (const json& bad : {json(0), json(11), json(2.5), json("3")}) {
                 auto r = post_task(
                     ctx, {{"type", "noop"}, {"payload", json::object()}, {"max_attempts", bad}});
                 expect_refused(ctx, r, 422, "max_attempts " + bad.dump());
             }
             for (int ok : {1, 10}) {
                 auto t = submit(
                     ctx, {{"type", "noop"}, {"payload", json::object()}, {"max_attempts", ok}});
                 ctx.expect(t.value("max_attempts", json()) == ok,
                            "the task keeps max_attempts " + std::to_string(ok), std::to_string(ok),
                            t.value("max_attempts", json()).dump());
             }
         }});

    reg.add(
        {"TASK-003.unknown-type-422",
         {"TASK-003"},
         layer::unit,
         "A task of type \"agentcheck_nope\" is 422",
         [](context& ctx) {
             auto r = post_task(ctx, {{"type", "agentcheck_nope"}, {"payload", json::object()}});
             expect_refused(ctx, r, 422, "an unknown task type");
         }});

    reg.add({"TASK-006.noop-and-echo",
             {"TASK-006", "TASK-005", "TASK-010"},
             layer::integration,
             "noop succeeds; echo succeeds with result equal to its payload, after one attempt",
             [](context& ctx) {
                 auto noop = submit(ctx, {{"type", "noop"}, {"payload", json::object()}});
                 auto done = wait_for(ctx, noop["id"], "succeeded", 10000ms);
                 expect_task_shape(ctx, done, "GET /tasks/{id}");
                 const json payload = {{"say", "agentcheck"}, {"n", 42}, {"list", {1, 2, 3}}};
                 auto echo = submit(ctx, {{"type", "echo"}, {"payload", payload}});
                 auto e = wait_for(ctx, echo["id"], "succeeded", 10000ms);
                 ctx.expect(e.value("result", json()) == payload, "echo's result is its payload",
                            payload.dump(), e.value("result", json()).dump());
                 ctx.expect(e.value("attempts", json()) == 1, "it took one attempt", "1",
                            e.value("attempts", json()).dump());
             }});

    reg.add({"TASK-006.flaky",
             {"TASK-006", "TASK-008"},
             layer::integration,
             "flaky with fail_times 2 and max_attempts 3 succeeds on attempt 3",
             [](context& ctx) {
                 auto t = submit(
                     ctx,
                     {{"type", "flaky"}, {"payload", {{"fail_times", 2}}}, {"max_attempts", 3}});
                 auto done = wait_for(ctx, t["id"], "succeeded", 30000ms);
                 ctx.expect(done.value("attempts", json()) == 3, "flaky succeeds on attempt 3", "3",
                            done.value("attempts", json()).dump());
             }});

    reg.add({"TASK-006.sleep",
             {"TASK-006"},
             layer::integration,
             "sleep {ms: 300} succeeds, at least 300 ms after it was created",
             [](context& ctx) {
                 auto t = submit(ctx, {{"type", "sleep"}, {"payload", {{"ms", 300}}}});
                 auto done = wait_for(ctx, t["id"], "succeeded", 10000ms);
                 const auto took = millis_of(done["updated_at"]) - millis_of(done["created_at"]);
                 ctx.expect(took >= 300, "the task took at least its 300 ms", ">= 300 ms",
                            std::to_string(took) + " ms");
                 auto too_long = post_task(ctx, {{"type", "sleep"}, {"payload", {{"ms", 10001}}}});
                 expect_refused(ctx, too_long, 422, "sleep ms 10001");
             }});

    reg.add({"TASK-009.fail-dead-lettered",
             {"TASK-009", "TASK-006"},
             layer::integration,
             "fail with max_attempts 2 is dead_lettered after exactly 2 attempts, with last_error",
             [](context& ctx) {
                 auto t = submit(
                     ctx, {{"type", "fail"}, {"payload", json::object()}, {"max_attempts", 2}});
                 auto dead = wait_for(ctx, t["id"], "dead_lettered", 30000ms);
                 ctx.expect(dead.value("attempts", json()) == 2, "exactly max_attempts attempts",
                            "2", dead.value("attempts", json()).dump());
                 ctx.expect(dead.contains("last_error") && dead["last_error"].is_string() &&
                                !dead["last_error"].get<std::string>().empty(),
                            "a dead letter says why (last_error)", "a message",
                            dead.value("last_error", json()).dump());
             }});

    reg.add(
        {"TASK-008.backoff-spacing",
         {"TASK-008"},
         layer::integration,
         "The attempts of a failing task are spaced at least half the declared backoff "
         "(retry_base_ms, then doubling) and at most the ceiling plus 2 s",
         [](context& ctx) {
             const auto base = declared(ctx, "tasks", "retry_base_ms", -1);
             const auto cap = declared(ctx, "tasks", "retry_cap_ms", -1);
             if (base <= 0 || cap <= 0)
                 ctx.skip("tasks.retry_base_ms and retry_cap_ms are not declared");
             if (base * 4 > 20000) ctx.skip("retry_base_ms is too long to watch three attempts");
             auto t =
                 submit(ctx, {{"type", "fail"}, {"payload", json::object()}, {"max_attempts", 3}});
             // When each attempt was first seen (polling every 5 ms).
             std::vector<std::chrono::steady_clock::time_point> seen;
             const auto deadline = std::chrono::steady_clock::now() + ctx.scaled(30000ms);
             long long last = 0;
             for (;;) {
                 auto r =
                     ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + t["id"].get<std::string>()));
                 auto j = ctx.expect_json(r);
                 const auto attempts = j.value("attempts", 0LL);
                 while (last < attempts) {
                     seen.push_back(std::chrono::steady_clock::now());
                     ++last;
                 }
                 if (j.value("status", "") == "dead_lettered") break;
                 if (std::chrono::steady_clock::now() > deadline)
                     ctx.fail("the failing task was not dead-lettered in 30 s", "dead_lettered",
                              j.dump());
                 std::this_thread::sleep_for(5ms);
             }
             if (seen.size() != 3)
                 ctx.fail("could not see each of the 3 attempts", "3 attempts",
                          std::to_string(seen.size()));
             for (int n = 1; n <= 2; ++n) {
                 const long long ceiling = std::min(cap, base << (n - 1));
                 const auto gap =
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         seen[static_cast<std::size_t>(n)] - seen[static_cast<std::size_t>(n - 1)])
                         .count();
                 ctx.note("attempt " + std::to_string(n) + " → " + std::to_string(n + 1) + ": " +
                          std::to_string(gap) + " ms (ceiling " + std::to_string(ceiling) + " ms)");
                 // Polling can make a gap look up to one poll (plus a request) shorter.
                 ctx.expect(gap >= ceiling / 2 - 30,
                            "the wait after attempt " + std::to_string(n) +
                                " is at least half the backoff ceiling",
                            ">= " + std::to_string(ceiling / 2) + " ms",
                            std::to_string(gap) + " ms");
                 ctx.expect(gap <= ceiling + 2000,
                            "the wait after attempt " + std::to_string(n) +
                                " is at most the ceiling (plus 2 s)",
                            "<= " + std::to_string(ceiling + 2000) + " ms",
                            std::to_string(gap) + " ms");
             }
         }});

    reg.add(
        {"TASK-010.read-and-list",
         {"TASK-010"},
         layer::unit,
         "GET /tasks/{unknown} is 404; GET /tasks?status=succeeded lists only succeeded tasks; "
         "limit=1 pages follow next_cursor",
         [](context& ctx) {
             auto unknown = ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + random_uuid(ctx)));
             expect_refused(ctx, unknown, 404, "GET /tasks/{unknown}");
             auto t = submit(ctx, {{"type", "noop"}, {"payload", json::object()}});
             (void)wait_for(ctx, t["id"], "succeeded", 10000ms);
             auto r = ctx.send(authed(ctx, "viewer", "GET", "/tasks?status=succeeded&limit=50"));
             auto j = ctx.expect_json(r);
             if (!j.contains("items") || !j["items"].is_array())
                 ctx.fail("GET /tasks has no \"items\" array", "{\"items\": [...]}", describe(r));
             for (const auto& it : j["items"])
                 ctx.expect(it.value("status", json()) == "succeeded",
                            "?status=succeeded lists only succeeded tasks", "succeeded",
                            it.value("status", json()).dump());
             auto first = ctx.expect_json(ctx.send(authed(ctx, "viewer", "GET", "/tasks?limit=1")));
             ctx.expect(first.value("items", json::array()).size() == 1, "limit=1 lists one task",
                        "1", std::to_string(first.value("items", json::array()).size()));
             const auto cursor = first.value("next_cursor", json());
             if (cursor.is_string()) {
                 auto next = ctx.send(
                     authed(ctx, "viewer", "GET",
                            "/tasks?limit=1&cursor=" + url_encode(cursor.get<std::string>())));
                 auto n = ctx.expect_json(next);
                 ctx.expect(n.value("items", json::array()).size() == 1 &&
                                n["items"][0].value("id", json()) != first["items"][0]["id"],
                            "the next page holds another task", "another task", n.dump());
             }
         }});

    reg.add({"TASK-011.retry-dead-letter",
             {"TASK-011"},
             layer::integration,
             "POST /tasks/{id}/retry of a dead-lettered task is 202 and it runs again; of a "
             "succeeded one 409",
             [](context& ctx) {
                 auto t = submit(
                     ctx, {{"type", "fail"}, {"payload", json::object()}, {"max_attempts", 1}});
                 const std::string id = t["id"];
                 (void)wait_for(ctx, id, "dead_lettered", 20000ms);
                 auto r = ctx.send(authed(ctx, "operator", "POST", "/tasks/" + id + "/retry"));
                 ctx.expect_status(r, 202);
                 auto again = ctx.expect_json(r);
                 ctx.expect(again.value("status", json()) == "queued" ||
                                again.value("status", json()) == "running",
                            "the retried task is back in the queue", "queued",
                            again.value("status", json()).dump());
                 (void)wait_for(ctx, id, "dead_lettered", 20000ms);
                 auto ok = submit(ctx, {{"type", "noop"}, {"payload", json::object()}});
                 (void)wait_for(ctx, ok["id"], "succeeded", 10000ms);
                 auto refused = ctx.send(authed(
                     ctx, "operator", "POST", "/tasks/" + ok["id"].get<std::string>() + "/retry"));
                 expect_refused(ctx, refused, 409, "a retry of a succeeded task");
             }});

    reg.add({"TASK-013.idempotency",
             {"TASK-013"},
             layer::unit,
             "The same Idempotency-Key replays the first 202 (same task); with another body it is "
             "422",
             [](context& ctx) {
                 const auto key = "ac-task-" + random_hex(ctx, 16);
                 const json body = {{"type", "echo"}, {"payload", {{"k", key}}}};
                 auto first = post_task(ctx, body, "operator", {{"Idempotency-Key", key}});
                 ctx.expect_status(first, 202);
                 auto second = post_task(ctx, body, "operator", {{"Idempotency-Key", key}});
                 ctx.expect_status(second, 202);
                 ctx.expect(first.json().value_or(json()).value("id", json()) ==
                                second.json().value_or(json()).value("id", json()),
                            "the replay answers the same task", first.body, second.body);
                 auto other = post_task(ctx, {{"type", "noop"}, {"payload", json::object()}},
                                        "operator", {{"Idempotency-Key", key}});
                 expect_refused(ctx, other, 422, "the same key with another body");
             }});

    reg.add({"TASK-014.roles",
             {"TASK-014"},
             layer::unit,
             "A viewer reads tasks but may not submit (403); another operator may not retry "
             "the task (403); an admin may",
             [](context& ctx) {
                 auto viewer =
                     post_task(ctx, {{"type", "noop"}, {"payload", json::object()}}, "viewer");
                 expect_refused(ctx, viewer, 403, "POST /tasks as a viewer");
                 auto t = submit(
                     ctx, {{"type", "fail"}, {"payload", json::object()}, {"max_attempts", 1}});
                 const std::string id = t["id"];
                 (void)wait_for(ctx, id, "dead_lettered", 20000ms);
                 auto other = ctx.send(authed(ctx, "operator2", "POST", "/tasks/" + id + "/retry"));
                 expect_refused(ctx, other, 403, "a retry by another operator");
                 auto admin = ctx.send(authed(ctx, "admin", "POST", "/tasks/" + id + "/retry"));
                 ctx.expect_status(admin, 202);
             }});

    check full{"TASK-004.queue-full-503",
               {"TASK-004"},
               layer::integration,
               "Filling the declared max_queue_depth with sleeping tasks gives a 503 with "
               "Retry-After, and every accepted task still succeeds",
               [](context& ctx) {
                   const auto depth = declared(ctx, "tasks", "max_queue_depth", -1);
                   if (depth <= 0) ctx.skip("tasks.max_queue_depth is not declared");
                   if (depth > 200)
                       ctx.skip("tasks.max_queue_depth is " + std::to_string(depth) +
                                ": too deep to fill in bounded time (run the agent with 200 or "
                                "fewer)");
                   // Tasks that finish while the queue is being filled make room: the rule
                   // is on what is queued or running, so those are counted out (read right
                   // after the refusal, which can only count more of them as finished).
                   std::vector<std::string> accepted;
                   std::optional<response> refused;
                   for (long long i = 0; i <= depth * 3 && !refused; ++i) {
                       auto r = post_task(ctx, {{"type", "sleep"}, {"payload", {{"ms", 300}}}});
                       if (r.status == 202)
                           accepted.push_back(r.json().value_or(json()).value("id", ""));
                       else
                           refused = r;
                   }
                   long long finished = 0;
                   for (const auto& id : accepted) {
                       auto t = ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + id));
                       auto j = t.json();
                       if (t.status == 200 && j && j->is_object() &&
                           (j->value("status", std::string()) == "succeeded" ||
                            j->value("status", std::string()) == "dead_lettered"))
                           ++finished;
                   }
                   const auto in_queue = static_cast<long long>(accepted.size()) - finished;
                   if (in_queue > depth)
                       ctx.fail(std::to_string(accepted.size()) + " tasks were accepted and " +
                                    std::to_string(finished) + " had finished: " +
                                    std::to_string(in_queue) + " queued or running, more than "
                                    "max_queue_depth " + std::to_string(depth),
                                "503 once " + std::to_string(depth) + " are queued or running",
                                refused ? describe(*refused) : "202 every time");
                   if (!refused)
                       ctx.skip("the tasks finished as fast as they were submitted: the queue "
                                "never filled");
                   ctx.note(std::to_string(accepted.size()) + " accepted (" +
                            std::to_string(finished) + " finished meanwhile) before the 503");
                   expect_refused(ctx, *refused, 503, "POST /tasks to a full queue");
                   (void)ctx.expect_header_present(*refused, "Retry-After");
                   for (const auto& id : accepted)
                       (void)wait_for(ctx, id, "succeeded",
                                      std::chrono::milliseconds(depth * 200 + 10000));
               }};
    full.alone = true;
    reg.add(std::move(full));
}

} // namespace agentcheck
