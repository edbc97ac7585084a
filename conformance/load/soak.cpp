#include "conformance/load/soak.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "conformance/load/svg_chart.hpp"

namespace agentcheck::soak {
namespace {

constexpr double seconds_per_minute = 60;
constexpr double kib_per_mib = 1024;
constexpr double warmup_share = 0.2;
constexpr double warmup_floor_s = 10;
constexpr std::size_t min_fitted = 3;

using load::svg::esc;
using load::svg::num;

std::string mib(long long kib) {
    return num(static_cast<double>(kib) / kib_per_mib, 1) + " MiB";
}

std::string rss_chart(const report& r) {
    load::svg::series_line rss{"RSS", "#1a73e8", {}};
    for (const auto& s : r.samples)
        if (s.rss_kib >= 0)
            rss.points.emplace_back(s.t_s, static_cast<double>(s.rss_kib) / kib_per_mib);
    const double last = r.samples.empty() ? 1 : std::max(1.0, r.samples.back().t_s);
    std::vector<load::svg::series_line> lines{rss};
    if (r.v.rss.defined) {
        const double from = std::min(r.lim.warmup_s, last);
        lines.push_back(
            {"least squares: " + num(r.v.rss_slope_kib_per_min, 1) + " KiB/min",
             "#d93025",
             {{from, r.v.rss.at(from) / kib_per_mib}, {last, r.v.rss.at(last) / kib_per_mib}},
             true});
    }
    load::svg::chart_options o;
    o.x_max = last;
    o.x_labels = load::svg::second_ticks(last);
    o.y_from_zero = false;
    if (r.lim.warmup_s > 0) o.markers.push_back({r.lim.warmup_s, "end of warm-up", "#888"});
    return load::svg::chart("Resident memory (RSS) over time", "MiB", lines, o);
}

std::string fd_chart(const report& r) {
    load::svg::series_line fds{"open descriptors", "#1a73e8", {}};
    for (const auto& s : r.samples)
        if (s.fds >= 0) fds.points.emplace_back(s.t_s, s.fds);
    const double last = r.samples.empty() ? 1 : std::max(1.0, r.samples.back().t_s);
    std::vector<load::svg::series_line> lines{fds};
    const double from = std::min(r.lim.warmup_s, last);
    if (r.v.fds.defined)
        lines.push_back({"least squares",
                         "#d93025",
                         {{from, r.v.fds.at(from)}, {last, r.v.fds.at(last)}},
                         true});
    if (r.v.measured_samples > 0) {
        const double limit = r.v.fd_max_warmup + r.lim.fd_growth_max;
        lines.push_back({"limit", "#888", {{from, limit}, {last, limit}}, true});
    }
    load::svg::chart_options o;
    o.x_max = last;
    o.x_labels = load::svg::second_ticks(last);
    if (r.lim.warmup_s > 0) o.markers.push_back({r.lim.warmup_s, "end of warm-up", "#888"});
    return load::svg::chart("Open descriptors over time", "descriptors", lines, o);
}

} // namespace

line_fit least_squares(const std::vector<std::pair<double, double>>& points) {
    line_fit f;
    f.points = points.size();
    if (points.size() < 2) return f;
    // Centred sums: numerically stable for large x (seconds) and y (KiB).
    double mx = 0;
    double my = 0;
    for (const auto& [x, y] : points) {
        mx += x;
        my += y;
    }
    const auto n = static_cast<double>(points.size());
    mx /= n;
    my /= n;
    double sxx = 0;
    double sxy = 0;
    for (const auto& [x, y] : points) {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    if (sxx <= 0) return f;
    f.slope = sxy / sxx;
    f.intercept = my - f.slope * mx;
    f.defined = true;
    return f;
}

double default_warmup_s(double duration_s) {
    const double share = warmup_share * duration_s;
    if (duration_s >= 2 * warmup_floor_s) return std::max(share, warmup_floor_s);
    return std::max(share, 0.0);
}

verdict judge(const std::vector<sample>& samples, const limits& l) {
    verdict v;
    std::vector<std::pair<double, double>> rss;
    std::vector<std::pair<double, double>> fds;
    bool have_warmup_fd = false;
    for (const auto& s : samples) {
        if (s.rss_kib < 0 || s.fds < 0) continue;
        if (s.t_s < l.warmup_s) {
            ++v.warmup_samples;
            v.fd_max_warmup = have_warmup_fd ? std::max(v.fd_max_warmup, s.fds) : s.fds;
            have_warmup_fd = true;
            continue;
        }
        if (v.measured_samples == 0) {
            v.rss_min_kib = v.rss_max_kib = s.rss_kib;
            v.fd_max_after = s.fds;
            if (!have_warmup_fd) v.fd_max_warmup = s.fds; // no warm-up: the first sample
        }
        ++v.measured_samples;
        v.rss_min_kib = std::min(v.rss_min_kib, s.rss_kib);
        v.rss_max_kib = std::max(v.rss_max_kib, s.rss_kib);
        v.fd_max_after = std::max(v.fd_max_after, s.fds);
        rss.emplace_back(s.t_s, static_cast<double>(s.rss_kib));
        fds.emplace_back(s.t_s, s.fds);
    }
    v.rss = least_squares(rss);
    v.fds = least_squares(fds);
    v.rss_slope_kib_per_min = v.rss.slope * seconds_per_minute;
    v.fd_slope_per_min = v.fds.slope * seconds_per_minute;
    const double window_min =
        fds.size() >= 2 ? (fds.back().first - fds.front().first) / seconds_per_minute : 0;
    v.fd_slope_tolerance_per_min =
        std::max(l.fd_slope_max_per_min, window_min > 0 ? fd_rise_floor / window_min : 0.0);
    if (v.measured_samples < min_fitted || !v.rss.defined) {
        v.pass = false;
        v.reasons.push_back(std::to_string(v.measured_samples) + " samples after the warm-up of " +
                            num(l.warmup_s, 1) +
                            " s: too few to fit a line (at least 3; a longer --duration or a "
                            "shorter --warmup)");
        return v;
    }
    if (v.rss_slope_kib_per_min > l.rss_slope_max_kib_per_min) {
        v.pass = false;
        v.reasons.push_back("RSS grows " + num(v.rss_slope_kib_per_min, 1) +
                            " KiB/min after the warm-up (least squares over " +
                            std::to_string(v.measured_samples) + " samples), more than the " +
                            num(l.rss_slope_max_kib_per_min, 0) + " KiB/min allowed");
    }
    if (v.fd_max_after > v.fd_max_warmup + l.fd_growth_max) {
        v.pass = false;
        v.reasons.push_back("open descriptors reached " + std::to_string(v.fd_max_after) +
                            " after the warm-up, more than its maximum " +
                            std::to_string(v.fd_max_warmup) + " + " +
                            std::to_string(l.fd_growth_max) + " allowed");
    }
    if (v.fd_slope_per_min > v.fd_slope_tolerance_per_min) {
        v.pass = false;
        v.reasons.push_back("open descriptors grow " + num(v.fd_slope_per_min, 2) +
                            " per minute after the warm-up (least squares), more than the " +
                            num(v.fd_slope_tolerance_per_min, 2) + " per minute tolerated");
    }
    return v;
}

nlohmann::json to_json(const report& r) {
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : r.samples)
        samples.push_back(
            {{"t_s", std::round(s.t_s * 1000) / 1000}, {"rss_kib", s.rss_kib}, {"fds", s.fds}});
    const auto& v = r.v;
    nlohmann::json j = {
        {"schema", schema},
        {"verdict", r.interrupted ? "interrupted" : (r.passed() ? "pass" : "fail")},
        {"failures", r.failures},
        {"command", r.command},
        {"agent_command", r.agent_command},
        {"target", r.target},
        {"scenario", r.scenario},
        {"duration_s", r.duration_s},
        {"rate", r.rate},
        {"warmup_s", r.lim.warmup_s},
        {"tolerance",
         {{"rss_slope_max_kib_per_min", r.lim.rss_slope_max_kib_per_min},
          {"fd_growth_max", r.lim.fd_growth_max},
          {"fd_slope_max_per_min", r.lim.fd_slope_max_per_min},
          {"fd_slope_tolerance_per_min", v.fd_slope_tolerance_per_min}}},
        {"rss",
         {{"slope_kib_per_min", v.rss_slope_kib_per_min},
          {"intercept_kib", v.rss.intercept},
          {"fitted", v.rss.defined},
          {"min_kib", v.rss_min_kib},
          {"max_kib", v.rss_max_kib}}},
        {"fds",
         {{"slope_per_min", v.fd_slope_per_min},
          {"intercept", v.fds.intercept},
          {"max_during_warmup", v.fd_max_warmup},
          {"max_after_warmup", v.fd_max_after}}},
        {"samples_warmup", v.warmup_samples},
        {"samples_measured", v.measured_samples},
        {"samples", samples},
        {"load", r.load},
        {"agent",
         {{"died", r.agent_died},
          {"exit", r.agent_exit},
          {"killed_after_sigterm", r.agent_killed},
          {"log", r.agent_log}}},
        {"notes", r.notes},
    };
    if (!r.agent_log_tail.empty()) j["agent"]["log_tail"] = r.agent_log_tail;
    return j;
}

std::string to_html(const report& r) {
    const auto& v = r.v;
    std::ostringstream html;
    html << load::svg::page_start("agentcheck soak: " + r.target);
    html << "<h1>Soak: " << esc(r.target) << "</h1>";
    html << "<p><code>" << esc(r.command) << "</code></p>";
    html << "<p>Agent: <code>" << esc(r.agent_command) << "</code></p>";
    if (r.interrupted)
        html << "<p class=\"bad\">Interrupted: the soak did not run its whole duration.</p>";
    else if (r.passed())
        html << "<p class=\"good\">Pass: memory and descriptors are flat after the warm-up.</p>";
    for (const auto& f : r.failures)
        html << "<p class=\"bad\">" << esc(f) << "</p>";
    html << "<p>" << num(r.duration_s, 0) << " s of scenario <b>" << esc(r.scenario) << "</b> at "
         << num(r.rate, 0) << " req/s (open model); " << r.samples.size()
         << " samples, one a second; warm-up " << num(r.lim.warmup_s, 1) << " s ("
         << v.warmup_samples << " samples, not fitted).</p>";
    html << "<table><tr><th>figure</th><th>measured</th><th>tolerance</th></tr>";
    html << "<tr><td>RSS slope after the warm-up (least squares)</td><td>"
         << num(v.rss_slope_kib_per_min, 1) << " KiB/min</td><td>&le; "
         << num(r.lim.rss_slope_max_kib_per_min, 0) << " KiB/min</td></tr>";
    html << "<tr><td>RSS after the warm-up, min / max</td><td>" << mib(v.rss_min_kib) << " / "
         << mib(v.rss_max_kib) << "</td><td></td></tr>";
    html << "<tr><td>descriptors after the warm-up, max</td><td>" << v.fd_max_after
         << "</td><td>&le; " << v.fd_max_warmup << " + " << r.lim.fd_growth_max << "</td></tr>";
    html << "<tr><td>descriptor slope after the warm-up</td><td>" << num(v.fd_slope_per_min, 2)
         << " /min</td><td>&le; " << num(v.fd_slope_tolerance_per_min, 2) << " /min</td></tr>";
    if (r.load.contains("requests"))
        html << "<tr><td>load: requests, errors</td><td>" << r.load["requests"].dump() << ", "
             << r.load.value("errors", 0) << "</td><td>"
             << (r.load_ok ? "" : "<span class=\"bad\">breach</span>") << "</td></tr>";
    html << "</table>";
    html << rss_chart(r) << fd_chart(r);
    html << "<h2>Agent</h2><p>Log: <code>" << esc(r.agent_log) << "</code>. "
         << (r.agent_died
                 ? "<span class=\"bad\">It died during the soak (" + esc(r.agent_exit) + ").</span>"
                 : "After SIGTERM: " + esc(r.agent_exit.empty() ? "-" : r.agent_exit) +
                       (r.agent_killed ? " (killed: it did not exit within 30 s)" : "") + ".")
         << "</p>";
    if (!r.agent_log_tail.empty()) html << "<pre>" << esc(r.agent_log_tail) << "</pre>";
    for (const auto& n : r.notes)
        html << "<p>Note: " << esc(n) << "</p>";
    html << "</body></html>\n";
    return html.str();
}

} // namespace agentcheck::soak
