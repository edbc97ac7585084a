// agentcheck's reader of the Prometheus text format: what it accepts, and each thing it refuses.
#include "conformance/client/prometheus.hpp"

#include <gtest/gtest.h>

namespace agentcheck::prometheus_text {
namespace {

const std::string good = R"(# HELP http_seconds Time to answer.
# TYPE http_seconds histogram
http_seconds_bucket{route="/a",le="0.1"} 1
http_seconds_bucket{route="/a",le="1"} 3
http_seconds_bucket{route="/a",le="+Inf"} 4
http_seconds_sum{route="/a"} 2.5
http_seconds_count{route="/a"} 4
# HELP errors_total Errors.
# TYPE errors_total counter
errors_total{type="not-found",note="a \"quoted\\ value\nline"} 7 1700000000000
# TYPE up gauge
up 1
untyped_thing NaN
)";

std::string first_problem(const std::string& text) {
    auto e = parse(text);
    return e.problems.empty() ? std::string() : e.problems.front();
}

TEST(PrometheusText, ReadsFamiliesTypesLabelsAndValues) {
    auto e = parse(good);
    ASSERT_TRUE(e.valid()) << e.problems.front();
    ASSERT_EQ(e.families.count("http_seconds"), 1U);
    EXPECT_EQ(e.families.at("http_seconds").type, "histogram");
    EXPECT_EQ(e.families.at("http_seconds").samples.size(), 5U);
    EXPECT_EQ(e.families.at("http_seconds").help, "Time to answer.");
    const auto& err = e.families.at("errors_total").samples.at(0);
    EXPECT_EQ(err.labels.at("note"), "a \"quoted\\ value\nline");
    EXPECT_EQ(err.value, 7);
    EXPECT_EQ(e.find("http_seconds_bucket"), &e.families.at("http_seconds"));
    EXPECT_EQ(e.families.at("untyped_thing").type, "untyped");
}

TEST(PrometheusText, RefusesEachKindOfMistake) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"1bad 1\n", "bad metric name"},
        {"m{1x=\"a\"} 1\n", "bad label name"},
        {"m{__x=\"a\"} 1\n", "reserved label name"},
        {"m{a=\"b\\t\"} 1\n", "bad escape"},
        {"m{a=\"b} 1\n", "unterminated value"},
        {"m{a=\"1\",a=\"2\"} 1\n", "given twice"},
        {"m one\n", "bad value"},
        {"m 0x10\n", "bad value"},
        {"m 1 soon\n", "bad timestamp"},
        {"m 1", "does not end with a line feed"},
        {"m 1\r\n", "carriage return"},
        {"# TYPE m counter\n# TYPE m counter\nm 1\n", "a second TYPE"},
        {"# TYPE m widget\nm 1\n", "unknown TYPE"},
        {"m 1\n# TYPE m counter\n", "comes after its samples"},
        {"# TYPE m counter\nm -1\n", "counter m is"},
        {"# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n", "not together"},
        {"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
         "counts fewer than the one below"},
        {"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "no le=\"+Inf\""},
        {"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "is not _count"},
        {"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", "no _sum"},
        {"# TYPE h histogram\nh_bucket 2\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
         "has no le label"},
    };
    for (const auto& [text, why] : cases) {
        const auto p = first_problem(text);
        EXPECT_NE(p.find(why), std::string::npos) << "input:\n" << text << "problem: " << p;
    }
}

TEST(PrometheusText, SeriesKeysTellLabelSetsApart) {
    auto e = parse("m{a=\"1\"} 1\nm{a=\"2\"} 1\n");
    ASSERT_TRUE(e.valid());
    const auto& s = e.families.at("m").samples;
    EXPECT_NE(series_key(s[0]), series_key(s[1]));
    EXPECT_EQ(series_key(s[0]), "m{a=\"1\",}");
}

} // namespace
} // namespace agentcheck::prometheus_text
