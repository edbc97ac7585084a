// agentcheck load: scenarios, request templates, thresholds, results documents, merging, and the
// engine itself against a local fake server.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "conformance/load/engine.hpp"
#include "conformance/load/results.hpp"
#include "conformance/load/scenario.hpp"
#include "conformance/tests/fake_server.hpp"

namespace agentcheck::load {
namespace {

using namespace std::chrono_literals;

nlohmann::json two_ops() {
    return nlohmann::json::parse(R"({
      "name": "mixed", "setup": {"agents": 3},
      "operations": [
        {"name": "get_agent", "weight": 3, "path": "/agents/{agent}", "identity": "viewer"},
        {"name": "create", "method": "POST", "path": "/agents", "identity": "operator",
         "body": {"name": "load-{uniq}", "version": "1.0.0"}, "expect": [201]}
      ]})");
}

std::string refusal(const nlohmann::json& doc) {
    try {
        parse_scenario(doc);
    } catch (const spec_error& e) {
        return e.what();
    }
    return "";
}

TEST(load_scenario, parses_operations_and_setup) {
    const auto s = parse_scenario(two_ops());
    EXPECT_EQ(s.name, "mixed");
    EXPECT_EQ(s.setup_agents, 3U);
    ASSERT_EQ(s.operations.size(), 2U);
    EXPECT_EQ(s.operations[0].weight, 3);
    EXPECT_TRUE(s.operations[0].expected(200));
    EXPECT_FALSE(s.operations[0].expected(404));
    EXPECT_TRUE(s.operations[1].expected(201));
    EXPECT_FALSE(s.operations[1].expected(200));
}

TEST(load_scenario, a_bad_scenario_names_the_field_and_the_reason) {
    auto doc = two_ops();
    doc["operations"][1]["weight"] = -1;
    EXPECT_NE(refusal(doc).find("operations[1].weight: must be a positive number"),
              std::string::npos);
    doc = two_ops();
    doc["operations"][0]["methd"] = "GET";
    EXPECT_NE(refusal(doc).find("operations[0].methd: unknown field"), std::string::npos);
    doc = two_ops();
    doc["operations"][0]["path"] = "agents";
    EXPECT_NE(refusal(doc).find("operations[0].path"), std::string::npos);
    doc = two_ops();
    doc["setup"]["agents"] = 0;
    EXPECT_NE(refusal(doc).find("{agent} needs agents"), std::string::npos);
    doc = two_ops();
    doc["operations"][1]["name"] = "get_agent";
    EXPECT_NE(refusal(doc).find("used twice"), std::string::npos);
    doc = two_ops();
    doc["operations"][0]["identity"] = "root";
    EXPECT_NE(refusal(doc).find("operations[0].identity"), std::string::npos);
    doc = two_ops();
    doc["operations"][0]["expect"] = {700};
    EXPECT_NE(refusal(doc).find("operations[0].expect"), std::string::npos);
    EXPECT_NE(refusal(nlohmann::json::object()).find("operations: required"), std::string::npos);
    EXPECT_NE(refusal({{"operations", two_ops()["operations"]}, {"extra", 1}}).find("extra"),
              std::string::npos);
}

TEST(load_scenario, the_committed_scenarios_parse) {
    for (const char* name : {"health.json", "read_mostly.json", "mixed.json"}) {
        SCOPED_TRACE(name);
        EXPECT_NO_THROW(
            load_scenario_file(std::string(AGENTCHECK_SOURCE_DIR) + "/../fixtures/load/" + name));
    }
    EXPECT_THROW(load_scenario_file("/nonexistent.json"), spec_error);
}

TEST(load_scenario, subscribers_are_counted_and_bounded) {
    auto doc = two_ops();
    doc["subscribers"] = {{"events", 4}};
    EXPECT_EQ(parse_scenario(doc).event_subscribers, 4);
    doc["subscribers"] = {{"events", 1000}};
    EXPECT_NE(refusal(doc).find("subscribers.events: an integer from 0 to 64"), std::string::npos);
    doc["subscribers"] = {{"status", 1}};
    EXPECT_NE(refusal(doc).find("subscribers.status: unknown field"), std::string::npos);
}

TEST(load_subscribers, event_times_parse_to_the_millisecond) {
    const auto t = parse_rfc3339_utc("2026-12-02T07:15:59.123Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count(),
              1796195759123LL);
    for (const char* bad : {"2026-12-02T07:15:59Z", "2026-13-02T07:15:59.123Z",
                            "2026-12-02 07:15:59.123Z", "2026-12-02T07:15:59.123+01:00", ""})
        EXPECT_FALSE(parse_rfc3339_utc(bad)) << bad;
}

TEST(load_subscribers, stats_merge_and_gate) {
    run_data d = {};
    d.measured_s = 1;
    subscriber_stats s;
    s.subscribers = 2;
    s.messages = 10;
    s.gaps = 1;
    for (int i = 1; i <= 10; ++i)
        s.delivery.record(i * 1000);
    d.subscribers = s;
    const auto ts = evaluate(
        d, {parse_threshold("delivery_p99<20ms", 0, {}), parse_threshold("stream_gaps<=0", 0, {})});
    EXPECT_TRUE(ts[0].ok);
    EXPECT_EQ(ts[0].actual, 10);
    EXPECT_FALSE(ts[1].ok) << "a gap breaches stream_gaps<=0";
    const auto back = from_json(nlohmann::json::parse(to_json(d).dump()));
    ASSERT_TRUE(back.subscribers);
    EXPECT_EQ(back.subscribers->messages, 10U);
    const auto m = merge({d, d});
    EXPECT_EQ(m.subscribers->messages, 20U);
    EXPECT_EQ(m.subscribers->delivery.count(), 20U);
}

TEST(load_request, renders_placeholders_and_the_content_length) {
    const auto s = parse_scenario(two_ops());
    auto target = *client::target_url::parse("http://127.0.0.1:8080/api");
    compiled_request get(target, s.operations[0], "tok");
    std::string out;
    get.render(out, "11111111-2222-7333-8444-555555555555", "0123456789abcdef");
    EXPECT_TRUE(
        out.starts_with("GET /api/agents/11111111-2222-7333-8444-555555555555 HTTP/1.1\r\n"))
        << out;
    EXPECT_NE(out.find("Authorization: Bearer tok\r\n"), std::string::npos);
    EXPECT_TRUE(out.ends_with("\r\n\r\n"));
    EXPECT_TRUE(get.uses_agent());

    compiled_request post(target, s.operations[1], "tok");
    post.render(out, "", "0123456789abcdef");
    const auto body = out.substr(out.find("\r\n\r\n") + 4);
    EXPECT_EQ(nlohmann::json::parse(body)["name"], "load-0123456789abcdef");
    EXPECT_NE(out.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos)
        << out;
    EXPECT_FALSE(post.uses_agent());
}

TEST(load_threshold, parses_each_kind) {
    const std::vector<std::string> ops = {"get_agent", "create"};
    auto t = parse_threshold("p99<20ms", 0, ops);
    EXPECT_EQ(t.metric, "p99");
    EXPECT_EQ(t.comparison, "<");
    EXPECT_EQ(t.limit, 20);
    EXPECT_EQ(parse_threshold("p99.9 <= 1.5s", 0, ops).limit, 1500);
    EXPECT_EQ(parse_threshold("p50<500us", 0, ops).limit, 0.5);
    EXPECT_DOUBLE_EQ(parse_threshold("errors<0.1%", 0, ops).limit, 0.001);
    EXPECT_DOUBLE_EQ(parse_threshold("rps>=0.95*rate", 2000, ops).limit, 1900);
    t = parse_threshold("get_agent.p99<5ms", 0, ops);
    EXPECT_EQ(t.operation, "get_agent");
    EXPECT_EQ(t.metric, "p99");
}

TEST(load_threshold, refuses_unknown_metrics_and_malformed_expressions) {
    const std::vector<std::string> ops = {"get_agent"};
    for (const char* bad : {"p99", "p98<5ms", "latency<5ms", "p99<5", "errors<5ms", "rps>=0.9*rate",
                            "p99=5ms", "nope.p99<5ms", "errors<150%"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(parse_threshold(bad, 0, ops), spec_error);
    }
    try {
        parse_threshold("nope.p99<5ms", 0, ops);
    } catch (const spec_error& e) {
        EXPECT_NE(std::string(e.what()).find("no operation named \"nope\""), std::string::npos);
    }
}

TEST(load_duration, parses_units_and_refuses_the_rest) {
    EXPECT_EQ(parse_duration("250ms", "--duration"), 250ms);
    EXPECT_EQ(parse_duration("10", "--duration"), 10s);
    EXPECT_EQ(parse_duration("2m", "--duration"), 120s);
    EXPECT_EQ(parse_duration("1.5s", "--duration"), 1500ms);
    EXPECT_THROW(parse_duration("10 parsecs", "--duration"), spec_error);
    EXPECT_THROW(parse_duration("", "--duration"), spec_error);
}

/// A run_data with known values, as the engine would give.
run_data sample(std::uint64_t n, std::int64_t base_us, std::uint32_t shard) {
    run_data d;
    d.options.mdl = model::open;
    d.options.rate = 100;
    d.options.shard_index = shard;
    d.options.shard_count = 2;
    d.measured_s = 10;
    operation_stats op;
    op.name = "health";
    for (std::uint64_t i = 0; i < n; ++i) {
        op.corrected.record(base_us + static_cast<std::int64_t>(i));
        op.uncorrected.record(base_us);
        ++op.requests;
        ++op.ok;
        ++op.statuses[200];
    }
    op.requests += 2;
    op.failures[failure::timeout] = 2;
    d.operations.push_back(op);
    for (std::uint32_t s = 0; s < 3; ++s) {
        second_stats ss{s, n / 3, 0};
        ss.corrected.record(base_us);
        d.seconds.push_back(ss);
    }
    d.intended = n + 2;
    d.schedule_lag.record(10);
    return d;
}

TEST(load_results, json_round_trips_and_thresholds_gate) {
    const auto d = sample(1000, 100, 0);
    const auto ts = evaluate(d, {parse_threshold("p99<2ms", 0, {"health"}),
                                 parse_threshold("errors<0.1%", 0, {"health"})});
    ASSERT_EQ(ts.size(), 2U);
    EXPECT_TRUE(ts[0].ok);
    EXPECT_FALSE(ts[1].ok) << "2 timeouts in 1002 requests are 0.2%";
    const auto j = to_json(d, ts);
    EXPECT_EQ(j["verdict"], "fail");
    EXPECT_EQ(j["summary"]["requests"], 1002);
    EXPECT_EQ(j["summary"]["failures"]["timeout"], 2);
    const auto back = from_json(nlohmann::json::parse(j.dump()));
    EXPECT_EQ(to_json(back).dump(), to_json(d).dump());
    EXPECT_THROW(from_json({{"schema", "something-else"}}), spec_error);
    const auto html = to_html(d, ts);
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("breach"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos) << "self-contained, no script";
}

TEST(load_results, merging_shards_adds_counts_and_histograms) {
    const auto a = sample(1000, 100, 0);
    const auto b = sample(500, 5000, 1);
    const auto m = merge({a, b});
    const auto t = total(m);
    EXPECT_EQ(t.requests, 1504U);
    EXPECT_EQ(t.failures.at(failure::timeout), 4U);
    histogram both = latency_histogram();
    both.merge(a.operations[0].corrected);
    both.merge(b.operations[0].corrected);
    EXPECT_EQ(t.corrected.to_json(), both.to_json()) << "merged exactly, never averaged";
    EXPECT_EQ(m.options.rate, 200);
    EXPECT_EQ(m.shards_merged, 2U);
    ASSERT_EQ(m.seconds.size(), 3U);
    EXPECT_EQ(m.seconds[0].corrected.count(), 2U);
    auto other = b;
    other.operations[0].name = "other";
    EXPECT_THROW(merge({a, other}), spec_error);
}

TEST(load_results, compare_gives_a_verdict_per_figure) {
    const auto base = sample(1000, 1000, 0);
    auto slower = sample(1000, 3000, 0);
    const auto rows = compare(base, slower, 0.1);
    bool p99_worse = false;
    for (const auto& r : rows)
        if (r.figure == "p99") p99_worse = r.verdict == "worse";
    EXPECT_TRUE(p99_worse);
    for (const auto& r : compare(base, base, 0.1))
        EXPECT_EQ(r.verdict, "same") << r.figure;
}

engine_options options_for(const testing::fake_server& server, const scenario& sc) {
    engine_options o;
    o.target = server.url();
    for (const auto& op : sc.operations) {
        o.operations.push_back(op);
        o.compiled.push_back(std::make_shared<const compiled_request>(o.target, op, ""));
    }
    return o;
}

TEST(load_engine, closed_model_sends_exactly_the_requests_asked) {
    testing::fake_server server([](const testing::beast_request&) { return testing::reply{}; });
    auto o = options_for(server, default_scenario());
    o.connections = 4;
    o.threads = 2;
    o.requests = 200;
    o.duration = 30s;
    const auto r = run_engine(o);
    ASSERT_EQ(r.operations.size(), 1U);
    EXPECT_EQ(r.operations[0].requests, 200U);
    EXPECT_EQ(r.operations[0].ok, 200U);
    EXPECT_EQ(r.operations[0].corrected.count(), 200U);
    EXPECT_EQ(server.requests(), 200U);
    EXPECT_LE(r.connects, 4U) << "connections are kept alive";
}

TEST(load_engine, open_model_counts_latency_from_the_intended_start) {
    // One connection and a server that takes 50 ms: at 100 arrivals per second, requests queue
    // behind each other, and the corrected latency (from the schedule) shows the queue that
    // the uncorrected one (from the write) hides.
    testing::fake_server server([](const testing::beast_request&) {
        testing::reply r;
        r.delay = 50ms;
        return r;
    });
    auto o = options_for(server, default_scenario());
    o.mdl = model::open;
    o.rate = 100;
    o.connections = 1;
    o.duration = 500ms;
    o.timeout = 10s;
    const auto r = run_engine(o);
    const auto& op = r.operations[0];
    EXPECT_EQ(r.intended, 50U);
    EXPECT_EQ(op.requests, 50U) << "every arrival is sent, late";
    EXPECT_LT(op.uncorrected.value_at_percentile(99), 200'000);
    // What wrk2 would report, worked out: request k is due at 10k ms and, served one at a
    // time in 50 ms each, answered at 50(k+1) ms, so its corrected latency is 50 + 40k ms:
    // the median (k = 24) 1,010 ms, p99 (k = 49) 2,010 ms. Within 10% of those.
    EXPECT_NEAR(op.corrected.value_at_percentile(50), 1'010'000, 101'000);
    EXPECT_NEAR(op.corrected.value_at_percentile(99), 2'010'000, 201'000);
    EXPECT_NEAR(op.uncorrected.value_at_percentile(50), 50'000, 5'000)
        << "from the write, each request takes only its own 50 ms";
}

TEST(load_engine, failures_are_broken_down_by_kind) {
    std::atomic<int> n{0};
    testing::fake_server server([&n](const testing::beast_request&) {
        testing::reply r;
        r.close = true; // every request on a fresh connection: a drop is a read failure
        const int i = n++;
        if (i % 4 == 1) r.status = 503;
        if (i % 4 == 2) r.drop = true;
        if (i % 4 == 3) r.delay = 400ms;
        return r;
    });
    auto o = options_for(server, default_scenario());
    o.connections = 4;
    o.requests = 40;
    o.timeout = 150ms;
    o.duration = 30s;
    const auto r = run_engine(o);
    const auto& op = r.operations[0];
    EXPECT_EQ(op.requests, 40U);
    EXPECT_GT(op.failures.at(failure::status), 0U);
    EXPECT_GT(op.failures.at(failure::read), 0U);
    EXPECT_GT(op.failures.at(failure::timeout), 0U);
    EXPECT_EQ(op.statuses.at(503), op.failures.at(failure::status));
}

TEST(load_engine, a_refused_connection_is_a_connect_failure_and_the_run_still_ends) {
    // A port nothing listens on: take one from a server and stop it.
    client::target_url dead;
    {
        testing::fake_server server([](const testing::beast_request&) { return testing::reply{}; });
        dead = server.url();
    }
    engine_options o;
    o.target = dead;
    const auto sc = default_scenario();
    o.operations = sc.operations;
    o.compiled.push_back(std::make_shared<const compiled_request>(dead, sc.operations[0], ""));
    o.mdl = model::open;
    o.rate = 50;
    o.connections = 2;
    o.duration = 300ms;
    o.timeout = 200ms;
    const auto started = std::chrono::steady_clock::now();
    const auto r = run_engine(o);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_GT(r.connect_errors, 0U);
    EXPECT_EQ(r.operations[0].ok, 0U);
    EXPECT_EQ(r.operations[0].requests, r.intended) << "every arrival is accounted for";
}

TEST(load_engine, the_same_seed_gives_the_same_operation_mix) {
    testing::fake_server server([](const testing::beast_request&) { return testing::reply{}; });
    auto sc = parse_scenario(nlohmann::json::parse(R"({"operations": [
        {"name": "a", "weight": 1, "path": "/a"}, {"name": "b", "weight": 2, "path": "/b"},
        {"name": "c", "weight": 7, "path": "/c"}]})"));
    auto o = options_for(server, sc);
    o.connections = 1;
    o.requests = 300;
    o.duration = 30s;
    o.seed = 42;
    const auto first = run_engine(o);
    const auto second = run_engine(o);
    for (std::size_t i = 0; i < 3; ++i)
        EXPECT_EQ(first.operations[i].requests, second.operations[i].requests);
    EXPECT_GT(first.operations[2].requests, first.operations[0].requests);
}

} // namespace
} // namespace agentcheck::load
