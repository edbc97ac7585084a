// Algebraic laws of the small codecs: base64url and RFC 3339 times round-trip, time-ordered
// UUIDs sort by time.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "reference/util/base64url.hpp"
#include "reference/util/time.hpp"
#include "reference/util/uuid.hpp"

namespace agent::util {
namespace {

RC_GTEST_PROP(codecs, base64url_decodes_what_it_encodes_in_its_own_alphabet, (std::string bytes)) {
    const auto text = base64url_encode(bytes);
    RC_ASSERT(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_") == std::string::npos);
    RC_ASSERT(text.size() == (bytes.size() * 4 + 2) / 3); // unpadded
    RC_ASSERT(base64url_decode(text) == bytes);
}

RC_GTEST_PROP(codecs, base64url_decoding_never_accepts_what_it_would_not_produce,
              (std::string text)) {
    const auto bytes = base64url_decode(text);
    if (bytes) RC_ASSERT(base64url_encode(*bytes) == text);
}

RC_GTEST_PROP(codecs, rfc3339_times_round_trip_to_the_millisecond, ()) {
    // Up to the year 2261: the system clock counts nanoseconds in 64 bits (to 2262-04-11).
    const auto ms = *rc::gen::inRange<std::int64_t>(0, 9'200'000'000'000);
    const std::chrono::system_clock::time_point t{std::chrono::milliseconds(ms)};
    const auto text = format_rfc3339_ms(t);
    RC_ASSERT(text.size() == 24U);
    RC_ASSERT(parse_rfc3339(text) == t);
}

RC_GTEST_PROP(codecs, time_ordered_uuids_sort_by_their_millisecond, ()) {
    const auto a = *rc::gen::inRange<std::uint64_t>(0, (1ULL << 48) - 1);
    const auto b = *rc::gen::inRange<std::uint64_t>(0, (1ULL << 48) - 1);
    const auto x =
        uuid_v7(a, *rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint64_t>());
    const auto y =
        uuid_v7(b, *rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint64_t>());
    RC_ASSERT(is_uuid(x));
    RC_ASSERT(is_uuid(y));
    if (a < b) RC_ASSERT(x < y);
    if (a > b) RC_ASSERT(x > y);
}

} // namespace
} // namespace agent::util
