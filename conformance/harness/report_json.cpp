// report.json: the machine-readable report (schema in conformance/REPORT_SCHEMA.md).
#include "conformance/harness/report.hpp"

#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {

constexpr int json_indent = 2;
constexpr double micros_per_second = 1e6;
constexpr std::string_view schema_id = "agentcheck-report/1";

double secs(std::chrono::microseconds d) {
    return static_cast<double>(d.count()) / micros_per_second;
}

nlohmann::json headers_json(const client::header_list& headers) {
    auto out = nlohmann::json::array();
    for (const auto& h : headers)
        out.push_back({{"name", h.name}, {"value", h.value}});
    return out;
}

nlohmann::json exchange_json(const exchange& ex) {
    nlohmann::json out = {{"request",
                           {{"method", ex.request.method},
                            {"target", ex.request.target},
                            {"headers", headers_json(ex.request.headers)},
                            {"body", ex.request.body}}},
                          {"response", nullptr},
                          {"duration_s", secs(ex.duration)},
                          {"note", ex.note},
                          {"curl", ex.curl}};
    if (ex.response) {
        out["response"] = {{"status", ex.response->status},
                           {"reason", ex.response->reason},
                           {"headers", headers_json(ex.response->headers)},
                           {"body", ex.response->body}};
    }
    return out;
}

nlohmann::json check_json(const check_result& c, const run_report& report) {
    auto exchanges = nlohmann::json::array();
    for (const auto& ex : c.exchanges)
        exchanges.push_back(exchange_json(ex));
    return {{"id", c.id},
            {"title", c.title},
            {"layer", to_string(c.lyr)},
            {"level", to_string(c.lvl)},
            {"requirements", c.requirements},
            {"sections", c.sections},
            {"verdict", to_string(c.outcome)},
            {"waived", is_waived(c, report)},
            {"duration_s", secs(c.duration)},
            {"attempts", c.attempts},
            {"message", c.message},
            {"expected", c.expected},
            {"actual", c.actual},
            {"error_kind", c.error_kind},
            {"blocked_by", c.blocked_by},
            {"failed_requirement", c.failed_requirement},
            {"curl", c.curl},
            {"notes", c.notes},
            {"exchanges", exchanges}};
}

nlohmann::json tally_json(const status_tally& t) {
    return {{"pass", t.pass},
            {"flaky", t.flaky},
            {"fail", t.fail},
            {"skip", t.skip},
            {"not_checked", t.not_checked},
            {"known_failure", t.known_failure},
            {"blocked", t.blocked},
            {"total", t.total()}};
}

class json_writer final : public report_writer {
public:
    [[nodiscard]] std::string file_name() const override { return "report.json"; }
    void write(const run_report& report, std::ostream& out) const override {
        out << to_json(report).dump(json_indent, ' ', false,
                                    nlohmann::json::error_handler_t::replace)
            << '\n';
    }
};

} // namespace

nlohmann::json to_json(const run_report& report) {
    const auto& s = report.settings;
    auto layers = nlohmann::json::array();
    for (const auto& l : s.layers)
        layers.push_back(l);
    nlohmann::json doc = {{"schema", schema_id},
                          {"tool", {{"name", "agentcheck"}, {"version", report.tool_version}}},
                          {"run_id", report.run_id},
                          {"target", report.target},
                          {"started_at", text::rfc3339(report.started_at)},
                          {"duration_s", secs(report.duration)},
                          {"options",
                           {{"level", text::lower(to_string(s.lvl))},
                            {"seed", s.seed},
                            {"timeout_scale", s.timeout_scale},
                            {"jobs", s.jobs},
                            {"retries", s.retries},
                            {"only", s.only},
                            {"exclude", s.exclude},
                            {"layers", layers},
                            {"known_failures_file", s.known_failures_file}}},
                          {"discovery", report.discovery},
                          {"verdict", report.passed ? "pass" : "fail"},
                          {"exit_code", report.exit_code},
                          {"stopped_early", report.stop == stop_kind::none
                                                ? nlohmann::json(nullptr)
                                                : nlohmann::json{{"kind", to_string(report.stop)},
                                                                 {"reason", report.stopped_early},
                                                                 {"not_run", report.not_run}}},
                          {"summary", verdict_line(report)}};
    const auto& t = report.counts;
    doc["totals"] = {{"checks",
                      {{"total", t.checks},
                       {"pass", t.pass},
                       {"fail", t.fail},
                       {"error", t.error},
                       {"skip", t.skip},
                       {"flaky", t.flaky},
                       {"blocked", t.blocked}}},
                     {"requirements",
                      {{"total", t.requirements},
                       {"pass", t.req_pass},
                       {"flaky", t.req_flaky},
                       {"fail", t.req_fail},
                       {"skip", t.req_skip},
                       {"not_checked", t.req_not_checked},
                       {"known_failure", t.req_known_failure},
                       {"blocked", t.req_blocked},
                       {"checked", t.req_checked()},
                       {"planned", t.req_planned},
                       {"not_checked_by_level",
                        {{"must", t.req_not_checked_by_level[0]},
                         {"should", t.req_not_checked_by_level[1]},
                         {"may", t.req_not_checked_by_level[2]}}}}}};
    nlohmann::json by_level = nlohmann::json::object();
    for (const auto lvl : {level::must, level::should, level::may}) {
        if (static_cast<int>(lvl) <= static_cast<int>(s.lvl)) {
            by_level[text::lower(to_string(lvl))] = tally_json(tally_level(report, lvl));
        }
    }
    doc["totals"]["by_level"] = by_level;
    auto causes = nlohmann::json::array();
    for (const auto& g : group_by_cause(report)) {
        auto ids = nlohmann::json::array();
        for (const auto* c : g.checks)
            ids.push_back(c->id);
        causes.push_back({{"verdict", to_string(g.kind)},
                          {"cause", g.cause},
                          {"requirement", g.requirement},
                          {"summary", cause_line(g)},
                          {"checks", ids}});
    }
    doc["root_causes"] = causes;
    auto sections = nlohmann::json::array();
    for (const auto& sec : report.sections) {
        sections.push_back({{"id", sec.id},
                            {"title", sec.title},
                            {"requirements", tally_json(tally_section(report, sec.id))}});
    }
    doc["sections"] = sections;
    auto checks = nlohmann::json::array();
    for (const auto& c : report.checks)
        checks.push_back(check_json(c, report));
    doc["checks"] = checks;
    auto reqs = nlohmann::json::array();
    for (const auto& r : report.requirements) {
        reqs.push_back({{"id", r.req.id},
                        {"section", r.req.section},
                        {"title", r.req.title},
                        {"level", to_string(r.req.lvl)},
                        {"feature", r.req.feature},
                        {"text", r.req.text},
                        {"planned", r.planned},
                        {"status", to_string(r.status)},
                        {"checks", r.checks},
                        {"waiver", r.waiver}});
    }
    doc["requirements"] = reqs;
    auto problems = nlohmann::json::array();
    for (const auto& p : report.waiver_problems) {
        problems.push_back({{"id", p.id}, {"kind", p.kind}, {"message", p.message}});
    }
    doc["waiver_problems"] = problems;
    return doc;
}

std::unique_ptr<report_writer> make_json_writer() {
    return std::make_unique<json_writer>();
}

} // namespace agentcheck
