#pragma once
// Report writers: one per format behind one interface (as google/benchmark's reporters).
// Each is stateless and thread-safe; write() never touches the network.

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/harness/results.hpp"

namespace agentcheck {

/// Writes a run report in one format.
class report_writer {
public:
    virtual ~report_writer() = default;
    /// The file the writer produces inside the report directory ("report.json").
    [[nodiscard]] virtual std::string file_name() const = 0;
    /// Writes the report. Throws only what the stream throws.
    virtual void write(const run_report& report, std::ostream& out) const = 0;
};

/// report.json (schema: conformance/REPORT_SCHEMA.md).
std::unique_ptr<report_writer> make_json_writer();
/// junit.xml: one <testsuite> per spec section.
std::unique_ptr<report_writer> make_junit_writer();
/// summary.md: for a CI job summary.
std::unique_ptr<report_writer> make_markdown_writer();
/// report.html: one self-contained page.
std::unique_ptr<report_writer> make_html_writer();
/// All of the above.
std::vector<std::unique_ptr<report_writer>> all_report_writers();

/// Writes every format into dir (created if needed); returns the files written. Throws
/// std::runtime_error naming the file when one cannot be written.
std::vector<std::filesystem::path> write_reports(const run_report& report,
                                                 const std::filesystem::path& dir);

/// The report as the JSON document report.json holds.
nlohmann::json to_json(const run_report& report);

/// Requirement statuses counted.
struct status_tally {
    std::size_t pass = 0, flaky = 0, fail = 0, skip = 0, not_checked = 0, known_failure = 0,
                blocked = 0;
    /// Counts one more status.
    void add(requirement_status s) noexcept;
    /// All counted.
    [[nodiscard]] std::size_t total() const noexcept;
};

/// Tally of the report's requirements at exactly level `lvl`.
status_tally tally_level(const run_report& report, level lvl);
/// Tally of the report's requirements in one section.
status_tally tally_section(const run_report& report, std::string_view section_id);

/// True when the check failed but every requirement it names within the run's level is a
/// known failure (so the failure is waived).
bool is_waived(const check_result& c, const run_report& report);

/// The requirement results a failed check names (those within the level).
std::vector<const requirement_result*> requirements_of(const check_result& c,
                                                       const run_report& report);

/// One line: "PASS — 40 of 40 checked requirements pass (level MUST and stricter) · 3 MUST
/// not yet checked" or "FAIL — …".
std::string verdict_line(const run_report& report);

/// Checks that share one root cause: the same failure message, or blocked by the same
/// requirement for the same reason.
struct cause_group {
    verdict kind = verdict::fail; ///< fail, error or blocked
    std::string cause;            ///< "POST /agents answered 200, not 201, to a valid agent …"
    std::string requirement;      ///< blocked: the blocking requirement; else the first named
    std::vector<const check_result*> checks; ///< in report order
};

/// Failing or erroring (not waived) and blocked checks grouped by root cause: failures
/// first, then blocked; larger groups first.
std::vector<cause_group> group_by_cause(const run_report& report);

/// One line for a group: "104 checks blocked: POST /agents answered 200, not 201 … (REG-020)".
std::string cause_line(const cause_group& g);

} // namespace agentcheck
