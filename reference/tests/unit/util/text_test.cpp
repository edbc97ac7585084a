#include "reference/util/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace agent::util;

TEST(iequals, ascii_case_insensitive) {
    EXPECT_TRUE(iequals("Bearer", "bEARER"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("Bearer", "Bearer "));
    EXPECT_FALSE(iequals("Bearer", "Bearex"));
    EXPECT_FALSE(iequals("[", "{"));               // 0x5B vs 0x7B differ only in the case bit
    EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89")); // non-ASCII is compared exactly
}

TEST(utf8_length, counts_code_points) {
    EXPECT_EQ(utf8_length(""), 0U);
    EXPECT_EQ(utf8_length("hello"), 5U);
    EXPECT_EQ(utf8_length("h\xc3\xa9llo"), 5U);      // é
    EXPECT_EQ(utf8_length("\xe2\x82\xac"), 1U);      // €
    EXPECT_EQ(utf8_length("\xf0\x9f\x98\x80!"), 2U); // 😀!
}

TEST(is_valid_utf8, accepts_valid_text) {
    for (const std::string& ok :
         {std::string(), std::string("plain ascii"), std::string("\0", 1), std::string("\xc2\x80"),
          std::string("\xc3\xa9"), std::string("\xdf\xbf"), std::string("\xe0\xa0\x80"),
          std::string("\xe2\x82\xac"), std::string("\xed\x9f\xbf"), std::string("\xee\x80\x80"),
          std::string("\xef\xbf\xbf"), std::string("\xf0\x90\x80\x80"),
          std::string("\xf0\x9f\x98\x80"), std::string("\xf4\x8f\xbf\xbf")})
        EXPECT_TRUE(is_valid_utf8(ok)) << ok;
}

// Cases from Markus Kuhn's UTF-8 decoder stress test (sections 3-5).
TEST(is_valid_utf8, rejects_overlongs) {
    for (const char* bad :
         {"\xc0\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x80\xaf", "\xe0\x9f\xbf",
          "\xf0\x80\x80\x80", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf"})
        EXPECT_FALSE(is_valid_utf8(bad)) << bad;
}

TEST(is_valid_utf8, rejects_surrogates) {
    for (const char* bad : {"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xb0\x80", "\xed\xbf\xbf",
                            "\xed\xa0\x80\xed\xb0\x80"})
        EXPECT_FALSE(is_valid_utf8(bad)) << bad;
}

TEST(is_valid_utf8, rejects_above_u10ffff) {
    for (const char* bad : {"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf",
                            "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfe", "\xff"})
        EXPECT_FALSE(is_valid_utf8(bad)) << bad;
}

TEST(is_valid_utf8, rejects_truncated_and_stray_bytes) {
    for (const char* bad :
         {"\x80", "\xbf", "a\x80z", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc3x", "\xe2x\xac",
          "\xe2\x82x", "\xf0\x9f\x98x", "\xf0\x9fx\x80", "ok\xe2\x82"})
        EXPECT_FALSE(is_valid_utf8(bad)) << bad;
}

TEST(trim, spaces_and_tabs_only) {
    EXPECT_EQ(trim("  \tvalue\t "), "value");
    EXPECT_EQ(trim("a b"), "a b");
    EXPECT_EQ(trim(" \t "), "");
    EXPECT_EQ(trim(""), "");
    EXPECT_EQ(trim("\nx\n"), "\nx\n");
}

TEST(parse_int, whole_decimal_numbers) {
    EXPECT_EQ(parse_int("0"), 0);
    EXPECT_EQ(parse_int("123"), 123);
    EXPECT_EQ(parse_int("007"), 7);
    EXPECT_EQ(parse_int("9223372036854775807"), 9223372036854775807LL);
}

TEST(parse_int, rejects_everything_else) {
    for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0", "1e3",
                            "9223372036854775808", "99999999999999999999"})
        EXPECT_FALSE(parse_int(bad)) << bad;
}

TEST(sha256_hex, fips_180_vectors) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(url_decode, decodes_escapes_and_plus) {
    EXPECT_EQ(url_decode("a+b%20c"), "a b c");
    EXPECT_EQ(url_decode("%2B%2b"), "++");
    EXPECT_EQ(url_decode("%e2%82%AC"), "\xe2\x82\xac");
    EXPECT_EQ(url_decode("plain"), "plain");
    EXPECT_EQ(url_decode(""), "");
    EXPECT_EQ(url_decode("%00"), std::string("\0", 1));
}

TEST(url_decode, rejects_bad_escapes) {
    for (const char* bad : {"%", "%2", "a%2", "%zz", "%2g", "%g2", "%%", "100%", "%-1"})
        EXPECT_FALSE(url_decode(bad)) << bad;
}

} // namespace
