// junit.xml: one <testsuite> per spec section, one <testcase> per check, for CI systems.
#include "conformance/harness/report.hpp"

#include <algorithm>
#include <map>

#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {

using text::xml_escape;

/// Where a check goes: the section of its first requirement.
std::string section_of(const check_result& c) {
    return c.sections.empty() ? "?" : c.sections.front();
}

struct suite_counts {
    std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
    std::chrono::microseconds time{0};
};

/// What a check looks like to JUnit: failure, error, skipped, or passed.
enum class junit_kind { passed, failure, error, skipped };

junit_kind kind_of(const check_result& c, const run_report& report) {
    if (is_waived(c, report)) return junit_kind::skipped;
    switch (c.outcome) {
    case verdict::pass:
    case verdict::flaky:
        return junit_kind::passed;
    case verdict::fail:
        return junit_kind::failure;
    case verdict::error:
        return junit_kind::error;
    case verdict::skip:
    case verdict::blocked: // JUnit has no "blocked": skipped, with "blocked by …" as message
        return junit_kind::skipped;
    }
    return junit_kind::error;
}

void add(suite_counts& s, junit_kind k, std::chrono::microseconds d) {
    ++s.tests;
    s.time += d;
    if (k == junit_kind::failure) ++s.failures;
    if (k == junit_kind::error) ++s.errors;
    if (k == junit_kind::skipped) ++s.skipped;
}

std::string detail(const check_result& c, const run_report& report) {
    std::string out = c.message + "\n";
    for (const auto* r : requirements_of(c, report)) {
        out += "\n" + r->req.id + " (" + to_string(r->req.lvl) + "): " + r->req.text + "\n";
    }
    if (!c.expected.empty()) out += "\nexpected: " + c.expected;
    if (!c.actual.empty()) out += "\nactual:   " + c.actual;
    if (!c.curl.empty()) out += "\n\nreproduce:\n" + c.curl;
    for (const auto& n : c.notes)
        out += "\nnote: " + n;
    return out + "\n";
}

void write_case(std::ostream& out, const check_result& c, const run_report& report) {
    const auto k = kind_of(c, report);
    out << "    <testcase classname=\"section " << xml_escape(section_of(c)) << "\" name=\""
        << xml_escape(c.id) << "\" time=\"" << text::seconds(c.duration) << "\">\n";
    out << "      <properties>\n";
    for (const auto& id : c.requirements) {
        out << "        <property name=\"requirement\" value=\"" << xml_escape(id) << "\"/>\n";
    }
    out << "        <property name=\"level\" value=\"" << to_string(c.lvl) << "\"/>\n";
    out << "        <property name=\"layer\" value=\"" << to_string(c.lyr) << "\"/>\n";
    out << "        <property name=\"verdict\" value=\"" << to_string(c.outcome) << "\"/>\n";
    out << "      </properties>\n";
    switch (k) {
    case junit_kind::failure:
        out << "      <failure message=\"" << xml_escape(c.message) << "\" type=\"check_failed\">"
            << xml_escape(detail(c, report)) << "</failure>\n";
        break;
    case junit_kind::error:
        out << "      <error message=\"" << xml_escape(c.message) << "\" type=\""
            << xml_escape(c.error_kind.empty() ? "error" : c.error_kind) << "\">"
            << xml_escape(detail(c, report)) << "</error>\n";
        break;
    case junit_kind::skipped: {
        std::string why = c.message;
        if (c.outcome == verdict::blocked) why = "blocked by " + c.blocked_by + ": " + c.message;
        if (is_waived(c, report)) {
            why = "known failure";
            for (const auto* r : requirements_of(c, report))
                why += " — " + r->req.id + ": " + r->waiver;
            why += " (" + c.message + ")";
        }
        out << "      <skipped message=\"" << xml_escape(why) << "\"/>\n";
        break;
    }
    case junit_kind::passed:
        if (c.outcome == verdict::flaky) {
            out << "      <system-out>" << xml_escape("flaky: " + c.message) << "</system-out>\n";
        }
        break;
    }
    out << "    </testcase>\n";
}

class junit_writer final : public report_writer {
public:
    [[nodiscard]] std::string file_name() const override { return "junit.xml"; }

    void write(const run_report& report, std::ostream& out) const override {
        // Sections in catalogue order, then any the catalogue does not list.
        std::vector<std::string> order;
        std::map<std::string, std::string> titles;
        for (const auto& s : report.sections) {
            order.push_back(s.id);
            titles[s.id] = s.title;
        }
        std::map<std::string, std::vector<const check_result*>> by_section;
        std::map<std::string, suite_counts> counts;
        suite_counts all;
        for (const auto& c : report.checks) {
            const auto sec = section_of(c);
            if (std::find(order.begin(), order.end(), sec) == order.end()) order.push_back(sec);
            by_section[sec].push_back(&c);
            add(counts[sec], kind_of(c, report), c.duration);
            add(all, kind_of(c, report), c.duration);
        }
        all.tests += report.waiver_problems.size();
        all.failures += report.waiver_problems.size();
        const bool stopped = report.stop != stop_kind::none;
        if (stopped) {
            ++all.tests;
            ++all.errors;
        }
        out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        out << "<testsuites name=\"agentcheck\" tests=\"" << all.tests << "\" failures=\""
            << all.failures << "\" errors=\"" << all.errors << "\" skipped=\"" << all.skipped
            << "\" time=\"" << text::seconds(report.duration) << "\">\n";
        for (const auto& sec : order) {
            const auto it = by_section.find(sec);
            if (it == by_section.end()) continue;
            const auto& n = counts[sec];
            const std::string title = titles.count(sec) ? titles[sec] : std::string("unknown");
            out << "  <testsuite name=\"section " << xml_escape(sec) << ": " << xml_escape(title)
                << "\" tests=\"" << n.tests << "\" failures=\"" << n.failures << "\" errors=\""
                << n.errors << "\" skipped=\"" << n.skipped << "\" time=\"" << text::seconds(n.time)
                << "\" timestamp=\"" << text::rfc3339(report.started_at) << "\">\n";
            for (const auto* c : it->second)
                write_case(out, *c, report);
            out << "  </testsuite>\n";
        }
        if (!report.waiver_problems.empty()) {
            out << "  <testsuite name=\"known failures\" tests=\"" << report.waiver_problems.size()
                << "\" failures=\"" << report.waiver_problems.size()
                << "\" errors=\"0\" skipped=\"0\" time=\"0.000\">\n";
            for (const auto& p : report.waiver_problems) {
                out << "    <testcase classname=\"known failures\" name=\"" << xml_escape(p.id)
                    << "\" time=\"0.000\">\n      <failure message=\"" << xml_escape(p.message)
                    << "\" type=\"" << xml_escape(p.kind) << "_waiver\"/>\n    </testcase>\n";
            }
            out << "  </testsuite>\n";
        }
        if (stopped) {
            // A run that ended early is one error CI shows, with the reason.
            out << "  <testsuite name=\"agentcheck run\" tests=\"1\" failures=\"0\" "
                   "errors=\"1\" skipped=\"0\" time=\"0.000\">\n"
                << "    <testcase classname=\"agentcheck run\" name=\"run "
                << xml_escape(to_string(report.stop)) << "\" time=\"0.000\">\n"
                << "      <error message=\"" << xml_escape(report.stopped_early)
                << "\" type=\"stopped_early\">"
                << xml_escape(report.stopped_early + "\n" + std::to_string(report.not_run) +
                              " selected checks did not run")
                << "</error>\n    </testcase>\n  </testsuite>\n";
        }
        out << "</testsuites>\n";
    }
};

} // namespace

std::unique_ptr<report_writer> make_junit_writer() {
    return std::make_unique<junit_writer>();
}

} // namespace agentcheck
