// PROTOCOL.md §8, tracing: traceresponse on every kind of response, the trace continued from a
// valid traceparent (whatever tracestate says), a fresh one otherwise, and trace_id in the
// request log.
#include "reference/tests/integration/agentd_fixture.hpp"
#include "reference/util/trace.hpp"

namespace agentd_test {
namespace {

class tracing : public agentd_suite {
protected:
    static void SetUpTestSuite() {
        extra_args_ = {"--log-requests", "true"};
        agentd_suite::SetUpTestSuite();
    }
};

const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string valid = "00-" + trace + "-00f067aa0ba902b7-01";

TEST_F(tracing, every_kind_of_response_carries_a_well_formed_traceresponse) {
    conn c(agentd().port());
    const std::vector<std::pair<std::string, std::string>> requests = {
        {"GET", "/.well-known/agent-service"}, {"GET", "/health"},  {"GET", "/agents"},
        {"GET", "/no/such/route"},             {"DELETE", "/health"}, {"OPTIONS", "/agents"},
        {"HEAD", "/health"}};
    for (const auto& [method, target] : requests) {
        auto r = c.send(method, target);
        const auto t = r.header("traceresponse");
        auto p = agent::util::parse_traceparent(t);
        ASSERT_TRUE(p) << method << " " << target << " (" << r.status << "): '" << t << "'";
        EXPECT_EQ(t.substr(0, 3), "00-");
    }
}

TEST_F(tracing, a_valid_traceparent_is_continued_and_a_bad_tracestate_does_not_spoil_it) {
    conn c(agentd().port());
    for (const std::string& state :
         std::vector<std::string>{"", "vendor=ok", "=,==bad;;state ", std::string(600, 'x')}) {
        std::vector<std::pair<std::string, std::string>> h{{"traceparent", valid}};
        if (!state.empty()) h.emplace_back("tracestate", state);
        auto r = c.send("GET", "/health", "", h);
        auto p = agent::util::parse_traceparent(r.header("traceresponse"));
        ASSERT_TRUE(p);
        EXPECT_EQ(p->trace_id, trace) << "tracestate '" << state << "'";
        EXPECT_NE(p->parent_id, "00f067aa0ba902b7") << "the server's span is its own";
        EXPECT_EQ(p->flags, "01");
    }
}

TEST_F(tracing, an_invalid_or_repeated_traceparent_gives_a_fresh_trace) {
    conn c(agentd().port());
    const std::vector<std::vector<std::pair<std::string, std::string>>> cases = {
        {{"traceparent", "ff-" + trace + "-00f067aa0ba902b7-01"}},
        {{"traceparent", "00-" + std::string(32, '0') + "-00f067aa0ba902b7-01"}},
        {{"traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}},
        {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01-extra"}},
        {{"traceparent", valid}, {"traceparent", valid}},
    };
    for (const auto& h : cases) {
        auto r = c.send("GET", "/health", "", h);
        auto p = agent::util::parse_traceparent(r.header("traceresponse"));
        ASSERT_TRUE(p) << h.front().second;
        EXPECT_NE(p->trace_id, trace) << h.front().second;
        EXPECT_NE(p->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736") << h.front().second;
    }
}

TEST_F(tracing, the_request_log_carries_the_trace_id) {
    conn c(agentd().port());
    const std::string mine = "11112222333344445555666677778888";
    auto r = c.send("GET", "/health", "", {{"traceparent", "00-" + mine + "-00f067aa0ba902b7-01"}});
    ASSERT_EQ(r.status, 200);
    for (int i = 0; i < 100 && agentd().log().find(mine) == std::string::npos; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_NE(agentd().log().find("\"trace_id\":\"" + mine + "\""), std::string::npos)
        << agentd().log();
}

} // namespace
} // namespace agentd_test
