#include "conformance/harness/report.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

#include "conformance/harness/aggregate.hpp"

namespace agentcheck {

void status_tally::add(requirement_status s) noexcept {
    switch (s) {
    case requirement_status::pass:
        ++pass;
        break;
    case requirement_status::flaky:
        ++flaky;
        break;
    case requirement_status::fail:
        ++fail;
        break;
    case requirement_status::skip:
        ++skip;
        break;
    case requirement_status::not_checked:
        ++not_checked;
        break;
    case requirement_status::known_failure:
        ++known_failure;
        break;
    case requirement_status::blocked:
        ++blocked;
        break;
    }
}

std::size_t status_tally::total() const noexcept {
    return pass + flaky + fail + skip + not_checked + known_failure + blocked;
}

status_tally tally_level(const run_report& report, level lvl) {
    status_tally t;
    for (const auto& r : report.requirements) {
        if (r.req.lvl == lvl) t.add(r.status);
    }
    return t;
}

status_tally tally_section(const run_report& report, std::string_view section_id) {
    status_tally t;
    for (const auto& r : report.requirements) {
        if (r.req.section == section_id) t.add(r.status);
    }
    return t;
}

std::vector<const requirement_result*> requirements_of(const check_result& c,
                                                       const run_report& report) {
    std::vector<const requirement_result*> out;
    for (const auto& id : c.requirements) {
        const auto it = std::find_if(report.requirements.begin(), report.requirements.end(),
                                     [&](const requirement_result& r) { return r.req.id == id; });
        if (it != report.requirements.end()) out.push_back(&*it);
    }
    return out;
}

bool is_waived(const check_result& c, const run_report& report) {
    if (c.outcome != verdict::fail && c.outcome != verdict::error) return false;
    const auto reqs = requirements_of(c, report);
    return !reqs.empty() && std::all_of(reqs.begin(), reqs.end(), [](const requirement_result* r) {
        return r->status == requirement_status::known_failure;
    });
}

std::string verdict_line(const run_report& report) {
    const auto& t = report.counts;
    if (report.stop == stop_kind::unreachable || report.stop == stop_kind::token_refused)
        return "ERROR — " + report.stopped_early;
    std::string line = report.passed ? "PASS" : "FAIL";
    line += " — " + std::to_string(t.req_pass + t.req_flaky) + " of " +
            std::to_string(t.req_checked()) + " checked requirements pass (level " +
            to_string(report.settings.lvl) + " and stricter)";
    if (t.req_fail > 0) line += ", " + std::to_string(t.req_fail) + " fail";
    if (t.req_blocked > 0)
        line += ", " + std::to_string(t.req_blocked) +
                " blocked (not testable because another "
                "requirement fails)";
    if (t.req_known_failure > 0)
        line += ", " + std::to_string(t.req_known_failure) + " known failures";
    if (!report.waiver_problems.empty()) {
        line += ", " + std::to_string(report.waiver_problems.size()) + " waiver problems";
    }
    // What a PASS does not cover: requirements no check examined, and those not applicable.
    std::string unchecked;
    for (const auto lvl : {level::must, level::should, level::may}) {
        const auto n = t.req_not_checked_by_level.at(static_cast<std::size_t>(lvl));
        if (n == 0) continue;
        unchecked += (unchecked.empty() ? "" : ", ") + std::to_string(n) + " " + to_string(lvl);
    }
    if (!unchecked.empty()) line += " · " + unchecked + " not yet checked";
    if (t.req_skip > 0) line += " · " + std::to_string(t.req_skip) + " not applicable";
    if (report.stop != stop_kind::none)
        line += " · run stopped early (" + report.stopped_early + "), " +
                std::to_string(report.not_run) + " checks not run";
    return line;
}

std::vector<cause_group> group_by_cause(const run_report& report) {
    std::vector<cause_group> groups;
    std::map<std::string, std::size_t> index;
    for (const auto& c : report.checks) {
        const bool bad = c.outcome == verdict::fail || c.outcome == verdict::error;
        if (!(bad && !is_waived(c, report)) && c.outcome != verdict::blocked) continue;
        const std::string key =
            std::string(to_string(c.outcome)) + "\n" + c.blocked_by + "\n" + c.message;
        auto [it, fresh] = index.emplace(key, groups.size());
        if (fresh) {
            cause_group g;
            g.kind = c.outcome;
            g.cause = c.message;
            g.requirement = c.outcome == verdict::blocked
                                ? c.blocked_by
                                : (c.requirements.empty() ? std::string() : c.requirements.front());
            groups.push_back(std::move(g));
        }
        groups[it->second].checks.push_back(&c);
    }
    // Failures first (they are the causes), then blocked checks; larger groups first.
    std::stable_sort(groups.begin(), groups.end(), [](const cause_group& a, const cause_group& b) {
        const bool a_blocked = a.kind == verdict::blocked;
        const bool b_blocked = b.kind == verdict::blocked;
        if (a_blocked != b_blocked) return !a_blocked;
        return a.checks.size() > b.checks.size();
    });
    return groups;
}

std::string cause_line(const cause_group& g) {
    const auto n = g.checks.size();
    std::string line = std::to_string(n) + (n == 1 ? " check " : " checks ");
    switch (g.kind) {
    case verdict::blocked:
        line += "blocked: " + g.cause + " (" + g.requirement + ")";
        break;
    case verdict::error:
        line += "could not run: " + g.cause;
        break;
    default:
        line += "failed: " + g.cause;
        if (n == 1) line += " (" + g.checks.front()->id + ")";
        break;
    }
    return line;
}

std::vector<std::unique_ptr<report_writer>> all_report_writers() {
    std::vector<std::unique_ptr<report_writer>> out;
    out.push_back(make_json_writer());
    out.push_back(make_junit_writer());
    out.push_back(make_markdown_writer());
    out.push_back(make_html_writer());
    return out;
}

std::vector<std::filesystem::path> write_reports(const run_report& report,
                                                 const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
    std::vector<std::filesystem::path> written;
    for (const auto& writer : all_report_writers()) {
        const auto path = dir / writer->file_name();
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        if (out) writer->write(report, out);
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + path.string());
        written.push_back(path);
    }
    return written;
}

} // namespace agentcheck
