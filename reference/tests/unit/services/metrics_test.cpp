// agentd's metrics: what the scrape shows after observations, with bounded labels.
#include "reference/services/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace agent {
namespace {

bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

TEST(metrics, a_scrape_has_every_family_with_help_and_type) {
    metrics m;
    // prometheus-cpp leaves out a family with no series: the histogram has one once a request
    // is answered, the error counter once app declares the error types (as agentd does).
    m.observe_request("GET", "/health", 200, 0.001);
    m.declare_error_type("not-found");
    const auto text = m.scrape();
    EXPECT_TRUE(has(text, "agent_errors_total{error_type=\"not-found\"} 0")) << text;
    for (const char* f : {"agent_request_duration_seconds histogram", "agent_errors_total counter",
                          "agent_active_connections gauge", "agent_registered_agents gauge",
                          "agent_tasks_total counter", "agent_queue_depth gauge"})
        EXPECT_TRUE(has(text, std::string("# TYPE ") + f)) << f << "\n" << text;
    EXPECT_TRUE(has(text, "agent_tasks_total{status=\"succeeded\"} 0"))
        << "task series exist from the start";
}

TEST(metrics, requests_land_in_their_bucket_by_method_route_and_code) {
    metrics m;
    m.observe_request("GET", "/agents/{id}", 200, 0.0007);
    m.observe_request("GET", "/agents/{id}", 200, 0.3);
    m.observe_request("BREW", "/agents", 405, 0.0001);
    const auto text = m.scrape();
    const std::string series = "code=\"200\",method=\"GET\",route=\"/agents/{id}\"";
    EXPECT_TRUE(has(text, "agent_request_duration_seconds_bucket{" + series + ",le=\"0.0005\"} 0"))
        << text;
    EXPECT_TRUE(has(text, "agent_request_duration_seconds_bucket{" + series + ",le=\"0.001\"} 1"));
    EXPECT_TRUE(has(text, "agent_request_duration_seconds_bucket{" + series + ",le=\"0.5\"} 2"));
    EXPECT_TRUE(has(text, "agent_request_duration_seconds_bucket{" + series + ",le=\"+Inf\"} 2"));
    EXPECT_TRUE(has(text, "agent_request_duration_seconds_count{" + series + "} 2"));
    EXPECT_TRUE(has(text, "method=\"other\"")) << "an unknown method is one bounded label";
    EXPECT_FALSE(has(text, "BREW"));
}

TEST(metrics, errors_connections_tasks_and_gauges_from_their_sources) {
    metrics m;
    m.count_error("validation-failed");
    m.count_error("validation-failed");
    m.connection_opened();
    m.connection_opened();
    m.connection_closed();
    m.count_task("submitted");
    m.count_task("no-such-status"); // not a label value: ignored
    m.set_sources({[] { return std::size_t{42}; }, [] { return std::size_t{7}; }});
    const auto text = m.scrape();
    EXPECT_TRUE(has(text, "agent_errors_total{error_type=\"validation-failed\"} 2")) << text;
    EXPECT_TRUE(has(text, "agent_active_connections 1"));
    EXPECT_TRUE(has(text, "agent_tasks_total{status=\"submitted\"} 1"));
    EXPECT_FALSE(has(text, "no-such-status"));
    EXPECT_TRUE(has(text, "agent_registered_agents 42"));
    EXPECT_TRUE(has(text, "agent_queue_depth 7"));
}

TEST(metrics, observations_from_many_threads_are_all_counted) {
    metrics m;
    constexpr int threads = 4;
    constexpr int each = 5000;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&m, t] {
            for (int i = 0; i < each; ++i)
                m.observe_request("GET", i % 2 ? "/health" : "/agents", 200 + (t % 2), 0.001);
        });
    for (auto& t : ts)
        t.join();
    const auto text = m.scrape();
    // Per (route, code): threads t with the same parity wrote each / 2 observations each.
    EXPECT_TRUE(has(text, "agent_request_duration_seconds_count{code=\"200\",method=\"GET\",route=\"/health\"} 5000"))
        << text;
    EXPECT_TRUE(has(text, "agent_request_duration_seconds_count{code=\"201\",method=\"GET\",route=\"/agents\"} 5000"));
}

TEST(metrics, two_instances_keep_their_own_series) {
    // The per-thread cache of series must not hand one instance's series to another.
    metrics a;
    a.observe_request("GET", "/health", 200, 0.001);
    metrics b;
    b.observe_request("GET", "/health", 200, 0.001);
    b.observe_request("GET", "/health", 200, 0.001);
    EXPECT_TRUE(has(a.scrape(), "agent_request_duration_seconds_count{code=\"200\",method=\"GET\",route=\"/health\"} 1"));
    EXPECT_TRUE(has(b.scrape(), "agent_request_duration_seconds_count{code=\"200\",method=\"GET\",route=\"/health\"} 2"));
}

} // namespace
} // namespace agent
