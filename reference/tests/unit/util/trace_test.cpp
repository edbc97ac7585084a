// W3C Trace Context: which traceparent values continue a trace, and the spans made from them.
#include "reference/util/trace.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using agent::util::new_span;
using agent::util::parse_traceparent;

const std::string trace = "0af7651916cd43dd8448eb211c80319c";
const std::string parent = "b7ad6b7169203331";
const std::string valid = "00-" + trace + "-" + parent + "-01";

TEST(trace, a_valid_traceparent_gives_its_fields) {
    auto p = parse_traceparent(valid);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->trace_id, trace);
    EXPECT_EQ(p->parent_id, parent);
    EXPECT_EQ(p->flags, "01");
}

TEST(trace, a_higher_version_is_read_for_its_first_four_fields) {
    EXPECT_TRUE(parse_traceparent("01-" + trace + "-" + parent + "-00"));
    auto p = parse_traceparent("cc-" + trace + "-" + parent + "-01-what-comes-later");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->trace_id, trace);
    EXPECT_FALSE(parse_traceparent("cc-" + trace + "-" + parent + "-01x"))
        << "after the flags a later version continues with '-'";
}

TEST(trace, every_rule_of_the_format_refuses) {
    const std::string upper_trace = "0AF7651916CD43DD8448EB211C80319C";
    for (const std::string& bad : {
             std::string(),
             "ff-" + trace + "-" + parent + "-01",                        // version ff
             "00-" + std::string(32, '0') + "-" + parent + "-01",         // all-zero trace id
             "00-" + trace + "-" + std::string(16, '0') + "-01",          // all-zero parent id
             "00-" + upper_trace + "-" + parent + "-01",                  // upper-case
             "0A-" + trace + "-" + parent + "-01",                        // upper-case version
             "00-" + trace + "-" + parent + "-0g",                        // non-hex flags
             "00-" + trace.substr(1) + "z-" + parent + "-01",             // non-hex trace id
             "00-" + trace.substr(2) + "-" + parent + "-01",              // short trace id
             "00-" + trace + "-" + parent.substr(1) + "-01",              // short parent id
             "00-" + trace + "-" + parent + "-1",                         // short flags
             "00-" + trace + "-" + parent + "-01-extra",                  // 00 has nothing after
             "00-" + trace + "-" + parent + "-01 ",                       // trailing space
             " 00-" + trace + "-" + parent + "-01",                       // leading space
             "00_" + trace + "_" + parent + "_01",                        // wrong separators
         })
        EXPECT_FALSE(parse_traceparent(bad)) << bad;
}

TEST(trace, a_span_continues_a_valid_trace_with_a_new_id) {
    auto s = new_span(valid);
    EXPECT_TRUE(s.continued);
    EXPECT_EQ(s.trace_id, trace);
    EXPECT_EQ(s.flags, "01");
    EXPECT_EQ(s.span_id.size(), 16U);
    EXPECT_NE(s.span_id, parent);
    EXPECT_EQ(s.header(), "00-" + trace + "-" + s.span_id + "-01");
    EXPECT_TRUE(parse_traceparent(s.header())) << "what it sends on is valid itself";
}

TEST(trace, an_absent_or_invalid_parent_starts_a_fresh_trace_each_time) {
    std::set<std::string> traces;
    for (int i = 0; i < 50; ++i) {
        auto a = new_span(std::nullopt);
        auto b = new_span("00-" + std::string(32, '0') + "-" + parent + "-01");
        for (const auto& s : {a, b}) {
            EXPECT_FALSE(s.continued);
            EXPECT_EQ(s.flags, "00");
            EXPECT_TRUE(parse_traceparent(s.header())) << s.header();
            traces.insert(s.trace_id);
        }
    }
    EXPECT_EQ(traces.size(), 100U) << "every fresh trace id is new";
}

} // namespace
