// summary.md: a CI job summary and PR comment — verdict, root causes, counts per level and
// section, then each root cause's first failure with its rule, expected/actual and a
// reproduction. Kept under 64 KiB (a GitHub PR comment holds 65,536 characters; a job
// summary 1 MiB): what does not fit is named, and lives in report.html and report.json.
#include "conformance/harness/report.hpp"

#include "conformance/harness/text.hpp"

#include <algorithm>
#include <sstream>

namespace agentcheck {

namespace {

using text::md_cell;

/// The most summary.md may hold, in bytes (a GitHub PR comment holds 65,536 characters).
constexpr std::size_t summary_budget = 64 * 1024;
/// Room kept for the closing lines after the failures.
constexpr std::size_t closing_reserve = 2048;
/// Check IDs listed per root cause.
constexpr std::size_t ids_listed = 8;
/// Longest value shown inline; longer ones go in a fenced block.
constexpr std::size_t inline_max = 120;

/// An inline code span showing s literally (GitHub renders no entities or tags inside one):
/// newlines become spaces, the fence is longer than any backtick run inside, and in a table
/// a pipe is escaped (GFM splits cells before it parses spans).
std::string md_code(std::string_view s, bool in_table = false) {
    std::string body = text::valid_utf8(s);
    std::size_t longest = 0;
    std::size_t run = 0;
    for (auto& c : body) {
        if (c == '\n' || c == '\r') c = ' ';
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    if (in_table) {
        std::string escaped;
        for (char c : body) {
            if (c == '|') escaped.push_back('\\');
            escaped.push_back(c);
        }
        body = std::move(escaped);
    }
    const std::string fence(longest + 1, '`');
    const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
    return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

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

    void write(const run_report& report, std::ostream& sink) const override {
        std::ostringstream out; // measured as it grows, to stay within summary_budget
        const auto& t = report.counts;
        out << "# agentcheck " << (report.passed ? "✅ PASS" : "❌ FAIL") << "\n\n";
        out << "**" << md_cell(verdict_line(report)) << "**\n\n";
        out << "Target " << md_code(report.target);
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

        const auto groups = group_by_cause(report);
        if (!groups.empty()) {
            out << "\n## Root causes\n\n";
            for (const auto& g : groups) {
                out << "- " << (g.kind == verdict::blocked ? "⏸️ " : "❌ ")
                    << md_cell(cause_line(g));
                if (g.checks.size() > 1 || g.kind == verdict::blocked) {
                    out << ": ";
                    for (std::size_t i = 0; i < g.checks.size() && i < ids_listed; ++i)
                        out << (i ? ", " : "") << md_code(g.checks[i]->id);
                    if (g.checks.size() > ids_listed)
                        out << " and " << g.checks.size() - ids_listed << " more";
                }
                out << "\n";
            }
        }
        std::string details;
        std::size_t left_out = 0;
        for (const auto& g : groups) {
            if (g.kind == verdict::blocked) continue; // the failure that blocks them is listed
            const auto* c = g.checks.front();
            std::string entry =
                "\n### " + md_code(c->id) + " — " + to_string(c->outcome) +
                (g.checks.size() > 1 ? " (and " + std::to_string(g.checks.size() - 1) + " more)"
                                     : std::string()) +
                "\n\n" + md_cell(c->message) + "\n\n";
            for (const auto* r : requirements_of(*c, report)) {
                entry += "> **" + r->req.id + "** (" + to_string(r->req.lvl) + ") " +
                         md_cell(r->req.title) + ": " + md_cell(r->req.text) + "\n>\n";
            }
            const auto value = [&](std::string_view label, const std::string& v) {
                if (v.empty()) return;
                if (v.size() <= inline_max && v.find('\n') == std::string::npos)
                    entry += "- " + std::string(label) + ": " + md_code(v) + "\n";
                else
                    entry += "- " + std::string(label) + ":\n\n" +
                             fenced("", text::truncate(v, summary_budget / 16)) + "\n";
            };
            value("expected", c->expected);
            value("actual", c->actual);
            if (!c->curl.empty()) entry += "\n" + fenced("sh", c->curl);
            const auto used = static_cast<std::size_t>(out.tellp()) + details.size();
            if (used + entry.size() + closing_reserve > summary_budget) {
                ++left_out;
                continue;
            }
            details += entry;
        }
        if (!details.empty()) out << "\n## Failures\n" << details;
        if (left_out > 0) {
            out << "\n*" << left_out << " more root causes do not fit here (this summary stays "
                << "under 64 KiB for PR comments): see `report.html` and `report.json`.*\n";
        }
        if (!report.waiver_problems.empty()) {
            out << "\n## Waiver problems\n\n";
            for (const auto& p : report.waiver_problems) {
                out << "- **" << p.kind << "** " << md_code(p.id) << ": " << md_cell(p.message)
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
        out << "\nReproduce a request: "
            << md_code("export AGENTCHECK_TOKEN=$(agentcheck token --identity <the identity "
                       "named at the end of the curl line> --jwt-secret-file FILE --target " +
                       report.target + ")")
            << ", then paste the curl line.\n";
        sink << out.str();
    }
};

} // namespace

std::unique_ptr<report_writer> make_markdown_writer() {
    return std::make_unique<markdown_writer>();
}

} // namespace agentcheck
