#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace agent::util {

/// ASCII case-insensitive equality. Thread-safe.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Number of Unicode code points in valid UTF-8 text (bytes that are not continuation
/// bytes). Precondition: text is valid UTF-8 (JSON strings parsed by nlohmann are).
std::size_t utf8_length(std::string_view text) noexcept;

/// True when text is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

/// Appends text as a JSON string literal, quotes included, escaped exactly as
/// nlohmann::json::dump() escapes it (", \\, \b \f \n \r \t, other control characters as
/// \u00xx; UTF-8 passed through). Precondition: text is valid UTF-8.
void append_json_string(std::string& out, std::string_view text);

/// Trims ASCII spaces and tabs at both ends.
std::string_view trim(std::string_view text) noexcept;

/// Parses a whole decimal integer (no sign, no spaces, no leading '+'); nullopt on
/// anything else or overflow.
std::optional<long long> parse_int(std::string_view text) noexcept;

/// Lowercase hex SHA-256 of bytes (OpenSSL). Thread-safe.
std::string sha256_hex(std::string_view bytes);

/// Percent-decodes a URL query component ('+' is a space). nullopt on a bad escape.
std::optional<std::string> url_decode(std::string_view text);

} // namespace agent::util
