#include "reference/util/uuid.hpp"

#include <array>
#include <initializer_list>

namespace agent::util {
namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";
constexpr int nibble_bits = 4;
constexpr int byte_bits = 8;
constexpr std::uint64_t nibble_mask = 0xF;
constexpr std::uint64_t byte_mask = 0xFF;
constexpr int nibbles_per_word = 16;
constexpr std::size_t bytes_per_word = 8;

// Version 4 lives in bits 12..15 of the high word (the first digit of the third group);
// the RFC 9562 variant (binary 10) in the two top bits of the low word.
constexpr std::uint64_t version_mask = 0xF000;
constexpr std::uint64_t version_4 = 0x4000;
constexpr std::uint64_t version_7 = 0x7000;
constexpr int v7_time_shift = 16; // 48 bits of time above 16 of version+rand_a
constexpr std::uint64_t v7_time_mask = 0xFFFF'FFFF'FFFFULL;
constexpr std::uint64_t v7_rand_a_mask = 0x0FFF;
constexpr std::uint64_t variant_mask = 0xC000'0000'0000'0000ULL;
constexpr std::uint64_t variant_10 = 0x8000'0000'0000'0000ULL;

constexpr std::size_t uuid_length = 36;
// Hex digits after which a '-' follows, within the high word (8-4-4) and the low word (4-12).
constexpr int hi_dash_1 = 8;
constexpr int hi_dash_2 = 12;
constexpr int lo_dash = 4;
constexpr std::array<std::size_t, 4> dash_positions{8, 13, 18, 23};

/// Appends the 16 hex digits of v, inserting '-' after the digit counts in `dashes_after`.
void append_hex(std::string& out, std::uint64_t v, std::initializer_list<int> dashes_after) {
    int written = 0;
    auto dash = dashes_after.begin();
    for (int shift = (nibbles_per_word - 1) * nibble_bits; shift >= 0; shift -= nibble_bits) {
        out.push_back(hex_digits[(v >> shift) & nibble_mask]);
        ++written;
        if (dash != dashes_after.end() && *dash == written) {
            out.push_back('-');
            ++dash;
        }
    }
}

std::mt19937_64& generator() {
    thread_local std::mt19937_64 gen = [] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }();
    return gen;
}

} // namespace

std::string uuid_v4(std::uint64_t hi, std::uint64_t lo) {
    hi = (hi & ~version_mask) | version_4;
    lo = (lo & ~variant_mask) | variant_10;
    std::string out;
    out.reserve(uuid_length);
    append_hex(out, hi, {hi_dash_1, hi_dash_2}); // xxxxxxxx-xxxx-4xxx
    out.push_back('-');
    append_hex(out, lo, {lo_dash}); // yxxx-xxxxxxxxxxxx
    return out;
}

std::string uuid_v7(std::uint64_t unix_ms, std::uint64_t hi_random, std::uint64_t lo_random) {
    const std::uint64_t hi =
        ((unix_ms & v7_time_mask) << v7_time_shift) | version_7 | (hi_random & v7_rand_a_mask);
    const std::uint64_t lo = (lo_random & ~variant_mask) | variant_10;
    std::string out;
    out.reserve(uuid_length);
    append_hex(out, hi, {hi_dash_1, hi_dash_2}); // tttttttt-tttt-7xxx
    out.push_back('-');
    append_hex(out, lo, {lo_dash}); // yxxx-xxxxxxxxxxxx
    return out;
}

std::string new_time_ordered_uuid(std::uint64_t unix_ms) {
    auto& gen = generator();
    const std::uint64_t hi = gen();
    const std::uint64_t lo = gen();
    return uuid_v7(unix_ms, hi, lo);
}

std::string new_uuid() {
    auto& gen = generator();
    const std::uint64_t hi = gen();
    const std::uint64_t lo = gen();
    return uuid_v4(hi, lo);
}

bool is_uuid(std::string_view text) noexcept {
    if (text.size() != uuid_length) return false;
    std::size_t next_dash = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (next_dash < dash_positions.size() && i == dash_positions[next_dash]) {
            if (c != '-') return false;
            ++next_dash;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

std::string random_hex(std::size_t bytes) {
    auto& gen = generator();
    std::string out(bytes * 2, '0');
    char* p = out.data();
    std::uint64_t word = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        if (i % bytes_per_word == 0) word = gen();
        const auto b = word & byte_mask;
        word >>= byte_bits;
        *p++ = hex_digits[b >> nibble_bits];
        *p++ = hex_digits[b & nibble_mask];
    }
    return out;
}

} // namespace agent::util
