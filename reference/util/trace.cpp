#include "reference/util/trace.hpp"

#include <algorithm>

#include "reference/util/uuid.hpp"

namespace agent::util {

namespace {

bool lower_hex(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
bool all_zero(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

constexpr std::size_t v0_size = 55; // 2 + 1 + 32 + 1 + 16 + 1 + 2

} // namespace

std::optional<trace_parent> parse_traceparent(std::string_view v) noexcept {
    if (v.size() < v0_size) return std::nullopt;
    const auto version = v.substr(0, 2);
    if (!lower_hex(version) || version == "ff") return std::nullopt;
    if (version == "00" ? v.size() != v0_size : (v.size() > v0_size && v[v0_size] != '-'))
        return std::nullopt;
    if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
    const auto trace = v.substr(3, 32);
    const auto parent = v.substr(36, 16);
    const auto flags = v.substr(53, 2);
    if (!lower_hex(trace) || !lower_hex(parent) || !lower_hex(flags)) return std::nullopt;
    if (all_zero(trace) || all_zero(parent)) return std::nullopt;
    try {
        return trace_parent{std::string(trace), std::string(parent), std::string(flags)};
    } catch (...) {
        return std::nullopt;
    }
}

std::string trace_span::header() const {
    std::string out;
    out.reserve(v0_size);
    out += "00-";
    out += trace_id;
    out += '-';
    out += span_id;
    out += '-';
    out += flags;
    return out;
}

trace_span new_span(std::optional<std::string_view> incoming) {
    trace_span s;
    if (auto p = incoming ? parse_traceparent(*incoming) : std::nullopt) {
        s.trace_id = std::move(p->trace_id);
        s.flags = std::move(p->flags);
        s.continued = true;
    } else {
        s.trace_id = random_hex(16);
        s.flags = "00";
    }
    s.span_id = random_hex(8);
    return s;
}

} // namespace agent::util
