#include "conformance/harness/console.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>
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
    case verdict::blocked:
        return yellow;
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

console_reporter::console_reporter(std::ostream& out, bool color, bool live, verbosity level)
    : out_(out), color_(color), live_(live), level_(level) {}

std::string console_reporter::paint(std::string_view text, std::string_view code) const {
    if (!color_) return std::string(text);
    return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
}

void console_reporter::on_start(std::size_t total) {
    if (level_ == verbosity::quiet) return;
    out_ << "agentcheck: running " << total << " checks\n" << std::flush;
}

std::string console_reporter::counts() const {
    std::string s = paint(std::to_string(passed_) + " passed", green) + ", " +
                    paint(std::to_string(failed_) + " failed", failed_ > 0 ? red : dim);
    if (blocked_ > 0) s += ", " + paint(std::to_string(blocked_) + " blocked", yellow);
    return s + ", " + std::to_string(skipped_) + " skipped";
}

void console_reporter::on_check_done(const check_result& r, std::size_t done, std::size_t total) {
    const bool bad = r.outcome == verdict::fail || r.outcome == verdict::error;
    if (bad) ++failed_;
    if (r.outcome == verdict::pass || r.outcome == verdict::flaky) ++passed_;
    if (r.outcome == verdict::skip) ++skipped_;
    if (r.outcome == verdict::blocked) ++blocked_;
    if (level_ == verbosity::quiet) return;
    const std::string counter = "[" + std::to_string(done) + "/" + std::to_string(total) + "]";
    if (live_) {
        if (bad || (level_ == verbosity::verbose && r.outcome != verdict::pass)) {
            out_ << "\r\033[K" << paint(upper(to_string(r.outcome)), colour_of(r.outcome)) << " "
                 << r.id << ": " << text::first_line(r.message) << "\n";
        }
        out_ << "\r\033[K" << counter << " " << counts();
        if (done == total) out_ << "\n";
        out_ << std::flush;
        return;
    }
    if (level_ == verbosity::verbose) {
        out_ << counter << " " << paint(upper(to_string(r.outcome)), colour_of(r.outcome)) << " "
             << r.id << " (" << text::seconds(r.duration) << " s)";
        if (r.outcome != verdict::pass && !r.message.empty())
            out_ << ": " << text::first_line(r.message);
        out_ << "\n" << std::flush;
        return;
    }
    // A log: failures as they happen, and a progress line every tenth of the run.
    if (bad) {
        out_ << counter << " " << paint(upper(to_string(r.outcome)), red) << " " << r.id << ": "
             << text::first_line(r.message) << "\n";
    }
    const std::size_t step = std::max<std::size_t>(1, total / 10);
    if (done % step == 0 || done == total) out_ << counter << " " << counts() << "\n";
    out_ << std::flush;
}

void console_reporter::detail(const check_result& c, const run_report& report) {
    out_ << "    " << paint(upper(to_string(c.outcome)), colour_of(c.outcome)) << " " << c.id
         << "\n";
    for (const auto* r : requirements_of(c, report)) {
        out_ << "      " << r->req.id << " (" << to_string(r->req.lvl) << "): " << r->req.text
             << "\n";
    }
    if (c.outcome != verdict::blocked && c.message.find('\n') != std::string::npos)
        out_ << text::indent(c.message, "      ") << "\n";
    if (!c.expected.empty())
        out_ << "      expected: "
             << text::indent_continuation(text::truncate(c.expected, console_excerpt),
                                          "                ")
             << "\n";
    if (!c.actual.empty())
        out_ << "      actual:   "
             << text::indent_continuation(text::truncate(c.actual, console_excerpt),
                                          "                ")
             << "\n";
    if (!c.curl.empty()) {
        // Each step of a sequence cut on its own, so that every request stays visible.
        std::string shown;
        std::istringstream steps(c.curl);
        for (std::string line; std::getline(steps, line);)
            shown += (shown.empty() ? "" : "\n") + text::truncate(line, console_curl_excerpt);
        out_ << "      reproduce:\n" << paint(text::indent(shown, "        "), dim) << "\n";
    }
}

void console_reporter::summary(const run_report& report) {
    const auto groups = group_by_cause(report);
    constexpr std::size_t ids_shown = 6;
    const auto id_list = [&](const cause_group& g, std::size_t from) {
        std::string ids;
        for (std::size_t i = from; i < g.checks.size() && i < from + ids_shown; ++i)
            ids += (i > from ? ", " : "") + g.checks[i]->id;
        if (g.checks.size() > from + ids_shown)
            ids += ", … and " + std::to_string(g.checks.size() - from - ids_shown) + " more";
        return ids;
    };
    // The detail first (as pytest does), each root cause with its first check in full ...
    if (level_ != verbosity::quiet && !groups.empty()) {
        out_ << "\n" << paint("Failures", bold) << "\n";
        for (const auto& g : groups) {
            out_ << "\n  " << paint(cause_line(g), g.kind == verdict::blocked ? yellow : red)
                 << "\n";
            if (g.kind == verdict::blocked && level_ != verbosity::verbose) {
                out_ << "    " << paint(id_list(g, 0), dim) << "\n";
                continue;
            }
            const std::size_t shown = level_ == verbosity::verbose ? g.checks.size() : 1;
            for (std::size_t i = 0; i < shown; ++i)
                detail(*g.checks[i], report);
            if (shown < g.checks.size())
                out_ << "    also: " << paint(id_list(g, shown), dim) << "\n";
        }
    }
    for (const auto& p : report.waiver_problems)
        out_ << "\n  " << paint("WAIVER", red) << " " << p.message << "\n";
    // ... then the short summary: one line per root cause.
    if (!groups.empty()) {
        out_ << "\n" << paint("Root causes (" + std::to_string(groups.size()) + ")", bold) << "\n";
        for (const auto& g : groups)
            out_ << "  " << paint(cause_line(g), g.kind == verdict::blocked ? yellow : red) << "\n";
    }
    const auto& t = report.counts;
    out_ << "\nchecks: " << t.pass << " pass, " << t.fail << " fail, " << t.error << " error, "
         << t.blocked << " blocked, " << t.flaky << " flaky, " << t.skip << " skipped in "
         << text::seconds(report.duration) << " s (seed " << report.settings.seed << ")\n";
    out_ << paint(verdict_line(report), report.passed ? green : red) << "\n" << std::flush;
}

} // namespace agentcheck
