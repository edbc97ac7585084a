#pragma once
// Small text helpers shared by the harness and its report writers. All are pure and
// thread-safe.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentcheck::text {

/// ASCII lowercase copy.
std::string lower(std::string_view s);

/// s cut to at most max bytes (never inside a UTF-8 sequence), with a marker saying how
/// many bytes were dropped; s itself when it fits.
std::string truncate(std::string_view s, std::size_t max);

/// s with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

/// Escapes for XML 1.0 text and attribute values (&, <, >, ", ') and replaces characters
/// XML 1.0 forbids (control characters other than tab, LF, CR) and invalid UTF-8 by U+FFFD.
std::string xml_escape(std::string_view s);

/// Escapes for HTML text and attribute values; control characters (other than tab, LF,
/// CR) and invalid UTF-8 become U+FFFD.
std::string html_escape(std::string_view s);

/// Escapes text for a Markdown table cell (pipes, newlines).
std::string md_cell(std::string_view s);

/// RFC 3339 UTC with milliseconds: "2026-11-24T15:10:00.123Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

/// The UTC calendar date "YYYY-MM-DD" of t.
std::string utc_date(std::chrono::system_clock::time_point t);

/// A duration as seconds with millisecond precision: "1.234".
std::string seconds(std::chrono::microseconds d);

/// 64-bit FNV-1a hash (stable across platforms and runs).
std::uint64_t fnv1a(std::string_view s) noexcept;

/// The candidate closest to `word` by edit distance (case-insensitive), when it is close
/// enough to be a likely typo (at most a third of the word's length, at least 2); "" else.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

/// The text up to its first newline (all of it when there is none).
std::string first_line(std::string_view s);

/// s in single quotes for a POSIX shell (a quote inside becomes '\'').
std::string shell_quote(std::string_view s);

/// Every line of s prefixed with `prefix` (multi-line bodies keep their shape when nested).
std::string indent(std::string_view s, std::string_view prefix);

/// Every line of s but the first prefixed with `prefix` (for a value after a label).
std::string indent_continuation(std::string_view s, std::string_view prefix);

} // namespace agentcheck::text
