// report.html: one self-contained page (inline CSS, no scripts, no external resources):
// verdict banner, requirement matrix by section, failure details with reproductions.
#include "conformance/harness/report.hpp"

#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {

using text::html_escape;

constexpr std::string_view style = R"css(
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:0 16px 48px}
.banner{padding:20px 24px;color:#fff}.banner h1{margin:0 0 6px;font-size:26px}
.banner.pass{background:#1f7a3a}.banner.fail{background:#b3261e}.banner p{margin:2px 0}
h2{margin-top:32px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
.matrix{display:flex;flex-wrap:wrap;gap:4px;margin:6px 0 14px}
.cell{display:inline-block;padding:3px 6px;border-radius:4px;font:12px ui-monospace,monospace;color:#fff;text-decoration:none}
.st-pass{background:#2e8b47}.st-flaky{background:#7aa33a}.st-fail{background:#c62828}
.st-known_failure{background:#b26a00}.st-blocked{background:#d98e04}
.st-skip{background:repeating-linear-gradient(45deg,#fff,#fff 4px,#e3e6eb 4px,#e3e6eb 8px);color:#333;border:1px dashed #8a93a3}
.st-not_checked{background:#fff;color:#6b7280;border:1px dotted #9aa1ad}
.v-pass{color:#1f7a3a}.v-fail,.v-error{color:#b3261e}.v-skip{color:#6b7280}.v-flaky{color:#7a6a00}.v-blocked{color:#a86a00}
code{font:12px ui-monospace,monospace;background:#eef0f4;padding:0 3px;border-radius:3px}
.causes li{margin:4px 0}.causes .blocked{color:#a86a00}.causes .fail{color:#b3261e}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0}
th,td{border:1px solid #dde1e7;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f4}td.n{text-align:right}
pre{background:#10141c;color:#e6e6e6;padding:10px;overflow:auto;border-radius:4px;white-space:pre-wrap;word-break:break-all}
details{background:#fff;border:1px solid #dde1e7;border-radius:4px;margin:10px 0;padding:8px 12px}
summary{cursor:pointer;font-weight:600}blockquote{margin:8px 0;padding:4px 12px;border-left:4px solid #c62828;background:#fff5f5}
.legend span{margin-right:8px}
)css";

/// A rule text with its `code spans` rendered as <code> (escaped first).
std::string rule_html(std::string_view rule) {
    const std::string escaped = html_escape(rule);
    std::string out;
    bool open = false;
    for (char c : escaped) {
        if (c == '`') {
            out += open ? "</code>" : "<code>";
            open = !open;
        } else {
            out.push_back(c);
        }
    }
    if (open) out += "</code>";
    return out;
}

/// Failure cards shown open; the rest are folded so a page with hundreds stays readable.
constexpr std::size_t open_cards = 10;

std::string exchange_html(const exchange& ex) {
    std::string out = "<tr><td><pre>";
    std::string req = ex.request.method + " " + ex.request.target + "\n";
    for (const auto& h : ex.request.headers)
        req += h.name + ": " + h.value + "\n";
    if (!ex.request.body.empty()) req += "\n" + ex.request.body;
    out += html_escape(req) + "</pre></td><td><pre>";
    if (ex.response) {
        std::string resp = std::to_string(ex.response->status) + " " + ex.response->reason + "\n";
        for (const auto& h : ex.response->headers)
            resp += h.name + ": " + h.value + "\n";
        if (!ex.response->body.empty()) resp += "\n" + ex.response->body;
        out += html_escape(resp);
    } else {
        out += "(no response)";
    }
    out += "</pre>";
    if (!ex.note.empty()) out += "<p>" + html_escape(ex.note) + "</p>";
    out += "</td><td class=\"n\">" + text::seconds(ex.duration) + " s</td></tr>\n";
    return out;
}

/// A check's notes (a note of several lines, a table, keeps its lines) and figures.
void write_notes_and_figures(std::ostream& out, const check_result& c) {
    for (const auto& n : c.notes) {
        if (n.find('\n') == std::string::npos)
            out << "<p>Note: " << html_escape(n) << "</p>\n";
        else
            out << "<pre>" << html_escape(n) << "</pre>\n";
    }
    for (const auto& [caption, svg] : c.figures)
        out << "<figure>" << svg << "<figcaption>" << html_escape(caption)
            << "</figcaption></figure>\n";
}

void write_failure(std::ostream& out, const check_result& c, const run_report& report, bool open) {
    out << "<details" << (open ? " open=\"open\"" : "") << " id=\"check-" << html_escape(c.id)
        << "\"><summary><span class=\"v-" << to_string(c.outcome) << "\">" << to_string(c.outcome)
        << "</span> " << html_escape(c.id) << " — " << html_escape(c.title) << "</summary>\n";
    out << "<p>" << html_escape(c.message) << "</p>\n";
    for (const auto* r : requirements_of(c, report)) {
        out << "<blockquote><strong>" << html_escape(r->req.id) << "</strong> ("
            << to_string(r->req.lvl) << ") " << rule_html(r->req.text) << "</blockquote>\n";
    }
    if (!c.expected.empty() || !c.actual.empty()) {
        out << "<table><tr><th>expected</th><td><pre>" << html_escape(c.expected)
            << "</pre></td></tr><tr><th>actual</th><td><pre>" << html_escape(c.actual)
            << "</pre></td></tr></table>\n";
    }
    if (!c.curl.empty()) out << "<p>Reproduce:</p><pre>" << html_escape(c.curl) << "</pre>\n";
    write_notes_and_figures(out, c);
    if (!c.exchanges.empty()) {
        out << "<details><summary>Exchanges (" << c.exchanges.size()
            << ")</summary><table><tr><th>request</th><th>response</th><th>time</th></tr>\n";
        for (const auto& ex : c.exchanges)
            out << exchange_html(ex);
        out << "</table></details>\n";
    }
    out << "</details>\n";
}

class html_writer final : public report_writer {
public:
    [[nodiscard]] std::string file_name() const override { return "report.html"; }

    void write(const run_report& report, std::ostream& out) const override {
        const auto& t = report.counts;
        const char* verdict_class = report.passed ? "pass" : "fail";
        out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
            << "<title>agentcheck " << (report.passed ? "PASS" : "FAIL") << " — "
            << html_escape(report.target) << "</title><style>" << style
            << "</style></head><body>\n";
        out << "<div class=\"banner " << verdict_class << "\"><h1>"
            << html_escape(verdict_line(report)) << "</h1><p>Target " << html_escape(report.target);
        if (report.discovery.contains("implementation") &&
            report.discovery["implementation"].is_object()) {
            const auto& impl = report.discovery["implementation"];
            out << " — " << html_escape(impl.value("name", "?")) << " "
                << html_escape(impl.value("version", ""));
        }
        out << "</p><p>Started " << text::rfc3339(report.started_at) << " · "
            << text::seconds(report.duration) << " s · seed " << report.settings.seed << " · run "
            << html_escape(report.run_id) << "</p><p>Checks: " << t.pass << " pass, " << t.fail
            << " fail, " << t.error << " error, " << t.blocked << " blocked, " << t.flaky
            << " flaky, " << t.skip << " skipped";
        if (report.stop != stop_kind::none)
            out << "</p><p>Stopped early: " << html_escape(report.stopped_early) << " ("
                << report.not_run << " checks not run)";
        out << "</p></div>\n<main>\n";

        out << "<h2>Requirements by section</h2>\n<p class=\"legend\">";
        for (const auto s :
             {requirement_status::pass, requirement_status::flaky, requirement_status::fail,
              requirement_status::blocked, requirement_status::known_failure,
              requirement_status::skip, requirement_status::not_checked}) {
            const char* meaning = s == requirement_status::skip          ? " (not applicable)"
                                  : s == requirement_status::not_checked ? " (no check ran)"
                                  : s == requirement_status::blocked
                                      ? " (another requirement's failure kept it from being tested)"
                                      : "";
            out << "<span class=\"cell st-" << to_string(s) << "\">" << to_string(s) << meaning
                << "</span>";
        }
        out << "</p>\n";
        for (const auto& sec : report.sections) {
            if (tally_section(report, sec.id).total() == 0) continue;
            out << "<h3>" << html_escape(sec.id) << ". " << html_escape(sec.title)
                << "</h3><div class=\"matrix\">";
            for (const auto& r : report.requirements) {
                if (r.req.section != sec.id) continue;
                out << "<a class=\"cell st-" << to_string(r.status) << "\" href=\"#req-"
                    << html_escape(r.req.id) << "\" title=\"" << html_escape(r.req.title) << ": "
                    << to_string(r.status) << "\">" << html_escape(r.req.id) << "</a>";
            }
            out << "</div>\n";
        }

        const auto groups = group_by_cause(report);
        if (!groups.empty()) {
            out << "<h2>Root causes</h2>\n<ul class=\"causes\">";
            for (std::size_t i = 0; i < groups.size(); ++i) {
                const auto& g = groups[i];
                out << "<li class=\"" << (g.kind == verdict::blocked ? "blocked" : "fail")
                    << "\"><a href=\"#cause-" << i << "\">" << html_escape(cause_line(g))
                    << "</a></li>";
            }
            out << "</ul>\n<h2>Failures</h2>\n";
            std::size_t cards = 0;
            for (std::size_t i = 0; i < groups.size(); ++i) {
                const auto& g = groups[i];
                out << "<section id=\"cause-" << i << "\"><h3 class=\"v-" << to_string(g.kind)
                    << "\">" << html_escape(cause_line(g)) << "</h3>\n";
                if (g.kind == verdict::blocked) {
                    // Blocked checks: their names; the failure that blocks them is above.
                    out << "<details><summary>" << g.checks.size()
                        << " blocked checks</summary><ul>";
                    for (const auto* c : g.checks)
                        out << "<li>" << html_escape(c->id) << " — " << html_escape(c->title)
                            << "</li>";
                    out << "</ul></details>\n</section>\n";
                    continue;
                }
                for (const auto* c : g.checks)
                    write_failure(out, *c, report, cards++ < open_cards);
                out << "</section>\n";
            }
        }
        if (!report.waiver_problems.empty()) {
            out << "<h2>Waiver problems</h2>\n<ul>";
            for (const auto& p : report.waiver_problems) {
                out << "<li><strong>" << html_escape(p.kind) << "</strong> "
                    << html_escape(p.message) << "</li>";
            }
            out << "</ul>\n";
        }

        out << "<h2>Requirements</h2>\n<table><tr><th>ID</th><th>Level</th><th>Status</th>"
               "<th>Rule</th><th>Checks</th></tr>\n";
        for (const auto& r : report.requirements) {
            out << "<tr id=\"req-" << html_escape(r.req.id) << "\"><td>" << html_escape(r.req.id)
                << "</td><td>" << to_string(r.req.lvl) << "</td><td><span class=\"cell st-"
                << to_string(r.status) << "\">" << to_string(r.status) << "</span></td><td>"
                << rule_html(r.req.text);
            if (!r.waiver.empty()) out << "<p>Known failure: " << html_escape(r.waiver) << "</p>";
            out << "</td><td>";
            for (const auto& id : r.checks)
                out << html_escape(id) << " ";
            out << "</td></tr>\n";
        }
        out << "</table>\n<h2>Checks</h2>\n";
        // Checks that did not pass first, open; passing ones folded.
        const auto rows = [&](bool passing) {
            std::string html;
            for (const auto& c : report.checks) {
                const bool passed = c.outcome == verdict::pass || c.outcome == verdict::flaky;
                if (passed != passing) continue;
                html += "<tr><td>" + html_escape(c.id) + "</td><td class=\"v-" +
                        to_string(c.outcome) + "\">" + to_string(c.outcome) + "</td><td>" +
                        to_string(c.lyr) + "</td><td class=\"n\">" + text::seconds(c.duration) +
                        " s</td><td>" + html_escape(c.message) + "</td></tr>\n";
            }
            return html;
        };
        constexpr std::string_view head = "<table><tr><th>Check</th><th>Verdict</th><th>Layer</th>"
                                          "<th>Time</th><th>Message</th></tr>\n";
        out << head << rows(false) << "</table>\n<details><summary>Passing checks ("
            << t.pass + t.flaky << ")</summary>" << head << rows(true) << "</table></details>\n";
        // What passing checks measured (per-cycle tables, charts), each folded.
        bool measured = false;
        for (const auto& c : report.checks) {
            const bool passed = c.outcome == verdict::pass || c.outcome == verdict::flaky;
            if (!passed || c.figures.empty()) continue;
            if (!measured) out << "<h2>Measurements of passing checks</h2>\n";
            measured = true;
            out << "<details id=\"measured-" << html_escape(c.id) << "\"><summary>"
                << html_escape(c.id) << " — " << html_escape(c.title) << "</summary>\n";
            write_notes_and_figures(out, c);
            out << "</details>\n";
        }
        out << "<h2>Discovery document</h2>\n<pre>"
            << html_escape(
                   report.discovery.dump(2, ' ', false, nlohmann::json::error_handler_t::replace))
            << "</pre>\n</main></body></html>\n";
    }
};

} // namespace

std::unique_ptr<report_writer> make_html_writer() {
    return std::make_unique<html_writer>();
}

} // namespace agentcheck
