// agentcheck selftest's judgement: the failpoint table, what a run's report says, killed /
// survived / error, strength, the unproven MUSTs and the documents.
#include "conformance/harness/selftest.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "conformance/harness/check.hpp"
#include "conformance/harness/spec.hpp"
#include "conformance/tests/test_catalogue.hpp"

namespace st = agentcheck::selftest;
using agentcheck::testing::small_catalogue;

namespace {

/// A report.json as agentcheck run writes it (only the fields the self-test reads).
nlohmann::json report(const std::vector<std::pair<std::string, std::vector<std::string>>>& failed,
                      const std::vector<std::string>& passed_requirements = {}) {
    nlohmann::json r = {{"checks", nlohmann::json::array()},
                        {"requirements", nlohmann::json::array()},
                        {"root_causes", nlohmann::json::array()}};
    std::set<std::string> failed_reqs;
    for (const auto& [check, reqs] : failed) {
        r["checks"].push_back({{"id", check}, {"verdict", "fail"}, {"requirements", reqs}});
        for (const auto& q : reqs)
            failed_reqs.insert(q);
        r["root_causes"].push_back(
            {{"verdict", "fail"}, {"requirement", reqs.front()}, {"cause", check + " broke"}});
    }
    for (const auto& q : failed_reqs)
        r["requirements"].push_back({{"id", q}, {"status", "fail"}});
    for (const auto& q : passed_requirements) {
        r["checks"].push_back({{"id", q + ".ok"}, {"verdict", "pass"}, {"requirements", {q}}});
        r["requirements"].push_back({{"id", q}, {"status", "pass"}});
    }
    r["checks"].push_back({{"id", "X.skipped"}, {"verdict", "skip"}, {"requirements", {"X"}}});
    return r;
}

st::failpoint_result judged(const std::string& name, const nlohmann::json& rep, int exit_code) {
    st::failpoint_result f;
    f.fp = {name, name.substr(0, name.find('.')), "breaks it", ""};
    f.run.label = name;
    f.run.exit_code = exit_code;
    st::read_report(rep, f.fp.requirement, f.run);
    f.v = st::judge(f.fp, f.run);
    return f;
}

st::outcome sample_outcome() {
    st::outcome o;
    o.scope = "section";
    o.level = "should";
    st::run_result clean;
    clean.label = "clean";
    clean.exit_code = 0;
    o.clean.push_back(clean);
    // Killed on its own requirement, with REG-002 failing too.
    o.failpoints.push_back(
        judged("REG-001.no-create",
               report({{"REG-001.create", {"REG-001"}}, {"REG-002.location", {"REG-002"}}}), 1));
    // Survived: only another requirement failed.
    o.failpoints.push_back(judged("HTTP-001.no-404", report({{"REG-001.create", {"REG-001"}}}), 1));
    return o;
}

} // namespace

TEST(SelftestTable, ParsesTheAgentsList) {
    const auto t = st::parse_table(R"([
      {"name": "REG-012.duplicate-names", "requirement": "REG-012", "breaks": "dups", "args": ""},
      {"name": "RATE-003.one-bucket", "requirement": "RATE-003", "breaks": "one",
       "args": "--rate-limit-rps 200"}])");
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].name, "REG-012.duplicate-names");
    EXPECT_EQ(t[0].requirement, "REG-012");
    EXPECT_EQ(t[1].args, "--rate-limit-rps 200");
}

TEST(SelftestTable, RefusesWhatIsNotATableNamingTheProblem) {
    const auto message = [](std::string_view text) {
        try {
            (void)st::parse_table(text);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message("agentd: unknown option --list-failpoints").find("not JSON"),
              std::string::npos);
    EXPECT_NE(message(R"({"name": "A-001.x"})").find("not a JSON array"), std::string::npos);
    EXPECT_NE(message(R"([{"requirement": "A-001"}])").find("\"name\""), std::string::npos);
    EXPECT_NE(message(R"([{"name": "A-001.x", "requirement": "B-002"}])").find("requirement"),
              std::string::npos);
    EXPECT_NE(message(R"([{"name": "A-001.x", "requirement": "A-001"},
                          {"name": "A-001.x", "requirement": "A-001"}])")
                  .find("twice"),
              std::string::npos);
    EXPECT_NE(message(R"([{"name": "A-001.x; rm", "requirement": "A-001"}])").find("space"),
              std::string::npos);
}

TEST(SelftestJudge, KilledOnlyWhenItsOwnRequirementFails) {
    const auto killed = judged("REG-001.no-create", report({{"REG-001.create", {"REG-001"}}}), 1);
    EXPECT_EQ(killed.v, st::verdict::killed);
    EXPECT_EQ(killed.run.failed_checks.at("REG-001"), std::vector<std::string>{"REG-001.create"});
    EXPECT_EQ(killed.run.cause, "REG-001.create broke");

    const auto other = judged("REG-002.no-location", report({{"REG-001.create", {"REG-001"}}}), 1);
    EXPECT_EQ(other.v, st::verdict::survived);

    const auto passed = judged("REG-001.no-create", report({}, {"REG-001"}), 0);
    EXPECT_EQ(passed.v, st::verdict::survived);
    EXPECT_EQ(passed.run.checks, 1); // the skipped check is not counted

    auto broken = judged("REG-001.no-create", report({{"REG-001.create", {"REG-001"}}}), 3);
    EXPECT_EQ(broken.v, st::verdict::error); // agentcheck could not run: not a kill
    broken.run.exit_code = 1;
    broken.run.timed_out = true;
    EXPECT_EQ(st::judge(broken.fp, broken.run), st::verdict::error);
}

TEST(SelftestJudge, PicksTheRootCauseOfItsOwnRequirement) {
    const auto f =
        judged("REG-002.no-location",
               report({{"REG-001.create", {"REG-001"}}, {"REG-002.loc", {"REG-002"}}}), 1);
    EXPECT_EQ(f.run.cause, "REG-002.loc broke");
    st::run_result r;
    EXPECT_THROW(st::read_report(nlohmann::json::array(), "", r), std::invalid_argument);
}

TEST(SelftestOutcome, ScoreStrengthAndUnproven) {
    auto o = sample_outcome();
    EXPECT_TRUE(o.clean_passed());
    EXPECT_EQ(o.killed(), 1u);
    EXPECT_FALSE(o.passed()); // one survived
    const auto s = st::strength(o);
    EXPECT_EQ(s.at("REG-001").size(), 2u); // both runs failed REG-001
    EXPECT_EQ(s.at("REG-002").size(), 1u);
    // MUSTs of the small catalogue: HTTP-001, REG-001, EVT-001 (REG-099 is planned).
    EXPECT_EQ(st::unproven(o, small_catalogue()),
              (std::vector<std::string>{"HTTP-001", "EVT-001"}));

    o.failpoints.pop_back();
    EXPECT_TRUE(o.passed());
    o.clean.front().exit_code = 1;
    EXPECT_FALSE(o.clean_passed());
    EXPECT_FALSE(o.passed());
    o.clean.clear();
    EXPECT_FALSE(o.clean_passed()); // no clean run proves nothing
}

TEST(SelftestDocuments, JsonCarriesTheMatrixAndRoundTripsStrength) {
    const auto o = sample_outcome();
    const auto doc = st::to_json(o, small_catalogue());
    EXPECT_EQ(doc["schema"], "agentcheck-selftest/1");
    EXPECT_EQ(doc["verdict"], "fail");
    EXPECT_EQ(doc["score"]["killed"], 1);
    EXPECT_EQ(doc["score"]["total"], 2);
    EXPECT_EQ(doc["kill_matrix"]["REG-001.no-create"],
              (std::vector<std::string>{"REG-001", "REG-002"}));
    EXPECT_EQ(doc["failpoints"][1]["verdict"], "survived");
    EXPECT_EQ(doc["failpoints"][0]["killing_checks"], std::vector<std::string>{"REG-001.create"});
    EXPECT_EQ(doc["unproven_must"], (std::vector<std::string>{"HTTP-001", "EVT-001"}));
    const auto kills = st::strength_from_json(doc);
    EXPECT_EQ(kills.at("REG-001"), 2);
    EXPECT_EQ(kills.at("HTTP-001"), 0);
    EXPECT_THROW((void)st::strength_from_json(nlohmann::json::object()), std::invalid_argument);
}

TEST(SelftestDocuments, HtmlAndMarkdownNameWhatSurvived) {
    const auto o = sample_outcome();
    const auto html = st::to_html(o, small_catalogue());
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("HTTP-001.no-404"), std::string::npos);
    EXPECT_NE(html.find("1 of 2 failpoints killed (50.0%)"), std::string::npos);
    EXPECT_NE(html.find("Unproven MUST requirements"), std::string::npos);
    const auto md = st::to_markdown(o, small_catalogue());
    EXPECT_NE(md.find("FAIL"), std::string::npos);
    EXPECT_NE(md.find("| `HTTP-001.no-404` | breaks it | survived | REG-001 |"), std::string::npos)
        << md;
    EXPECT_EQ(md.find("REG-001.no-create`"), std::string::npos); // killed ones are not listed
}

TEST(SelftestCoverage, CoverageListsTheUnprovenMusts) {
    agentcheck::check_registry registry;
    std::ostringstream plain;
    agentcheck::write_coverage(small_catalogue(), registry, plain);
    EXPECT_EQ(plain.str().find("proven"), std::string::npos);
    const std::map<std::string, int> kills{{"REG-001", 2}, {"HTTP-001", 0}};
    std::ostringstream with;
    agentcheck::write_coverage(small_catalogue(), registry, with, &kills);
    EXPECT_NE(with.str().find("unproven MUST: 2"), std::string::npos) << with.str();
    EXPECT_NE(with.str().find("unproven 0: HTTP-001"), std::string::npos);
    EXPECT_NE(with.str().find("unproven 4: EVT-001"), std::string::npos);
}
