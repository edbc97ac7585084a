#pragma once
// What a run produces: per-check results with their evidence, per-requirement statuses,
// totals. Plain data, written by the runner and read by the report writers.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/client/http.hpp"
#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/check.hpp"

namespace agentcheck {

/// One recorded HTTP exchange (request redacted, bodies truncated).
/// What `agentcheck replay` sends again for one exchange: the exact bytes, with the
/// credential the harness can mint again written as "$AGENTCHECK_TOKEN".
struct replay_step {
    std::string bytes;
    /// How to mint the credential: {"identity":"admin"}, {"variant":"expired",
    /// "identity":"admin"} or {"claims":{…},"header":{…}} (times as "now±N"); null when the
    /// bytes carry no credential or carry it as it was sent.
    nlohmann::json credential;
    bool own_connection = false;  ///< written on a fresh connection (raw checks)
    std::chrono::seconds hold{0}; ///< the connection was held open this long after the bytes
    bool head = false;            ///< a HEAD request (no body follows its response)
    std::optional<int> status;    ///< what the agent answered (none: no response)
    std::string id;               ///< the response body's top-level "id", if any
    std::string etag;             ///< the response's ETag, if any
    std::string state;            ///< the response body's top-level "status" string, if any
    /// When the request was sent, from the check's first recorded request: a replay keeps the
    /// pace, so that what the agent does meanwhile (a task's retries, a breaker's recovery)
    /// has happened by the same step.
    std::chrono::milliseconds at{0};
};

struct exchange {
    client::request request;                  ///< Authorization redacted, body truncated
    std::optional<client::response> response; ///< none when nothing was received
    std::chrono::microseconds duration{0};
    std::string note;
    std::string curl;                          ///< reproduction (token as $AGENTCHECK_TOKEN)
    std::shared_ptr<const replay_step> replay; ///< null when the bytes were not kept
};

/// The outcome of one check (after retries).
struct check_result {
    std::string id;
    std::string title;
    layer lyr = layer::unit;
    level lvl = level::must; ///< the strictest level among its requirements
    std::vector<std::string> requirements;
    std::vector<std::string> sections;
    verdict outcome = verdict::skip;
    std::chrono::microseconds duration{0}; ///< of the last attempt
    int attempts = 0;
    std::string message; ///< failure, error or skip reason
    std::string expected;
    std::string actual;
    std::string error_kind; ///< for `error`: connect/read/write/timeout/closed/parse/exception
    std::string blocked_by; ///< for `blocked`: the requirement whose failure blocked it
    /// For `fail`: the one requirement the failure is about, when the check names several
    /// ("" = all of them); the others count as blocked by it.
    std::string failed_requirement;
    std::string curl;                  ///< reproduction of the last exchange
    std::vector<exchange> exchanges;   ///< of the last attempt
    std::size_t dropped_exchanges = 0; ///< earlier exchanges of the last attempt not kept
    bool concurrent = false; ///< its requests were sent at the same time (context::mark_concurrent)
    bool alone = false;      ///< it ran alone (it fills or exhausts what every check shares)
    std::string
        depends_on; ///< what the answers depend on beside the agent (context::mark_depends_on)
    std::vector<std::string> notes;
    /// Figures the check drew (caption, complete <svg> element), shown in the HTML report.
    std::vector<std::pair<std::string, std::string>> figures;
};

/// How a requirement came out of a run.
/// `blocked`: none of its checks failed, but at least one could not run its test because a
/// precondition (another requirement) failed.
enum class requirement_status { pass, flaky, fail, skip, not_checked, known_failure, blocked };
/// "pass", "flaky", "fail", "skip", "not_checked", "known_failure", "blocked".
const char* to_string(requirement_status s) noexcept;

/// One requirement's result.
struct requirement_result {
    requirement req;
    bool planned = false;
    requirement_status status = requirement_status::not_checked;
    std::vector<std::string> checks; ///< IDs of the checks that ran for it
    std::string waiver;              ///< known-failure reason when one applies
};

/// A known-failure entry that makes the run fail.
struct waiver_problem {
    std::string id;
    std::string kind; ///< "stale" or "expired"
    std::string message;
};

/// The run's options as reported (and needed to replay it).
struct run_settings_record {
    level lvl = level::must;
    std::uint64_t seed = 0;
    double timeout_scale = 1.0;
    unsigned jobs = 1;
    unsigned retries = 0;
    std::vector<std::string> only;
    std::vector<std::string> exclude;
    std::vector<std::string> layers;
    std::string known_failures_file;
};

/// Counts over a run.
struct totals {
    std::size_t checks = 0, pass = 0, fail = 0, error = 0, skip = 0, flaky = 0, blocked = 0;
    std::size_t req_blocked = 0;
    std::size_t requirements = 0, req_pass = 0, req_fail = 0, req_skip = 0, req_not_checked = 0,
                req_known_failure = 0, req_flaky = 0;
    /// Requirements no check examined, by level (must, should, may): planned ones, those
    /// whose checks were not selected. A PASS says nothing about them.
    std::array<std::size_t, 3> req_not_checked_by_level{};
    std::size_t req_planned = 0; ///< requirements the catalogue marks as planned
    /// Requirements a check examined and gave a verdict on (pass, flaky, fail, known failure).
    [[nodiscard]] std::size_t req_checked() const noexcept {
        return req_pass + req_flaky + req_fail + req_known_failure;
    }
};

/// Why a run ended before every selected check ran.
enum class stop_kind {
    none,          ///< it did not
    unreachable,   ///< discovery failed: the target is down or not an agent (exit 3)
    token_refused, ///< the agent refused a token signed with the given secret (exit 2)
    stalled,       ///< checks in a row timed out (exit 3)
    max_failures,  ///< --max-failures / -x was reached (exit 1)
    interrupted,   ///< SIGINT or SIGTERM (exit 130)
};
/// "none", "unreachable", "token_refused", "stalled", "max_failures", "interrupted".
const char* to_string(stop_kind k) noexcept;

/// Everything one run produced.
struct run_report {
    std::string tool_version;
    std::string run_id;
    std::string target;
    nlohmann::json discovery = nlohmann::json::object();
    run_settings_record settings;
    std::chrono::system_clock::time_point started_at{};
    std::chrono::microseconds duration{0};
    std::vector<section> sections;
    std::vector<check_result> checks;
    std::vector<requirement_result> requirements; ///< those within the level, catalogue order
    std::vector<waiver_problem> waiver_problems;
    totals counts;
    bool passed = true;
    int exit_code = 0;
    /// Why the run ended before every selected check ran (none when it did not).
    stop_kind stop = stop_kind::none;
    /// That reason in words ("target stalled: 3 checks in a row timed out (last: …)").
    std::string stopped_early;
    std::size_t not_run = 0; ///< selected checks that did not run because the run stopped
};

/// Counts checks and requirements.
totals count(const std::vector<check_result>& checks, const std::vector<requirement_result>& reqs);

} // namespace agentcheck
