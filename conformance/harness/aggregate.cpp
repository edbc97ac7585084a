#include "conformance/harness/aggregate.hpp"

#include <algorithm>

namespace agentcheck {

const char* to_string(stop_kind k) noexcept {
    switch (k) {
    case stop_kind::none:
        return "none";
    case stop_kind::unreachable:
        return "unreachable";
    case stop_kind::token_refused:
        return "token_refused";
    case stop_kind::stalled:
        return "stalled";
    case stop_kind::max_failures:
        return "max_failures";
    case stop_kind::interrupted:
        return "interrupted";
    }
    return "?";
}

const char* to_string(requirement_status s) noexcept {
    switch (s) {
    case requirement_status::pass:
        return "pass";
    case requirement_status::flaky:
        return "flaky";
    case requirement_status::fail:
        return "fail";
    case requirement_status::skip:
        return "skip";
    case requirement_status::not_checked:
        return "not_checked";
    case requirement_status::known_failure:
        return "known_failure";
    case requirement_status::blocked:
        return "blocked";
    }
    return "?";
}

requirement_status requirement_status_of(const std::vector<verdict>& verdicts) noexcept {
    if (verdicts.empty()) return requirement_status::not_checked;
    const auto has = [&](verdict v) {
        return std::find(verdicts.begin(), verdicts.end(), v) != verdicts.end();
    };
    if (has(verdict::fail) || has(verdict::error)) return requirement_status::fail;
    if (has(verdict::blocked)) return requirement_status::blocked;
    if (std::all_of(verdicts.begin(), verdicts.end(),
                    [](verdict v) { return v == verdict::skip; })) {
        return requirement_status::skip;
    }
    return has(verdict::flaky) ? requirement_status::flaky : requirement_status::pass;
}

aggregation aggregate(const catalogue& cat, level lvl, const std::vector<check_result>& checks,
                      const std::vector<known_failure>& waivers, std::string_view today) {
    aggregation out;
    for (const auto& req : cat.requirements) {
        if (static_cast<int>(req.lvl) > static_cast<int>(lvl)) continue;
        requirement_result rr;
        rr.req = req;
        rr.planned = cat.is_planned(req.id);
        std::vector<verdict> verdicts;
        for (const auto& c : checks) {
            if (std::find(c.requirements.begin(), c.requirements.end(), req.id) !=
                c.requirements.end()) {
                // A failure about another of the check's rules blocks this one.
                const bool about_other = c.outcome == verdict::fail &&
                                         !c.failed_requirement.empty() &&
                                         c.failed_requirement != req.id;
                verdicts.push_back(about_other ? verdict::blocked : c.outcome);
                rr.checks.push_back(c.id);
            }
        }
        rr.status = requirement_status_of(verdicts);
        out.requirements.push_back(std::move(rr));
    }
    for (const auto& w : waivers) {
        if (is_expired(w, today)) {
            out.problems.push_back({w.id, "expired",
                                    "known failure " + w.id + " expired on " + w.expires +
                                        ": fix the requirement or renew the waiver (" + w.reason +
                                        ")"});
            continue;
        }
        auto it = std::find_if(out.requirements.begin(), out.requirements.end(),
                               [&](const auto& r) { return r.req.id == w.id; });
        if (it == out.requirements.end()) continue; // outside the selected level
        if (it->status == requirement_status::fail) {
            it->status = requirement_status::known_failure;
            it->waiver = w.reason;
        } else if (it->status == requirement_status::pass ||
                   it->status == requirement_status::flaky) {
            out.problems.push_back({w.id, "stale",
                                    "stale waiver: " + w.id +
                                        " is listed as a known failure but now "
                                        "passes; remove it from the known-failures file"});
        }
    }
    return out;
}

totals count(const std::vector<check_result>& checks, const std::vector<requirement_result>& reqs) {
    totals t;
    t.checks = checks.size();
    for (const auto& c : checks) {
        switch (c.outcome) {
        case verdict::pass:
            ++t.pass;
            break;
        case verdict::fail:
            ++t.fail;
            break;
        case verdict::error:
            ++t.error;
            break;
        case verdict::skip:
            ++t.skip;
            break;
        case verdict::flaky:
            ++t.flaky;
            break;
        case verdict::blocked:
            ++t.blocked;
            break;
        }
    }
    t.requirements = reqs.size();
    for (const auto& r : reqs) {
        if (r.planned) ++t.req_planned;
        switch (r.status) {
        case requirement_status::pass:
            ++t.req_pass;
            break;
        case requirement_status::flaky:
            ++t.req_flaky;
            break;
        case requirement_status::fail:
            ++t.req_fail;
            break;
        case requirement_status::skip:
            ++t.req_skip;
            break;
        case requirement_status::not_checked:
            ++t.req_not_checked;
            ++t.req_not_checked_by_level.at(static_cast<std::size_t>(r.req.lvl));
            break;
        case requirement_status::known_failure:
            ++t.req_known_failure;
            break;
        case requirement_status::blocked:
            ++t.req_blocked;
            break;
        }
    }
    return t;
}

void finalize(run_report& report) {
    report.counts = count(report.checks, report.requirements);
    // A blocked requirement was not shown to hold: the run cannot pass while one is.
    const bool failing = std::any_of(
        report.requirements.begin(), report.requirements.end(), [](const requirement_result& r) {
            return !r.planned && (r.status == requirement_status::fail ||
                                  r.status == requirement_status::blocked);
        });
    report.passed = !failing && report.waiver_problems.empty() && report.stop == stop_kind::none;
    report.exit_code = report.passed ? exit_ok : exit_failures;
    switch (report.stop) {
    case stop_kind::unreachable:
    case stop_kind::stalled:
        report.exit_code = exit_unreachable;
        break;
    case stop_kind::token_refused:
        report.exit_code = exit_usage;
        break;
    case stop_kind::interrupted:
        report.exit_code = exit_interrupted;
        break;
    case stop_kind::max_failures:
    case stop_kind::none:
        break;
    }
}

} // namespace agentcheck
