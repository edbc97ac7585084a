#include "conformance/harness/selection.hpp"

#include <gtest/gtest.h>

#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck {
namespace {

const auto noop = [](context&) {};

check make(std::string id, std::vector<std::string> reqs, layer l = layer::unit) {
    return {std::move(id), std::move(reqs), l, "t", noop};
}

TEST(glob, matches_star_question_and_case) {
    EXPECT_TRUE(glob_match("REG-*", "REG-012"));
    EXPECT_TRUE(glob_match("reg-01?", "REG-012"));
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_TRUE(glob_match("*.dup*", "REG-012.duplicate-name"));
    EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
    EXPECT_TRUE(glob_match("a*b", "abab"));
    EXPECT_FALSE(glob_match("REG-01?", "REG-0123"));
    EXPECT_FALSE(glob_match("REG", "REG-012"));
    EXPECT_FALSE(glob_match("a*c", "abd"));
    EXPECT_FALSE(glob_match("?", ""));
}

TEST(selection, level_is_this_level_and_stricter) {
    const auto& cat = testing::small_catalogue();
    check_registry reg;
    reg.add(make("must", {"REG-001"}));
    reg.add(make("should", {"REG-002"}));
    reg.add(make("may", {"REG-003"}));
    reg.add(make("mixed", {"REG-003", "REG-001"}));
    reg.add(make("unknown", {"NOPE-001"}));
    selection sel;
    const auto ids = [&] {
        std::vector<std::string> out;
        for (const auto* c : select_checks(reg, cat, sel))
            out.push_back(c->id);
        return out;
    };
    EXPECT_EQ(ids(), (std::vector<std::string>{"must", "mixed"}));
    sel.lvl = level::should;
    EXPECT_EQ(ids(), (std::vector<std::string>{"must", "should", "mixed"}));
    sel.lvl = level::may;
    EXPECT_EQ(ids(), (std::vector<std::string>{"must", "should", "may", "mixed"}));
    EXPECT_EQ(check_level(reg.all()[3], cat), level::must);
    EXPECT_EQ(check_level(reg.all()[2], cat), level::may);
    EXPECT_EQ(check_level(reg.all()[4], cat), level::may);
    EXPECT_TRUE(within_level(level::must, level::should));
    EXPECT_FALSE(within_level(level::may, level::should));
}

TEST(selection, patterns_match_check_requirement_and_section) {
    const auto& cat = testing::small_catalogue();
    const auto c = make("REG-001.create", {"REG-001", "HTTP-001"});
    EXPECT_TRUE(pattern_matches("REG-001.create", c, cat));
    EXPECT_TRUE(pattern_matches("*.create", c, cat));
    EXPECT_TRUE(pattern_matches("HTTP-001", c, cat));
    EXPECT_TRUE(pattern_matches("http-*", c, cat));
    EXPECT_TRUE(pattern_matches("2", c, cat));
    EXPECT_TRUE(pattern_matches("s0", c, cat));
    EXPECT_TRUE(pattern_matches("section:2", c, cat));
    EXPECT_TRUE(pattern_matches("Section:0", c, cat));
    EXPECT_FALSE(pattern_matches("4", c, cat));
    EXPECT_FALSE(pattern_matches("s4", c, cat));
    EXPECT_FALSE(pattern_matches("sx", c, cat));
    EXPECT_FALSE(pattern_matches("section:", c, cat));
    EXPECT_FALSE(pattern_matches("EVT-*", c, cat));
    EXPECT_EQ(check_sections(c, cat), (std::vector<std::string>{"2", "0"}));
}

TEST(selection, only_exclude_and_layers_combine) {
    const auto& cat = testing::small_catalogue();
    const auto a = make("REG-001.a", {"REG-001"}, layer::unit);
    const auto b = make("HTTP-001.b", {"HTTP-001"}, layer::robustness);
    selection sel;
    EXPECT_TRUE(is_selected(a, cat, sel));
    EXPECT_FALSE(is_selected(b, cat, sel)); // robustness runs only when named
    sel.only = {"s2"};
    EXPECT_TRUE(is_selected(a, cat, sel));
    EXPECT_FALSE(is_selected(b, cat, sel));
    sel.only = {"s2", "HTTP-*"};
    EXPECT_TRUE(is_selected(b, cat, sel));
    sel.exclude = {"*.b"};
    EXPECT_FALSE(is_selected(b, cat, sel));
    sel.exclude.clear();
    sel.layers = {layer::robustness};
    EXPECT_FALSE(is_selected(a, cat, sel));
    EXPECT_TRUE(is_selected(b, cat, sel));
}

} // namespace
} // namespace agentcheck
