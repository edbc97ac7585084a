#include "reference/util/text.hpp"

#include <array>
#include <charconv>
#include <new>

#include <openssl/evp.h>

namespace agent::util {
namespace {

constexpr char case_bit = 'a' - 'A';
constexpr std::string_view hex_digits = "0123456789abcdef";
constexpr int nibble_bits = 4;
constexpr unsigned nibble_mask = 0xF;
constexpr int hex_base = 16;

// UTF-8 lead and continuation byte patterns (RFC 3629 §4).
constexpr unsigned char ascii_max = 0x7F;
constexpr unsigned char cont_min = 0x80;
constexpr unsigned char cont_max = 0xBF;
constexpr unsigned char cont_mask = 0xC0;
constexpr unsigned char lead2_min = 0xC2; // C0, C1 would be overlong
constexpr unsigned char lead2_max = 0xDF;
constexpr unsigned char lead3_min = 0xE0;
constexpr unsigned char lead3_e0 = 0xE0; // second byte A0..BF (no overlong)
constexpr unsigned char lead3_ed = 0xED; // second byte 80..9F (no surrogates)
constexpr unsigned char lead3_max = 0xEF;
constexpr unsigned char lead4_min = 0xF0; // second byte 90..BF (no overlong)
constexpr unsigned char lead4_f4 = 0xF4;  // second byte 80..8F (<= U+10FFFF)
constexpr unsigned char e0_second_min = 0xA0;
constexpr unsigned char ed_second_max = 0x9F;
constexpr unsigned char f0_second_min = 0x90;
constexpr unsigned char f4_second_max = 0x8F;

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + case_bit) : c;
}

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t';
}

int hex_value(char c) noexcept {
    constexpr int letter_offset = 10;
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + letter_offset;
    if (c >= 'A' && c <= 'F') return c - 'A' + letter_offset;
    return -1;
}

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (u < 0x20) {
                out += "\\u00";
                out.push_back(hex[u >> 4]);
                out.push_back(hex[u & 0xf]);
            } else {
                out.push_back(c);
            }
        }
    }
    out.push_back('"');
}

std::size_t utf8_length(std::string_view text) noexcept {
    std::size_t n = 0;
    for (char c : text)
        if ((static_cast<unsigned char>(c) & cont_mask) != cont_min) ++n;
    return n;
}

bool is_valid_utf8(std::string_view text) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    std::size_t i = 0;
    while (i < text.size()) {
        const unsigned char b0 = byte(i);
        if (b0 <= ascii_max) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char second_min = cont_min;
        unsigned char second_max = cont_max;
        if (b0 >= lead2_min && b0 <= lead2_max) {
            len = 2;
        } else if (b0 >= lead3_min && b0 <= lead3_max) {
            len = 3;
            if (b0 == lead3_e0) second_min = e0_second_min;
            if (b0 == lead3_ed) second_max = ed_second_max;
        } else if (b0 >= lead4_min && b0 <= lead4_f4) {
            len = 4;
            if (b0 == lead4_min) second_min = f0_second_min;
            if (b0 == lead4_f4) second_max = f4_second_max;
        } else {
            return false; // stray continuation byte, C0/C1, F5..FF
        }
        if (text.size() - i < len) return false; // truncated sequence
        const unsigned char b1 = byte(i + 1);
        if (b1 < second_min || b1 > second_max) return false;
        for (std::size_t k = 2; k < len; ++k)
            if ((byte(i + k) & cont_mask) != cont_min) return false;
        i += len;
    }
    return true;
}

std::string_view trim(std::string_view text) noexcept {
    while (!text.empty() && is_blank(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back()))
        text.remove_suffix(1);
    return text;
}

std::optional<long long> parse_int(std::string_view text) noexcept {
    if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
    long long v = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc{} || ptr != end) return std::nullopt;
    return v;
}

std::string sha256_hex(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &md_len, EVP_sha256(), nullptr) != 1)
        throw std::bad_alloc(); // the only way EVP_Digest can fail for SHA-256
    std::string out;
    out.reserve(static_cast<std::size_t>(md_len) * 2);
    for (unsigned int i = 0; i < md_len; ++i) {
        out.push_back(hex_digits[md[i] >> nibble_bits]);
        out.push_back(hex_digits[md[i] & nibble_mask]);
    }
    return out;
}

std::optional<std::string> url_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (text.size() - i < 3) return std::nullopt;
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * hex_base + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

} // namespace agent::util
