#include "reference/util/base64url.hpp"

#include <array>
#include <cstdint>

namespace agent::util {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr int bits_per_char = 6;
constexpr int bits_per_byte = 8;
constexpr std::uint32_t six_bit_mask = 0x3F;
constexpr std::uint32_t byte_mask = 0xFF;
constexpr std::size_t chars_per_quantum = 4;
constexpr std::size_t bytes_per_quantum = 3;
constexpr std::int8_t invalid = -1;
constexpr std::size_t byte_values = 256;

/// Reverse lookup table: byte value -> 6-bit value, or -1.
constexpr std::array<std::int8_t, byte_values> make_decode_table() {
    std::array<std::int8_t, byte_values> table{};
    for (auto& v : table)
        v = invalid;
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return table;
}
constexpr auto decode_table = make_decode_table();

} // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * chars_per_quantum + bytes_per_quantum - 1) / bytes_per_quantum);
    std::uint32_t acc = 0;
    int acc_bits = 0;
    for (char c : bytes) {
        acc = (acc << bits_per_byte) | static_cast<unsigned char>(c);
        acc_bits += bits_per_byte;
        while (acc_bits >= bits_per_char) {
            acc_bits -= bits_per_char;
            out.push_back(alphabet[(acc >> acc_bits) & six_bit_mask]);
        }
    }
    if (acc_bits > 0) out.push_back(alphabet[(acc << (bits_per_char - acc_bits)) & six_bit_mask]);
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % chars_per_quantum == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * bytes_per_quantum / chars_per_quantum);
    std::uint32_t acc = 0;
    int acc_bits = 0;
    for (char c : text) {
        const std::int8_t v = decode_table[static_cast<unsigned char>(c)];
        if (v == invalid) return std::nullopt;
        acc = (acc << bits_per_char) | static_cast<std::uint32_t>(v); // only the low bits matter
        acc_bits += bits_per_char;
        if (acc_bits >= bits_per_byte) {
            acc_bits -= bits_per_byte;
            out.push_back(static_cast<char>((acc >> acc_bits) & byte_mask));
        }
    }
    // Leftover bits (2 or 4) must be zero: a canonical encoding never sets them.
    if (acc_bits > 0 && (acc & ((1U << acc_bits) - 1)) != 0) return std::nullopt;
    return out;
}

} // namespace agent::util
