// The load engine's histogram: HdrHistogram's layout and semantics, property-tested against
// exact percentiles of the same values.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "conformance/load/histogram.hpp"

namespace agentcheck::load {
namespace {

/// The nearest-rank percentile of sorted values: the smallest value with at least
/// ceil(p% of n) values at or below it.
std::int64_t exact_percentile(const std::vector<std::int64_t>& sorted, double p) {
    auto rank =
        static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()) - 1e-9));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

TEST(histogram, values_below_2048_are_exact_with_three_digits) {
    histogram h(1, 3'600'000'000, 3);
    for (std::int64_t v = 0; v < 2048; ++v) {
        EXPECT_EQ(h.lowest_equivalent(v), v);
        EXPECT_EQ(h.highest_equivalent(v), v);
    }
    // Above, buckets double in width: 2048..2049 share one, 4096..4099 share one.
    EXPECT_EQ(h.lowest_equivalent(2049), 2048);
    EXPECT_EQ(h.highest_equivalent(2048), 2049);
    EXPECT_EQ(h.lowest_equivalent(4099), 4096);
    EXPECT_EQ(h.highest_equivalent(4096), 4099);
}

TEST(histogram, percentiles_of_a_known_set) {
    histogram h;
    for (std::int64_t v = 1; v <= 1000; ++v)
        h.record(v);
    EXPECT_EQ(h.count(), 1000U);
    EXPECT_EQ(h.value_at_percentile(50), 500);
    EXPECT_EQ(h.value_at_percentile(99), 990);
    EXPECT_EQ(h.value_at_percentile(99.9), 999);
    EXPECT_EQ(h.value_at_percentile(100), 1000);
    EXPECT_EQ(h.value_at_percentile(0), 1);
    EXPECT_EQ(h.min(), 1);
    EXPECT_EQ(h.max(), 1000);
    EXPECT_NEAR(h.mean(), 500.5, 0.01);
}

TEST(histogram, out_of_range_values_are_clamped_and_counted) {
    histogram h(1, 1000, 3);
    h.record(-5);
    h.record(5000);
    EXPECT_EQ(h.count(), 2U);
    EXPECT_EQ(h.clamped(), 2U);
    EXPECT_EQ(h.max(), 1000);
}

TEST(histogram, refuses_bad_layouts_and_merges_only_equal_ones) {
    EXPECT_THROW(histogram(0, 100, 3), std::invalid_argument);
    EXPECT_THROW(histogram(10, 15, 3), std::invalid_argument);
    EXPECT_THROW(histogram(1, 100, 6), std::invalid_argument);
    histogram a(1, 1000, 3);
    histogram b(1, 2000, 3);
    EXPECT_THROW(a.merge(b), std::invalid_argument);
}

TEST(histogram, json_refuses_what_is_not_a_histogram) {
    std::string why;
    EXPECT_FALSE(histogram::from_json(nlohmann::json::array(), &why));
    EXPECT_FALSE(histogram::from_json({{"lowest", 1}, {"highest", 1000}, {"digits", 3}}, &why));
    EXPECT_NE(why.find("counts"), std::string::npos);
    EXPECT_FALSE(histogram::from_json(
        {{"lowest", 1}, {"highest", 1000}, {"digits", 3}, {"counts", {{999999, 1}}}}, &why));
    EXPECT_NE(why.find("out of range"), std::string::npos);
    EXPECT_FALSE(histogram::from_json(
        {{"lowest", 1}, {"highest", 1000}, {"digits", 3}, {"count", 5}, {"counts", {{3, 1}}}},
        &why));
}

TEST(histogram, distribution_climbs_to_the_maximum) {
    histogram h;
    for (std::int64_t v = 1; v <= 10000; ++v)
        h.record(v);
    const auto rows = h.distribution(5);
    ASSERT_GT(rows.size(), 10U);
    EXPECT_EQ(rows.front().percentile, 0);
    EXPECT_EQ(rows.back().percentile, 100);
    EXPECT_EQ(rows.back().value, 10000);
    for (std::size_t i = 1; i < rows.size(); ++i) {
        EXPECT_GT(rows[i].percentile, rows[i - 1].percentile);
        EXPECT_GE(rows[i].value, rows[i - 1].value);
    }
}

rc::Gen<std::vector<std::int64_t>> latencies() {
    // Mostly small values with a long tail, like latencies in microseconds.
    return rc::gen::nonEmpty(
        rc::gen::container<std::vector<std::int64_t>>(rc::gen::weightedOneOf<std::int64_t>(
            {{6, rc::gen::inRange<std::int64_t>(0, 5000)},
             {3, rc::gen::inRange<std::int64_t>(5000, 2'000'000)},
             {1, rc::gen::inRange<std::int64_t>(0, 3'600'000'000)}})));
}

RC_GTEST_PROP(histogram, percentiles_agree_with_the_exact_ones_to_three_digits, ()) {
    auto values = *latencies();
    const double p = *rc::gen::element(0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0);
    histogram h;
    for (auto v : values)
        h.record(v);
    std::sort(values.begin(), values.end());
    const auto exact = exact_percentile(values, p);
    const auto got = h.value_at_percentile(p);
    // Stored in the same bucket as the exact value: within 1 part in 1000 of it.
    RC_ASSERT(h.equivalent(got, exact));
    RC_ASSERT(std::abs(static_cast<double>(got - exact)) <= std::max(1.0, exact / 1000.0));
    RC_ASSERT(h.count() == values.size());
    RC_ASSERT(h.min() == values.front());
    RC_ASSERT(h.max() == values.back());
}

RC_GTEST_PROP(histogram, merging_two_equals_recording_both, ()) {
    const auto a = *latencies();
    const auto b = *latencies();
    histogram ha, hb, both;
    for (auto v : a) {
        ha.record(v);
        both.record(v);
    }
    for (auto v : b) {
        hb.record(v);
        both.record(v);
    }
    ha.merge(hb);
    RC_ASSERT(ha.to_json() == both.to_json());
}

RC_GTEST_PROP(histogram, json_round_trips_exactly, ()) {
    histogram h;
    for (auto v : *latencies())
        h.record(v);
    auto back = histogram::from_json(nlohmann::json::parse(h.to_json().dump()));
    RC_ASSERT(back.has_value());
    RC_ASSERT(back->to_json() == h.to_json());
    for (double p : {50.0, 99.0, 99.9})
        RC_ASSERT(back->value_at_percentile(p) == h.value_at_percentile(p));
}

} // namespace
} // namespace agentcheck::load
