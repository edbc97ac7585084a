#include "conformance/harness/console.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "conformance/harness/report.hpp"
#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {

constexpr std::string_view green = "32";
constexpr std::string_view red = "31";
constexpr std::string_view yellow = "33";
constexpr std::string_view dim = "2";
constexpr std::string_view bold = "1";
/// How much of an expected/actual value the terminal shows.
constexpr std::size_t console_excerpt = 300;
/// How much of a curl reproduction the terminal shows (the reports carry it whole).
constexpr std::size_t console_curl_excerpt = 600;

std::string_view colour_of(verdict v) {
    switch (v) {
    case verdict::pass:
        return green;
    case verdict::fail:
    case verdict::error:
        return red;
    case verdict::flaky:
        return yellow;
    case verdict::skip:
        return dim;
    }
    return dim;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

bool color_wanted(int fd) noexcept {
    const char* no_color = std::getenv("NO_COLOR");
    return isatty(fd) == 1 && (no_color == nullptr || *no_color == '\0');
}

console_reporter::console_reporter(std::ostream& out, bool color, bool live)
    : out_(out), color_(color), live_(live) {}

std::string console_reporter::paint(std::string_view text, std::string_view code) const {
    if (!color_) return std::string(text);
    return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
}

void console_reporter::on_start(std::size_t total) {
    out_ << "agentcheck: running " << total << " checks\n" << std::flush;
}

void console_reporter::on_check_done(const check_result& r, std::size_t done, std::size_t total) {
    const bool bad = r.outcome == verdict::fail || r.outcome == verdict::error;
    if (bad) ++failed_;
    if (r.outcome == verdict::pass || r.outcome == verdict::flaky) ++passed_;
    if (r.outcome == verdict::skip) ++skipped_;
    const std::string counter = "[" + std::to_string(done) + "/" + std::to_string(total) + "]";
    if (live_) {
        if (bad) {
            out_ << "\r\033[K" << paint(upper(to_string(r.outcome)), red) << " " << r.id << ": "
                 << r.message << "\n";
        }
        out_ << "\r\033[K" << counter << " " << paint(std::to_string(passed_) + " passed", green)
             << ", " << paint(std::to_string(failed_) + " failed", failed_ > 0 ? red : dim) << ", "
             << skipped_ << " skipped";
        if (done == total) out_ << "\n";
        out_ << std::flush;
        return;
    }
    out_ << counter << " " << paint(upper(to_string(r.outcome)), colour_of(r.outcome)) << " "
         << r.id << " (" << text::seconds(r.duration) << " s)";
    if (r.outcome != verdict::pass && !r.message.empty()) out_ << ": " << r.message;
    out_ << "\n" << std::flush;
}

void console_reporter::summary(const run_report& report) {
    const auto failed = failures(report);
    if (!failed.empty()) out_ << "\n" << paint("Failures", bold) << "\n";
    for (const auto* c : failed) {
        out_ << "\n  " << paint(upper(to_string(c->outcome)), red) << " " << c->id << " — "
             << c->message << "\n";
        for (const auto* r : requirements_of(*c, report)) {
            out_ << "    " << r->req.id << " (" << to_string(r->req.lvl) << "): " << r->req.text
                 << "\n";
        }
        if (!c->expected.empty())
            out_ << "    expected: " << text::truncate(c->expected, console_excerpt) << "\n";
        if (!c->actual.empty())
            out_ << "    actual:   " << text::truncate(c->actual, console_excerpt) << "\n";
        if (!c->curl.empty()) {
            out_ << "    reproduce: " << paint(text::truncate(c->curl, console_curl_excerpt), dim)
                 << "\n";
        }
    }
    for (const auto& p : report.waiver_problems)
        out_ << "\n  " << paint("WAIVER", red) << " " << p.message << "\n";
    const auto& t = report.counts;
    out_ << "\nchecks: " << t.pass << " pass, " << t.fail << " fail, " << t.error << " error, "
         << t.flaky << " flaky, " << t.skip << " skipped in " << text::seconds(report.duration)
         << " s (seed " << report.settings.seed << ")\n";
    out_ << paint(verdict_line(report), report.passed ? green : red) << "\n" << std::flush;
}

} // namespace agentcheck
