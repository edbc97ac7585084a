#include "conformance/harness/known_failures.hpp"

#include <gtest/gtest.h>

#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck {
namespace {

std::string error_of(std::string_view text) {
    try {
        parse_known_failures(text, testing::small_catalogue());
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(known_failures, parses_entries) {
    const auto list = parse_known_failures(
        R"([{"id": "REG-001", "reason": "bug 7", "expires": "2027-01-31"}, {"id": "HTTP-001", "reason": "r"}])",
        testing::small_catalogue());
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[0].id, "REG-001");
    EXPECT_EQ(list[0].reason, "bug 7");
    EXPECT_EQ(list[0].expires, "2027-01-31");
    EXPECT_EQ(list[1].expires, "");
    EXPECT_TRUE(parse_known_failures("[]", testing::small_catalogue()).empty());
}

TEST(known_failures, rejects_bad_entries) {
    EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
    EXPECT_NE(error_of("{}").find("must be an array"), std::string::npos);
    EXPECT_NE(error_of(R"([{"reason": "r"}])").find("\"id\""), std::string::npos);
    EXPECT_NE(
        error_of(R"([{"id": "XYZ-001", "reason": "r"}])").find("XYZ-001: unknown requirement"),
        std::string::npos);
    EXPECT_NE(error_of(R"([{"id": "REG-001"}])").find("REG-001: needs a non-empty \"reason\""),
              std::string::npos);
    EXPECT_NE(error_of(R"([{"id": "REG-001", "reason": "r"}, {"id": "REG-001", "reason": "s"}])")
                  .find("listed twice"),
              std::string::npos);
    for (const char* bad :
         {"2027-13-01", "2027-00-10", "2027-01-32", "27-01-01", "2027/01/01", "2027-0a-01"}) {
        EXPECT_NE(error_of(std::string(R"([{"id": "REG-001", "reason": "r", "expires": ")") + bad +
                           "\"}]")
                      .find("YYYY-MM-DD"),
                  std::string::npos)
            << bad;
    }
    EXPECT_NE(
        error_of(R"([{"id": "REG-001", "reason": "r", "expires": 20270101}])").find("YYYY-MM-DD"),
        std::string::npos);
}

TEST(known_failures, expiry_is_inclusive_of_the_date) {
    const known_failure k{"REG-001", "r", "2026-03-15"};
    EXPECT_FALSE(is_expired(k, "2026-03-14"));
    EXPECT_FALSE(is_expired(k, "2026-03-15"));
    EXPECT_TRUE(is_expired(k, "2026-03-16"));
    EXPECT_FALSE(is_expired({"REG-001", "r", ""}, "2999-01-01"));
}

} // namespace
} // namespace agentcheck
