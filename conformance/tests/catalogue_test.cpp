#include "conformance/harness/catalogue.hpp"

#include <gtest/gtest.h>

#include <set>

#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck {
namespace {

std::string catalogue_with(std::string_view requirement_json) {
    return std::string(
               R"({"version": 1, "protocol": "agent-service/1", "sections": [{"id": "2", "title": "R"}],
                         "requirements": [)") +
           std::string(requirement_json) + "]}";
}

std::string error_of(const std::string& text) {
    try {
        parse_catalogue(text);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(catalogue, parses_the_small_catalogue) {
    const auto& cat = testing::small_catalogue();
    EXPECT_EQ(cat.protocol, "agent-service/1");
    ASSERT_EQ(cat.sections.size(), 3U);
    ASSERT_EQ(cat.requirements.size(), 6U);
    const auto* r = cat.find("REG-002");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->lvl, level::should);
    EXPECT_EQ(r->section, "2");
    EXPECT_EQ(cat.find("EVT-001")->feature, "events");
    EXPECT_TRUE(cat.is_planned("REG-099"));
    EXPECT_FALSE(cat.is_planned("REG-001"));
    EXPECT_EQ(cat.find("NOPE-1"), nullptr);
    EXPECT_EQ(cat.find_section("4")->title, "Events");
    EXPECT_EQ(cat.find_section("9"), nullptr);
}

TEST(catalogue, rejects_invalid_documents_naming_the_entry) {
    const std::string ok =
        R"({"id": "REG-001", "section": "2", "title": "t", "level": "MUST", "text": "x"})";
    EXPECT_EQ(error_of(catalogue_with(ok)), "");
    EXPECT_NE(error_of(catalogue_with(ok + "," + ok)).find("duplicate requirement REG-001"),
              std::string::npos);
    EXPECT_NE(
        error_of(
            catalogue_with(
                R"({"id": "REG-001", "section": "7", "title": "t", "level": "MUST", "text": "x"})"))
            .find("unknown section \"7\""),
        std::string::npos);
    EXPECT_NE(
        error_of(
            catalogue_with(
                R"({"id": "REG-001", "section": "2", "title": "t", "level": "OUGHT", "text": "x"})"))
            .find("REG-001: \"level\""),
        std::string::npos);
    EXPECT_NE(
        error_of(
            catalogue_with(
                R"({"id": "reg1", "section": "2", "title": "t", "level": "MUST", "text": "x"})"))
            .find("the id must look like"),
        std::string::npos);
    EXPECT_NE(error_of(catalogue_with(
                           R"({"id": "REG-001", "section": "2", "level": "MUST", "text": "x"})"))
                  .find("\"title\" is missing"),
              std::string::npos);
    EXPECT_NE(
        error_of(
            catalogue_with(
                R"({"id": "REG-001", "section": "2", "title": 3, "level": "MUST", "text": "x"})"))
            .find("must be a string"),
        std::string::npos);
    EXPECT_NE(
        error_of(
            catalogue_with(
                R"({"id": "REG-001", "section": "2", "title": "t", "level": "MUST", "text": "x", "planned": "yes"})"))
            .find("\"planned\" must be a boolean"),
        std::string::npos);
    EXPECT_NE(error_of(catalogue_with("3")).find("must be an object"), std::string::npos);
    EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
    EXPECT_NE(error_of("[]").find("must be an object"), std::string::npos);
    EXPECT_NE(error_of(R"({"version": 2})").find("\"version\" must be 1"), std::string::npos);
    EXPECT_NE(error_of(R"({"version": 1, "protocol": "p"})").find("\"sections\""),
              std::string::npos);
    EXPECT_NE(error_of(R"({"version": 1, "protocol": "p", "sections": [1]})")
                  .find("section must be an object"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"version": 1, "protocol": "p", "sections": [{"id": "", "title": "t"}]})")
                  .find("empty id"),
              std::string::npos);
    EXPECT_NE(
        error_of(
            R"({"version": 1, "protocol": "p", "sections": [{"id": "1", "title": "t"}, {"id": "1", "title": "u"}]})")
            .find("duplicate section 1"),
        std::string::npos);
    EXPECT_NE(
        error_of(R"({"version": 1, "protocol": "p", "sections": []})").find("\"requirements\""),
        std::string::npos);
}

TEST(catalogue, cross_check_reports_unknown_ids_and_uncovered_musts) {
    const auto& cat = testing::small_catalogue();
    check_registry reg;
    const auto noop = [](context&) {};
    reg.add({"HTTP-001.a", {"HTTP-001"}, layer::unit, "a", noop});
    reg.add({"REG-001.a", {"REG-001", "BOGUS-001"}, layer::unit, "b", noop});
    const auto problems = cross_check(cat, reg);
    // EVT-001 is an uncovered MUST; REG-099 is planned (fine); BOGUS-001 is unknown.
    ASSERT_EQ(problems.size(), 2U);
    EXPECT_NE(problems[0].find("BOGUS-001"), std::string::npos);
    EXPECT_NE(problems[1].find("EVT-001"), std::string::npos);
    reg.add({"EVT-001.a", {"EVT-001"}, layer::unit, "c", noop});
    EXPECT_EQ(cross_check(cat, reg).size(), 1U);
}

// The real catalogue against the real checks: IDs unique (parse_catalogue refuses
// duplicates), every check names known requirements, every non-planned MUST has a check.
TEST(catalogue, builtin_catalogue_agrees_with_the_registered_checks) {
    const auto& cat = builtin_catalogue();
    EXPECT_EQ(cat.protocol, "agent-service/1");
    check_registry reg;
    register_all_suites(reg);
    ASSERT_FALSE(reg.all().empty()) << "register_all_suites registered no check";
    std::set<std::string> ids;
    for (const auto& c : reg.all())
        EXPECT_TRUE(ids.insert(c.id).second) << "duplicate check " << c.id;
    for (const auto& p : cross_check(cat, reg))
        ADD_FAILURE() << p;
}

TEST(check_registry, refuses_duplicates_and_checks_without_requirements) {
    check_registry reg;
    const auto noop = [](context&) {};
    reg.add({"A.1", {"REG-001"}, layer::unit, "a", noop});
    EXPECT_THROW(reg.add({"A.1", {"REG-001"}, layer::unit, "again", noop}), std::logic_error);
    EXPECT_THROW(reg.add({"A.2", {}, layer::unit, "none", noop}), std::logic_error);
    EXPECT_THROW(reg.add({"", {"REG-001"}, layer::unit, "no id", noop}), std::logic_error);
    EXPECT_THROW(reg.add({"A.3", {"REG-001"}, layer::unit, "no body", {}}), std::logic_error);
    EXPECT_EQ(reg.all().size(), 1U);
}

TEST(enums, names_round_trip) {
    for (const auto l : {level::must, level::should, level::may}) {
        EXPECT_EQ(parse_level(to_string(l)), l);
    }
    EXPECT_EQ(parse_level("Should"), level::should);
    EXPECT_FALSE(parse_level("often"));
    for (const auto l : {layer::unit, layer::integration, layer::e2e, layer::property,
                         layer::robustness, layer::lifecycle}) {
        EXPECT_EQ(parse_layer(to_string(l)), l);
    }
    EXPECT_FALSE(parse_layer("system"));
    EXPECT_STREQ(to_string(verdict::pass), "pass");
    EXPECT_STREQ(to_string(verdict::fail), "fail");
    EXPECT_STREQ(to_string(verdict::error), "error");
    EXPECT_STREQ(to_string(verdict::skip), "skip");
    EXPECT_STREQ(to_string(verdict::flaky), "flaky");
}

} // namespace
} // namespace agentcheck

namespace agentcheck {
namespace {

TEST(problem_type, is_a_uri_reference) {
    for (const char* ok :
         {"about:blank", "https://example.com/problems/not-found", "/problems/conflict",
          "urn:agent:problem:x", "tag:x.org,2026:y", "https://x.test/a%20b"})
        EXPECT_TRUE(is_uri_reference(ok)) << ok;
    for (const char* bad : {"", "not a uri", "https://x.test/a%2", "https://x.test/a%zz",
                            "1http://x", "ht^tp://x", "a\"b", "line\nbreak"})
        EXPECT_FALSE(is_uri_reference(bad)) << bad;
}

} // namespace
} // namespace agentcheck
