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

/// Progress and summary on a terminal or a log. Not thread-safe by itself; the runner
/// serialises its callbacks.
class console_reporter final : public progress_listener {
public:
    /// `live`: overwrite one counter line (TTY) instead of a line per check.
    console_reporter(std::ostream& out, bool color, bool live);
    void on_start(std::size_t total) override;
    void on_check_done(const check_result& result, std::size_t done, std::size_t total) override;
    /// The end-of-run summary: failures with reproductions, counts, verdict.
    void summary(const run_report& report);

private:
    [[nodiscard]] std::string paint(std::string_view text, std::string_view code) const;

    std::ostream& out_;
    bool color_;
    bool live_;
    std::size_t failed_ = 0;
    std::size_t passed_ = 0;
    std::size_t skipped_ = 0;
};

} // namespace agentcheck
