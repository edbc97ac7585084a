#include "conformance/harness/text.hpp"

#include <gtest/gtest.h>

namespace agentcheck::text {
namespace {

TEST(text, escapes) {
    EXPECT_EQ(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    EXPECT_EQ(xml_escape(std::string("x\x01y\tz\n", 6)), "x\xEF\xBF\xBDy\tz\n");
    EXPECT_EQ(html_escape("<script>alert('x')</script>&"),
              "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;");
    EXPECT_EQ(html_escape(std::string("a\x01\x7f\tb", 5)), "a\xEF\xBF\xBD\xEF\xBF\xBD\tb");
    EXPECT_EQ(md_cell("a|b\nc\r<d"), "a\\|b<br>c&lt;d");
}

TEST(text, invalid_utf8_is_replaced_valid_is_kept) {
    EXPECT_EQ(valid_utf8("h\xC3\xA9llo"), "h\xC3\xA9llo");
    EXPECT_EQ(valid_utf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
    EXPECT_EQ(valid_utf8("\xE2\x82\xAC"), "\xE2\x82\xAC");
    EXPECT_EQ(valid_utf8("a\xFF"), "a\xEF\xBF\xBD");
    EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                 // overlong
    EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // surrogate
    EXPECT_EQ(valid_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");                 // truncated
}

TEST(text, truncate_keeps_utf8_whole) {
    EXPECT_EQ(truncate("short", 10), "short");
    EXPECT_EQ(truncate("abcdef", 3), "abc…[3 more bytes]");
    EXPECT_EQ(truncate("a\xC3\xA9z", 2), "a…[3 more bytes]");
}

TEST(text, times_and_hash) {
    const auto t =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(1795878600123LL));
    EXPECT_EQ(rfc3339(t), "2026-11-28T15:10:00.123Z");
    EXPECT_EQ(utc_date(t), "2026-11-28");
    EXPECT_EQ(seconds(std::chrono::microseconds(1234567)), "1.234");
    EXPECT_EQ(lower("AbC"), "abc");
    EXPECT_EQ(fnv1a(""), 14695981039346656037ULL);
    EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cULL);
    EXPECT_NE(fnv1a("REG-001.a"), fnv1a("REG-001.b"));
}

} // namespace
} // namespace agentcheck::text
