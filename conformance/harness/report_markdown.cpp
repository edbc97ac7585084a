// summary.md: a CI job summary — verdict, counts per level and section, every failure with
// its rule, expected/actual and a curl reproduction.
#include "conformance/harness/report.hpp"

#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {

using text::md_cell;

/// A fenced code block whose fence is longer than any backtick run inside.
std::string fenced(std::string_view lang, std::string_view body) {
    std::size_t longest = 0;
    std::size_t run = 0;
    for (char c : body) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    constexpr std::size_t min_fence = 3;
    const std::string fence(std::max(min_fence, longest + 1), '`');
    return fence + std::string(lang) + "\n" + text::valid_utf8(body) + "\n" + fence + "\n";
}

std::string tally_row(std::string_view label, const status_tally& t) {
    return "| " + std::string(label) + " | " + std::to_string(t.pass + t.flaky) + " | " +
           std::to_string(t.fail) + " | " + std::to_string(t.known_failure) + " | " +
           std::to_string(t.skip) + " | " + std::to_string(t.not_checked) + " | " +
           std::to_string(t.total()) + " |\n";
}

constexpr std::string_view tally_header =
    " | Pass | Fail | Known failure | Skipped | Not checked | Total |\n"
    "|---|---:|---:|---:|---:|---:|---:|\n";

class markdown_writer final : public report_writer {
public:
    [[nodiscard]] std::string file_name() const override { return "summary.md"; }

    void write(const run_report& report, std::ostream& out) const override {
        const auto& t = report.counts;
        out << "# agentcheck " << (report.passed ? "✅ PASS" : "❌ FAIL") << "\n\n";
        out << "**" << md_cell(verdict_line(report)) << "**\n\n";
        out << "Target `" << md_cell(report.target) << "`";
        if (report.discovery.contains("implementation") &&
            report.discovery["implementation"].is_object()) {
            const auto& impl = report.discovery["implementation"];
            out << " — " << md_cell(impl.value("name", "?")) << " "
                << md_cell(impl.value("version", ""));
        }
        out << " · seed `" << report.settings.seed << "` · " << text::seconds(report.duration)
            << " s · checks: " << t.pass << " pass, " << t.fail << " fail, " << t.error
            << " error, " << t.flaky << " flaky, " << t.skip << " skipped\n\n";

        out << "## By level\n\n| Level" << tally_header;
        for (const auto lvl : {level::must, level::should, level::may}) {
            if (static_cast<int>(lvl) <= static_cast<int>(report.settings.lvl)) {
                out << tally_row(to_string(lvl), tally_level(report, lvl));
            }
        }
        out << "\n## By section\n\n| Section" << tally_header;
        for (const auto& s : report.sections) {
            const auto tally = tally_section(report, s.id);
            if (tally.total() > 0) out << tally_row(md_cell(s.id + " " + s.title), tally);
        }

        const auto failed = failures(report);
        if (!failed.empty()) {
            out << "\n## Failures\n";
            for (const auto* c : failed) {
                out << "\n### `" << md_cell(c->id) << "` — " << to_string(c->outcome) << "\n\n";
                out << md_cell(c->message) << "\n\n";
                for (const auto* r : requirements_of(*c, report)) {
                    out << "> **" << r->req.id << "** (" << to_string(r->req.lvl) << ") "
                        << md_cell(r->req.title) << ": " << md_cell(r->req.text) << "\n>\n";
                }
                if (!c->expected.empty() || !c->actual.empty()) {
                    out << "\n- expected: `" << md_cell(c->expected) << "`\n- actual: `"
                        << md_cell(c->actual) << "`\n";
                }
                if (!c->curl.empty()) out << "\n" << fenced("sh", c->curl);
            }
        }
        if (!report.waiver_problems.empty()) {
            out << "\n## Waiver problems\n\n";
            for (const auto& p : report.waiver_problems) {
                out << "- **" << p.kind << "** `" << md_cell(p.id) << "`: " << md_cell(p.message)
                    << "\n";
            }
        }
        bool header = false;
        for (const auto& r : report.requirements) {
            if (r.status != requirement_status::known_failure) continue;
            if (!header) out << "\n## Known failures\n\n";
            header = true;
            out << "- `" << r.req.id << "` " << md_cell(r.req.title) << ": " << md_cell(r.waiver)
                << "\n";
        }
        out << "\nReproduce a request: `export AGENTCHECK_TOKEN=$(agentcheck token --identity "
               "<the identity named at the end of the curl line> --jwt-secret-file FILE --target "
            << md_cell(report.target) << ")`, then paste the curl line.\n";
    }
};

} // namespace

std::unique_ptr<report_writer> make_markdown_writer() {
    return std::make_unique<markdown_writer>();
}

} // namespace agentcheck
