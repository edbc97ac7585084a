#include "reference/util/base64url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using agent::util::base64url_decode;
using agent::util::base64url_encode;

// RFC 4648 §10 test vectors, without padding (§5 allows omitting it; the url alphabet
// only differs in '-' and '_', which these vectors do not contain).
const std::vector<std::pair<std::string, std::string>> rfc4648_vectors = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

TEST(base64url, encodes_rfc4648_vectors) {
    for (const auto& [plain, encoded] : rfc4648_vectors)
        EXPECT_EQ(base64url_encode(plain), encoded) << plain;
}

TEST(base64url, decodes_rfc4648_vectors) {
    for (const auto& [plain, encoded] : rfc4648_vectors) {
        const auto decoded = base64url_decode(encoded);
        ASSERT_TRUE(decoded.has_value()) << encoded;
        EXPECT_EQ(*decoded, plain);
    }
}

TEST(base64url, uses_url_alphabet) {
    // 0xFB 0xFF 0xBF is "+/+/" in the standard alphabet.
    const std::string bytes{'\xfb', '\xff', '\xbf'};
    EXPECT_EQ(base64url_encode(bytes), "-_-_");
    EXPECT_EQ(base64url_decode("-_-_"), bytes);
}

TEST(base64url, round_trips_every_byte_value_and_length) {
    std::string all;
    for (int i = 0; i < 256; ++i)
        all.push_back(static_cast<char>(i));
    for (std::size_t len = 0; len <= all.size(); ++len) {
        const std::string part = all.substr(all.size() - len);
        const auto decoded = base64url_decode(base64url_encode(part));
        ASSERT_TRUE(decoded.has_value()) << len;
        EXPECT_EQ(*decoded, part);
    }
}

TEST(base64url, rejects_padding) {
    EXPECT_FALSE(base64url_decode("Zg=="));
    EXPECT_FALSE(base64url_decode("Zm8="));
    EXPECT_FALSE(base64url_decode("Zm9v===="));
}

TEST(base64url, rejects_impossible_length) {
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zm9vY"));
}

TEST(base64url, rejects_standard_alphabet_and_other_characters) {
    EXPECT_FALSE(base64url_decode("+/+/"));
    EXPECT_FALSE(base64url_decode("Zm9+"));
    EXPECT_FALSE(base64url_decode("Zm9/"));
    EXPECT_FALSE(base64url_decode("Zm 9v"));
    EXPECT_FALSE(base64url_decode("Zm9v\n"));
    EXPECT_FALSE(base64url_decode("Zm9v."));
    EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4)));
    EXPECT_FALSE(base64url_decode("Zm\xc3\xa9v"));
}

TEST(base64url, rejects_non_zero_trailing_bits) {
    // "Zg" is canonical for "f"; "Zh" decodes to the same byte with a stray low bit.
    EXPECT_TRUE(base64url_decode("Zg"));
    EXPECT_FALSE(base64url_decode("Zh"));
    EXPECT_FALSE(base64url_decode("Zm9")); // canonical is "Zm8"
    EXPECT_TRUE(base64url_decode("Zm8"));
}

} // namespace
