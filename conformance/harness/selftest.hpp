#pragma once
// `agentcheck selftest`'s judgement and reports: the harness is run against a clean agent
// (which must pass) and against the same agent with each of its failpoints on (each must
// fail on a check of the requirement the failpoint breaks). The kill matrix (failpoint ×
// failing requirements), the mutation score (killed / total) and each requirement's strength
// (how many failpoints its checks kill) come from the runs' report.json files. The process
// side (starting the runs in parallel) is in selftest_cli.cpp.
//
// The failpoint table is what the agent prints for `--list-failpoints`: a JSON array of
// {"name", "requirement", "breaks", "args"} ("args": flags the defect needs to show).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/harness/catalogue.hpp"

namespace agentcheck::selftest {

/// One failpoint of the agent under test.
struct failpoint {
    std::string name;        ///< "REG-012.duplicate-names"
    std::string requirement; ///< "REG-012": the requirement it breaks
    std::string breaks;      ///< what the agent does wrong with it on
    std::string args;        ///< agent flags appended with it ("" for none)
};

/// Parses the agent's failpoint table. Throws std::invalid_argument naming the entry and the
/// field that is wrong (not an array, a missing name, a duplicate, a requirement that is
/// not the name's prefix).
std::vector<failpoint> parse_table(std::string_view json_text);

/// What one `agentcheck run` against one agent gave.
struct run_result {
    std::string label;                  ///< the failpoint's name, or "clean"
    std::string args;                   ///< extra agent flags of the run
    std::vector<std::string> selection; ///< --only patterns ([] = every check)
    int exit_code = -1;                 ///< agentcheck run's (-1: it did not finish)
    bool timed_out = false;
    double seconds = 0;
    int checks = 0;                               ///< checks that ran
    std::vector<std::string> failed_requirements; ///< requirement IDs whose status is "fail"
    std::map<std::string, std::vector<std::string>> failed_checks; ///< requirement → check IDs
    std::string cause;      ///< the root cause of the intended requirement, else the first
    std::string problem;    ///< why the run could not be judged ("" when it was)
    std::string report_dir; ///< the run's reports, relative to the self-test's report dir
};

/// Fills r from a run's report.json. `intended` picks the root cause reported ("" = the
/// first). Throws std::invalid_argument when the document is not a report.
void read_report(const nlohmann::json& report, std::string_view intended, run_result& r);

enum class verdict {
    killed,   ///< a check of the failpoint's requirement failed
    survived, ///< the run passed, or failed only on other requirements
    error     ///< the run could not be judged (the agent did not start, a timeout, …)
};
std::string_view to_string(verdict v) noexcept;

/// The verdict on one failpoint's run.
verdict judge(const failpoint& fp, const run_result& r);

struct failpoint_result {
    failpoint fp;
    run_result run;
    verdict v = verdict::error;
};

/// Everything a self-test found.
struct outcome {
    std::string agent_command;
    std::string scope;      ///< "requirement", "section" or "all"
    std::string level;      ///< "must", "should" or "may"
    std::string started_at; ///< RFC 3339
    double duration_s = 0;
    int jobs = 1;
    std::uint64_t seed = 0;
    std::vector<run_result> clean; ///< one per distinct set of extra flags
    std::vector<failpoint_result> failpoints;
    bool interrupted = false;

    [[nodiscard]] bool clean_passed() const;
    [[nodiscard]] std::size_t killed() const;
    /// Every clean run passed and every failpoint was killed.
    [[nodiscard]] bool passed() const;
};

/// Requirement → the failpoints whose runs failed it (any run, intended or not).
std::map<std::string, std::vector<std::string>> strength(const outcome& o);

/// MUST requirements (planned ones aside) that no failpoint's run failed, in catalogue order.
std::vector<std::string> unproven(const outcome& o, const catalogue& cat);

/// selftest.json (schema "agentcheck-selftest/1").
nlohmann::json to_json(const outcome& o, const catalogue& cat);
/// selftest.html: the verdict, the kill matrix drawn, strength per section, the unproven
/// MUSTs and every run with a link to its report.
std::string to_html(const outcome& o, const catalogue& cat);
/// summary.md: a CI job summary.
std::string to_markdown(const outcome& o, const catalogue& cat);

/// Requirement → number of failpoints killed by its checks, from a selftest.json (for
/// `agentcheck coverage --selftest`). Throws std::invalid_argument when it is not one.
std::map<std::string, int> strength_from_json(const nlohmann::json& doc);

} // namespace agentcheck::selftest
