#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace agent::util {

using sys_ms = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// Formats as RFC 3339 UTC with milliseconds: "2026-11-24T15:10:00.123Z". Thread-safe.
std::string format_rfc3339_ms(std::chrono::system_clock::time_point t);

/// Milliseconds since the Unix epoch (0 for earlier times).
inline std::uint64_t unix_ms(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    return ms.count() < 0 ? 0 : static_cast<std::uint64_t>(ms.count());
}

/// Parses RFC 3339 ("Z" or ±hh:mm offset, optional fraction). nullopt when invalid.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

/// Formats an IMF-fixdate for the HTTP Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::chrono::system_clock::time_point t);

} // namespace agent::util
