#include "conformance/harness/run_context.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "conformance/client/jwt.hpp"
#include "conformance/tests/fake_server.hpp"

namespace agentcheck {
namespace {

using testing::beast_request;
using testing::fake_server;
using testing::reply;

const auto noop = [](context&) {};

/// A context against a server that answers every request with `r`.
struct context_fixture {
    explicit context_fixture(reply r, std::string check_id = "REG-001.ctx")
        : server([r](const beast_request&) { return r; }), the_check{std::move(check_id),
                                                                     {"REG-001"},
                                                                     layer::unit,
                                                                     "t",
                                                                     noop} {
        env.target = server.url();
        env.discovery = {{"protocol", "agent-service/1"},
                         {"features", {"events", 7}},
                         {"limits", {{"max_body_bytes", 2048}, {"odd", "x"}}},
                         {"auth", {{"issuer", "iss-1"}, {"audience", "aud-1"}}}};
        env.secret = "s3cret";
        env.seed = 7;
        env.timeout_scale = 2.5;
        env.request_timeout = std::chrono::milliseconds(10000);
        env.identities = identity_set(env.secret, "rid", env.discovery, 1000);
        ctx = std::make_unique<run_context>(
            env, the_check, std::chrono::steady_clock::now() + std::chrono::seconds(30));
    }
    fake_server server;
    check the_check;
    run_environment env;
    std::unique_ptr<run_context> ctx;
};

check_failed failure_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const check_failed& e) {
        return e;
    }
    ADD_FAILURE() << "no check_failed thrown";
    return check_failed("", "", "");
}

client::response make_response(int status, std::string body, client::header_list headers = {}) {
    client::response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

TEST(context, discovery_features_limits_and_scaling) {
    context_fixture f(reply{});
    auto& ctx = *f.ctx;
    EXPECT_EQ(ctx.target().port, f.server.port());
    EXPECT_EQ(ctx.discovery()["protocol"], "agent-service/1");
    EXPECT_TRUE(ctx.has_feature("events"));
    EXPECT_FALSE(ctx.has_feature("tasks"));
    EXPECT_EQ(ctx.limit("max_body_bytes", 1), 2048);
    EXPECT_EQ(ctx.limit("odd", 5), 5);
    EXPECT_EQ(ctx.limit("absent", 9), 9);
    EXPECT_EQ(ctx.scaled(std::chrono::milliseconds(100)), std::chrono::milliseconds(250));
    EXPECT_EQ(ctx.hs256_secret(), "s3cret");
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_NEAR(static_cast<double>(ctx.now_s()), static_cast<double>(now), 2.0);

    run_environment bare;
    run_context no_features(bare, f.the_check, std::chrono::steady_clock::now());
    EXPECT_FALSE(no_features.has_feature("events"));
    EXPECT_EQ(no_features.limit("max_body_bytes", 3), 3);
}

TEST(context, identities_tokens_and_minting) {
    context_fixture f(reply{});
    auto& ctx = *f.ctx;
    EXPECT_EQ(ctx.subject("operator"), "agentcheck-operator-rid");
    const auto claims = ctx.claims("operator2");
    EXPECT_EQ(claims["sub"], "agentcheck-operator2-rid");
    EXPECT_EQ(claims["roles"], nlohmann::json::array({"operator"}));
    EXPECT_EQ(claims["iss"], "iss-1");
    EXPECT_EQ(claims["aud"], "aud-1");
    EXPECT_EQ(claims["iat"], 1000);
    EXPECT_EQ(claims["exp"], 1000 + identity_token_lifetime_s);
    EXPECT_FALSE(ctx.claims("noroles").contains("roles"));
    EXPECT_EQ(ctx.claims("viewer")["roles"], nlohmann::json::array({"viewer"}));
    EXPECT_EQ(ctx.claims("admin")["roles"], nlohmann::json::array({"admin"}));
    EXPECT_EQ(ctx.token("admin"), client::mint_hs256(ctx.claims("admin"), "s3cret"));
    EXPECT_THROW(ctx.token("root"), std::invalid_argument);
    EXPECT_THROW(ctx.claims("root"), std::invalid_argument);
    EXPECT_EQ(ctx.mint({{"sub", "x"}}), client::mint_hs256({{"sub", "x"}}, "s3cret"));
    EXPECT_EQ(ctx.mint({{"sub", "x"}}, {{"alg", "none"}}).back(), '.');
    EXPECT_THROW((void)identity_set().token("admin"), std::invalid_argument);
    EXPECT_THROW((void)identity_set().claims("admin"), std::invalid_argument);
}

TEST(context, unique_names_are_valid_and_distinct) {
    context_fixture f(reply{});
    auto& ctx = *f.ctx;
    const std::regex valid("^[a-z][a-z0-9-]{0,63}$");
    const auto a = ctx.unique_name("dup");
    const auto b = ctx.unique_name("dup");
    EXPECT_NE(a, b);
    EXPECT_TRUE(std::regex_match(a, std::regex("^ac-dup-[0-9a-f]{8}$"))) << a;
    const auto weird = ctx.unique_name("Hello World_ÄÖ!!");
    EXPECT_TRUE(std::regex_match(weird, valid)) << weird;
    EXPECT_EQ(weird.rfind("ac-hello-world", 0), 0U) << weird;
    const auto longest = ctx.unique_name(std::string(200, 'x'));
    EXPECT_EQ(longest.size(), agent_name_max);
    EXPECT_TRUE(std::regex_match(longest, valid)) << longest;
    EXPECT_TRUE(std::regex_match(ctx.unique_name(""), std::regex("^ac-agent-[0-9a-f]{8}$")));
    EXPECT_TRUE(std::regex_match(ctx.unique_name("---"), std::regex("^ac-agent-[0-9a-f]{8}$")));
    // The same seed and check give the same names (a re-run sends the same bytes); another
    // seed gives others.
    run_context again(f.env, f.the_check,
                      std::chrono::steady_clock::now() + std::chrono::seconds(5));
    EXPECT_EQ(again.unique_name("dup"), a);
    auto other_env = f.env;
    other_env.seed += 1;
    run_context other(other_env, f.the_check,
                      std::chrono::steady_clock::now() + std::chrono::seconds(5));
    EXPECT_NE(other.unique_name("dup"), a);
}

TEST(context, rng_replays_with_the_same_seed_and_check) {
    context_fixture f1(reply{}, "REG-001.a");
    context_fixture f2(reply{}, "REG-001.a");
    context_fixture f3(reply{}, "REG-001.b");
    const auto x = f1.ctx->rng()();
    EXPECT_EQ(x, f2.ctx->rng()());
    EXPECT_NE(x, f3.ctx->rng()());
}

TEST(context, agent_body_is_valid_and_merges_overrides) {
    context_fixture f(reply{});
    const auto body = f.ctx->agent_body(nlohmann::json::object());
    EXPECT_TRUE(body["name"].is_string());
    EXPECT_EQ(body["version"], "1.0.0");
    EXPECT_EQ(body["capabilities"][0]["name"], "echo");
    const auto merged = f.ctx->agent_body({{"endpoint", "http://127.0.0.1:9/"},
                                           {"capabilities", nullptr},
                                           {"metadata", {{"extra", "1"}}}});
    EXPECT_EQ(merged["endpoint"], "http://127.0.0.1:9/");
    EXPECT_FALSE(merged.contains("capabilities"));
    EXPECT_EQ(merged["metadata"], (nlohmann::json{{"origin", "agentcheck"}, {"extra", "1"}}));
}

check_blocked blocked_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const check_blocked& e) {
        return e;
    }
    ADD_FAILURE() << "no check_blocked thrown";
    return check_blocked("", "");
}

// A check of another rule that cannot make its fixture agent is blocked by REG-020, naming
// what the agent answered; a check of REG-020 itself fails.
TEST(context, create_agent_blocks_the_check_unless_201_with_an_id) {
    context_fixture refused(reply::json(200, {{"id", "x"}}));
    const auto b = blocked_of([&] { refused.ctx->create_agent("operator"); });
    EXPECT_EQ(b.blocked_by, "REG-020");
    EXPECT_EQ(std::string(b.what()), "POST /agents answered 200, not 201, to a valid agent");
    context_fixture no_id(reply::json(201, {{"name", "x"}}));
    const auto b2 = blocked_of([&] { no_id.ctx->create_agent("operator"); });
    EXPECT_NE(std::string(b2.what()).find("\"id\""), std::string::npos);

    context_fixture own(reply::json(400, {{"title", "bad"}}), "REG-020.own");
    own.the_check.requirements = {"REG-020"};
    const auto f = failure_of([&] { own.ctx->create_agent("operator"); });
    EXPECT_NE(std::string(f.what()).find("answered 400, not 201"), std::string::npos);
}

// The same failing fixture is requested once per run: later checks are blocked at once.
TEST(context, a_failed_fixture_is_not_requested_again) {
    std::atomic<int> posts{0};
    fake_server server([&](const beast_request& req) {
        if (req.method() == testing::http::verb::post) ++posts;
        return reply::json(200, {{"id", "abc"}});
    });
    run_environment env;
    env.target = server.url();
    env.identities = identity_set("k", "r", nlohmann::json::object(), 0);
    env.fixtures = std::make_shared<fixture_registry>();
    const check first{"HTTP-006.a", {"HTTP-006"}, layer::unit, "t", noop};
    const check second{"HTTP-008.b", {"HTTP-008"}, layer::unit, "t", noop};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    {
        run_context a(env, first, deadline);
        const auto b = blocked_of([&] { a.create_agent("operator"); });
        EXPECT_EQ(b.blocked_by, "REG-020");
        a.cleanup(); // the agent the 200 made is deleted all the same
    }
    run_context b(env, second, deadline);
    const auto again = blocked_of([&] { b.create_agent("operator"); });
    EXPECT_EQ(std::string(again.what()), "POST /agents answered 200, not 201, to a valid agent");
    EXPECT_EQ(posts.load(), 1) << "the failing create was sent again";
    ASSERT_FALSE(b.notes().empty());
    EXPECT_NE(b.notes().back().find("HTTP-006.a"), std::string::npos);
    // With overrides the create is specific to the check: sent, not taken from the registry.
    (void)blocked_of([&] { b.create_agent("operator", {{"metadata", {{"k", "v"}}}}); });
    EXPECT_EQ(posts.load(), 2);
}

TEST(context, cleanup_notes_unexpected_delete_statuses) {
    std::atomic<int> calls{0};
    fake_server server([&](const beast_request& req) {
        ++calls;
        if (req.method() == testing::http::verb::post) return reply::json(201, {{"id", "abc"}});
        return reply::json(500, {{"title", "oops"}});
    });
    run_environment env;
    env.target = server.url();
    env.identities = identity_set("k", "r", nlohmann::json::object(), 0);
    const check c{"X.1", {"REG-001"}, layer::unit, "t", noop};
    run_context ctx(env, c, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    ctx.create_agent("operator", nlohmann::json::object());
    ctx.cleanup();
    ctx.cleanup(); // idempotent: nothing left to delete
    EXPECT_EQ(calls.load(), 2);
    ASSERT_EQ(ctx.notes().size(), 1U);
    EXPECT_NE(ctx.notes()[0].find("answered 500"), std::string::npos);
}

TEST(context, records_are_truncated_redacted_and_capped) {
    context_fixture f(reply{});
    auto& ctx = *f.ctx;
    client::request big("POST", "/big");
    big.bearer("tok").body = std::string(recorded_body_bytes * 8, 'b');
    client::response resp = make_response(413, std::string(recorded_body_bytes * 2, 'r'));
    ctx.record(big, &resp, "by hand");
    ctx.record(big, nullptr, "nothing came back");
    auto ex = ctx.exchanges();
    ASSERT_EQ(ex.size(), 2U);
    EXPECT_LT(ex[0].request.body.size(), recorded_body_bytes + 64);
    EXPECT_LT(ex[0].response->body.size(), recorded_body_bytes + 64);
    EXPECT_EQ(ex[0].request.header("authorization"), "Bearer <redacted>");
    EXPECT_EQ(ex[0].note, "by hand");
    // A body of one repeated byte is made by the shell, not cut; a made-up credential ("tok",
    // no token the harness minted) is printed as it was sent.
    EXPECT_NE(ex[0].curl.find("--data-binary @<(printf '%s' ''; head -c 32768 /dev/zero | tr "
                              "'\\000' '\\142'; printf '%s' '')"),
              std::string::npos)
        << ex[0].curl;
    EXPECT_NE(ex[0].curl.find("-H 'Authorization: Bearer tok'"), std::string::npos) << ex[0].curl;
    // An identity's token is never printed: the line says how to mint it again.
    client::request as_viewer("GET", "/v");
    as_viewer.bearer(ctx.token("viewer"));
    ctx.record(as_viewer, nullptr, "");
    EXPECT_EQ(ctx.last_curl().find(ctx.token("viewer")), std::string::npos);
    EXPECT_EQ(
        ctx.last_curl().rfind("AGENTCHECK_TOKEN=$(agentcheck token --identity viewer); curl", 0),
        0U)
        << ctx.last_curl();
    // A token the check minted: its claims, times relative to when it was minted.
    const auto now = ctx.now_s();
    client::request minted("GET", "/m");
    minted.bearer(ctx.mint({{"sub", "x"}, {"exp", now - 60}}, {{"alg", "none"}}));
    ctx.record(minted, nullptr, "");
    // (now-60, or now-61 when a second passed in between)
    EXPECT_NE(ctx.last_curl().find("agentcheck token --claims '{\"exp\":\"now-6"),
              std::string::npos)
        << ctx.last_curl();
    EXPECT_NE(ctx.last_curl().find("\"sub\":\"x\"}' --header '{\"alg\":\"none\"}'"),
              std::string::npos)
        << ctx.last_curl();
    EXPECT_FALSE(ex[1].response);
    for (std::size_t i = 0; i < recorded_exchanges_max; ++i)
        ctx.record(client::request("GET", "/n"), nullptr, "");
    EXPECT_EQ(ctx.exchanges().size(), recorded_exchanges_max);
    EXPECT_EQ(ctx.dropped_exchanges(), 4U);
    EXPECT_NE(ctx.last_curl().find("/n"), std::string::npos);
}

TEST(context, past_deadline_refuses_to_send) {
    context_fixture f(reply{});
    run_context late(f.env, f.the_check,
                     std::chrono::steady_clock::now() - std::chrono::seconds(1));
    EXPECT_THROW(late.send(client::request("GET", "/")), client::transport_exception);
    EXPECT_THROW(late.open_connection(), client::transport_exception);
    EXPECT_EQ(late.last_curl(), "");
}

TEST(context, send_records_transport_failures) {
    reply drop;
    drop.drop = true;
    context_fixture f(drop);
    EXPECT_THROW(f.ctx->send(client::request("GET", "/x")), client::transport_exception);
    const auto ex = f.ctx->exchanges();
    ASSERT_EQ(ex.size(), 1U);
    EXPECT_FALSE(ex[0].response);
    EXPECT_NE(ex[0].note.find("closed"), std::string::npos);
}

TEST(expect_helpers, produce_expected_and_actual) {
    context_fixture f(reply{});
    auto& ctx = *f.ctx;
    const auto ok = make_response(200, "{\"a\":1}", {{"X-A", "1"}});
    ctx.expect(true, "fine");
    ctx.expect_status(ok, 200);
    ctx.expect_status_in(ok, {201, 200});
    ctx.expect_header(ok, "x-a", "1");
    EXPECT_EQ(ctx.expect_header_present(ok, "X-A"), "1");
    EXPECT_EQ(ctx.expect_json(ok)["a"], 1);

    auto e = failure_of([&] { ctx.expect(false, "what", "exp", "act"); });
    EXPECT_STREQ(e.what(), "what");
    EXPECT_EQ(e.expected, "exp");
    EXPECT_EQ(e.actual, "act");
    e = failure_of([&] { ctx.expect_status_in(ok, {201, 204}); });
    EXPECT_EQ(e.expected, "201 or 204");
    EXPECT_EQ(e.actual, "200 {\"a\":1}");
    e = failure_of([&] { ctx.expect_header(ok, "X-B", "2"); });
    EXPECT_EQ(e.actual, "(absent)");
    e = failure_of([&] { ctx.expect_header(ok, "X-A", "2"); });
    EXPECT_EQ(e.expected, "X-A: 2");
    EXPECT_EQ(e.actual, "X-A: 1");
    e = failure_of([&] { ctx.expect_header_present(ok, "X-B"); });
    EXPECT_EQ(e.expected, "X-B");
    e = failure_of([&] { ctx.expect_json(make_response(200, "<html>")); });
    EXPECT_EQ(e.actual, "200 <html>");
    EXPECT_THROW(ctx.skip("why"), check_skipped);
}

// A check of another rule notes a bad problem document and goes on (HTTP-012's own checks
// fail on it), so one bug in the documents is not reported by every check that sees an error.
TEST(expect_helpers, problem_shape_is_noted_by_checks_of_other_rules) {
    context_fixture f(reply{});
    auto& ctx = *f.ctx; // the fixture's check names REG-001
    const auto body = ctx.expect_problem(
        make_response(401, "unauthorized", {{"Content-Type", "text/plain"}}), 401);
    EXPECT_TRUE(body.is_object() && body.empty());
    ASSERT_EQ(ctx.notes().size(), 2U);
    EXPECT_NE(ctx.notes()[0].find("application/problem+json"), std::string::npos);
    EXPECT_NE(ctx.notes()[1].find("not a JSON object"), std::string::npos);
    // The status is the check's own rule: still a failure.
    const auto e = failure_of([&] {
        ctx.expect_problem(make_response(403, "{}", {{"Content-Type", "text/plain"}}), 401);
    });
    EXPECT_EQ(e.expected.rfind("401", 0), 0U);
}

TEST(expect_helpers, problem_details) {
    context_fixture f(reply{});
    f.the_check.requirements = {"HTTP-012"}; // the shape is this check's rule
    auto& ctx = *f.ctx;
    const client::header_list headers = {{"Content-Type", "application/problem+json"},
                                         {"X-Request-ID", "rid-1"}};
    const nlohmann::json good = {{"type", "about:blank"},   {"title", "Not Found"},
                                 {"status", 404},           {"detail", "no such agent"},
                                 {"instance", "/agents/x"}, {"request_id", "rid-1"}};
    EXPECT_EQ(ctx.expect_problem(make_response(404, good.dump(), headers), 404)["title"],
              "Not Found");

    auto e = failure_of([&] {
        ctx.expect_problem(make_response(404, good.dump(), {{"X-Request-ID", "rid-1"}}), 404);
    });
    EXPECT_EQ(e.actual, "(no Content-Type)");
    e = failure_of([&] { ctx.expect_problem(make_response(404, "[1]", headers), 404); });
    EXPECT_EQ(e.expected, "an object");
    for (const char* field : {"type", "title", "detail", "instance"}) {
        auto bad = good;
        bad[field] = 5;
        e = failure_of([&] { ctx.expect_problem(make_response(404, bad.dump(), headers), 404); });
        EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << field;
        EXPECT_EQ(e.actual, "5");
        bad.erase(field);
        e = failure_of([&] { ctx.expect_problem(make_response(404, bad.dump(), headers), 404); });
        EXPECT_EQ(e.actual, "(absent)");
    }
    auto wrong_status = good;
    wrong_status["status"] = 400;
    e = failure_of(
        [&] { ctx.expect_problem(make_response(404, wrong_status.dump(), headers), 404); });
    EXPECT_EQ(e.expected, "404");
    EXPECT_EQ(e.actual, "400");
    wrong_status.erase("status");
    e = failure_of(
        [&] { ctx.expect_problem(make_response(404, wrong_status.dump(), headers), 404); });
    EXPECT_EQ(e.actual, "(absent)");
    auto wrong_id = good;
    wrong_id["request_id"] = "other";
    e = failure_of([&] { ctx.expect_problem(make_response(404, wrong_id.dump(), headers), 404); });
    EXPECT_EQ(e.expected, "rid-1");
    EXPECT_EQ(e.actual, "\"other\"");
    e = failure_of([&] {
        ctx.expect_problem(
            make_response(404, good.dump(), {{"Content-Type", "application/problem+json"}}), 404);
    });
    EXPECT_EQ(e.expected, "(X-Request-ID header absent)");
    wrong_id.erase("request_id");
    e = failure_of([&] { ctx.expect_problem(make_response(404, wrong_id.dump(), headers), 404); });
    EXPECT_EQ(e.actual, "(absent)");
}

} // namespace
} // namespace agentcheck
