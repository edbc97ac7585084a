// PROTOCOL.md §8, rate limits: a burst per principal then 429 with its headers, 429 before
// 401, principals apart, the client's address for requests without a valid token, health
// exempt, and the next request passing after Retry-After.
#include <thread>

#include "reference/tests/integration/agentd_fixture.hpp"

namespace agentd_test {
namespace {

class rate_limits : public agentd_suite {
protected:
    static void SetUpTestSuite() {
        extra_args_ = {"--rate-limit-rps", "2", "--rate-limit-burst", "5"};
        agentd_suite::SetUpTestSuite();
    }
    static std::vector<std::pair<std::string, std::string>> as(const std::string& token) {
        return {{"Authorization", bearer(token)}};
    }
};

TEST_F(rate_limits, are_declared) {
    conn c(agentd().port());
    auto d = c.send("GET", "/.well-known/agent-service").json();
    EXPECT_EQ(d["rate_limit"]["requests_per_second"], 2);
    EXPECT_EQ(d["rate_limit"]["burst"], 5);
    EXPECT_NE(std::find(d["features"].begin(), d["features"].end(), "rate_limit"),
              d["features"].end());
}

TEST_F(rate_limits, a_burst_then_429_with_its_headers_and_others_unaffected) {
    conn c(agentd().port());
    const auto alice = agentd().token("rate-alice", {"viewer"});
    const auto bob = agentd().token("rate-bob", {"viewer"});
    // Tokens refill at 2/s while the requests are sent: on a slow machine one or two more
    // than the burst may pass.
    const auto start = std::chrono::steady_clock::now();
    int passed = 0;
    reply r;
    while (passed < 50) {
        r = c.send("GET", "/agents", "", as(alice));
        if (r.status != 200) break;
        if (passed++ == 0) {
            EXPECT_EQ(r.header("ratelimit-limit"), "5");
            EXPECT_EQ(r.header("ratelimit-remaining"), "4");
        }
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GE(passed, 5);
    EXPECT_LE(passed, 5 + static_cast<int>(2 * elapsed) + 1);
    ASSERT_EQ(r.status, 429);
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    EXPECT_EQ(r.json()["type"], "urn:agent-service:problem:rate-limited");
    EXPECT_EQ(r.header("retry-after"), "1");
    EXPECT_EQ(r.header("ratelimit-remaining"), "0");
    const auto reset = std::stoi(r.header("ratelimit-reset"));
    EXPECT_GE(reset, 2); // 5 tokens at 2/s, from less than one
    EXPECT_LE(reset, 3);
    EXPECT_EQ(c.send("GET", "/agents", "", as(bob)).status, 200) << "bob has his own bucket";
    for (const char* path : {"/health", "/livez", "/readyz"}) {
        auto h = c.send("GET", path, "", as(alice));
        EXPECT_NE(h.status, 429) << path;
        EXPECT_FALSE(h.has("ratelimit-limit")) << path << " is exempt";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1100)); // Retry-After: 1
    EXPECT_EQ(c.send("GET", "/agents", "", as(alice)).status, 200);
}

/// A process of its own: no other test has used this client's address.
class rate_limits_by_address : public rate_limits {};

TEST_F(rate_limits_by_address, without_a_valid_token_the_address_is_the_principal_and_429_comes_before_401) {
    conn c(agentd().port());
    const auto forged = mint({{"sub", "rate-mallory"}, {"roles", {"admin"}},
                              {"exp", 4102444800}},
                             "not-the-secret-not-the-secret-not-the-secret");
    int passed = 0;
    int limited = 0;
    for (int i = 0; i < 12; ++i) {
        // Alternately no token and a forged one: both count against 127.0.0.1's bucket.
        auto r = i % 2 ? c.send("GET", "/agents") : c.send("GET", "/agents", "", as(forged));
        if (r.status == 401) ++passed;
        if (r.status == 429) ++limited;
    }
    EXPECT_GE(passed, 5) << "the address's burst, whatever the token claimed";
    EXPECT_LE(passed, 6) << "(one more may refill while they are sent)";
    EXPECT_EQ(passed + limited, 12);
}

} // namespace
} // namespace agentd_test
