#include "conformance/load/results.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>

namespace agentcheck::load {
namespace {

constexpr double us_per_ms = 1000.0;
constexpr double percent = 100.0;
constexpr double default_lag_ms = 5.0;
constexpr double keep_up_ratio = 0.95;

double ms(std::int64_t us) {
    return static_cast<double>(us) / us_per_ms;
}

std::string fixed(double v, int digits) {
    std::ostringstream ss;
    ss << std::fixed << std::setprecision(digits) << v;
    return ss.str();
}

/// 12,345
std::string grouped(double v) {
    auto s = std::to_string(static_cast<long long>(std::llround(v)));
    for (int i = static_cast<int>(s.size()) - 3; i > (s[0] == '-' ? 1 : 0); i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

nlohmann::json percentiles_ms(const histogram& h) {
    return {{"p50", ms(h.value_at_percentile(50))},
            {"p75", ms(h.value_at_percentile(75))},
            {"p90", ms(h.value_at_percentile(90))},
            {"p95", ms(h.value_at_percentile(95))},
            {"p99", ms(h.value_at_percentile(99))},
            {"p99.9", ms(h.value_at_percentile(99.9))},
            {"p99.99", ms(h.value_at_percentile(99.99))},
            {"min", ms(h.min())},
            {"max", ms(h.max())},
            {"mean", h.mean() / us_per_ms},
            {"stddev", h.stddev() / us_per_ms},
            {"count", h.count()}};
}

const char* model_name(model m) {
    return m == model::open ? "open" : "closed";
}

std::optional<failure> failure_named(std::string_view n) {
    for (auto f : all_failures)
        if (n == to_string(f)) return f;
    return std::nullopt;
}

histogram histogram_field(const nlohmann::json& j, const std::string& where) {
    std::string why;
    auto h = histogram::from_json(j, &why);
    if (!h) throw spec_error(where + ": " + why);
    return *h;
}

/// A latency metric's percentile, or nullopt when the name is not one.
std::optional<double> latency_percentile(std::string_view metric) {
    static const std::map<std::string, double, std::less<>> names = {
        {"p50", 50},     {"p75", 75},    {"p90", 90},       {"p95", 95},  {"p99", 99},
        {"p99.9", 99.9}, {"p999", 99.9}, {"p99.99", 99.99}, {"max", 100}, {"median", 50}};
    auto it = names.find(metric);
    if (it == names.end()) return std::nullopt;
    return it->second;
}

double run_rate(const run_data& d, std::uint64_t answered) {
    return d.measured_s > 0 ? static_cast<double>(answered) / d.measured_s : 0;
}

} // namespace

run_data from_engine(const engine_result& r, run_options options) {
    run_data d;
    d.options = std::move(options);
    d.operations = r.operations;
    d.seconds = r.seconds;
    d.schedule_lag = r.schedule_lag;
    d.intended = r.intended;
    d.unsent = r.unsent;
    d.connects = r.connects;
    d.connect_errors = r.connect_errors;
    d.measured_s = std::chrono::duration<double>(r.measured).count();
    if (d.options.max_lag_ms <= 0) d.options.max_lag_ms = default_lag_ms;
    return d;
}

totals total(const run_data& d) {
    operation_stats all;
    for (const auto& op : d.operations)
        all.add(op);
    totals t;
    t.requests = all.requests;
    t.ok = all.ok;
    t.errors = all.requests - all.ok;
    t.statuses = std::move(all.statuses);
    t.failures = std::move(all.failures);
    t.corrected = std::move(all.corrected);
    t.uncorrected = std::move(all.uncorrected);
    return t;
}

generator_health health(const run_data& d) {
    generator_health g;
    g.lag_p99_ms = ms(d.schedule_lag.value_at_percentile(99));
    if (d.options.mdl != model::open) return g;
    const auto t = total(d);
    const double intended_rate = d.options.rate;
    g.achieved_ratio = intended_rate > 0 ? run_rate(d, t.requests) / intended_rate : 0;
    const double bound = d.options.max_lag_ms > 0 ? d.options.max_lag_ms : default_lag_ms;
    if (g.lag_p99_ms > bound) {
        g.keeping_up = false;
        g.reason = "the generator took arrivals late (schedule lag p99 " + fixed(g.lag_p99_ms, 2) +
                   " ms > " + fixed(bound, 2) +
                   " ms): it could not keep up; give it more --threads or a core of its own";
    } else if (d.options.requests == 0 &&
               static_cast<double>(d.intended) < keep_up_ratio * intended_rate * d.measured_s *
                                                     (d.options.ramp_s > 0 ? 0.5 : 1.0)) {
        g.keeping_up = false;
        g.reason = "the generator scheduled " + grouped(static_cast<double>(d.intended)) +
                   " arrivals, fewer than the rate asks for";
    }
    return g;
}

std::string threshold_metrics_help() {
    return "latency (corrected, per request from its intended start): p50 p75 p90 p95 p99 "
           "p99.9 p99.99 max mean, in ms, us or s; uncorrected_p50 … uncorrected_max; "
           "errors (a ratio: 0.1% or 0.001); error_count; rps (answers per second; a number or "
           "K*rate); requests; lag_p99 and lag_max (the generator's schedule lag); "
           "delivery_p50 … delivery_max (event to WebSocket subscriber) and stream_gaps (gaps "
           "and duplicates seen by subscribers); each may be prefixed with an operation's name: "
           "get_agent.p99<5ms";
}

threshold parse_threshold(const std::string& text, double rate,
                          const std::vector<std::string>& operations) {
    static const std::regex grammar(
        R"(^\s*([A-Za-z0-9_.\-]+?)\s*(<=|>=|<|>)\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(\*\s*rate|ms|us|s|%)?\s*$)");
    std::smatch m;
    if (!std::regex_match(text, m, grammar))
        throw spec_error("--threshold \"" + text +
                         "\": not of the form METRIC<VALUE (e.g. p99<20ms, errors<0.1%, "
                         "rps>=0.95*rate)");
    threshold t;
    t.expression = text;
    std::string name = m[1].str();
    t.comparison = m[2].str();
    const double number = std::stod(m[3].str());
    std::string unit = m[4].str();
    unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
    // An operation prefix: the longest operation name followed by '.'.
    for (const auto& op : operations) {
        if (name.size() > op.size() + 1 && name.starts_with(op) && name[op.size()] == '.' &&
            op.size() > t.operation.size())
            t.operation = op;
    }
    if (!t.operation.empty()) name = name.substr(t.operation.size() + 1);
    t.metric = name;
    const auto bad_unit = [&](const std::string& want) {
        return spec_error("--threshold \"" + text + "\": " + name + " needs " + want);
    };
    std::string base = name;
    if (base.starts_with("uncorrected_")) base = base.substr(std::string("uncorrected_").size());
    if (base.starts_with("delivery_")) base = base.substr(std::string("delivery_").size());
    if (latency_percentile(base) || base == "mean" || name == "lag_p99" || name == "lag_max") {
        if (unit == "ms")
            t.limit = number;
        else if (unit == "us")
            t.limit = number / us_per_ms;
        else if (unit == "s")
            t.limit = number * us_per_ms;
        else
            throw bad_unit("a time unit (ms, us or s)");
    } else if (name == "errors") {
        if (unit == "%")
            t.limit = number / percent;
        else if (unit.empty())
            t.limit = number;
        else
            throw bad_unit("a ratio (0.1% or 0.001)");
        if (t.limit > 1) throw bad_unit("a ratio of at most 100%");
    } else if (name == "rps") {
        if (unit == "*rate") {
            if (rate <= 0)
                throw spec_error("--threshold \"" + text +
                                 "\": K*rate needs --rate (the open "
                                 "model)");
            t.limit = number * rate;
        } else if (unit.empty()) {
            t.limit = number;
        } else {
            throw bad_unit("requests per second (a number, or K*rate)");
        }
    } else if (name == "requests" || name == "error_count" || name == "stream_gaps") {
        if (!unit.empty()) throw bad_unit("a count (no unit)");
        t.limit = number;
    } else {
        const auto dot = name.find('.');
        if (t.operation.empty() && dot != std::string::npos && !latency_percentile(name)) {
            std::string ops;
            for (const auto& o : operations)
                ops += (ops.empty() ? "" : ", ") + o;
            throw spec_error("--threshold \"" + text + "\": no operation named \"" +
                             name.substr(0, dot) + "\" (the scenario has " + ops + ")");
        }
        throw spec_error("--threshold \"" + text + "\": unknown metric \"" + name +
                         "\"; metrics: " + threshold_metrics_help());
    }
    return t;
}

namespace {
bool holds(const threshold& t, double actual) {
    if (t.comparison == "<") return actual < t.limit;
    if (t.comparison == "<=") return actual <= t.limit;
    if (t.comparison == ">") return actual > t.limit;
    return actual >= t.limit;
}
} // namespace

std::vector<threshold_result> evaluate(const run_data& d, const std::vector<threshold>& ts) {
    std::vector<threshold_result> out;
    const auto all = total(d);
    for (const auto& t : ts) {
        totals scope;
        if (t.operation.empty()) {
            scope = all;
        } else {
            for (const auto& op : d.operations) {
                if (op.name != t.operation) continue;
                scope.requests = op.requests;
                scope.ok = op.ok;
                scope.errors = op.requests - op.ok;
                scope.corrected = op.corrected;
                scope.uncorrected = op.uncorrected;
            }
        }
        threshold_result r{t, 0, false};
        std::string base = t.metric;
        if (base.starts_with("delivery_")) {
            const auto sub = d.subscribers.value_or(subscriber_stats{});
            const auto which = base.substr(std::string("delivery_").size());
            r.actual =
                which == "mean"
                    ? sub.delivery.mean() / us_per_ms
                    : ms(sub.delivery.value_at_percentile(latency_percentile(which).value_or(100)));
            r.ok = holds(t, r.actual);
            out.push_back(std::move(r));
            continue;
        }
        const bool uncorrected = base.starts_with("uncorrected_");
        if (uncorrected) base = base.substr(std::string("uncorrected_").size());
        const auto& h = uncorrected ? scope.uncorrected : scope.corrected;
        if (auto p = latency_percentile(base))
            r.actual = ms(h.value_at_percentile(*p));
        else if (base == "mean")
            r.actual = h.mean() / us_per_ms;
        else if (t.metric == "lag_p99")
            r.actual = ms(d.schedule_lag.value_at_percentile(99));
        else if (t.metric == "lag_max")
            r.actual = ms(d.schedule_lag.max());
        else if (t.metric == "errors")
            r.actual = scope.error_rate();
        else if (t.metric == "error_count")
            r.actual = static_cast<double>(scope.errors);
        else if (t.metric == "rps")
            r.actual = run_rate(d, scope.requests);
        else if (t.metric == "requests")
            r.actual = static_cast<double>(scope.requests);
        else if (t.metric == "stream_gaps")
            r.actual = d.subscribers
                           ? static_cast<double>(d.subscribers->gaps + d.subscribers->duplicates)
                           : 0.0;
        r.ok = holds(t, r.actual);
        out.push_back(std::move(r));
    }
    return out;
}

namespace {

nlohmann::json counts_json(const std::map<int, std::uint64_t>& statuses) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : statuses)
        j[std::to_string(k)] = v;
    return j;
}

nlohmann::json failures_json(const std::map<failure, std::uint64_t>& fs) {
    nlohmann::json j = nlohmann::json::object();
    for (auto f : all_failures) {
        auto it = fs.find(f);
        j[to_string(f)] = it == fs.end() ? 0 : it->second;
    }
    return j;
}

nlohmann::json subscribers_json(const subscriber_stats& s) {
    auto j = s.to_json();
    j["delivery_ms"] = percentiles_ms(s.delivery);
    return j;
}

} // namespace

nlohmann::json to_json(const run_data& d, const std::vector<threshold_result>& thresholds) {
    const auto t = total(d);
    const auto g = health(d);
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : d.operations) {
        ops.push_back({{"name", op.name},
                       {"requests", op.requests},
                       {"ok", op.ok},
                       {"errors", op.requests - op.ok},
                       {"rps", run_rate(d, op.requests)},
                       {"latency_ms", percentiles_ms(op.corrected)},
                       {"uncorrected_latency_ms", percentiles_ms(op.uncorrected)},
                       {"statuses", counts_json(op.statuses)},
                       {"failures", failures_json(op.failures)},
                       {"histogram", op.corrected.to_json()},
                       {"uncorrected_histogram", op.uncorrected.to_json()}});
    }
    nlohmann::json series = nlohmann::json::array();
    for (const auto& s : d.seconds) {
        series.push_back({{"second", s.second},
                          {"requests", s.requests},
                          {"errors", s.errors},
                          {"p50_ms", ms(s.corrected.value_at_percentile(50))},
                          {"p99_ms", ms(s.corrected.value_at_percentile(99))},
                          {"max_ms", ms(s.corrected.max())},
                          {"histogram", s.corrected.to_json()}});
    }
    nlohmann::json th = nlohmann::json::array();
    bool thresholds_ok = true;
    for (const auto& r : thresholds) {
        thresholds_ok = thresholds_ok && r.ok;
        th.push_back({{"expression", r.t.expression},
                      {"operation", r.t.operation},
                      {"metric", r.t.metric},
                      {"comparison", r.t.comparison},
                      {"limit", r.t.limit},
                      {"actual", r.actual},
                      {"ok", r.ok}});
    }
    const auto& o = d.options;
    nlohmann::json options = {{"target", o.target},
                              {"scenario", o.scenario},
                              {"model", model_name(o.mdl)},
                              {"rate", o.rate},
                              {"ramp_s", o.ramp_s},
                              {"connections", o.connections},
                              {"duration_s", o.duration_s},
                              {"requests", o.requests},
                              {"threads", o.threads},
                              {"timeout_s", o.timeout_s},
                              {"seed", o.seed},
                              {"max_lag_ms", o.max_lag_ms},
                              {"shard", {{"index", o.shard_index}, {"count", o.shard_count}}}};
    std::string verdict = "pass";
    if (!g.keeping_up) verdict = "generator_overloaded";
    if (!thresholds_ok) verdict = "fail";
    return {{"schema", results_schema},
            {"command", d.command},
            {"environment", d.environment},
            {"options", options},
            {"shards_merged", d.shards_merged},
            {"summary",
             {{"requests", t.requests},
              {"ok", t.ok},
              {"errors", t.errors},
              {"error_rate", t.error_rate()},
              {"intended", d.intended},
              {"unsent", d.unsent},
              {"rps", run_rate(d, t.requests)},
              {"intended_rate", o.mdl == model::open ? o.rate : 0.0},
              {"measured_s", d.measured_s},
              {"connects", d.connects},
              {"connect_errors", d.connect_errors},
              {"generator_cpu_s", d.generator_cpu_s},
              {"generator_cpu_us_per_request",
               t.requests ? d.generator_cpu_s * 1e6 / static_cast<double>(t.requests) : 0.0},
              {"latency_ms", percentiles_ms(t.corrected)},
              {"uncorrected_latency_ms", percentiles_ms(t.uncorrected)},
              {"schedule_lag_ms", percentiles_ms(d.schedule_lag)},
              {"statuses", counts_json(t.statuses)},
              {"failures", failures_json(t.failures)}}},
            {"generator",
             {{"keeping_up", g.keeping_up},
              {"achieved_ratio", g.achieved_ratio},
              {"lag_p99_ms", g.lag_p99_ms},
              {"reason", g.reason}}},
            {"operations", ops},
            {"histograms",
             {{"latency", t.corrected.to_json()},
              {"uncorrected", t.uncorrected.to_json()},
              {"schedule_lag", d.schedule_lag.to_json()}}},
            {"series", series},
            {"subscribers", d.subscribers ? subscribers_json(*d.subscribers) : nlohmann::json()},
            {"thresholds", th},
            {"notes", d.notes},
            {"verdict", verdict}};
}

run_data from_json(const nlohmann::json& j) {
    if (!j.is_object() || j.value("schema", "") != results_schema)
        throw spec_error(std::string("not an agentcheck load results document (schema ") +
                         results_schema + ")");
    try {
        run_data d;
        const auto& o = j.at("options");
        d.options.target = o.value("target", "");
        d.options.scenario = o.value("scenario", "");
        d.options.mdl = o.value("model", "closed") == "open" ? model::open : model::closed;
        d.options.rate = o.value("rate", 0.0);
        d.options.ramp_s = o.value("ramp_s", 0.0);
        d.options.connections = o.value("connections", 0);
        d.options.duration_s = o.value("duration_s", 0.0);
        d.options.requests = o.value("requests", std::uint64_t{0});
        d.options.threads = o.value("threads", 1);
        d.options.timeout_s = o.value("timeout_s", 0.0);
        d.options.seed = o.value("seed", std::uint64_t{0});
        d.options.max_lag_ms = o.value("max_lag_ms", default_lag_ms);
        if (o.contains("shard")) {
            d.options.shard_index = o["shard"].value("index", 0U);
            d.options.shard_count = o["shard"].value("count", 1U);
        }
        d.command = j.value("command", "");
        d.environment = j.value("environment", nlohmann::json::object());
        d.shards_merged = j.value("shards_merged", 1U);
        const auto& s = j.at("summary");
        d.intended = s.value("intended", std::uint64_t{0});
        d.unsent = s.value("unsent", std::uint64_t{0});
        d.connects = s.value("connects", std::uint64_t{0});
        d.connect_errors = s.value("connect_errors", std::uint64_t{0});
        d.measured_s = s.value("measured_s", 0.0);
        d.generator_cpu_s = s.value("generator_cpu_s", 0.0);
        d.schedule_lag =
            histogram_field(j.at("histograms").at("schedule_lag"), "histograms.schedule_lag");
        for (const auto& op : j.at("operations")) {
            operation_stats st;
            st.name = op.at("name").get<std::string>();
            st.requests = op.at("requests").get<std::uint64_t>();
            st.ok = op.at("ok").get<std::uint64_t>();
            for (const auto& [k, v] : op.at("statuses").items())
                st.statuses[std::stoi(k)] = v.get<std::uint64_t>();
            for (const auto& [k, v] : op.at("failures").items())
                if (auto f = failure_named(k); f && v.get<std::uint64_t>())
                    st.failures[*f] = v.get<std::uint64_t>();
            st.corrected = histogram_field(op.at("histogram"), "operations." + st.name);
            st.uncorrected =
                histogram_field(op.at("uncorrected_histogram"), "operations." + st.name);
            d.operations.push_back(std::move(st));
        }
        for (const auto& sec : j.at("series")) {
            second_stats ss;
            ss.second = sec.at("second").get<std::uint32_t>();
            ss.requests = sec.at("requests").get<std::uint64_t>();
            ss.errors = sec.at("errors").get<std::uint64_t>();
            ss.corrected = histogram_field(sec.at("histogram"), "series");
            d.seconds.push_back(std::move(ss));
        }
        for (const auto& n : j.value("notes", nlohmann::json::array()))
            d.notes.push_back(n.get<std::string>());
        if (j.contains("subscribers") && j["subscribers"].is_object())
            d.subscribers = subscriber_stats::from_json(j["subscribers"]);
        return d;
    } catch (const nlohmann::json::exception& e) {
        throw spec_error(std::string("a results field is missing or of the wrong type: ") +
                         e.what());
    }
}

run_data merge(const std::vector<run_data>& runs) {
    if (runs.empty()) throw spec_error("merge: no results to merge");
    run_data m = runs.front();
    m.shards_merged = 0;
    m.options.rate = 0;
    m.options.connections = 0;
    m.options.requests = 0;
    m.measured_s = 0;
    m.generator_cpu_s = 0;
    m.intended = m.unsent = m.connects = m.connect_errors = 0;
    m.schedule_lag.reset();
    m.subscribers.reset();
    m.seconds.clear();
    for (auto& op : m.operations) {
        op.requests = op.ok = 0;
        op.statuses.clear();
        op.failures.clear();
        op.corrected.reset();
        op.uncorrected.reset();
    }
    std::set<std::uint32_t> shards;
    for (const auto& r : runs) {
        if (r.operations.size() != m.operations.size())
            throw spec_error("merge: the runs have different operations");
        for (std::size_t i = 0; i < r.operations.size(); ++i) {
            if (r.operations[i].name != m.operations[i].name)
                throw spec_error("merge: the runs have different operations (" +
                                 r.operations[i].name + " and " + m.operations[i].name + ")");
            m.operations[i].add(r.operations[i]);
        }
        for (const auto& s : r.seconds) {
            while (m.seconds.size() <= s.second)
                m.seconds.push_back(second_stats{static_cast<std::uint32_t>(m.seconds.size())});
            auto& into = m.seconds[s.second];
            into.requests += s.requests;
            into.errors += s.errors;
            into.corrected.merge(s.corrected);
        }
        m.schedule_lag.merge(r.schedule_lag);
        if (r.subscribers) {
            if (!m.subscribers) m.subscribers = subscriber_stats{};
            m.subscribers->merge(*r.subscribers);
        }
        m.intended += r.intended;
        m.unsent += r.unsent;
        m.connects += r.connects;
        m.connect_errors += r.connect_errors;
        m.generator_cpu_s += r.generator_cpu_s;
        m.options.rate += r.options.rate;
        m.options.connections += r.options.connections;
        m.options.requests += r.options.requests;
        m.measured_s = std::max(m.measured_s, r.measured_s); // the shards ran side by side
        m.shards_merged += r.shards_merged;
        shards.insert(r.options.shard_index);
    }
    if (runs.size() > 1 && shards.size() != runs.size())
        m.notes.push_back("merged results include the same shard index more than once");
    m.options.shard_index = 0;
    m.options.shard_count = static_cast<std::uint32_t>(runs.size());
    return m;
}

std::vector<comparison_row> compare(const run_data& base, const run_data& now, double tolerance) {
    std::vector<comparison_row> rows;
    auto add = [&](const std::string& figure, double b, double n, bool higher_is_better) {
        comparison_row r{figure, b, n, 0, "same"};
        if (b != 0)
            r.change = (n - b) / b;
        else if (n != 0)
            r.change = 1;
        const bool worse = higher_is_better ? r.change < -tolerance : r.change > tolerance;
        const bool better = higher_is_better ? r.change > tolerance : r.change < -tolerance;
        // A change of a few microseconds is not a change (histogram resolution, timer noise).
        const bool tiny = !higher_is_better && std::abs(n - b) < 0.01 && figure != "error_rate";
        if (!tiny) r.verdict = worse ? "worse" : better ? "better" : "same";
        rows.push_back(r);
    };
    const auto tb = total(base);
    const auto tn = total(now);
    add("rps", run_rate(base, tb.requests), run_rate(now, tn.requests), true);
    for (double p : {50.0, 90.0, 99.0, 99.9}) {
        const std::string name = p == 99.9 ? "p99.9" : "p" + std::to_string(static_cast<int>(p));
        add(name, ms(tb.corrected.value_at_percentile(p)), ms(tn.corrected.value_at_percentile(p)),
            false);
    }
    {
        comparison_row r{"error_rate", tb.error_rate(), tn.error_rate(), 0, "same"};
        r.change = tn.error_rate() - tb.error_rate();
        if (r.change > 0.001) r.verdict = "worse";
        if (r.change < -0.001) r.verdict = "better";
        rows.push_back(r);
    }
    for (const auto& ob : base.operations) {
        for (const auto& on : now.operations) {
            if (ob.name != on.name) continue;
            add(ob.name + ".rps", run_rate(base, ob.requests), run_rate(now, on.requests), true);
            add(ob.name + ".p99", ms(ob.corrected.value_at_percentile(99)),
                ms(on.corrected.value_at_percentile(99)), false);
        }
    }
    return rows;
}

std::string second_line(const second_stats& s, double intended_rate) {
    std::ostringstream out;
    out << std::setw(5) << (std::to_string(s.second + 1) + "s") << "  " << std::setw(9)
        << grouped(static_cast<double>(s.requests)) << " req/s";
    if (intended_rate > 0) out << " (of " << grouped(intended_rate) << ")";
    out << "  p50 " << fixed(ms(s.corrected.value_at_percentile(50)), 2) << " ms  p99 "
        << fixed(ms(s.corrected.value_at_percentile(99)), 2) << " ms  errors " << s.errors;
    return out.str();
}

std::string summary_text(const run_data& d, const std::vector<threshold_result>& ts) {
    const auto t = total(d);
    const auto g = health(d);
    std::ostringstream out;
    out << grouped(static_cast<double>(t.requests)) << " requests in " << fixed(d.measured_s, 1)
        << " s: " << grouped(run_rate(d, t.requests)) << " req/s";
    if (d.options.mdl == model::open)
        out << " (intended " << grouped(d.options.rate) << ", " << fixed(g.achieved_ratio * 100, 1)
            << "%)";
    out << "; errors " << t.errors << " (" << fixed(t.error_rate() * percent, 2) << "%)\n";
    out << "  latency (from the intended start)  p50 "
        << fixed(ms(t.corrected.value_at_percentile(50)), 2) << "  p90 "
        << fixed(ms(t.corrected.value_at_percentile(90)), 2) << "  p99 "
        << fixed(ms(t.corrected.value_at_percentile(99)), 2) << "  p99.9 "
        << fixed(ms(t.corrected.value_at_percentile(99.9)), 2) << "  max "
        << fixed(ms(t.corrected.max()), 2) << " ms\n";
    out << "  latency (from the write)           p50 "
        << fixed(ms(t.uncorrected.value_at_percentile(50)), 2) << "  p90 "
        << fixed(ms(t.uncorrected.value_at_percentile(90)), 2) << "  p99 "
        << fixed(ms(t.uncorrected.value_at_percentile(99)), 2) << "  p99.9 "
        << fixed(ms(t.uncorrected.value_at_percentile(99.9)), 2) << "  max "
        << fixed(ms(t.uncorrected.max()), 2) << " ms\n";
    if (t.errors) {
        out << "  errors:";
        for (const auto& [f, n] : t.failures)
            if (n && f != failure::status) out << " " << to_string(f) << " " << n;
        for (const auto& [code, n] : t.statuses)
            out << " " << code << "×" << n;
        out << "\n";
    }
    if (d.operations.size() > 1) {
        for (const auto& op : d.operations)
            out << "  " << std::left << std::setw(18) << op.name << std::right << std::setw(9)
                << grouped(static_cast<double>(op.requests)) << " requests  p50 "
                << fixed(ms(op.corrected.value_at_percentile(50)), 2) << "  p99 "
                << fixed(ms(op.corrected.value_at_percentile(99)), 2) << " ms  errors "
                << (op.requests - op.ok) << "\n";
    }
    if (d.subscribers) {
        const auto& s = *d.subscribers;
        out << "  subscribers: " << s.subscribers << " on /events/stream saw "
            << grouped(static_cast<double>(s.messages)) << " events, delivery p50 "
            << fixed(ms(s.delivery.value_at_percentile(50)), 1) << "  p99 "
            << fixed(ms(s.delivery.value_at_percentile(99)), 1) << " ms (to 1 ms); gaps " << s.gaps
            << ", duplicates " << s.duplicates << ", closed early " << s.closed_early << "\n";
    }
    if (d.options.mdl == model::open)
        out << "  generator: schedule lag p99 " << fixed(g.lag_p99_ms, 3) << " ms"
            << (g.keeping_up ? ", kept up" : " — " + g.reason) << "\n";
    for (const auto& r : ts)
        out << "  " << (r.ok ? "ok     " : "BREACH ") << r.t.expression << "  (actual "
            << fixed(r.actual, r.t.metric == "errors" ? 5 : 3) << ")\n";
    for (const auto& n : d.notes)
        out << "  note: " << n << "\n";
    return out.str();
}

std::chrono::microseconds parse_duration(const std::string& text, const std::string& flag) {
    static const std::regex grammar(R"(^\s*([0-9]*\.?[0-9]+)\s*(us|ms|s|m|h)?\s*$)");
    std::smatch m;
    if (!std::regex_match(text, m, grammar))
        throw spec_error(flag + ": \"" + text + "\" is not a duration (250ms, 10s, 2m, 1h)");
    const double v = std::stod(m[1].str());
    const std::string unit = m[2].str();
    double us = v * 1e6;
    if (unit == "us") us = v;
    if (unit == "ms") us = v * 1e3;
    if (unit == "m") us = v * 60e6;
    if (unit == "h") us = v * 3600e6;
    return std::chrono::microseconds(static_cast<std::int64_t>(std::llround(us)));
}

} // namespace agentcheck::load
