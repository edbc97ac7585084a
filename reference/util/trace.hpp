#pragma once
// W3C Trace Context (Level 1, https://www.w3.org/TR/trace-context/): reading an incoming
// `traceparent` and making the span of a server or of an outbound call.
//
//   traceparent = version "-" trace-id "-" parent-id "-" trace-flags
//                 2 HEXDIGLC   32 HEXDIGLC  16 HEXDIGLC   2 HEXDIGLC
//
// Invalid (and so a fresh trace): version ff; any upper-case or non-hex digit; a field of the
// wrong length; an all-zero trace-id or parent-id; version 00 with anything after the flags.
// A higher version is read for its first four fields when what follows them starts with "-"
// (§3.2.4: a parser must try to read a future version). `tracestate` is never consulted, so
// a bad one cannot spoil a good `traceparent`.

#include <optional>
#include <string>
#include <string_view>

namespace agent::util {

/// The fields of a valid traceparent.
struct trace_parent {
    std::string trace_id;  ///< 32 lower-case hex digits, not all zero
    std::string parent_id; ///< 16 lower-case hex digits, not all zero
    std::string flags;     ///< 2 lower-case hex digits
};

/// The fields of a valid traceparent header value, or nullopt.
std::optional<trace_parent> parse_traceparent(std::string_view value) noexcept;

/// A span: its trace (continued or fresh) and its own new id.
struct trace_span {
    std::string trace_id; ///< 32 lower-case hex digits
    std::string span_id;  ///< 16 lower-case hex digits, new for this span
    std::string flags;    ///< the parent's flags, or "00" for a fresh trace
    bool continued = false;

    /// "00-<trace-id>-<span-id>-<flags>": this span as a traceparent (for a call it makes)
    /// or a traceresponse (for the answer it gives).
    [[nodiscard]] std::string header() const;
};

/// A new span under `incoming` (the request's traceparent; nullopt or invalid: a fresh trace).
/// Thread-safe.
trace_span new_span(std::optional<std::string_view> incoming);

} // namespace agent::util
