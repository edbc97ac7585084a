#pragma once
// From check verdicts to requirement statuses, waiver problems and the run's verdict.

#include <string_view>
#include <vector>

#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/known_failures.hpp"
#include "conformance/harness/results.hpp"

namespace agentcheck {

/// Process exit codes of `agentcheck`.
inline constexpr int exit_ok = 0;            ///< every applicable requirement passes
inline constexpr int exit_failures = 1;      ///< a requirement failed or was blocked, or a waiver
                                             ///< is stale/expired
inline constexpr int exit_usage = 2;         ///< bad flag, bad configuration file
inline constexpr int exit_unreachable = 3;   ///< the target is unreachable, stalled or not an agent
inline constexpr int exit_interrupted = 130; ///< SIGINT/SIGTERM (128 + SIGINT, as shells do)

/// The status of one requirement from the verdicts of the checks that name it: fail if
/// any failed or errored; else blocked if any was blocked; skip if all skipped; pass (flaky
/// when one was flaky) when every applicable one passed; not_checked when none ran.
requirement_status requirement_status_of(const std::vector<verdict>& verdicts) noexcept;

/// Requirement statuses and waiver problems.
struct aggregation {
    std::vector<requirement_result> requirements; ///< within the level, catalogue order
    std::vector<waiver_problem> problems;
};

/// Aggregates check results per requirement of `lvl` and stricter and applies the known
/// failures: an active waiver turns a failing requirement into known_failure; a waiver whose
/// requirement passes is stale; a waiver dated before `today` is expired (both are problems).
aggregation aggregate(const catalogue& cat, level lvl, const std::vector<check_result>& checks,
                      const std::vector<known_failure>& waivers, std::string_view today);

/// Fills counts, passed and exit_code of a report whose checks, requirements and
/// waiver_problems are set. A failing or blocked requirement fails the run; planned
/// requirements never do.
void finalize(run_report& report);

} // namespace agentcheck
