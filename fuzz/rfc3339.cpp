// RFC 3339 timestamps (task schedules, event filters): parse; an instant that parses must
// format (RFC 3339 and IMF-fixdate) and, inside four-digit years, parse back from its
// millisecond form to itself truncated to milliseconds.
#include <chrono>

#include "fuzz/support.hpp"
#include "reference/util/time.hpp"

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto t = agent::util::parse_rfc3339(fuzz::as_text(data, size));
    if (!t) return 0;
    (void)agent::util::format_http_date(*t);
    (void)agent::util::unix_ms(*t);
    const auto text = agent::util::format_rfc3339_ms(*t);
    constexpr std::size_t short_form = 24; // "2026-11-24T15:10:00.123Z"
    if (text.size() != short_form) return 0;
    const auto back = agent::util::parse_rfc3339(text);
    fuzz::require(back.has_value(), "format_rfc3339_ms output parses");
    fuzz::require(*back == std::chrono::floor<std::chrono::milliseconds>(*t),
                  "parse(format(t)) == t truncated to milliseconds");
    return 0;
}
