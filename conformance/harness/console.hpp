#pragma once
// Terminal output: progress while a run goes (a line per check, or a live counter on a
// TTY), then a summary. Colour only when asked (isatty and NO_COLOR unset, decided by the
// caller).

#include <cstddef>
#include <ostream>

#include "conformance/harness/results.hpp"
#include "conformance/harness/runner.hpp"

namespace agentcheck {

/// True when colour should be used on file descriptor fd: a TTY, and NO_COLOR unset or empty.
bool color_wanted(int fd) noexcept;

/// How much the terminal shows (pytest's -q / default / -v).
enum class verbosity {
    quiet,   ///< no progress; the summary is one line per root cause and the verdict
    normal,  ///< failures as they happen, a progress line now and then; the summary shows
             ///< each root cause with the detail of its first check
    verbose, ///< a line per check; the summary shows the detail of every failing check
};

/// Progress and summary on a terminal or a log. Not thread-safe by itself; the runner
/// serialises its callbacks.
class console_reporter final : public progress_listener {
public:
    /// `live`: overwrite one counter line (TTY) instead of printing progress lines.
    console_reporter(std::ostream& out, bool color, bool live, verbosity level = verbosity::normal);
    void on_start(std::size_t total) override;
    void on_check_done(const check_result& result, std::size_t done, std::size_t total) override;
    /// The end-of-run summary: root causes (with the failing checks' rules, expected and
    /// actual values and reproductions), counts, verdict.
    void summary(const run_report& report);

private:
    [[nodiscard]] std::string paint(std::string_view text, std::string_view code) const;
    void detail(const check_result& c, const run_report& report);
    [[nodiscard]] std::string counts() const;

    std::ostream& out_;
    bool color_;
    bool live_;
    verbosity level_;
    std::size_t failed_ = 0;
    std::size_t passed_ = 0;
    std::size_t skipped_ = 0;
    std::size_t blocked_ = 0;
};

} // namespace agentcheck
