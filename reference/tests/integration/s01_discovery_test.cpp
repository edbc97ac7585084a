// PROTOCOL.md §1: discovery and the health trio.
#include "reference/tests/integration/agentd_fixture.hpp"

namespace agentd_test {
namespace {

class discovery : public agentd_suite {
protected:
    static void SetUpTestSuite() {
        extra_args_ = {"--jwt-issuer", "https://issuer.test", "--jwt-audience",
                       "agents",       "--max-body-bytes",    "65536"};
        agentd_suite::SetUpTestSuite();
    }
};

TEST_F(discovery, document_declares_protocol_auth_and_limits) {
    conn c(agentd().port());
    auto r = c.send("GET", "/.well-known/agent-service");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "application/json");
    auto d = r.json();
    EXPECT_EQ(d["protocol"], "agent-service/1");
    EXPECT_EQ(d["implementation"]["name"], "agentd");
    EXPECT_TRUE(d["implementation"]["version"].is_string());
    EXPECT_TRUE(d["features"].is_array());
    EXPECT_EQ(d["auth"]["type"], "bearer-jwt");
    EXPECT_EQ(d["auth"]["algorithms"], nlohmann::json::array({"HS256"}));
    EXPECT_EQ(d["auth"]["issuer"], "https://issuer.test");
    EXPECT_EQ(d["auth"]["audience"], "agents");
    EXPECT_EQ(d["auth"]["leeway_s"], 30);
    EXPECT_EQ(d["limits"]["max_body_bytes"], 65536);
    EXPECT_EQ(d["limits"]["max_header_bytes"], 16384);
    EXPECT_EQ(d["limits"]["header_timeout_ms"], 10000);
    for (const char* k : {"resilience", "tasks", "rate_limit"})
        EXPECT_TRUE(d[k].is_object()) << k;
}

TEST_F(discovery, health_reports_storage) {
    conn c(agentd().port());
    auto r = c.send("GET", "/health");
    ASSERT_EQ(r.status, 200);
    auto h = r.json();
    EXPECT_EQ(h["status"], "healthy");
    EXPECT_EQ(h["checks"]["storage"]["status"], "pass");
}

TEST_F(discovery, livez_and_readyz_answer_without_auth) {
    conn c(agentd().port());
    EXPECT_EQ(c.send("GET", "/livez").status, 200);
    EXPECT_EQ(c.send("GET", "/readyz").status, 200);
    EXPECT_EQ(c.send("GET", "/readyz", {}, {{"Authorization", "Bearer garbage"}}).status, 200);
}

TEST_F(discovery, issuer_and_audience_are_enforced) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    nlohmann::json base = {{"sub", "x"}, {"roles", {"viewer"}}, {"exp", now + 60}};
    conn c(agentd().port());
    auto get = [&](const nlohmann::json& claims) {
        return c
            .send("GET", "/agents", {},
                  {{"Authorization", bearer(mint(claims, agentd().secret()))}})
            .status;
    };
    EXPECT_EQ(get(base), 401); // no iss/aud
    auto good = base;
    good["iss"] = "https://issuer.test";
    good["aud"] = nlohmann::json::array({"other", "agents"});
    EXPECT_EQ(get(good), 200);
    auto wrong_iss = good;
    wrong_iss["iss"] = "https://evil.test";
    EXPECT_EQ(get(wrong_iss), 401);
    auto wrong_aud = good;
    wrong_aud["aud"] = "other";
    EXPECT_EQ(get(wrong_aud), 401);
}

} // namespace
} // namespace agentd_test
