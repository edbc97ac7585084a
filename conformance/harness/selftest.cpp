#include "conformance/harness/selftest.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

#include "conformance/harness/text.hpp"
#include "conformance/load/svg_chart.hpp"

namespace agentcheck::selftest {

namespace svg = load::svg;

namespace {

std::string str_member(const nlohmann::json& j, const char* key, std::size_t index, bool required) {
    const auto it = j.find(key);
    if (it == j.end()) {
        if (required)
            throw std::invalid_argument("failpoint " + std::to_string(index) + ": no \"" + key +
                                        "\"");
        return "";
    }
    if (!it->is_string())
        throw std::invalid_argument("failpoint " + std::to_string(index) + ": \"" + key +
                                    "\" is not a string");
    return it->get<std::string>();
}

/// Requirement IDs in catalogue order (unknown ones last, in name order).
std::vector<std::string> in_catalogue_order(const std::set<std::string>& ids,
                                            const catalogue& cat) {
    std::vector<std::string> out;
    for (const auto& r : cat.requirements)
        if (ids.count(r.id) > 0) out.push_back(r.id);
    for (const auto& id : ids)
        if (cat.find(id) == nullptr) out.push_back(id);
    return out;
}

std::string percent(std::size_t part, std::size_t whole) {
    if (whole == 0) return "n/a";
    return svg::num(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1) + "%";
}

std::string score_line(const outcome& o) {
    return std::to_string(o.killed()) + " of " + std::to_string(o.failpoints.size()) +
           " failpoints killed (" + percent(o.killed(), o.failpoints.size()) + ")";
}

nlohmann::json run_json(const run_result& r) {
    return {{"label", r.label},
            {"args", r.args},
            {"selection", r.selection},
            {"exit_code", r.exit_code},
            {"timed_out", r.timed_out},
            {"duration_s", r.seconds},
            {"checks", r.checks},
            {"failed_requirements", r.failed_requirements},
            {"failed_checks", r.failed_checks},
            {"cause", r.cause},
            {"problem", r.problem},
            {"report_dir", r.report_dir}};
}

/// MUST requirements per section: {proven, total}.
std::map<std::string, std::pair<std::size_t, std::size_t>> musts_by_section(const outcome& o,
                                                                            const catalogue& cat) {
    const auto kills = strength(o);
    std::map<std::string, std::pair<std::size_t, std::size_t>> out;
    for (const auto& r : cat.requirements) {
        if (r.lvl != level::must || cat.is_planned(r.id)) continue;
        auto& [proven, total] = out[r.section];
        ++total;
        if (kills.count(r.id) > 0) ++proven;
    }
    return out;
}

/// The kill matrix as an SVG grid: a row per failpoint, a column per requirement that a run
/// failed (or a failpoint targets).
std::string matrix_svg(const outcome& o, const catalogue& cat) {
    std::set<std::string> ids;
    for (const auto& f : o.failpoints) {
        ids.insert(f.fp.requirement);
        ids.insert(f.run.failed_requirements.begin(), f.run.failed_requirements.end());
    }
    const auto columns = in_catalogue_order(ids, cat);
    constexpr int cell = 14;
    constexpr int label_w = 260;
    constexpr int head_h = 76;
    const int width = label_w + static_cast<int>(columns.size()) * cell + 20;
    const int height = head_h + static_cast<int>(o.failpoints.size()) * cell + 10;
    std::ostringstream s;
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"system-ui,sans-serif\" font-size=\"10\" role=\"img\">"
      << "<title>Kill matrix: a row per failpoint, a column per requirement</title>";
    for (std::size_t c = 0; c < columns.size(); ++c) {
        const int x = label_w + static_cast<int>(c) * cell + cell / 2;
        s << "<text transform=\"translate(" << x << "," << head_h - 4 << ") rotate(-60)\">"
          << svg::esc(columns[c]) << "</text>";
        if (c % 2 == 0)
            s << "<rect x=\"" << x - cell / 2 << "\" y=\"" << head_h << "\" width=\"" << cell
              << "\" height=\"" << o.failpoints.size() * cell << "\" fill=\"#f6f6f6\"/>";
    }
    for (std::size_t row = 0; row < o.failpoints.size(); ++row) {
        const auto& f = o.failpoints[row];
        const int y = head_h + static_cast<int>(row) * cell;
        const std::set<std::string> failed(f.run.failed_requirements.begin(),
                                           f.run.failed_requirements.end());
        s << "<text x=\"" << label_w - 6 << "\" y=\"" << y + cell - 3 << "\" text-anchor=\"end\""
          << (f.v == verdict::killed ? "" : " fill=\"#b00020\"") << ">" << svg::esc(f.fp.name)
          << "</text>";
        for (std::size_t c = 0; c < columns.size(); ++c) {
            const bool intended = columns[c] == f.fp.requirement;
            const bool fail = failed.count(columns[c]) > 0;
            if (!intended && !fail) continue;
            const std::string colour = intended ? (fail ? "#137333" : "#b00020") : "#e8a400";
            const int x = label_w + static_cast<int>(c) * cell;
            s << "<rect x=\"" << x + 1 << "\" y=\"" << y + 1 << "\" width=\"" << cell - 2
              << "\" height=\"" << cell - 2 << "\" fill=\"" << (intended && !fail ? "none" : colour)
              << "\" stroke=\"" << colour << "\" stroke-width=\"" << (intended && !fail ? 2 : 0)
              << "\"><title>" << svg::esc(f.fp.name) << " → " << svg::esc(columns[c]) << ": "
              << (intended ? (fail ? "killed (intended)" : "NOT killed (intended)") : "also failed")
              << "</title></rect>";
        }
    }
    s << "</svg>";
    return s.str();
}

/// MUSTs proven and unproven per section, as horizontal stacked bars.
std::string strength_svg(const outcome& o, const catalogue& cat) {
    const auto by_section = musts_by_section(o, cat);
    std::size_t most = 1;
    for (const auto& [id, counts] : by_section)
        most = std::max(most, counts.second);
    constexpr int bar_h = 16;
    constexpr int label_w = 250;
    constexpr int plot_w = 420;
    const int height = static_cast<int>(by_section.size()) * (bar_h + 6) + 30;
    std::ostringstream s;
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_w + plot_w + 80
      << "\" height=\"" << height << "\" font-family=\"system-ui,sans-serif\" font-size=\"11\""
      << " role=\"img\"><title>MUST requirements proven by a failpoint, per section</title>";
    int y = 4;
    for (const auto& sec : cat.sections) {
        const auto it = by_section.find(sec.id);
        if (it == by_section.end()) continue;
        const auto [proven, total] = it->second;
        const double scale = static_cast<double>(plot_w) / static_cast<double>(most);
        const double w_proven = static_cast<double>(proven) * scale;
        const double w_total = static_cast<double>(total) * scale;
        s << "<text x=\"" << label_w - 6 << "\" y=\"" << y + bar_h - 4 << "\" text-anchor=\"end\">"
          << svg::esc(sec.id + " " + sec.title) << "</text>"
          << "<rect x=\"" << label_w << "\" y=\"" << y << "\" width=\"" << svg::num(w_total, 1)
          << "\" height=\"" << bar_h << "\" fill=\"#f3d4d8\"/>"
          << "<rect x=\"" << label_w << "\" y=\"" << y << "\" width=\"" << svg::num(w_proven, 1)
          << "\" height=\"" << bar_h << "\" fill=\"#137333\"/>"
          << "<text x=\"" << label_w + w_total + 6 << "\" y=\"" << y + bar_h - 4 << "\">" << proven
          << " / " << total << "</text>";
        y += bar_h + 6;
    }
    s << "<rect x=\"" << label_w << "\" y=\"" << y + 6 << "\" width=\"10\" height=\"10\" "
      << "fill=\"#137333\"/><text x=\"" << label_w + 14 << "\" y=\"" << y + 15
      << "\">proven (a failpoint is killed by its checks)</text><rect x=\"" << label_w + 260
      << "\" y=\"" << y + 6 << "\" width=\"10\" height=\"10\" fill=\"#f3d4d8\"/><text x=\""
      << label_w + 274 << "\" y=\"" << y + 15 << "\">unproven</text></svg>";
    return s.str();
}

} // namespace

std::vector<failpoint> parse_table(std::string_view json_text) {
    const auto doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded()) throw std::invalid_argument("the failpoint table is not JSON");
    if (!doc.is_array()) throw std::invalid_argument("the failpoint table is not a JSON array");
    std::vector<failpoint> out;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < doc.size(); ++i) {
        const auto& j = doc[i];
        if (!j.is_object())
            throw std::invalid_argument("failpoint " + std::to_string(i) + " is not an object");
        failpoint fp;
        fp.name = str_member(j, "name", i, true);
        fp.requirement = str_member(j, "requirement", i, true);
        fp.breaks = str_member(j, "breaks", i, false);
        fp.args = str_member(j, "args", i, false);
        if (fp.name.empty() || fp.name.find_first_of(" \t\n'\"\\") != std::string::npos)
            throw std::invalid_argument("failpoint " + std::to_string(i) +
                                        ": \"name\" is empty or holds a space or a quote");
        if (fp.name.rfind(fp.requirement + ".", 0) != 0 || fp.requirement.empty())
            throw std::invalid_argument("failpoint " + fp.name + ": \"requirement\" (" +
                                        fp.requirement + ") is not the start of its name");
        if (!seen.insert(fp.name).second)
            throw std::invalid_argument("failpoint " + fp.name + " is listed twice");
        out.push_back(std::move(fp));
    }
    return out;
}

void read_report(const nlohmann::json& report, std::string_view intended, run_result& r) {
    if (!report.is_object() || !report.contains("checks") || !report["checks"].is_array() ||
        !report.contains("requirements") || !report["requirements"].is_array())
        throw std::invalid_argument("not an agentcheck report (no checks[] or requirements[])");
    r.checks = 0;
    r.failed_requirements.clear();
    r.failed_checks.clear();
    for (const auto& c : report["checks"]) {
        const std::string v = c.value("verdict", "");
        if (v != "skip") ++r.checks;
        if (v != "fail") continue;
        for (const auto& id : c.value("requirements", nlohmann::json::array()))
            if (id.is_string()) r.failed_checks[id.get<std::string>()].push_back(c.value("id", ""));
    }
    for (const auto& q : report["requirements"])
        if (q.value("status", "") == "fail") r.failed_requirements.push_back(q.value("id", ""));
    r.cause.clear();
    for (const auto& rc : report.value("root_causes", nlohmann::json::array())) {
        if (rc.value("verdict", "") != "fail") continue;
        if (r.cause.empty()) r.cause = rc.value("cause", "");
        if (!intended.empty() && rc.value("requirement", "") == intended) {
            r.cause = rc.value("cause", "");
            break;
        }
    }
}

std::string_view to_string(verdict v) noexcept {
    switch (v) {
    case verdict::killed:
        return "killed";
    case verdict::survived:
        return "survived";
    case verdict::error:
        return "error";
    }
    return "error";
}

verdict judge(const failpoint& fp, const run_result& r) {
    if (!r.problem.empty() || r.timed_out || (r.exit_code != 0 && r.exit_code != 1))
        return verdict::error;
    const auto& f = r.failed_requirements;
    return std::find(f.begin(), f.end(), fp.requirement) != f.end() ? verdict::killed
                                                                    : verdict::survived;
}

bool outcome::clean_passed() const {
    if (clean.empty()) return false;
    return std::all_of(clean.begin(), clean.end(), [](const run_result& r) {
        return r.problem.empty() && !r.timed_out && r.exit_code == 0;
    });
}

std::size_t outcome::killed() const {
    return static_cast<std::size_t>(
        std::count_if(failpoints.begin(), failpoints.end(),
                      [](const failpoint_result& f) { return f.v == verdict::killed; }));
}

bool outcome::passed() const {
    return !interrupted && clean_passed() && killed() == failpoints.size();
}

std::map<std::string, std::vector<std::string>> strength(const outcome& o) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& f : o.failpoints)
        for (const auto& id : f.run.failed_requirements)
            out[id].push_back(f.fp.name);
    return out;
}

std::vector<std::string> unproven(const outcome& o, const catalogue& cat) {
    const auto kills = strength(o);
    std::vector<std::string> out;
    for (const auto& r : cat.requirements)
        if (r.lvl == level::must && !cat.is_planned(r.id) && kills.count(r.id) == 0)
            out.push_back(r.id);
    return out;
}

nlohmann::json to_json(const outcome& o, const catalogue& cat) {
    nlohmann::json doc;
    doc["schema"] = "agentcheck-selftest/1";
    doc["agent_command"] = o.agent_command;
    doc["scope"] = o.scope;
    doc["level"] = o.level;
    doc["started_at"] = o.started_at;
    doc["duration_s"] = o.duration_s;
    doc["jobs"] = o.jobs;
    doc["seed"] = o.seed;
    doc["interrupted"] = o.interrupted;
    doc["verdict"] = o.passed() ? "pass" : "fail";
    doc["clean_passed"] = o.clean_passed();
    doc["score"] = {{"killed", o.killed()},
                    {"total", o.failpoints.size()},
                    {"ratio", o.failpoints.empty() ? 0.0
                                                   : static_cast<double>(o.killed()) /
                                                         static_cast<double>(o.failpoints.size())}};
    doc["clean"] = nlohmann::json::array();
    for (const auto& r : o.clean)
        doc["clean"].push_back(run_json(r));
    doc["failpoints"] = nlohmann::json::array();
    for (const auto& f : o.failpoints) {
        auto j = run_json(f.run);
        j["name"] = f.fp.name;
        j["requirement"] = f.fp.requirement;
        j["breaks"] = f.fp.breaks;
        j["verdict"] = to_string(f.v);
        j["killing_checks"] = f.run.failed_checks.count(f.fp.requirement) > 0
                                  ? f.run.failed_checks.at(f.fp.requirement)
                                  : std::vector<std::string>{};
        doc["failpoints"].push_back(std::move(j));
    }
    // The kill matrix: failpoint → requirements its run failed.
    nlohmann::json matrix = nlohmann::json::object();
    for (const auto& f : o.failpoints)
        matrix[f.fp.name] = f.run.failed_requirements;
    doc["kill_matrix"] = matrix;
    const auto kills = strength(o);
    nlohmann::json strength_doc = nlohmann::json::array();
    for (const auto& r : cat.requirements) {
        const auto it = kills.find(r.id);
        std::vector<std::string> targeting;
        for (const auto& f : o.failpoints)
            if (f.fp.requirement == r.id) targeting.push_back(f.fp.name);
        strength_doc.push_back(
            {{"id", r.id},
             {"level", to_string(r.lvl)},
             {"section", r.section},
             {"planned", cat.is_planned(r.id)},
             {"kills", it == kills.end() ? 0 : it->second.size()},
             {"killed", it == kills.end() ? std::vector<std::string>{} : it->second},
             {"targeted_by", targeting}});
    }
    doc["requirements"] = strength_doc;
    doc["unproven_must"] = unproven(o, cat);
    return doc;
}

std::string to_markdown(const outcome& o, const catalogue& cat) {
    std::ostringstream s;
    const auto missing = unproven(o, cat);
    s << "# agentcheck selftest: " << (o.passed() ? "PASS" : "FAIL") << "\n\n"
      << "- Mutation score: **" << score_line(o) << "**\n"
      << "- Clean agent: " << (o.clean_passed() ? "passes" : "**does not pass**") << " ("
      << o.clean.size() << " run" << (o.clean.size() == 1 ? "" : "s") << ")\n"
      << "- Scope: " << o.scope << ", level " << o.level << ", " << svg::num(o.duration_s, 0)
      << " s with " << o.jobs << " in parallel\n"
      << "- Unproven MUST requirements (no failpoint is killed by their checks): " << missing.size()
      << "\n";
    if (o.interrupted) s << "- **Interrupted**: not every run finished.\n";
    bool header = false;
    for (const auto& f : o.failpoints) {
        if (f.v == verdict::killed) continue;
        if (!header) {
            s << "\n## Not killed\n\n| failpoint | breaks | verdict | failed instead |\n"
              << "| --- | --- | --- | --- |\n";
            header = true;
        }
        std::string instead;
        for (const auto& id : f.run.failed_requirements)
            instead += (instead.empty() ? "" : ", ") + id;
        if (!f.run.problem.empty()) instead = f.run.problem;
        s << "| `" << f.fp.name << "` | " << text::md_cell(f.fp.breaks) << " | " << to_string(f.v)
          << " | " << text::md_cell(instead.empty() ? "nothing" : instead) << " |\n";
    }
    for (const auto& r : o.clean)
        if (r.exit_code != 0)
            s << "\n**Clean run" << (r.args.empty() ? "" : " (" + r.args + ")")
              << " failed**: " << text::md_cell(r.problem.empty() ? r.cause : r.problem) << "\n";
    return s.str();
}

std::string to_html(const outcome& o, const catalogue& cat) {
    std::ostringstream s;
    const auto missing = unproven(o, cat);
    const auto kills = strength(o);
    s << svg::page_start("agentcheck selftest")
      << "<style>body{max-width:1200px}.wide{overflow-x:auto}</style>"
      << "<h1>agentcheck selftest: <span class=\"" << (o.passed() ? "good\">PASS" : "bad\">FAIL")
      << "</span></h1><p>Mutation score: <strong>" << svg::esc(score_line(o))
      << "</strong>. The clean agent "
      << (o.clean_passed() ? "<span class=\"good\">passes</span>"
                           : "<span class=\"bad\">does not pass</span>")
      << ". Scope: " << svg::esc(o.scope) << ", level " << svg::esc(o.level) << "; "
      << svg::num(o.duration_s, 0) << " s, " << o.jobs << " runs in parallel, seed " << o.seed
      << ".</p><p>Agent command: <code>" << svg::esc(o.agent_command) << "</code></p>";
    if (o.interrupted) s << "<p class=\"bad\">Interrupted: not every run finished.</p>";

    s << "<h2>Kill matrix</h2><p>A row per failpoint, a column per requirement. "
      << "<span style=\"color:#137333\">■</span> the failpoint's own requirement failed "
      << "(killed); <span style=\"color:#b00020\">□</span> its own requirement did not fail; "
      << "<span style=\"color:#e8a400\">■</span> another requirement failed too.</p>"
      << "<div class=\"wide\">" << matrix_svg(o, cat) << "</div>";

    s << "<h2>Requirement strength</h2><p>A MUST requirement is <em>proven</em> when at least "
         "one failpoint is killed by its checks; "
      << missing.size() << " are unproven.</p>" << strength_svg(o, cat);

    s << "<h2>Failpoints</h2><table><tr><th>failpoint</th><th>breaks</th><th>verdict</th>"
         "<th>checks that failed on its requirement</th><th>also failed</th><th>s</th>"
         "<th>report</th></tr>";
    for (const auto& f : o.failpoints) {
        std::string own;
        if (const auto it = f.run.failed_checks.find(f.fp.requirement);
            it != f.run.failed_checks.end())
            for (const auto& c : it->second)
                own += (own.empty() ? "" : ", ") + c;
        std::string other;
        for (const auto& id : f.run.failed_requirements)
            if (id != f.fp.requirement) other += (other.empty() ? "" : ", ") + id;
        s << "<tr><td><code>" << svg::esc(f.fp.name) << "</code></td><td style=\"text-align:left\">"
          << svg::esc(f.fp.breaks) << "</td><td class=\""
          << (f.v == verdict::killed ? "good" : "bad") << "\">" << to_string(f.v)
          << "</td><td style=\"text-align:left\">"
          << svg::esc(f.run.problem.empty() ? text::truncate(own, 200) : f.run.problem)
          << (f.run.cause.empty() ? "" : "<br><small>" + svg::esc(f.run.cause) + "</small>")
          << "</td><td style=\"text-align:left\">" << svg::esc(other) << "</td><td>"
          << svg::num(f.run.seconds, 1) << "</td><td><a href=\""
          << svg::esc(f.run.report_dir + "/report.html") << "\">report</a></td></tr>";
    }
    s << "</table><h2>Clean runs</h2><table><tr><th>extra flags</th><th>exit</th><th>checks</th>"
         "<th>s</th><th>report</th></tr>";
    for (const auto& r : o.clean)
        s << "<tr><td><code>" << svg::esc(r.args.empty() ? "(none)" : r.args) << "</code></td><td"
          << (r.exit_code == 0 ? ">0" : " class=\"bad\">" + std::to_string(r.exit_code))
          << "</td><td>" << r.checks << "</td><td>" << svg::num(r.seconds, 1)
          << "</td><td><a href=\"" << svg::esc(r.report_dir + "/report.html")
          << "\">report</a></td></tr>";
    s << "</table>";

    s << "<h2>Unproven MUST requirements</h2><p>No failpoint breaks these, or none that breaks "
         "them is killed by their checks: their checks have never been seen to fail.</p>";
    for (const auto& sec : cat.sections) {
        std::string line;
        for (const auto& id : missing) {
            const auto* r = cat.find(id);
            if (r == nullptr || r->section != sec.id) continue;
            line += (line.empty() ? "" : ", ") + std::string("<span title=\"") +
                    svg::esc(r->title) + "\">" + svg::esc(id) + "</span>";
        }
        if (!line.empty())
            s << "<p><strong>" << svg::esc(sec.id + " " + sec.title) << "</strong>: " << line
              << "</p>";
    }
    s << "<h2>Proven requirements</h2><table><tr><th>requirement</th><th>level</th>"
         "<th>failpoints killed</th></tr>";
    for (const auto& r : cat.requirements) {
        const auto it = kills.find(r.id);
        if (it == kills.end()) continue;
        std::string names;
        for (const auto& n : it->second)
            names += (names.empty() ? "" : ", ") + n;
        s << "<tr><td>" << svg::esc(r.id + " " + r.title) << "</td><td>" << to_string(r.lvl)
          << "</td><td style=\"text-align:left\">" << it->second.size() << ": " << svg::esc(names)
          << "</td></tr>";
    }
    s << "</table></body></html>\n";
    return s.str();
}

std::map<std::string, int> strength_from_json(const nlohmann::json& doc) {
    if (!doc.is_object() || doc.value("schema", "") != "agentcheck-selftest/1" ||
        !doc.contains("requirements") || !doc["requirements"].is_array())
        throw std::invalid_argument(
            "not a selftest.json of schema agentcheck-selftest/1 (agentcheck selftest writes it)");
    std::map<std::string, int> out;
    for (const auto& r : doc["requirements"])
        if (r.is_object() && r.contains("id") && r["id"].is_string())
            out[r["id"].get<std::string>()] = r.value("kills", 0);
    return out;
}

} // namespace agentcheck::selftest
