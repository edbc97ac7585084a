// agentcheck replay and the named token variants: what a saved sequence sends again, how
// server-made values are carried over, and that every variant is the token it says it is.
#include "conformance/harness/replay.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <sstream>

#include "conformance/client/jwt.hpp"
#include "conformance/harness/identities.hpp"
#include "conformance/harness/run_context.hpp"
#include "conformance/harness/token_variants.hpp"
#include "conformance/tests/fake_server.hpp"

namespace agentcheck {
namespace {

using nlohmann::json;

const std::string secret = "replay-test-secret-0123456789abcdef";
const long long now = 1'800'000'000;

json decode_part(const std::string& token, int part) {
    std::size_t start = 0;
    for (int i = 0; i < part; ++i)
        start = token.find('.', start) + 1;
    const auto end = token.find('.', start);
    return json::parse(*client::b64url_decode(token.substr(start, end - start)));
}

std::string signature_of(const std::string& token) {
    return token.substr(token.rfind('.') + 1);
}

std::string signing_input(const std::string& token) {
    return token.substr(0, token.rfind('.'));
}

const json discovery_with_auth = {
    {"protocol", "agent-service/1"},
    {"auth", {{"issuer", "iss-x"}, {"audience", "aud-y"}, {"leeway_s", 40}}}};

json admin_claims(const json& discovery = discovery_with_auth) {
    return identity_claims("admin", "run1", discovery, now);
}

TEST(TokenVariants, EveryListedVariantMints) {
    for (const auto& v : token_variants()) {
        const auto t = mint_token_variant(v.name, admin_claims(), discovery_with_auth, now, secret);
        EXPECT_EQ(std::count(t.token.begin(), t.token.end(), '.'), 2) << v.name;
        EXPECT_EQ(decode_part(t.token, 1), t.claims) << v.name;
        EXPECT_EQ(decode_part(t.token, 0), t.header) << v.name;
    }
}

TEST(TokenVariants, TimesFollowTheDeclaredLeeway) {
    auto c = mint_token_variant("expired", admin_claims(), discovery_with_auth, now, secret).claims;
    EXPECT_EQ(c["exp"], now - 40 - 60);
    c = mint_token_variant("nbf-within-leeway", admin_claims(), discovery_with_auth, now, secret)
            .claims;
    EXPECT_EQ(c["nbf"], now + 20);
    // Without a declared leeway: 30 s.
    const json bare = {{"protocol", "agent-service/1"}};
    c = mint_token_variant("nbf-future", admin_claims(bare), bare, now, secret).claims;
    EXPECT_EQ(c["nbf"], now + 30 + 60);
}

TEST(TokenVariants, SignaturesAreWhatTheNamesSay) {
    const auto good = client::mint_hs256(admin_claims(), secret);
    const auto expect_hmac = [&](const std::string& token) {
        return client::b64url(client::hmac_sha256(secret, signing_input(token)));
    };
    const auto none =
        mint_token_variant("alg-none", admin_claims(), discovery_with_auth, now, secret);
    EXPECT_EQ(none.header["alg"], "none");
    EXPECT_EQ(signature_of(none.token), "");
    const auto signed_none =
        mint_token_variant("alg-none-signed", admin_claims(), discovery_with_auth, now, secret);
    EXPECT_EQ(signed_none.header["alg"], "none");
    EXPECT_EQ(signature_of(signed_none.token), expect_hmac(signed_none.token));
    const auto hs512 =
        mint_token_variant("alg-hs512", admin_claims(), discovery_with_auth, now, secret);
    EXPECT_EQ(hs512.header["alg"], "HS512");
    EXPECT_EQ(signature_of(hs512.token), expect_hmac(hs512.token));
    const auto wrong =
        mint_token_variant("wrong-secret", admin_claims(), discovery_with_auth, now, secret);
    EXPECT_EQ(wrong.header["alg"], "HS256");
    EXPECT_NE(signature_of(wrong.token), expect_hmac(wrong.token));
    EXPECT_EQ(signature_of(good), expect_hmac(good));
}

TEST(TokenVariants, IssuerAndAudienceVariantsUseTheDeclaredValues) {
    auto c =
        mint_token_variant("wrong-iss", admin_claims(), discovery_with_auth, now, secret).claims;
    EXPECT_EQ(c["iss"], "agentcheck-not-iss-x");
    c = mint_token_variant("aud-array", admin_claims(), discovery_with_auth, now, secret).claims;
    EXPECT_EQ(c["aud"], json::array({"agentcheck-other", "aud-y"}));
    c = mint_token_variant("no-aud", admin_claims(), discovery_with_auth, now, secret).claims;
    EXPECT_FALSE(c.contains("aud"));
    const json bare = {{"protocol", "agent-service/1"}};
    try {
        (void)mint_token_variant("wrong-iss", admin_claims(bare), bare, now, secret);
        FAIL() << "wrong-iss without a declared issuer";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("declares no auth.issuer"), std::string::npos);
    }
}

TEST(TokenVariants, AnUnknownNameIsNamedWithTheNearestOne) {
    try {
        (void)mint_token_variant("expird", admin_claims(), discovery_with_auth, now, secret);
        FAIL() << "an unknown variant was minted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("\"expird\""), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("did you mean expired?"), std::string::npos);
    }
}

/// A small agent: creates agents with ids it makes up, answers GET and DELETE for them,
/// and remembers the credentials it saw.
struct tiny_agent {
    std::mutex mutex;
    std::map<std::string, int> agents; // id → version
    int next = 0;
    std::vector<std::string> authorizations;
    std::vector<std::string> lines;
    testing::fake_server server{[this](const testing::beast_request& req) {
        const std::lock_guard<std::mutex> lock(mutex);
        const std::string target(req.target());
        lines.push_back(std::string(req.method_string()) + " " + target);
        if (auto it = req.find("Authorization"); it != req.end())
            authorizations.emplace_back(it->value());
        if (target == "/.well-known/agent-service")
            return testing::reply::json(200, {{"protocol", "agent-service/1"}});
        if (req.method_string() == "POST" && target == "/agents") {
            const auto id = "new-" + std::to_string(++next);
            agents[id] = 1;
            auto r = testing::reply::json(201, {{"id", id}});
            r.headers.emplace_back("ETag", "\"" + id + "-v1\"");
            return r;
        }
        const auto id = target.substr(target.rfind('/') + 1);
        const bool known = agents.count(id) > 0;
        if (req.method_string() == "DELETE") {
            agents.erase(id);
            testing::reply r;
            r.status = known ? 204 : 404;
            return r;
        }
        if (auto m = req.find("If-Match");
            m != req.end() && known && std::string(m->value()) != "\"" + id + "-v1\"")
            return testing::reply::json(412, json::object());
        return testing::reply::json(known ? 200 : 404, known ? json{{"id", id}} : json::object());
    }};
};

std::string http_bytes(const std::string& line, const std::string& extra = {}) {
    return line + " HTTP/1.1\r\nHost: x\r\n" + extra + "Content-Length: 0\r\n\r\n";
}

json step(const std::string& line, std::optional<int> status, const std::string& extra = {}) {
    json s = {{"request", line},
              {"bytes", http_bytes(line, extra)},
              {"connection", "kept"},
              {"recorded_status", status ? json(*status) : json(nullptr)}};
    return s;
}

json document(json steps) {
    return {{"format", "agentcheck-replay/1"},
            {"check", "REG-999.sample"},
            {"target", "http://127.0.0.1:1"},
            {"missing_steps", 0},
            {"concurrent", false},
            {"steps", std::move(steps)}};
}

TEST(Replay, CarriesTheIdsAndEtagsThisAgentGivesIntoLaterSteps) {
    tiny_agent agent;
    auto create = step("POST /agents", 201);
    create["recorded_id"] = "old-7";
    create["recorded_etag"] = "\"old-7-v1\"";
    auto doc = document({create, step("GET /agents/old-7", 200, "If-Match: \"old-7-v1\"\r\n"),
                         step("GET /agents/unknown", 404)});
    replay_options opts;
    opts.target = agent.server.url();
    opts.secret = secret;
    std::ostringstream out;
    const auto outcome = replay(doc, opts, out);
    EXPECT_EQ(outcome.steps, 3U);
    EXPECT_EQ(outcome.same, 3U) << out.str();
    EXPECT_NE(out.str().find("every step answered as recorded"), std::string::npos);
    const std::lock_guard<std::mutex> lock(agent.mutex);
    // The GET used the id this replay was given, and the agent created was deleted after.
    EXPECT_NE(std::find(agent.lines.begin(), agent.lines.end(), "GET /agents/new-1"),
              agent.lines.end());
    EXPECT_NE(std::find(agent.lines.begin(), agent.lines.end(), "DELETE /agents/new-1"),
              agent.lines.end());
    EXPECT_TRUE(agent.agents.empty());
}

TEST(Replay, SaysWhichStepsAnsweredOtherwise) {
    tiny_agent agent;
    auto doc = document({step("GET /agents/unknown", 200), step("GET /agents/other", 404)});
    replay_options opts;
    opts.target = agent.server.url();
    opts.secret = secret;
    std::ostringstream out;
    const auto outcome = replay(doc, opts, out);
    EXPECT_EQ(outcome.different, 1U);
    EXPECT_NE(out.str().find("1. GET /agents/unknown → 404  (recorded: 200)"), std::string::npos)
        << out.str();
    EXPECT_NE(out.str().find("1 of 2 steps answered otherwise"), std::string::npos);
}

/// A task that finishes on the fourth read: a check that polled it until "dead_lettered"
/// recorded two reads, but a replay that sends two reads meets it still queued.
struct slow_task_agent {
    std::mutex mutex;
    int reads = 0;
    std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> lines;
    testing::fake_server server{[this](const testing::beast_request& req) {
        const std::lock_guard<std::mutex> lock(mutex);
        const std::string target(req.target());
        lines.emplace_back(std::string(req.method_string()) + " " + target,
                           std::chrono::steady_clock::now());
        if (target == "/.well-known/agent-service")
            return testing::reply::json(200, {{"protocol", "agent-service/1"}});
        const bool done = reads >= 4;
        if (req.method_string() == "GET")
            return testing::reply::json(200, {{"status", ++reads >= 4 ? "dead_lettered" : "queued"}});
        return testing::reply::json(done ? 202 : 409, json::object());
    }};
};

TEST(Replay, RepeatsThePollThatEndedARunUntilTheRecordedStatus) {
    slow_task_agent agent;
    auto first = step("GET /tasks/t1", 200);
    first["recorded_state"] = "queued";
    auto last = step("GET /tasks/t1", 200);
    last["recorded_state"] = "dead_lettered";
    auto doc = document({first, last, step("POST /tasks/t1/retry", 202)});
    replay_options opts;
    opts.target = agent.server.url();
    opts.secret = secret;
    std::ostringstream out;
    const auto outcome = replay(doc, opts, out);
    EXPECT_EQ(outcome.same, 3U) << out.str();
    EXPECT_NE(out.str().find("2 polls repeated"), std::string::npos) << out.str();
}

TEST(Replay, KeepsTheRecordedPace) {
    slow_task_agent agent;
    auto a = step("GET /a", 200);
    a["at_ms"] = 0;
    auto b = step("GET /b", 200);
    b["at_ms"] = 300;
    replay_options opts;
    opts.target = agent.server.url();
    opts.secret = secret;
    std::ostringstream out;
    (void)replay(document({a, b}), opts, out);
    const std::lock_guard<std::mutex> lock(agent.mutex);
    ASSERT_GE(agent.lines.size(), 2U);
    const auto& sent_a = agent.lines[agent.lines.size() - 2];
    const auto& sent_b = agent.lines.back();
    EXPECT_EQ(sent_b.first, "GET /b");
    // 300 ms from the replay's start, which is a little before the first step was sent;
    // without pacing the two are a millisecond apart.
    EXPECT_GE(sent_b.second - sent_a.second, std::chrono::milliseconds(200))
        << "the second step waited for its recorded time";
}

TEST(Replay, MintsEachCredentialAgainWithTheSecret) {
    tiny_agent agent;
    auto with_token = [](const json& credential) {
        auto s = step("GET /agents/x", 404, "Authorization: Bearer $AGENTCHECK_TOKEN\r\n");
        s["credential"] = credential;
        return s;
    };
    auto doc = document({with_token({{"identity", "viewer"}}),
                         with_token({{"variant", "expired"}, {"identity", "admin"}}),
                         with_token({{"claims", {{"sub", "s"}, {"exp", "now+60"}}},
                                     {"header", {{"alg", "none"}}}})});
    replay_options opts;
    opts.target = agent.server.url();
    opts.secret = secret;
    std::ostringstream out;
    (void)replay(doc, opts, out);
    const std::lock_guard<std::mutex> lock(agent.mutex);
    ASSERT_EQ(agent.authorizations.size(), 3U);
    std::vector<std::string> tokens;
    for (const auto& a : agent.authorizations) {
        ASSERT_EQ(a.rfind("Bearer ", 0), 0U) << a;
        tokens.push_back(a.substr(7));
    }
    EXPECT_EQ(decode_part(tokens[0], 1)["roles"], json::array({"viewer"}));
    EXPECT_EQ(signature_of(tokens[0]),
              client::b64url(client::hmac_sha256(secret, signing_input(tokens[0]))));
    EXPECT_LT(decode_part(tokens[1], 1)["exp"].get<long long>(),
              std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                      .count() -
                  30);
    EXPECT_EQ(decode_part(tokens[2], 0)["alg"], "none");
    EXPECT_TRUE(decode_part(tokens[2], 1)["exp"].is_number());
}

TEST(Replay, StepsOnTheirOwnConnectionAreSentThere) {
    tiny_agent agent;
    auto own = step("GET /agents/a", 404);
    own["connection"] = "own";
    own["hold_s"] = 0;
    auto doc = document({step("GET /agents/b", 404), own, own});
    replay_options opts;
    opts.target = agent.server.url();
    opts.secret = secret;
    std::ostringstream out;
    EXPECT_EQ(replay(doc, opts, out).same, 3U) << out.str();
    // discovery, the kept connection, and one for each own step
    EXPECT_EQ(agent.server.connections(), 4U);
}

TEST(Replay, AnAgentThatDoesNotAnswerDiscoveryIsUnreachable) {
    testing::fake_server silent([](const testing::beast_request&) {
        testing::reply r;
        r.drop = true;
        return r;
    });
    auto doc = document({step("GET /x", std::nullopt)});
    replay_options opts;
    opts.target = silent.url();
    opts.secret = secret;
    std::ostringstream out;
    EXPECT_THROW((void)replay(doc, opts, out), client::transport_exception);
}

TEST(Replay, RefusesADocumentOfAnotherFormat) {
    replay_options opts;
    std::ostringstream out;
    EXPECT_THROW((void)replay(json{{"format", "other"}}, opts, out), std::invalid_argument);
    EXPECT_THROW((void)replay(json::array(), opts, out), std::invalid_argument);
}

TEST(ReplayDocument, KeepsEveryStepAndCountsWhatWasNotKept) {
    check_result r;
    r.id = "HTTP-033.x";
    r.outcome = verdict::fail;
    r.dropped_exchanges = 2;
    exchange text;
    auto s1 = std::make_shared<replay_step>();
    s1->bytes = "POST /agents HTTP/1.1\r\nHost: h\r\n\r\n";
    s1->status = 201;
    s1->id = "abc";
    s1->credential = {{"identity", "operator"}};
    text.replay = s1;
    exchange binary;
    auto s2 = std::make_shared<replay_step>();
    s2->bytes = std::string("GET /\xff\xfe HTTP/1.1\r\n\r\n");
    s2->own_connection = true;
    s2->hold = std::chrono::seconds(3);
    binary.replay = s2;
    exchange not_kept; // over replay_bytes_max
    r.exchanges = {text, binary, not_kept};
    client::target_url t;
    t.port = 8080;
    const auto doc = replay_document(r, t, 42);
    EXPECT_EQ(doc["format"], "agentcheck-replay/1");
    EXPECT_EQ(doc["missing_steps"], 3);
    ASSERT_EQ(doc["steps"].size(), 2U);
    EXPECT_EQ(doc["steps"][0]["request"], "POST /agents");
    EXPECT_EQ(doc["steps"][0]["recorded_status"], 201);
    EXPECT_EQ(doc["steps"][0]["recorded_id"], "abc");
    EXPECT_EQ(doc["steps"][0]["credential"]["identity"], "operator");
    EXPECT_EQ(doc["steps"][0]["connection"], "kept");
    EXPECT_FALSE(doc["steps"][1].contains("bytes"));
    EXPECT_EQ(*client::b64url_decode(doc["steps"][1]["bytes_b64url"].get<std::string>()),
              s2->bytes);
    EXPECT_EQ(doc["steps"][1]["connection"], "own");
    EXPECT_EQ(doc["steps"][1]["hold_s"], 3);
    EXPECT_TRUE(doc["steps"][1]["recorded_status"].is_null());
    EXPECT_EQ(replay_path("out", "A.b").string(), "out/replay/A.b.json");
}

} // namespace
} // namespace agentcheck
