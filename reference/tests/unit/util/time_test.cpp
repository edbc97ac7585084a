#include "reference/util/time.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono;
using agent::util::format_http_date;
using agent::util::format_rfc3339_ms;
using agent::util::parse_rfc3339;

system_clock::time_point at(seconds s, nanoseconds frac = nanoseconds{0}) {
    return system_clock::time_point{duration_cast<system_clock::duration>(s + frac)};
}

TEST(time_format, epoch) {
    EXPECT_EQ(format_rfc3339_ms(at(seconds{0})), "1970-01-01T00:00:00.000Z");
}

TEST(time_format, always_three_fraction_digits_utc) {
    EXPECT_EQ(format_rfc3339_ms(at(seconds{1700000000}, milliseconds{123})),
              "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(format_rfc3339_ms(at(seconds{1700000000}, milliseconds{5})),
              "2023-11-14T22:13:20.005Z");
}

TEST(time_format, truncates_below_milliseconds) {
    EXPECT_EQ(format_rfc3339_ms(at(seconds{1700000000}, nanoseconds{123999999})),
              "2023-11-14T22:13:20.123Z");
}

TEST(time_format, before_epoch_floors) {
    EXPECT_EQ(format_rfc3339_ms(at(seconds{0}, -milliseconds{1})), "1969-12-31T23:59:59.999Z");
}

TEST(time_parse, rfc3339_section_5_8_examples) {
    EXPECT_EQ(parse_rfc3339("1985-04-12T23:20:50.52Z"), at(seconds{482196050}, milliseconds{520}));
    EXPECT_EQ(parse_rfc3339("1996-12-19T16:39:57-08:00"), at(seconds{851042397}));
    EXPECT_EQ(parse_rfc3339("1937-01-01T12:00:27.87+00:20"),
              at(seconds{-1041337173}, milliseconds{870}));
}

TEST(time_parse, lowercase_t_and_z) {
    EXPECT_EQ(parse_rfc3339("1985-04-12t23:20:50z"), at(seconds{482196050}));
}

TEST(time_parse, any_fraction_length) {
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.1Z"), at(seconds{0}, milliseconds{100}));
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.123456789Z"),
              at(seconds{0}, nanoseconds{123456789}));
    // Digits beyond nanoseconds are truncated, not rejected.
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.1234567891234Z"),
              at(seconds{0}, nanoseconds{123456789}));
}

TEST(time_parse, round_trips_format) {
    const auto t = at(seconds{1790000000}, milliseconds{42});
    EXPECT_EQ(parse_rfc3339(format_rfc3339_ms(t)), t);
}

TEST(time_parse, leap_years) {
    EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));
    EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2100-02-29T00:00:00Z"));
}

TEST(time_parse, rejects_invalid_dates_and_times) {
    for (const char* bad : {"2023-02-30T00:00:00Z", "2023-04-31T00:00:00Z", "2023-13-01T00:00:00Z",
                            "2023-00-10T00:00:00Z", "2023-01-00T00:00:00Z", "2023-01-32T00:00:00Z",
                            "2023-01-01T24:00:00Z", "2023-01-01T23:60:00Z", "2023-01-01T23:59:60Z",
                            "2023-01-01T23:59:61Z"})
        EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(time_parse, rejects_bad_syntax) {
    for (const char* bad : {"",
                            "2023-01-01",
                            "2023-01-01T00:00:00",
                            "2023-01-01 00:00:00Z",
                            "2023-1-01T00:00:00Z",
                            "23-01-01T00:00:00Z",
                            "2023-01-01T00:00Z",
                            "2023-01-01T00:00:00.Z",
                            "2023-01-01T00:00:00,5Z",
                            "2023-01-01T00:00:00Zjunk",
                            "2023-01-01T00:00:00+0100",
                            "2023-01-01T00:00:00+01",
                            "2023-01-01T00:00:00+24:00",
                            "2023-01-01T00:00:00+05:60",
                            "2023-01-01T00:00:00 Z",
                            "+2023-01-01T00:00:00Z",
                            "2023/01/01T00:00:00Z",
                            "2023-01-01T00:00:0aZ",
                            "2023-01-01X00:00:00Z",
                            "2023-01-01T00-00-00Z"})
        EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(time_parse, rejects_instants_outside_system_clock_range) {
    EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:59Z"));
    EXPECT_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));
}

TEST(time_http_date, rfc9110_example) {
    EXPECT_EQ(format_http_date(at(seconds{784111777}, milliseconds{999})),
              "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(time_http_date, other_days) {
    EXPECT_EQ(format_http_date(at(seconds{0})), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(format_http_date(at(seconds{1700000000})), "Tue, 14 Nov 2023 22:13:20 GMT");
}

} // namespace
