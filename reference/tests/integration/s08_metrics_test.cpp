// PROTOCOL.md §8, metrics: GET /metrics after real traffic is valid for promtool, counts what
// was asked, labels routes by template and never by id.
#include <cstdio>
#include <fstream>

#include "reference/tests/integration/agentd_fixture.hpp"

namespace agentd_test {
namespace {

class metrics_endpoint : public agentd_suite {
protected:
    static void SetUpTestSuite() {
        extra_args_ = {};
        agentd_suite::SetUpTestSuite();
    }
};

/// Runs `promtool check metrics` on text; returns (exit status, output).
std::pair<int, std::string> promtool_check(const std::string& text) {
    const auto file = temp_dir() + "/metrics.txt";
    std::ofstream(file) << text;
    const std::string cmd = "promtool check metrics < '" + file + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return {-1, "popen failed"};
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr)
        out += buf;
    const int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST_F(metrics_endpoint, is_declared_open_and_valid_for_promtool_after_traffic) {
    conn c(agentd().port());
    auto d = c.send("GET", "/.well-known/agent-service").json();
    EXPECT_NE(std::find(d["features"].begin(), d["features"].end(), "metrics"),
              d["features"].end());
    auto a = create(op());
    const std::string id = a["id"];
    c.send("GET", "/agents/" + id, "", {{"Authorization", bearer(viewer())}});
    c.send("GET", "/agents/00000000-0000-4000-8000-000000000000", "",
           {{"Authorization", bearer(viewer())}});
    c.send("GET", "/agents"); // 401
    c.send("BREW", "/agents"); // 405 of a method HTTP does not define
    auto r = c.send("GET", "/metrics");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body.find("route=\"/agents/{id}\""), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find(id), std::string::npos) << "an id in a label value";
    EXPECT_EQ(r.body.find("00000000-0000-4000"), std::string::npos);
    EXPECT_EQ(r.body.find("BREW"), std::string::npos);
    EXPECT_NE(r.body.find("agent_errors_total{error_type=\"unauthenticated\"}"), std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("agent_registered_agents 1"), std::string::npos);
    EXPECT_NE(r.body.find("agent_active_connections 1"), std::string::npos)
        << "this connection is open";
    const auto [status, out] = promtool_check(r.body);
    EXPECT_EQ(status, 0) << "promtool check metrics (Debian's prometheus package, installed by "
                            "make deps) said:\n"
                         << out << "\non:\n"
                         << r.body;
}

} // namespace
} // namespace agentd_test
