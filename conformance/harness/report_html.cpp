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
.st-known_failure{background:#b26a00}.st-skip{background:#8a93a3}.st-not_checked{background:#c4c9d2;color:#333}
.v-pass{color:#1f7a3a}.v-fail,.v-error{color:#b3261e}.v-skip{color:#6b7280}.v-flaky{color:#7a6a00}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0}
th,td{border:1px solid #dde1e7;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f4}td.n{text-align:right}
pre{background:#10141c;color:#e6e6e6;padding:10px;overflow:auto;border-radius:4px;white-space:pre-wrap;word-break:break-all}
details{background:#fff;border:1px solid #dde1e7;border-radius:4px;margin:10px 0;padding:8px 12px}
summary{cursor:pointer;font-weight:600}blockquote{margin:8px 0;padding:4px 12px;border-left:4px solid #c62828;background:#fff5f5}
.legend span{margin-right:8px}
)css";

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

void write_failure(std::ostream& out, const check_result& c, const run_report& report) {
    out << "<details open=\"open\" id=\"check-" << html_escape(c.id)
        << "\"><summary><span class=\"v-" << to_string(c.outcome) << "\">" << to_string(c.outcome)
        << "</span> " << html_escape(c.id) << " — " << html_escape(c.title) << "</summary>\n";
    out << "<p>" << html_escape(c.message) << "</p>\n";
    for (const auto* r : requirements_of(c, report)) {
        out << "<blockquote><strong>" << html_escape(r->req.id) << "</strong> ("
            << to_string(r->req.lvl) << ") " << html_escape(r->req.text) << "</blockquote>\n";
    }
    if (!c.expected.empty() || !c.actual.empty()) {
        out << "<table><tr><th>expected</th><td><pre>" << html_escape(c.expected)
            << "</pre></td></tr><tr><th>actual</th><td><pre>" << html_escape(c.actual)
            << "</pre></td></tr></table>\n";
    }
    if (!c.curl.empty()) out << "<p>Reproduce:</p><pre>" << html_escape(c.curl) << "</pre>\n";
    for (const auto& n : c.notes)
        out << "<p>Note: " << html_escape(n) << "</p>\n";
    if (!c.exchanges.empty()) {
        out << "<table><tr><th>request</th><th>response</th><th>time</th></tr>\n";
        for (const auto& ex : c.exchanges)
            out << exchange_html(ex);
        out << "</table>\n";
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
            << " fail, " << t.error << " error, " << t.flaky << " flaky, " << t.skip
            << " skipped</p></div>\n<main>\n";

        out << "<h2>Requirements by section</h2>\n<p class=\"legend\">";
        for (const auto s : {requirement_status::pass, requirement_status::flaky,
                             requirement_status::fail, requirement_status::known_failure,
                             requirement_status::skip, requirement_status::not_checked}) {
            out << "<span class=\"cell st-" << to_string(s) << "\">" << to_string(s) << "</span>";
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

        const auto failed = failures(report);
        if (!failed.empty()) {
            out << "<h2>Failures</h2>\n";
            for (const auto* c : failed)
                write_failure(out, *c, report);
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
                << html_escape(r.req.text);
            if (!r.waiver.empty()) out << "<p>Known failure: " << html_escape(r.waiver) << "</p>";
            out << "</td><td>";
            for (const auto& id : r.checks)
                out << html_escape(id) << " ";
            out << "</td></tr>\n";
        }
        out << "</table>\n<h2>Checks</h2>\n<table><tr><th>Check</th><th>Verdict</th><th>Layer</th>"
               "<th>Time</th><th>Message</th></tr>\n";
        for (const auto& c : report.checks) {
            out << "<tr><td>" << html_escape(c.id) << "</td><td class=\"v-" << to_string(c.outcome)
                << "\">" << to_string(c.outcome) << "</td><td>" << to_string(c.lyr)
                << "</td><td class=\"n\">" << text::seconds(c.duration) << " s</td><td>"
                << html_escape(c.message) << "</td></tr>\n";
        }
        out << "</table>\n<h2>Discovery document</h2>\n<pre>"
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
