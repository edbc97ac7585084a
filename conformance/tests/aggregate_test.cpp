#include "conformance/harness/aggregate.hpp"

#include <gtest/gtest.h>

#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck {
namespace {

check_result result(std::string id, std::vector<std::string> reqs, verdict v) {
    check_result r;
    r.id = std::move(id);
    r.requirements = std::move(reqs);
    r.outcome = v;
    return r;
}

const requirement_result& find(const aggregation& a, std::string_view id) {
    for (const auto& r : a.requirements) {
        if (r.req.id == id) return r;
    }
    throw std::out_of_range(std::string(id));
}

TEST(requirement_status_of, follows_the_rules) {
    using v = verdict;
    using s = requirement_status;
    EXPECT_EQ(requirement_status_of({}), s::not_checked);
    EXPECT_EQ(requirement_status_of({v::pass, v::pass}), s::pass);
    EXPECT_EQ(requirement_status_of({v::pass, v::skip}), s::pass);
    EXPECT_EQ(requirement_status_of({v::skip, v::skip}), s::skip);
    EXPECT_EQ(requirement_status_of({v::pass, v::fail}), s::fail);
    EXPECT_EQ(requirement_status_of({v::error, v::pass}), s::fail);
    EXPECT_EQ(requirement_status_of({v::skip, v::error}), s::fail);
    EXPECT_EQ(requirement_status_of({v::flaky, v::pass}), s::flaky);
}

TEST(aggregate, per_requirement_within_level) {
    const auto& cat = testing::small_catalogue();
    const std::vector<check_result> checks = {
        result("a", {"HTTP-001"}, verdict::pass),
        result("b", {"REG-001", "HTTP-001"}, verdict::fail),
        result("c", {"EVT-001"}, verdict::skip),
        result("d", {"REG-002"}, verdict::pass),
    };
    const auto must = aggregate(cat, level::must, checks, {}, "2026-01-01");
    ASSERT_EQ(must.requirements.size(), 4U); // HTTP-001, REG-001, EVT-001, REG-099
    EXPECT_EQ(find(must, "HTTP-001").status, requirement_status::fail);
    EXPECT_EQ(find(must, "HTTP-001").checks, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(find(must, "REG-001").status, requirement_status::fail);
    EXPECT_EQ(find(must, "EVT-001").status, requirement_status::skip);
    EXPECT_EQ(find(must, "REG-099").status, requirement_status::not_checked);
    EXPECT_TRUE(find(must, "REG-099").planned);
    const auto should = aggregate(cat, level::should, checks, {}, "2026-01-01");
    EXPECT_EQ(should.requirements.size(), 5U);
    EXPECT_EQ(find(should, "REG-002").status, requirement_status::pass);
}

TEST(aggregate, known_failures_active_stale_and_expired) {
    const auto& cat = testing::small_catalogue();
    const std::vector<check_result> checks = {
        result("a", {"HTTP-001"}, verdict::fail),
        result("b", {"REG-001"}, verdict::pass),
        result("c", {"EVT-001"}, verdict::skip),
    };
    const std::vector<known_failure> waivers = {
        {"HTTP-001", "tracked in #12", "2026-06-30"}, // active: failing → known failure
        {"REG-001", "was broken", ""},                // stale: passes now
        {"EVT-001", "no events yet", "2026-06-30"},   // skipped: nothing to say
        {"REG-002", "old", "2025-12-31"},             // expired (even outside the level)
    };
    auto agg = aggregate(cat, level::must, checks, waivers, "2026-01-01");
    EXPECT_EQ(find(agg, "HTTP-001").status, requirement_status::known_failure);
    EXPECT_EQ(find(agg, "HTTP-001").waiver, "tracked in #12");
    EXPECT_EQ(find(agg, "REG-001").status, requirement_status::pass);
    EXPECT_EQ(find(agg, "EVT-001").status, requirement_status::skip);
    ASSERT_EQ(agg.problems.size(), 2U);
    EXPECT_EQ(agg.problems[0].id, "REG-001");
    EXPECT_EQ(agg.problems[0].kind, "stale");
    EXPECT_EQ(agg.problems[1].id, "REG-002");
    EXPECT_EQ(agg.problems[1].kind, "expired");

    // On its expiry date a waiver still holds; the day after it is expired and no longer waives.
    auto on_day =
        aggregate(cat, level::must, checks, {{"HTTP-001", "r", "2026-01-01"}}, "2026-01-01");
    EXPECT_EQ(find(on_day, "HTTP-001").status, requirement_status::known_failure);
    EXPECT_TRUE(on_day.problems.empty());
    auto after =
        aggregate(cat, level::must, checks, {{"HTTP-001", "r", "2026-01-01"}}, "2026-01-02");
    EXPECT_EQ(find(after, "HTTP-001").status, requirement_status::fail);
    ASSERT_EQ(after.problems.size(), 1U);
    EXPECT_EQ(after.problems[0].kind, "expired");
}

TEST(finalize, exit_codes) {
    const auto& cat = testing::small_catalogue();
    run_report report;
    report.checks = {result("a", {"HTTP-001"}, verdict::pass),
                     result("b", {"REG-099"}, verdict::fail)};
    auto agg = aggregate(cat, level::must, report.checks, {}, "2026-01-01");
    report.requirements = agg.requirements;
    finalize(report);
    EXPECT_TRUE(report.passed) << "a planned requirement never fails a run";
    EXPECT_EQ(report.exit_code, exit_ok);
    EXPECT_EQ(report.counts.checks, 2U);
    EXPECT_EQ(report.counts.pass, 1U);
    EXPECT_EQ(report.counts.fail, 1U);
    EXPECT_EQ(report.counts.req_pass, 1U);

    report.checks.push_back(result("c", {"REG-001"}, verdict::error));
    report.requirements = aggregate(cat, level::must, report.checks, {}, "2026-01-01").requirements;
    finalize(report);
    EXPECT_FALSE(report.passed);
    EXPECT_EQ(report.exit_code, exit_failures);
    EXPECT_EQ(report.counts.error, 1U);
    EXPECT_EQ(report.counts.req_fail, 2U); // REG-001 and planned REG-099

    // Waive REG-001: passes again; a stale waiver fails it.
    auto waived = aggregate(cat, level::must, report.checks, {{"REG-001", "r", ""}}, "2026-01-01");
    report.requirements = waived.requirements;
    report.waiver_problems = waived.problems;
    finalize(report);
    EXPECT_TRUE(report.passed);
    EXPECT_EQ(report.counts.req_known_failure, 1U);
    auto stale = aggregate(cat, level::must, report.checks, {{"HTTP-001", "r", ""}}, "2026-01-01");
    report.waiver_problems = stale.problems;
    finalize(report);
    EXPECT_FALSE(report.passed);
    EXPECT_EQ(report.exit_code, exit_failures);
}

// A workflow check that names several rules and fails on one of them (the create answered
// 200, REG-001 here) fails that rule only; its other rules are blocked, not failed.
TEST(aggregate, a_failure_about_one_rule_blocks_the_checks_other_rules) {
    auto workflow = result("REG-001.workflow", {"REG-001", "HTTP-001"}, verdict::fail);
    workflow.failed_requirement = "REG-001";
    auto blocked = result("REG-002.x", {"REG-002"}, verdict::blocked);
    blocked.blocked_by = "REG-001";
    const auto a =
        aggregate(testing::small_catalogue(), level::should, {workflow, blocked}, {}, "2026-01-01");
    EXPECT_EQ(find(a, "REG-001").status, requirement_status::fail);
    EXPECT_EQ(find(a, "HTTP-001").status, requirement_status::blocked);
    EXPECT_EQ(find(a, "REG-002").status, requirement_status::blocked);
    // A plain failure still fails every rule the check names.
    const auto plain =
        aggregate(testing::small_catalogue(), level::must,
                  {result("X.1", {"REG-001", "HTTP-001"}, verdict::fail)}, {}, "2026-01-01");
    EXPECT_EQ(find(plain, "HTTP-001").status, requirement_status::fail);
}

TEST(counts, cover_every_status) {
    std::vector<check_result> checks = {result("a", {}, verdict::flaky),
                                        result("b", {}, verdict::skip)};
    std::vector<requirement_result> reqs(6);
    reqs[0].status = requirement_status::pass;
    reqs[1].status = requirement_status::flaky;
    reqs[2].status = requirement_status::fail;
    reqs[3].status = requirement_status::skip;
    reqs[4].status = requirement_status::not_checked;
    reqs[5].status = requirement_status::known_failure;
    const auto t = count(checks, reqs);
    EXPECT_EQ(t.flaky, 1U);
    EXPECT_EQ(t.skip, 1U);
    EXPECT_EQ(t.requirements, 6U);
    // Each status in its own bucket.
    EXPECT_EQ(t.req_pass, 1U);
    EXPECT_EQ(t.req_flaky, 1U);
    EXPECT_EQ(t.req_fail, 1U);
    EXPECT_EQ(t.req_skip, 1U);
    EXPECT_EQ(t.req_not_checked, 1U);
    EXPECT_EQ(t.req_known_failure, 1U);
    EXPECT_EQ(t.req_checked(), 4U);               // pass, flaky, fail, known failure
    EXPECT_EQ(t.req_not_checked_by_level[0], 1U); // requirements default to MUST
    for (const auto& r : reqs)
        EXPECT_STRNE(to_string(r.status), "?");
}

} // namespace
} // namespace agentcheck
