#include "conformance/harness/runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "conformance/client/jwt.hpp"
#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/process.hpp"
#include "conformance/tests/fake_server.hpp"
#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck {
namespace {

using testing::fake_agent;

constexpr std::string_view secret = "test-secret-0123456789";

run_settings settings_for(const fake_agent& agent) {
    run_settings s;
    s.target = agent.url();
    s.secret = std::string(secret);
    s.seed = 42;
    s.jobs = 2;
    s.run_id = "run1";
    s.today = "2026-01-01";
    s.request_timeout = std::chrono::milliseconds(10000); // generous: CI machines can be loaded
    return s;
}

nlohmann::json discovery_of(const fake_agent& agent) {
    auto d = fetch_discovery(agent.url(), std::chrono::milliseconds(10000));
    EXPECT_TRUE(d.document) << d.error;
    return d.document.value_or(nlohmann::json::object());
}

const check_result& result_of(const run_report& r, std::string_view id) {
    for (const auto& c : r.checks) {
        if (c.id == id) return c;
    }
    throw std::out_of_range(std::string(id));
}

/// Records every progress callback.
struct recording_listener final : progress_listener {
    std::size_t started_with = 0;
    std::vector<std::string> done;
    void on_start(std::size_t total) override { started_with = total; }
    void on_check_done(const check_result& r, std::size_t n, std::size_t total) override {
        EXPECT_EQ(n, done.size() + 1);
        EXPECT_EQ(total, started_with);
        done.push_back(r.id);
    }
};

TEST(runner, verdicts_evidence_and_aggregation) {
    fake_agent agent;
    check_registry reg;
    reg.add({"HTTP-001.pass", {"HTTP-001"}, layer::unit, "sends and passes", [](context& ctx) {
                 const auto r = ctx.send(
                     client::request("GET", "/echo-status/404").bearer(ctx.token("viewer")));
                 ctx.expect_status(r, 404);
             }});
    reg.add({"REG-001.fail",
             {"REG-001"},
             layer::unit,
             "fails with expected and actual",
             [](context& ctx) {
                 const auto r = ctx.send(
                     client::request("GET", "/echo-status/500").bearer(ctx.token("admin")));
                 ctx.note("about to fail");
                 ctx.expect_status(r, 201);
             }});
    reg.add({"REG-001.error", {"REG-001"}, layer::unit, "throws something else", [](context&) {
                 throw std::runtime_error("boom");
             }});
    reg.add({"REG-001.odd", {"REG-001"}, layer::unit, "throws a non-exception", [](context&) {
                 throw 7;
             }});
    reg.add({"HTTP-001.skip", {"HTTP-001"}, layer::unit, "skips", [](context& ctx) {
                 ctx.skip("not today");
             }});
    reg.add({"EVT-001.feature", {"EVT-001"}, layer::unit, "needs events", [](context&) {
                 FAIL() << "ran";
             }});
    reg.add({"REG-002.should", {"REG-002"}, layer::unit, "not at level must", [](context&) {
                 FAIL() << "ran";
             }});

    auto s = settings_for(agent);
    recording_listener listener;
    const auto report =
        run_checks(testing::small_catalogue(), reg, s, discovery_of(agent), &listener);

    EXPECT_EQ(listener.started_with, 6U);
    EXPECT_EQ(listener.done.size(), 6U);
    ASSERT_EQ(report.checks.size(), 6U);
    EXPECT_EQ(report.checks[0].id, "HTTP-001.pass") << "results keep registration order";

    const auto& pass = result_of(report, "HTTP-001.pass");
    EXPECT_EQ(pass.outcome, verdict::pass);
    EXPECT_EQ(pass.attempts, 1);
    ASSERT_EQ(pass.exchanges.size(), 1U);
    EXPECT_EQ(pass.exchanges[0].request.header("Authorization"), "Bearer <redacted>");
    EXPECT_EQ(pass.exchanges[0].response->status, 404);
    EXPECT_NE(pass.curl.find("$AGENTCHECK_TOKEN"), std::string::npos);
    EXPECT_NE(pass.curl.find("/echo-status/404"), std::string::npos);
    EXPECT_EQ(pass.sections, (std::vector<std::string>{"0"}));
    EXPECT_EQ(pass.lvl, level::must);

    const auto& fail = result_of(report, "REG-001.fail");
    EXPECT_EQ(fail.outcome, verdict::fail);
    EXPECT_EQ(fail.message, "expected status 201, got 500");
    EXPECT_EQ(fail.expected, "201");
    EXPECT_EQ(fail.actual.rfind("500 ", 0), 0U);
    EXPECT_EQ(fail.notes, (std::vector<std::string>{"about to fail"}));

    const auto& error = result_of(report, "REG-001.error");
    EXPECT_EQ(error.outcome, verdict::error);
    EXPECT_EQ(error.error_kind, "exception");
    EXPECT_NE(error.message.find("boom"), std::string::npos);
    EXPECT_EQ(result_of(report, "REG-001.odd").outcome, verdict::error);

    EXPECT_EQ(result_of(report, "HTTP-001.skip").outcome, verdict::skip);
    EXPECT_EQ(result_of(report, "HTTP-001.skip").message, "not today");
    EXPECT_EQ(result_of(report, "EVT-001.feature").outcome, verdict::skip);
    EXPECT_EQ(result_of(report, "EVT-001.feature").message, "feature events not declared");

    // HTTP-001: pass + skip → pass; REG-001: fail; EVT-001: skip; REG-099: planned, not checked.
    ASSERT_EQ(report.requirements.size(), 4U);
    EXPECT_EQ(report.requirements[0].status, requirement_status::pass);
    EXPECT_EQ(report.requirements[1].status, requirement_status::fail);
    EXPECT_EQ(report.requirements[2].status, requirement_status::skip);
    EXPECT_EQ(report.requirements[3].status, requirement_status::not_checked);
    EXPECT_FALSE(report.passed);
    EXPECT_EQ(report.exit_code, exit_failures);
    EXPECT_EQ(report.run_id, "run1");
    EXPECT_EQ(report.settings.seed, 42U);
    EXPECT_EQ(report.discovery["implementation"]["name"], "fake");
}

TEST(runner, declared_feature_runs_and_known_failure_waives) {
    fake_agent agent(nlohmann::json::array({"events"}));
    check_registry reg;
    std::atomic<int> ran{0};
    reg.add({"EVT-001.runs", {"EVT-001"}, layer::unit, "runs when declared", [&](context& ctx) {
                 ++ran;
                 ctx.expect(ctx.has_feature("events"), "events declared");
                 ctx.fail("deliberate", "x", "y");
             }});
    auto s = settings_for(agent);
    s.known_failures = {{"EVT-001", "not yet", "2026-12-31"}};
    const auto report = run_checks(testing::small_catalogue(), reg, s, discovery_of(agent));
    EXPECT_EQ(ran.load(), 1);
    EXPECT_EQ(report.checks[0].outcome, verdict::fail);
    EXPECT_EQ(report.requirements[2].status, requirement_status::known_failure);
    EXPECT_TRUE(report.passed);
    EXPECT_EQ(report.exit_code, exit_ok);
}

TEST(runner, retries_turn_fail_then_pass_into_flaky) {
    fake_agent agent;
    check_registry reg;
    std::atomic<int> calls{0};
    reg.add({"REG-001.flaky", {"REG-001"}, layer::unit, "fails once", [&](context& ctx) {
                 if (calls++ == 0) ctx.fail("first time");
             }});
    reg.add({"HTTP-001.always", {"HTTP-001"}, layer::unit, "always fails", [](context& ctx) {
                 ctx.fail("nope");
             }});
    auto s = settings_for(agent);
    s.retries = 2;
    const auto report = run_checks(testing::small_catalogue(), reg, s, discovery_of(agent));
    const auto& flaky = result_of(report, "REG-001.flaky");
    EXPECT_EQ(flaky.outcome, verdict::flaky);
    EXPECT_EQ(flaky.attempts, 2);
    EXPECT_NE(flaky.message.find("first time"), std::string::npos);
    const auto& always = result_of(report, "HTTP-001.always");
    EXPECT_EQ(always.outcome, verdict::fail);
    EXPECT_EQ(always.attempts, 3);
    EXPECT_EQ(report.requirements[1].status, requirement_status::flaky);
    EXPECT_EQ(report.counts.flaky, 1U);
}

TEST(runner, transport_errors_are_errors_with_their_kind) {
    fake_agent agent;
    check_registry reg;
    reg.add({"HTTP-001.refused", {"HTTP-001"}, layer::unit, "sends garbage", [](context& ctx) {
                 auto conn = ctx.open_connection();
                 conn.write_raw("GARBAGE\r\n\r\n");
                 // The fake server cannot parse this and closes: reading is a transport error.
                 const auto r = conn.read_response();
                 ctx.record(client::request("GARBAGE", "/"), &r, "raw");
             }});
    const auto report =
        run_checks(testing::small_catalogue(), reg, settings_for(agent), discovery_of(agent));
    const auto& refused = result_of(report, "HTTP-001.refused");
    EXPECT_EQ(refused.outcome, verdict::error);
    EXPECT_EQ(refused.error_kind, "closed");
    EXPECT_NE(refused.message.find("transport error (closed)"), std::string::npos);
}

TEST(runner, check_timeouts_are_errors) {
    fake_agent agent;
    check_registry reg;
    reg.add({"REG-001.slow", {"REG-001"}, layer::unit, "outlives its limit", [](context& ctx) {
                 std::this_thread::sleep_for(std::chrono::milliseconds(150));
                 ctx.send(client::request("GET", "/echo-status/200"));
             }});
    reg.add({"HTTP-001.slow-pass", {"HTTP-001"}, layer::unit, "passes too late", [](context&) {
                 std::this_thread::sleep_for(std::chrono::milliseconds(150));
             }});
    auto s = settings_for(agent);
    s.check_timeout = std::chrono::milliseconds(100);
    const auto report = run_checks(testing::small_catalogue(), reg, s, discovery_of(agent));
    const auto& slow = result_of(report, "REG-001.slow");
    EXPECT_EQ(slow.outcome, verdict::error);
    EXPECT_EQ(slow.error_kind, "timeout");
    const auto& late = result_of(report, "HTTP-001.slow-pass");
    EXPECT_EQ(late.outcome, verdict::error);
    EXPECT_EQ(late.error_kind, "timeout");
    EXPECT_NE(late.message.find("over its limit"), std::string::npos);
}

TEST(runner, a_slow_reply_is_cut_at_the_check_deadline) {
    testing::fake_server server([](const testing::beast_request&) {
        testing::reply r;
        r.delay = std::chrono::milliseconds(2500);
        return r;
    });
    check_registry reg;
    reg.add({"REG-001.slow", {"REG-001"}, layer::unit, "waits for a slow reply", [](context& ctx) {
                 ctx.send(client::request("GET", "/slow"));
             }});
    run_settings s;
    s.target = server.url();
    s.secret = "k";
    s.run_id = "r";
    s.today = "2026-01-01";
    s.check_timeout = std::chrono::milliseconds(200);
    s.request_timeout = std::chrono::milliseconds(5000);
    const auto started = std::chrono::steady_clock::now();
    const auto report =
        run_checks(testing::small_catalogue(), reg, s, {{"protocol", "agent-service/1"}});
    // Cut at the check's deadline (200 ms), long before the reply (2.5 s) or the request
    // timeout (5 s); the bound leaves room for a loaded machine.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2000));
    EXPECT_EQ(report.checks[0].outcome, verdict::error);
    EXPECT_EQ(report.checks[0].error_kind, "timeout");
}

TEST(runner, created_agents_are_deleted_as_admin_after_the_check) {
    fake_agent agent;
    check_registry reg;
    reg.add({"REG-001.fixture", {"REG-001"}, layer::unit, "creates two agents", [](context& ctx) {
                 const auto a = ctx.create_agent();
                 const auto b =
                     ctx.create_agent("admin", {{"version", "2.0.0"}, {"metadata", nullptr}});
                 ctx.expect(a["id"] != b["id"], "distinct ids");
                 ctx.expect(b["version"] == "2.0.0", "override applied");
                 ctx.expect(!b.contains("metadata"), "null removes a field");
                 ctx.expect(a["name"].get<std::string>().rfind("ac-agent-", 0) == 0, "unique name");
             }});
    const auto report =
        run_checks(testing::small_catalogue(), reg, settings_for(agent), discovery_of(agent));
    EXPECT_EQ(report.checks[0].outcome, verdict::pass) << report.checks[0].message;
    EXPECT_EQ(agent.deleted().size(), 2U);
    const auto admin_token = identity_set(secret, "run1", discovery_of(agent), 0).token("admin");
    for (const auto& auth : agent.delete_auth()) {
        EXPECT_EQ(auth.rfind("Bearer ", 0), 0U);
        const auto dot = auth.find('.');
        const auto payload = nlohmann::json::parse(
            *client::b64url_decode(auth.substr(dot + 1, auth.find('.', dot + 1) - dot - 1)));
        EXPECT_EQ(payload["roles"], nlohmann::json::array({"admin"}));
        EXPECT_EQ(payload["sub"], "agentcheck-admin-run1");
    }
}

TEST(runner, runs_alone_and_missing_features) {
    const auto cat = parse_catalogue(R"({"version": 1, "protocol": "agent-service/1",
        "sections": [{"id": "8", "title": "Ops"}],
        "requirements": [
          {"id": "RL-001", "section": "8", "title": "t", "level": "MUST", "feature": "rate_limit", "text": "x"},
          {"id": "AUD-001", "section": "8", "title": "t", "level": "MUST", "feature": "audit", "text": "x"},
          {"id": "OPS-001", "section": "8", "title": "t", "level": "MUST", "feature": "", "text": "x"}]})");
    const auto noop = [](context&) {};
    const check rl{"RL-001.a", {"RL-001"}, layer::unit, "t", noop};
    const check life{"OPS-001.a", {"OPS-001"}, layer::lifecycle, "t", noop};
    const check plain{"OPS-001.b", {"OPS-001"}, layer::integration, "t", noop};
    EXPECT_TRUE(runs_alone(rl, cat));
    EXPECT_TRUE(runs_alone(life, cat));
    EXPECT_FALSE(runs_alone(plain, cat));
    const check both{"X.a", {"RL-001", "AUD-001"}, layer::unit, "t", noop};
    const nlohmann::json none = {{"features", nlohmann::json::array()}};
    EXPECT_EQ(missing_features(both, cat, none), (std::vector<std::string>{"rate_limit", "audit"}));
    EXPECT_TRUE(missing_features(both, cat, {{"features", {"audit"}}}).empty());
    EXPECT_TRUE(
        missing_features(check{"Y", {"AUD-001", "OPS-001"}, layer::unit, "t", noop}, cat, none)
            .empty());
    EXPECT_EQ(missing_features(rl, cat, nlohmann::json::object()),
              (std::vector<std::string>{"rate_limit"}));
}

// Without --launch a check that must own the agent's process is not applicable: skipped with
// the reason, its body never run; with a process it runs.
TEST(runner, a_check_needing_the_process_is_not_applicable_without_launch) {
    const auto cat = parse_catalogue(R"({"version": 1, "protocol": "agent-service/1",
        "sections": [{"id": "9", "title": "Lifecycle"}],
        "requirements": [
          {"id": "LIFE-001", "section": "9", "title": "t", "level": "MUST", "feature": "", "text": "x"}]})");
    int ran = 0;
    check c{"LIFE-001.owned", {"LIFE-001"}, layer::lifecycle, "t", [&](context& ctx) {
                ++ran;
                ctx.expect(ctx.process() != nullptr, "a process");
                ctx.expect(ctx.crash_cycles() == 7, "7 cycles");
            }};
    c.needs_process = true;
    run_environment env;
    run_settings s;
    const auto skipped = execute_check(c, cat, env, s);
    EXPECT_EQ(skipped.outcome, verdict::skip);
    EXPECT_EQ(skipped.message, needs_launch_reason);
    EXPECT_EQ(ran, 0);
    managed_process p({"true", "", ""});
    env.process = &p;
    env.crash_cycles = 7;
    const auto passed = execute_check(c, cat, env, s);
    EXPECT_EQ(passed.outcome, verdict::pass) << passed.message;
    EXPECT_EQ(ran, 1);
}

TEST(fetch_discovery, explains_why_a_target_is_not_an_agent) {
    std::atomic<int> mode{0};
    testing::fake_server server([&](const testing::beast_request&) {
        switch (mode.load()) {
        case 0:
            return testing::reply::json(404, {{"title", "nope"}});
        case 1: {
            testing::reply r;
            r.body = "<html>";
            return r;
        }
        case 2:
            return testing::reply::json(200, {{"protocol", "other/2"}});
        case 3:
            return testing::reply::json(200, nlohmann::json::array());
        default:
            return testing::reply::json(
                200, {{"protocol", "agent-service/1"}, {"features", {"events"}}});
        }
    });
    const auto timeout = std::chrono::milliseconds(10000);
    EXPECT_NE(fetch_discovery(server.url(), timeout).error.find("answered 404"), std::string::npos);
    mode = 1;
    EXPECT_NE(fetch_discovery(server.url(), timeout).error.find("not return a JSON object"),
              std::string::npos);
    mode = 2;
    EXPECT_NE(fetch_discovery(server.url(), timeout).error.find("\"other/2\""), std::string::npos);
    mode = 3;
    EXPECT_NE(fetch_discovery(server.url(), timeout).error.find("JSON object"), std::string::npos);
    mode = 4;
    const auto ok = fetch_discovery(server.url(), timeout);
    ASSERT_TRUE(ok.document);
    EXPECT_EQ((*ok.document)["features"][0], "events");

    std::uint16_t dead_port = 0;
    {
        testing::fake_server gone([](const testing::beast_request&) { return testing::reply{}; });
        dead_port = gone.port();
    }
    client::target_url dead;
    dead.port = dead_port;
    EXPECT_NE(fetch_discovery(dead, timeout).error.find("cannot reach"), std::string::npos);
}

TEST(random_run_id, is_eight_hex_digits) {
    EXPECT_TRUE(std::regex_match(random_run_id(), std::regex("[0-9a-f]{8}")));
}

} // namespace
} // namespace agentcheck
