// results.html: one self-contained page (no script, no external file) with inline SVG plots.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "conformance/load/results.hpp"
#include "conformance/load/svg_chart.hpp"

namespace agentcheck::load {
namespace {

constexpr double us_per_ms = 1000.0;

using svg::chart;
using svg::esc;
using svg::num;
using svg::series_line;

/// The percentile distribution on HdrHistogram's axis: x = log10(1 / (1 - p)).
series_line distribution_line(const histogram& h, const std::string& label,
                              const std::string& colour, double x_cap) {
    series_line l{label, colour, {}};
    for (const auto& row : h.distribution(8)) {
        if (row.percentile >= 100) continue;
        const double x = std::log10(1.0 / (1.0 - row.percentile / 100.0));
        if (x > x_cap) break;
        l.points.emplace_back(x, static_cast<double>(row.value) / us_per_ms);
    }
    if (h.count()) l.points.emplace_back(x_cap, static_cast<double>(h.max()) / us_per_ms);
    return l;
}

} // namespace

std::string to_html(const run_data& d, const std::vector<threshold_result>& ts) {
    const auto t = total(d);
    const auto g = health(d);
    std::ostringstream html;
    html << svg::page_start("agentcheck load: " + d.options.target);
    html << "<h1>Load: " << esc(d.options.target) << "</h1>";
    html << "<p><code>" << esc(d.command) << "</code></p>";
    const double rps = d.measured_s > 0 ? static_cast<double>(t.requests) / d.measured_s : 0;
    html << "<p>" << t.requests << " requests in " << num(d.measured_s, 1) << " s: <b>"
         << num(rps, 0) << " req/s</b>";
    if (d.options.mdl == model::open)
        html << " (intended " << num(d.options.rate, 0) << ", " << num(g.achieved_ratio * 100, 1)
             << "%)";
    html << "; errors " << t.errors << " (" << num(t.error_rate() * 100, 3) << "%). Model: "
         << (d.options.mdl == model::open ? "open (constant arrival rate)" : "closed") << ", "
         << d.options.connections << " connections, " << d.options.threads << " thread(s)"
         << (d.shards_merged > 1 ? ", " + std::to_string(d.shards_merged) + " shards merged" : "")
         << ".</p>";
    if (!g.keeping_up) html << "<p class=\"bad\">" << esc(g.reason) << "</p>";
    if (!ts.empty()) {
        html << "<h2>Thresholds</h2><table><tr><th>threshold</th><th>actual</th><th></th></tr>";
        for (const auto& r : ts)
            html << "<tr><td><code>" << esc(r.t.expression) << "</code></td><td>"
                 << num(r.actual, 4) << "</td><td class=\"" << (r.ok ? "good" : "bad") << "\">"
                 << (r.ok ? "ok" : "breach") << "</td></tr>";
        html << "</table>";
    }
    html << "<h2>Latency (ms)</h2><table><tr><th></th><th>p50</th><th>p90</th><th>p99</th>"
            "<th>p99.9</th><th>max</th><th>requests</th><th>errors</th></tr>";
    auto row = [&](const std::string& name, const histogram& h, std::uint64_t n, std::uint64_t e) {
        html << "<tr><td>" << esc(name) << "</td>";
        for (double p : {50.0, 90.0, 99.0, 99.9})
            html << "<td>" << num(static_cast<double>(h.value_at_percentile(p)) / us_per_ms, 3)
                 << "</td>";
        html << "<td>" << num(static_cast<double>(h.max()) / us_per_ms, 3) << "</td><td>" << n
             << "</td><td>" << e << "</td></tr>";
    };
    row("all (from the intended start)", t.corrected, t.requests, t.errors);
    row("all (from the write)", t.uncorrected, t.requests, t.errors);
    for (const auto& op : d.operations)
        row(op.name, op.corrected, op.requests, op.requests - op.ok);
    html << "</table>";

    // The percentile distribution, corrected and uncorrected.
    double x_cap = 2; // 99%
    for (double cap : {3.0, 4.0, 5.0})
        if (static_cast<double>(t.corrected.count()) >= std::pow(10.0, cap)) x_cap = cap;
    std::vector<std::pair<double, std::string>> px;
    for (int i = 0; i <= static_cast<int>(x_cap); ++i) {
        static const char* names[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
        px.emplace_back(i, names[i]);
    }
    html << chart("Latency by percentile (log scale of 1/(1-p), as HdrHistogram plots it)", "ms",
                  {distribution_line(t.corrected, "from the intended start", "#1a73e8", x_cap),
                   distribution_line(t.uncorrected, "from the write", "#e8710a", x_cap)},
                  0, x_cap, px);

    // Over time.
    series_line thr{"answers per second", "#1a73e8", {}};
    series_line p50{"p50", "#34a853", {}};
    series_line p99{"p99", "#d93025", {}};
    series_line err{"errors per second", "#d93025", {}};
    double last = 1;
    for (const auto& s : d.seconds) {
        const double x = s.second + 1;
        last = std::max(last, x);
        thr.points.emplace_back(x, static_cast<double>(s.requests));
        p50.points.emplace_back(x, static_cast<double>(s.corrected.value_at_percentile(50)) /
                                       us_per_ms);
        p99.points.emplace_back(x, static_cast<double>(s.corrected.value_at_percentile(99)) /
                                       us_per_ms);
        err.points.emplace_back(x, static_cast<double>(s.errors));
    }
    const auto tx = svg::second_ticks(last);
    html << chart("Throughput over time", "req/s", {thr}, 0, last, tx);
    html << chart("Latency over time (from the intended start)", "ms", {p50, p99}, 0, last, tx);
    html << chart("Errors over time", "errors/s", {err}, 0, last, tx);

    if (d.subscribers) {
        const auto& sub = *d.subscribers;
        html << "<h2>WebSocket subscribers</h2><p>" << sub.subscribers
             << " held open on /events/stream saw " << sub.messages
             << " events; from commit to subscriber (to 1 ms) p50 "
             << num(static_cast<double>(sub.delivery.value_at_percentile(50)) / us_per_ms, 1)
             << " ms, p99 "
             << num(static_cast<double>(sub.delivery.value_at_percentile(99)) / us_per_ms, 1)
             << " ms, max " << num(static_cast<double>(sub.delivery.max()) / us_per_ms, 1)
             << " ms; <span class=\"" << (sub.gaps + sub.duplicates ? "bad" : "good") << "\">"
             << sub.gaps << " gaps, " << sub.duplicates << " duplicates</span>, "
             << sub.closed_early << " closed early.</p>";
    }
    html << "<h2>Generator</h2><p>Schedule lag p99 " << num(g.lag_p99_ms, 3) << " ms, max "
         << num(static_cast<double>(d.schedule_lag.max()) / us_per_ms, 3) << " ms; " << d.connects
         << " connections opened, " << d.connect_errors << " failed to connect; CPU "
         << num(d.generator_cpu_s, 2) << " s.</p>";
    html << "<h2>Environment</h2><table>";
    for (const auto& [k, v] : d.environment.items())
        html << "<tr><td>" << esc(k) << "</td><td>"
             << esc(v.is_string() ? v.get<std::string>() : v.dump()) << "</td></tr>";
    html << "</table>";
    for (const auto& n : d.notes)
        html << "<p>Note: " << esc(n) << "</p>";
    html << "</body></html>\n";
    return html.str();
}

} // namespace agentcheck::load
