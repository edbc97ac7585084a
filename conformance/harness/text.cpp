#include "conformance/harness/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace agentcheck::text {

namespace {

constexpr std::string_view replacement_char = "\xEF\xBF\xBD";
constexpr unsigned char ascii_max = 0x7f;
constexpr unsigned char continuation_mask = 0xC0;
constexpr unsigned char continuation_tag = 0x80;
constexpr unsigned char space_char = 0x20;
constexpr std::uint64_t fnv_offset = 14695981039346656037ULL;
constexpr std::uint64_t fnv_prime = 1099511628211ULL;
constexpr int millis_per_second = 1000;
constexpr int micros_per_milli = 1000;
constexpr int epoch_year = 1900;
constexpr std::size_t date_buffer =
    64; // room for any int the format could print (-Wformat-truncation)

/// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t min = 0;
    std::uint32_t cp = 0;
    if (c <= ascii_max) return 1;
    if ((c & 0xE0U) == 0xC0U) {
        len = 2;
        cp = c & 0x1FU;
        min = 0x80;
    } else if ((c & 0xF0U) == 0xE0U) {
        len = 3;
        cp = c & 0x0FU;
        min = 0x800;
    } else if ((c & 0xF8U) == 0xF0U) {
        len = 4;
        cp = c & 0x07U;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & continuation_mask) != continuation_tag) return 0;
        cp = (cp << 6U) | (cc & 0x3FU);
    }
    constexpr std::uint32_t max_code_point = 0x10FFFF;
    constexpr std::uint32_t surrogate_low = 0xD800;
    constexpr std::uint32_t surrogate_high = 0xDFFF;
    if (cp < min || cp > max_code_point || (cp >= surrogate_low && cp <= surrogate_high)) return 0;
    return len;
}

template <class Emit> std::string escape_with(std::string_view s, Emit&& emit) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t len = utf8_sequence(s, i);
        if (len == 0) {
            out.append(replacement_char);
            ++i;
        } else if (len == 1) {
            emit(out, s[i]);
            ++i;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

} // namespace

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string truncate(std::string_view s, std::size_t max) {
    if (s.size() <= max) return std::string(s);
    std::size_t cut = max;
    while (cut > 0 &&
           (static_cast<unsigned char>(s[cut]) & continuation_mask) == continuation_tag) {
        --cut;
    }
    return std::string(s.substr(0, cut)) + "…[" + std::to_string(s.size() - cut) + " more bytes]";
}

std::string valid_utf8(std::string_view s) {
    return escape_with(s, [](std::string& out, char c) { out.push_back(c); });
}

namespace {
// Escapes the five markup characters (the apostrophe as `apostrophe`) and replaces control
// characters other than tab, newline and carriage return (and DEL when replace_del).
std::string markup_escape(std::string_view s, const char* apostrophe, bool replace_del) {
    return escape_with(s, [apostrophe, replace_del](std::string& out, char c) {
        switch (c) {
        case '&':
            out.append("&amp;");
            break;
        case '<':
            out.append("&lt;");
            break;
        case '>':
            out.append("&gt;");
            break;
        case '"':
            out.append("&quot;");
            break;
        case '\'':
            out.append(apostrophe);
            break;
        case '\t':
        case '\n':
        case '\r':
            out.push_back(c);
            break;
        default:
            if (static_cast<unsigned char>(c) < space_char || (replace_del && c == '\x7f')) {
                out.append(replacement_char);
            } else {
                out.push_back(c);
            }
        }
    });
}
} // namespace

std::string xml_escape(std::string_view s) {
    return markup_escape(s, "&apos;", false);
}

std::string html_escape(std::string_view s) {
    return markup_escape(s, "&#39;", true);
}

std::string md_cell(std::string_view s) {
    return escape_with(s, [](std::string& out, char c) {
        switch (c) {
        case '|':
            out.append("\\|");
            break;
        case '\n':
            out.append("<br>");
            break;
        case '\r':
            break;
        case '<':
            out.append("&lt;");
            break;
        default:
            out.push_back(c);
        }
    });
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    const std::time_t secs = static_cast<std::time_t>(ms.count() / millis_per_second);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::array<char, date_buffer> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  tm.tm_year + epoch_year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, static_cast<int>(ms.count() % millis_per_second));
    return buf.data();
}

std::string utc_date(std::chrono::system_clock::time_point t) {
    return rfc3339(t).substr(0, std::string_view("YYYY-MM-DD").size());
}

std::string seconds(std::chrono::microseconds d) {
    const auto ms = d.count() / micros_per_milli;
    std::array<char, date_buffer> buf{};
    std::snprintf(buf.data(), buf.size(), "%lld.%03lld",
                  static_cast<long long>(ms / millis_per_second),
                  static_cast<long long>(ms % millis_per_second));
    return buf.data();
}

std::uint64_t fnv1a(std::string_view s) noexcept {
    std::uint64_t h = fnv_offset;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= fnv_prime;
    }
    return h;
}

std::string shell_quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out.push_back(c);
    }
    return out + "'";
}

std::string first_line(std::string_view s) {
    return std::string(s.substr(0, s.find('\n')));
}

std::string indent_continuation(std::string_view s, std::string_view prefix) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        out.push_back(c);
        if (c == '\n') out.append(prefix);
    }
    return out;
}

std::string indent(std::string_view s, std::string_view prefix) {
    return std::string(prefix) + indent_continuation(s, prefix);
}

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
    const std::string w = lower(word);
    std::string best;
    std::size_t best_distance = std::string::npos;
    for (const auto& candidate : candidates) {
        const std::string c = lower(candidate);
        // Levenshtein distance, one row at a time.
        std::vector<std::size_t> row(c.size() + 1);
        for (std::size_t j = 0; j <= c.size(); ++j)
            row[j] = j;
        for (std::size_t i = 1; i <= w.size(); ++i) {
            std::size_t diagonal = row[0];
            row[0] = i;
            for (std::size_t j = 1; j <= c.size(); ++j) {
                const std::size_t above = row[j];
                row[j] = std::min(
                    {row[j] + 1, row[j - 1] + 1, diagonal + (w[i - 1] == c[j - 1] ? 0U : 1U)});
                diagonal = above;
            }
        }
        if (row[c.size()] < best_distance) {
            best_distance = row[c.size()];
            best = candidate;
        }
    }
    const std::size_t allowed = std::max<std::size_t>(2, w.size() / 3);
    return best_distance <= allowed ? best : std::string();
}

} // namespace agentcheck::text
