// agentcheck soak: the least-squares line, the default warm-up, the verdict on memory and
// descriptors, and the reports.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/cli.hpp"
#include "conformance/load/soak.hpp"
#include "conformance/load/svg_chart.hpp"
#include "conformance/tests/fake_server.hpp"
#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck::soak {
namespace {

/// One sample a second for `seconds`, RSS = base + slope·t (KiB per minute) + noise, a fixed
/// descriptor count.
std::vector<sample> series(int seconds, double base_kib, double slope_kib_per_min,
                           double noise_kib = 0, int fds = 40, unsigned seed = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> noise(-noise_kib, noise_kib);
    std::vector<sample> out;
    for (int t = 0; t <= seconds; ++t) {
        const double rss =
            base_kib + slope_kib_per_min * t / 60.0 + (noise_kib > 0 ? noise(rng) : 0);
        out.push_back({static_cast<double>(t), std::llround(rss), fds});
    }
    return out;
}

bool mentions(const verdict& v, const std::string& text) {
    for (const auto& r : v.reasons)
        if (r.find(text) != std::string::npos) return true;
    return false;
}

TEST(soak_fit, least_squares_recovers_an_exact_line) {
    std::vector<std::pair<double, double>> points;
    for (int x = 0; x < 10; ++x)
        points.emplace_back(x, 3.0 + 2.5 * x);
    const auto f = least_squares(points);
    ASSERT_TRUE(f.defined);
    EXPECT_NEAR(f.slope, 2.5, 1e-9);
    EXPECT_NEAR(f.intercept, 3.0, 1e-9);
    EXPECT_NEAR(f.at(100), 253.0, 1e-6);
    EXPECT_EQ(f.points, 10U);
}

TEST(soak_fit, least_squares_of_a_known_scatter) {
    // x = 1..5, y = 2, 4, 5, 4, 5: slope 0.6, intercept 2.2 (the textbook example).
    const auto f = least_squares({{1, 2}, {2, 4}, {3, 5}, {4, 4}, {5, 5}});
    ASSERT_TRUE(f.defined);
    EXPECT_NEAR(f.slope, 0.6, 1e-12);
    EXPECT_NEAR(f.intercept, 2.2, 1e-12);
}

TEST(soak_fit, large_values_keep_their_precision) {
    // RSS in KiB around 4 GiB, time in seconds around a day: the centred sums stay exact.
    std::vector<std::pair<double, double>> points;
    for (int i = 0; i < 600; ++i)
        points.emplace_back(86400.0 + i, 4.0e6 + 0.5 * i);
    const auto f = least_squares(points);
    EXPECT_NEAR(f.slope, 0.5, 1e-9);
}

TEST(soak_fit, too_few_or_degenerate_points_are_undefined) {
    EXPECT_FALSE(least_squares({}).defined);
    EXPECT_FALSE(least_squares({{1, 5}}).defined);
    EXPECT_FALSE(least_squares({{2, 5}, {2, 7}, {2, 9}}).defined); // one x: no slope
}

TEST(soak_warmup, twenty_percent_at_least_ten_seconds_when_the_duration_allows) {
    EXPECT_DOUBLE_EQ(default_warmup_s(600), 120);
    EXPECT_DOUBLE_EQ(default_warmup_s(60), 12);
    EXPECT_DOUBLE_EQ(default_warmup_s(30), 10); // 6 s raised to the floor
    EXPECT_DOUBLE_EQ(default_warmup_s(20), 10);
    EXPECT_DOUBLE_EQ(default_warmup_s(15), 3); // too short for 10 s: 20% only
    EXPECT_DOUBLE_EQ(default_warmup_s(5), 1);
    EXPECT_DOUBLE_EQ(default_warmup_s(0), 0);
}

TEST(soak_verdict, a_steadily_rising_series_fails) {
    limits l;
    l.warmup_s = 10;
    // 4 MiB per minute over 2 minutes, with a little noise.
    const auto v = judge(series(120, 50000, 4096, 64), l);
    EXPECT_FALSE(v.pass);
    EXPECT_NEAR(v.rss_slope_kib_per_min, 4096, 80);
    EXPECT_TRUE(mentions(v, "RSS grows")) << ::testing::PrintToString(v.reasons);
    EXPECT_TRUE(mentions(v, "1024 KiB/min allowed"));
}

TEST(soak_verdict, a_slope_just_under_the_tolerance_passes_and_just_over_fails) {
    limits l;
    l.warmup_s = 0;
    l.rss_slope_max_kib_per_min = 1000;
    EXPECT_TRUE(judge(series(300, 50000, 950), l).pass);
    EXPECT_FALSE(judge(series(300, 50000, 1050), l).pass);
}

TEST(soak_verdict, a_flat_noisy_series_passes) {
    limits l;
    l.warmup_s = 12;
    // ±512 KiB of noise around a flat 60 MiB for a minute (more than a real agent's RSS
    // wanders): the fitted slope stays well under the tolerance (its standard error is about
    // 180 KiB/min).
    for (unsigned seed = 1; seed <= 20; ++seed) {
        const auto v = judge(series(60, 61440, 0, 512, 40, seed), l);
        EXPECT_TRUE(v.pass) << "seed " << seed << ": " << ::testing::PrintToString(v.reasons);
        EXPECT_LT(std::abs(v.rss_slope_kib_per_min), l.rss_slope_max_kib_per_min);
    }
}

TEST(soak_verdict, the_warmup_is_excluded_from_the_fit) {
    // The first 20 s climb 20 MiB (allocator arenas, caches filling), then it is flat.
    std::vector<sample> s;
    for (int t = 0; t <= 120; ++t)
        s.push_back({static_cast<double>(t), 40000 + std::min(t, 20) * 1024LL, 40});
    limits l;
    l.warmup_s = 0;
    const auto without = judge(s, l);
    EXPECT_FALSE(without.pass) << "the climb counts when there is no warm-up";
    l.warmup_s = 24;
    const auto with = judge(s, l);
    EXPECT_TRUE(with.pass) << ::testing::PrintToString(with.reasons);
    EXPECT_NEAR(with.rss_slope_kib_per_min, 0, 1e-6);
    EXPECT_EQ(with.warmup_samples, 24U);
    EXPECT_EQ(with.measured_samples, 97U);
    EXPECT_EQ(with.rss_min_kib, 40000 + 20 * 1024);
}

TEST(soak_verdict, descriptors_beyond_the_warmup_maximum_plus_the_growth_allowed_fail) {
    auto s = series(60, 50000, 0);
    limits l;
    l.warmup_s = 10;
    l.fd_growth_max = 16;
    s[5].fds = 48;  // the warm-up's maximum: 48
    s[40].fds = 64; // 48 + 16: allowed
    auto v = judge(s, l);
    EXPECT_TRUE(v.pass) << ::testing::PrintToString(v.reasons);
    EXPECT_EQ(v.fd_max_warmup, 48);
    EXPECT_EQ(v.fd_max_after, 64);
    s[41].fds = 65;
    v = judge(s, l);
    EXPECT_FALSE(v.pass);
    EXPECT_TRUE(mentions(v, "reached 65")) << ::testing::PrintToString(v.reasons);
}

TEST(soak_verdict, descriptors_that_keep_rising_fail_on_their_slope) {
    // One descriptor more every 10 s (6 per minute): within the growth allowed over a minute,
    // but a leak.
    auto s = series(60, 50000, 0);
    for (auto& x : s)
        x.fds = 40 + static_cast<int>(x.t_s / 10);
    limits l;
    l.warmup_s = 10;
    l.fd_growth_max = 100;
    const auto v = judge(s, l);
    EXPECT_FALSE(v.pass);
    EXPECT_NEAR(v.fd_slope_per_min, 6, 0.5);
    EXPECT_TRUE(mentions(v, "open descriptors grow")) << ::testing::PrintToString(v.reasons);
}

TEST(soak_verdict, one_descriptor_more_at_the_end_of_a_short_run_is_noise) {
    auto s = series(15, 50000, 0);
    s.back().fds += 1; // a fitted rise below 2 descriptors over the window
    limits l;
    l.warmup_s = 3;
    const auto v = judge(s, l);
    EXPECT_TRUE(v.pass) << ::testing::PrintToString(v.reasons);
    EXPECT_GT(v.fd_slope_per_min, 0);
    EXPECT_GT(v.fd_slope_tolerance_per_min, v.fd_slope_per_min);
}

TEST(soak_verdict, too_few_samples_after_the_warmup_fail) {
    limits l;
    l.warmup_s = 9;
    const auto v = judge(series(10, 50000, 0), l);
    EXPECT_FALSE(v.pass);
    EXPECT_EQ(v.measured_samples, 2U);
    EXPECT_TRUE(mentions(v, "too few to fit")) << ::testing::PrintToString(v.reasons);
}

TEST(soak_verdict, unknown_samples_are_left_out) {
    auto s = series(30, 50000, 0);
    s[15].rss_kib = -1;
    s[16].fds = -1;
    limits l;
    const auto v = judge(s, l);
    EXPECT_TRUE(v.pass);
    EXPECT_EQ(v.measured_samples, 29U);
}

TEST(soak_report, json_holds_the_samples_the_slopes_and_the_verdict) {
    report r;
    r.command = "agentcheck soak ...";
    r.target = "http://127.0.0.1:1";
    r.scenario = "soak";
    r.duration_s = 60;
    r.rate = 100;
    r.lim.warmup_s = 12;
    r.samples = series(60, 50000, 4096);
    r.v = judge(r.samples, r.lim);
    r.failures = r.v.reasons;
    const auto j = to_json(r);
    EXPECT_EQ(j["schema"], schema);
    EXPECT_EQ(j["verdict"], "fail");
    ASSERT_EQ(j["samples"].size(), 61U);
    EXPECT_EQ(j["samples"][1]["t_s"], 1.0);
    EXPECT_EQ(j["samples"][1]["fds"], 40);
    EXPECT_NEAR(j["rss"]["slope_kib_per_min"].get<double>(), 4096, 1);
    EXPECT_EQ(j["tolerance"]["rss_slope_max_kib_per_min"], 1024.0);
    EXPECT_EQ(j["tolerance"]["fd_growth_max"], 16);
    EXPECT_EQ(j["warmup_s"], 12.0);
    EXPECT_FALSE(j["failures"].empty());
    r.failures.clear();
    EXPECT_EQ(to_json(r)["verdict"], "pass");
    r.interrupted = true;
    EXPECT_EQ(to_json(r)["verdict"], "interrupted");
}

TEST(soak_report, html_has_two_plots_with_the_fit_and_the_warmup_boundary) {
    report r;
    r.target = "http://127.0.0.1:1";
    r.lim.warmup_s = 12;
    r.samples = series(60, 50000, 100);
    r.v = judge(r.samples, r.lim);
    r.agent_exit = "exit 0";
    const auto html = to_html(r);
    std::size_t svgs = 0;
    for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1))
        ++svgs;
    EXPECT_EQ(svgs, 2U);
    EXPECT_NE(html.find("least squares"), std::string::npos);
    EXPECT_NE(html.find("end of warm-up"), std::string::npos);
    EXPECT_NE(html.find("Resident memory"), std::string::npos);
    EXPECT_NE(html.find("Open descriptors"), std::string::npos);
    EXPECT_NE(html.find("Pass"), std::string::npos);
}

TEST(svg_chart, an_axis_off_zero_spans_the_data_in_four_nice_steps) {
    load::svg::chart_options o;
    o.x_max = 10;
    o.y_from_zero = false;
    const auto svg = load::svg::chart("t", "MiB", {{"rss", "#000", {{0, 48.2}, {10, 49.1}}}}, o);
    // 48.2 … 49.1: steps of 0.5 from 48.0 to 50.0.
    EXPECT_NE(svg.find(">48.00<"), std::string::npos) << svg;
    EXPECT_NE(svg.find(">50.00<"), std::string::npos) << svg;
    EXPECT_EQ(svg.find(">0.00<"), std::string::npos) << svg;
}

// ---- the command, in process: a stand-in "agent" process (sleep) beside a fake server that
// answers the load --------------------------------------------------------------------------

struct soak_run {
    int code = -1;
    std::string out;
    std::string err;
    nlohmann::json report;
};

class soak_command : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("agentcheck-soak-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ / "health.json")
            << R"({"name": "health", "operations": [{"name": "health", "path": "/health",
                   "expect": [200]}]})";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    soak_run run(const std::string& launch, std::vector<std::string> extra,
                 std::string target = {}) {
        if (target.empty()) target = "http://127.0.0.1:" + std::to_string(server_.port());
        std::vector<std::string> args = {"agentcheck",    "soak",
                                         "--launch",      launch,
                                         "--target",      target,
                                         "--scenario",    (dir_ / "health.json").string(),
                                         "--report-dir",  (dir_ / "report").string(),
                                         "--data-dir",    (dir_ / "data").string(),
                                         "--connections", "2"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<const char*> argv;
        for (const auto& a : args)
            argv.push_back(a.c_str());
        std::ostringstream out;
        std::ostringstream err;
        check_registry registry;
        soak_run r;
        r.code = run_cli(static_cast<int>(argv.size()), argv.data(), testing::small_catalogue_json,
                         registry, cli_io{out, err, false, false});
        r.out = out.str();
        r.err = err.str();
        std::ifstream in(dir_ / "report" / "soak.json");
        if (in) r.report = nlohmann::json::parse(in, nullptr, false);
        return r;
    }

    std::filesystem::path dir_;
    testing::fake_server server_{[](const testing::beast_request&) { return testing::reply{}; }};
};

TEST_F(soak_command, a_steady_process_passes_and_is_stopped_with_sigterm) {
    const auto r = run("sleep 60", {"--duration", "4s", "--rate", "20", "--warmup", "0s"});
    EXPECT_EQ(r.code, exit_ok) << r.out << r.err;
    EXPECT_NE(r.out.find("soak: pass"), std::string::npos) << r.out;
    ASSERT_TRUE(r.report.is_object()) << r.out << r.err;
    EXPECT_EQ(r.report["verdict"], "pass");
    EXPECT_GE(r.report["samples"].size(), 4U);
    for (const auto& s : r.report["samples"]) {
        EXPECT_GT(s["rss_kib"].get<long long>(), 0);
        EXPECT_GT(s["fds"].get<int>(), 0);
    }
    EXPECT_EQ(r.report["agent"]["exit"], "killed by SIGTERM");
    EXPECT_FALSE(r.report["agent"]["died"].get<bool>());
    EXPECT_GT(r.report["load"]["requests"].get<long long>(), 40);
    EXPECT_TRUE(std::filesystem::exists(dir_ / "report" / "soak.html"));
    EXPECT_TRUE(std::filesystem::exists(dir_ / "report" / "results.json"));
    EXPECT_TRUE(std::filesystem::exists(dir_ / "data")) << "--data-dir is kept";
}

TEST_F(soak_command, an_agent_that_dies_during_the_soak_fails_it_with_its_exit_and_log) {
    const auto r = run("sh -c 'echo about to go; sleep 1; exit 7'",
                       {"--duration", "8s", "--rate", "20", "--warmup", "0s", "-q"});
    EXPECT_EQ(r.code, exit_failures) << r.out << r.err;
    EXPECT_NE(r.out.find("the agent died during the soak (exit 7)"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("about to go"), std::string::npos) << "the end of its log: " << r.err;
    ASSERT_TRUE(r.report.is_object());
    EXPECT_EQ(r.report["verdict"], "fail");
    EXPECT_TRUE(r.report["agent"]["died"].get<bool>());
    EXPECT_LT(r.report["samples"].size(), 6U) << "the soak stopped when the agent died";
}

TEST_F(soak_command, usage_errors_name_the_flag_and_start_nothing) {
    auto r = run("sleep 60", {"--duration", "10s", "--rate", "20", "--warmup", "9s"});
    EXPECT_EQ(r.code, exit_usage);
    EXPECT_NE(r.err.find("--warmup: "), std::string::npos) << r.err;
    r = run("sleep 60", {"--duration", "10s", "--rate", "0"});
    EXPECT_EQ(r.code, exit_usage);
    EXPECT_NE(r.err.find("--rate: "), std::string::npos) << r.err;
    r = run("sleep 60", {"--duration", "ten", "--rate", "5"});
    EXPECT_EQ(r.code, exit_usage);
    EXPECT_NE(r.err.find("--duration"), std::string::npos) << r.err;
    r = run("sleep 60", {"--duration", "10s", "--rate", "5", "--rss-slope-max", "0"});
    EXPECT_EQ(r.code, exit_usage);
    EXPECT_NE(r.err.find("--rss-slope-max: "), std::string::npos) << r.err;
    r = run("sleep 60", {"--rate", "5"});
    EXPECT_EQ(r.code, exit_usage);
    EXPECT_NE(r.err.find("--duration"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "report" / "agent.log")) << "nothing started";
}

TEST_F(soak_command, an_agent_that_never_gets_ready_is_exit_3_and_is_stopped) {
    // Nothing listens on port 1: /readyz never answers.
    const auto r = run("sleep 60", {"--duration", "5s", "--rate", "5", "--ready-timeout", "300ms"},
                       "http://127.0.0.1:1");
    EXPECT_EQ(r.code, exit_unreachable) << r.out << r.err;
    EXPECT_NE(r.out.find("the agent did not start: GET /readyz did not answer 200"),
              std::string::npos)
        << r.out;
    ASSERT_TRUE(r.report.is_object());
    EXPECT_EQ(r.report["agent"]["exit"], "killed by SIGTERM");
}

} // namespace
} // namespace agentcheck::soak
