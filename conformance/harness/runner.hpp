#pragma once
// Runs the selected checks against a target: discovery, applicability, worker threads,
// per-check deadline, retries, verdicts, aggregation.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/check.hpp"
#include "conformance/harness/known_failures.hpp"
#include "conformance/harness/results.hpp"
#include "conformance/harness/run_context.hpp"
#include "conformance/harness/selection.hpp"

namespace agentcheck {

/// The protocol string a target's discovery document must carry.
inline constexpr std::string_view protocol_name = "agent-service/1";
/// Default time one HTTP operation may take (before --timeout-scale).
inline constexpr std::chrono::milliseconds default_request_timeout{10000};
/// Default time one check may take (before --timeout-scale).
inline constexpr std::chrono::milliseconds default_check_timeout{60000};

/// Generated cases a property check runs by default: the property layer takes well under a
/// minute against the reference agent.
inline constexpr std::size_t default_property_runs = 100;

/// Kill-and-restart cycles the crash check runs by default (--crash-cycles).
inline constexpr unsigned default_crash_cycles = 3;

/// Why a check that must own the agent's process does not apply without --launch.
inline constexpr std::string_view needs_launch_reason =
    "not applicable: needs `agentcheck run --launch CMD` (the harness must own the agent's "
    "process to kill and restart it)";

/// Checks in a row that timed out before a run stops as "target stalled".
inline constexpr std::size_t default_stall_after_timeouts = 3;

/// Options of a run.
struct run_settings {
    client::target_url target;
    std::string secret;
    selection sel;
    std::uint64_t seed = 0;
    double timeout_scale = 1.0;
    unsigned jobs = 1;
    unsigned retries = 0;
    std::vector<known_failure> known_failures;
    std::string known_failures_file;
    std::chrono::milliseconds request_timeout = default_request_timeout; ///< before scaling
    std::chrono::milliseconds check_timeout = default_check_timeout;     ///< before scaling
    std::string run_id; ///< "" → random 8 hex digits
    std::string today;  ///< "YYYY-MM-DD" for waiver expiry; "" → today (UTC)
    /// Stop after this many failed or erroring checks (0: never); --max-failures, -x.
    std::size_t max_failures = 0;
    /// Stop as "target stalled" after this many checks in a row timed out (0: never).
    std::size_t stall_after_timeouts = default_stall_after_timeouts;
    /// Set (e.g. by SIGINT) to stop starting checks; those running finish. May be null.
    const std::atomic<bool>* interrupted = nullptr;
    /// The --jwt-secret-file path, named in reproductions ("" when from the environment).
    std::string secret_file;
    /// Generated cases per property check (--property-runs).
    std::size_t property_runs = default_property_runs;
    /// The agent's process when the harness started it (--launch), else null.
    managed_process* process = nullptr;
    /// Kill-and-restart cycles of the crash check (--crash-cycles).
    unsigned crash_cycles = default_crash_cycles;
    /// Where long checks' progress lines go (null: nowhere); called from the check's thread.
    std::function<void(const std::string&)> progress;
};

/// The outcome of fetching discovery: the document, or why the target is not an agent.
struct discovery_outcome {
    std::optional<nlohmann::json> document;
    std::string error;
    bool unreachable = false; ///< no HTTP answer at all (as opposed to a wrong one)
};

/// GET /.well-known/agent-service: a 200 JSON object with "protocol": "agent-service/1",
/// else an error naming what was wrong. Never throws.
discovery_outcome fetch_discovery(const client::target_url& target,
                                  std::chrono::milliseconds timeout);

/// Progress callbacks; called from worker threads but never concurrently.
class progress_listener {
public:
    virtual ~progress_listener() = default;
    /// Before the first check: how many will run.
    virtual void on_start(std::size_t total) = 0;
    /// After each check (done counts finished checks, including this one).
    virtual void on_check_done(const check_result& result, std::size_t done, std::size_t total) = 0;
};

/// True for checks that must not overlap others: lifecycle checks and checks of the
/// rate_limit feature (which spend the shared identities' rate budget).
bool runs_alone(const check& c, const catalogue& cat);

/// The features a check needs that discovery does not declare; empty when it applies
/// (a check applies when any of its requirements is core or of a declared feature).
std::vector<std::string> missing_features(const check& c, const catalogue& cat,
                                          const nlohmann::json& discovery);

/// Runs one check (with retries) in `env`. Never throws.
check_result execute_check(const check& c, const catalogue& cat, const run_environment& env,
                           const run_settings& settings);

/// Runs the selected checks and aggregates them into a finalized report.
run_report run_checks(const catalogue& cat, const check_registry& registry,
                      const run_settings& settings, const nlohmann::json& discovery,
                      progress_listener* progress = nullptr);

/// The report of a run that ended before any check ran (target unreachable, token refused):
/// no checks, every selected one counted as not run, `why` and `reason` recorded.
run_report stopped_report(const catalogue& cat, const check_registry& registry,
                          const run_settings& settings, const nlohmann::json& discovery,
                          stop_kind why, std::string reason);

/// A random run ID (8 lowercase hex digits).
std::string random_run_id();

} // namespace agentcheck
