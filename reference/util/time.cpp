#include "reference/util/time.hpp"

#include <array>
#include <cstdio>

namespace agent::util {
namespace {

using namespace std::chrono;

constexpr int nanos_digits = 9; // system_clock resolution we keep from a fraction
constexpr int decimal_base = 10;
constexpr unsigned max_month = 12;
constexpr long max_hour = 23;
constexpr long max_minute = 59;
constexpr long max_second = 59; // leap second "60" is refused: std::chrono has no slot
constexpr std::size_t rfc3339_buffer = 32;
constexpr std::size_t http_date_buffer = 40;

constexpr std::size_t days_per_week = 7;
constexpr std::array<const char*, days_per_week> weekday_names{"Sun", "Mon", "Tue", "Wed",
                                                               "Thu", "Fri", "Sat"};
constexpr std::array<const char*, max_month> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// The calendar fields of a UTC instant, at millisecond resolution.
struct utc_fields {
    year_month_day ymd;
    hh_mm_ss<milliseconds> hms;
};

utc_fields split(system_clock::time_point t) {
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    return {year_month_day{day}, hh_mm_ss<milliseconds>{ms - day}};
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

/// A tiny cursor over the input for the fixed-width RFC 3339 grammar.
class cursor {
public:
    explicit cursor(std::string_view text) noexcept : text_(text) {}

    /// Reads exactly n digits as a number.
    std::optional<long> digits(std::size_t n) noexcept {
        if (text_.size() - pos_ < n) return std::nullopt;
        long v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = text_[pos_ + i];
            if (!is_digit(c)) return std::nullopt;
            v = v * decimal_base + (c - '0');
        }
        pos_ += n;
        return v;
    }
    /// Consumes c when it is next.
    bool accept(char c) noexcept {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    [[nodiscard]] bool at_end() const noexcept { return pos_ == text_.size(); }
    [[nodiscard]] char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }
    void skip() noexcept { ++pos_; }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

} // namespace

std::string format_rfc3339_ms(system_clock::time_point t) {
    const auto [ymd, hms] = split(t);
    // Written digit by digit (every request's log line and every write carry one): snprintf
    // cost more than the rest of the line.
    std::string out(std::string_view("0000-00-00T00:00:00.000Z"));
    const auto put = [&out](std::size_t end, long long v, int width) {
        for (int i = 0; i < width; ++i, v /= 10)
            out[end - static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
    };
    const auto year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) { // outside RFC 3339's four digits: the long form
        std::array<char, rfc3339_buffer> buf{};
        std::snprintf(
            buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
            static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
            static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
            static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
        return buf.data();
    }
    put(3, year, 4);
    put(6, static_cast<unsigned>(ymd.month()), 2);
    put(9, static_cast<unsigned>(ymd.day()), 2);
    put(12, hms.hours().count(), 2);
    put(15, hms.minutes().count(), 2);
    put(18, hms.seconds().count(), 2);
    put(22, hms.subseconds().count(), 3);
    return out;
}

std::optional<system_clock::time_point> parse_rfc3339(std::string_view text) {
    cursor in(text);
    constexpr std::size_t year_digits = 4;
    constexpr std::size_t two = 2;
    const auto y = in.digits(year_digits);
    if (!y || !in.accept('-')) return std::nullopt;
    const auto mo = in.digits(two);
    if (!mo || !in.accept('-')) return std::nullopt;
    const auto d = in.digits(two);
    if (!d || !(in.accept('T') || in.accept('t'))) return std::nullopt;
    const auto h = in.digits(two);
    if (!h || !in.accept(':')) return std::nullopt;
    const auto mi = in.digits(two);
    if (!mi || !in.accept(':')) return std::nullopt;
    const auto s = in.digits(two);
    if (!s) return std::nullopt;

    nanoseconds fraction{0};
    if (in.accept('.')) {
        if (!is_digit(in.peek())) return std::nullopt;
        long long ns = 0;
        int kept = 0;
        while (is_digit(in.peek())) {
            if (kept < nanos_digits) { // digits beyond nanoseconds are truncated
                ns = ns * decimal_base + (in.peek() - '0');
                ++kept;
            }
            in.skip();
        }
        for (; kept < nanos_digits; ++kept)
            ns *= decimal_base;
        fraction = nanoseconds{ns};
    }

    minutes offset{0};
    if (!(in.accept('Z') || in.accept('z'))) {
        int sign = 0;
        if (in.accept('+'))
            sign = 1;
        else if (in.accept('-'))
            sign = -1;
        else
            return std::nullopt;
        const auto oh = in.digits(two);
        if (!oh || !in.accept(':')) return std::nullopt;
        const auto om = in.digits(two);
        if (!om || *oh > max_hour || *om > max_minute) return std::nullopt;
        offset = (hours{*oh} + minutes{*om}) * sign;
    }
    if (!in.at_end()) return std::nullopt;

    const year_month_day ymd{year{static_cast<int>(*y)}, month{static_cast<unsigned>(*mo)},
                             day{static_cast<unsigned>(*d)}};
    if (!ymd.ok() || *h > max_hour || *mi > max_minute || *s > max_second) return std::nullopt;

    // Work in seconds (no overflow for years 0000-9999), then make sure the instant fits
    // system_clock's range before converting to its finer duration.
    const sys_seconds local = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*s};
    const sys_seconds utc = local - offset;
    const auto lo = ceil<seconds>(system_clock::time_point::min());
    const auto hi = floor<seconds>(system_clock::time_point::max()) - seconds{1};
    if (utc < lo || utc > hi) return std::nullopt;
    return time_point_cast<system_clock::duration>(utc) +
           duration_cast<system_clock::duration>(fraction);
}

std::string format_http_date(system_clock::time_point t) {
    const auto [ymd, hms] = split(t);
    const weekday wd{sys_days{ymd}};
    std::array<char, http_date_buffer> buf{};
    std::snprintf(buf.data(), buf.size(), "%s, %02u %s %04d %02d:%02d:%02d GMT",
                  weekday_names[wd.c_encoding()], static_cast<unsigned>(ymd.day()),
                  month_names[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf.data();
}

} // namespace agent::util
