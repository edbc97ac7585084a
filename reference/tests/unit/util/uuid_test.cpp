#include "reference/util/uuid.hpp"

#include <gtest/gtest.h>

#include <set>

namespace {

using agent::util::is_uuid;
using agent::util::new_uuid;
using agent::util::random_hex;
using agent::util::uuid_v4;
using agent::util::uuid_v7;

TEST(uuid, sets_version_and_variant_bits) {
    EXPECT_EQ(uuid_v4(0, 0), "00000000-0000-4000-8000-000000000000");
    EXPECT_EQ(uuid_v4(~0ULL, ~0ULL), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    EXPECT_EQ(uuid_v4(0x0123456789abcdefULL, 0xfedcba9876543210ULL),
              "01234567-89ab-4def-bedc-ba9876543210");
}

TEST(uuid, new_uuid_is_canonical_v4_and_unique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = new_uuid();
        ASSERT_TRUE(is_uuid(id)) << id;
        EXPECT_EQ(id[14], '4');
        EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000U);
}

// RFC 9562, Appendix A.6: unix_ts_ms 0x017F22E279B0, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F.
TEST(uuid, v7_matches_the_rfc_9562_example) {
    EXPECT_EQ(uuid_v7(0x017F22E279B0ULL, 0xCC3, 0x18C4DC0C0C07398FULL),
              "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
    EXPECT_EQ(uuid_v7(0, ~0ULL, ~0ULL), "00000000-0000-7fff-bfff-ffffffffffff");
}

TEST(uuid, time_ordered_uuids_sort_by_their_millisecond) {
    std::set<std::string> seen;
    std::string last_of_previous_ms;
    for (std::uint64_t ms = 1'700'000'000'000ULL; ms < 1'700'000'000'050ULL; ++ms) {
        std::set<std::string> this_ms;
        for (int i = 0; i < 20; ++i) {
            const auto id = agent::util::new_time_ordered_uuid(ms);
            ASSERT_TRUE(is_uuid(id)) << id;
            EXPECT_EQ(id[14], '7');
            EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
            this_ms.insert(id);
        }
        EXPECT_LT(last_of_previous_ms, *this_ms.begin()) << "a later millisecond sorts later";
        last_of_previous_ms = *this_ms.rbegin();
        seen.insert(this_ms.begin(), this_ms.end());
    }
    EXPECT_EQ(seen.size(), 1000U);
}

TEST(uuid, is_uuid_accepts_lowercase_canonical) {
    EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
    EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
}

TEST(uuid, is_uuid_rejects_other_forms) {
    for (const char* bad :
         {"", "123E4567-E89B-12D3-A456-426614174000", "123e4567e89b12d3a456426614174000",
          "{123e4567-e89b-12d3-a456-426614174000}", "123e4567-e89b-12d3-a456-42661417400",
          "123e4567-e89b-12d3-a456-4266141740000", "123e4567-e89b-12d3-a4564-26614174000",
          "123e4567-e89b-12d3-a456-42661417400g", "123e4567_e89b_12d3_a456_426614174000",
          "123e4567-e89b-12d3-a456-42661417400-"})
        EXPECT_FALSE(is_uuid(bad)) << bad;
}

TEST(random_hex, length_and_alphabet) {
    EXPECT_EQ(random_hex(0), "");
    for (std::size_t n : {1U, 3U, 8U, 9U, 16U, 33U}) {
        const auto h = random_hex(n);
        EXPECT_EQ(h.size(), 2 * n);
        EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
    }
}

TEST(random_hex, differs_between_calls) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i)
        seen.insert(random_hex(16));
    EXPECT_EQ(seen.size(), 100U);
}

} // namespace

namespace {

TEST(random_hex, uses_every_hex_digit_in_both_nibbles) {
    std::set<char> high;
    std::set<char> low;
    for (int i = 0; i < 200; ++i) {
        const auto h = agent::util::random_hex(16);
        for (std::size_t k = 0; k < h.size(); k += 2) {
            high.insert(h[k]);
            low.insert(h[k + 1]);
        }
    }
    EXPECT_EQ(high.size(), 16U);
    EXPECT_EQ(low.size(), 16U);
}

} // namespace
