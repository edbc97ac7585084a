#pragma once
// A load run's figures: built from the engine's counts, written as results.json (every figure,
// the histograms, a per-second series, the environment, the command), read back, merged
// across shards (histograms added, never percentiles averaged), gated by thresholds and
// compared with a baseline.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/load/engine.hpp"
#include "conformance/load/histogram.hpp"
#include "conformance/load/subscribers.hpp"

namespace agentcheck::load {

inline constexpr const char* results_schema = "agentcheck-load/1";

/// The options a run was made with, as the results record them.
struct run_options {
    std::string target;
    std::string scenario;
    model mdl = model::closed;
    double rate = 0; ///< this document's intended rate (a shard's share; merged: their sum)
    double ramp_s = 0;
    int connections = 0; ///< this document's (merged: the sum)
    double duration_s = 0;
    std::uint64_t requests = 0; ///< the request bound, this document's share (0 = none)
    int threads = 1;
    double timeout_s = 0;
    std::uint64_t seed = 0;
    std::uint32_t shard_index = 0;
    std::uint32_t shard_count = 1;
    double max_lag_ms = 0; ///< the generator's lag bound (open model)
};

/// Everything a results document holds, in a form that merges.
struct run_data {
    run_options options;
    std::vector<operation_stats> operations;
    std::vector<second_stats> seconds;
    histogram schedule_lag = latency_histogram();
    std::uint64_t intended = 0, unsent = 0, connects = 0, connect_errors = 0;
    double measured_s = 0;      ///< the window throughput is counted over
    double generator_cpu_s = 0; ///< the generator's own CPU time (user + system)
    std::uint32_t shards_merged = 1;
    std::optional<subscriber_stats> subscribers; ///< when the scenario held streams open
    nlohmann::json environment = nlohmann::json::object();
    std::string command;
    std::vector<std::string> notes;
};

run_data from_engine(const engine_result& r, run_options options);

/// Totals across operations.
struct totals {
    std::uint64_t requests = 0, ok = 0, errors = 0;
    std::map<int, std::uint64_t> statuses;
    std::map<failure, std::uint64_t> failures;
    histogram corrected = latency_histogram();
    histogram uncorrected = latency_histogram();
    [[nodiscard]] double error_rate() const {
        return requests ? static_cast<double>(errors) / static_cast<double>(requests) : 0;
    }
};
totals total(const run_data& d);

/// Whether the generator kept to its schedule: the open model's arrivals taken on time
/// (schedule lag p99 within the bound) and answered at the intended rate; a run that fails
/// this says so instead of passing.
struct generator_health {
    bool keeping_up = true;
    double achieved_ratio = 1; ///< answered per second / intended rate (open model)
    double lag_p99_ms = 0;
    std::string reason;
};
generator_health health(const run_data& d);

/// One --threshold: "[operation.]metric OP value", e.g. "p99<20ms", "errors<0.1%",
/// "rps>=0.95*rate", "get_agent.p99.9<=50ms", "lag_p99<5ms".
struct threshold {
    std::string expression;
    std::string operation; ///< "" = all operations
    std::string metric;
    std::string comparison; ///< <, <=, >, >=
    double limit = 0;       ///< in the metric's unit (ms, a ratio, requests/s, a count)
};
/// Parses one threshold; spec_error names it and the reason. `rate` resolves "K*rate"
/// (0 when the run has no --rate: then "K*rate" is refused).
threshold parse_threshold(const std::string& text, double rate,
                          const std::vector<std::string>& operations);
/// The metrics a threshold may name, with their unit (for --help and errors).
std::string threshold_metrics_help();

struct threshold_result {
    threshold t;
    double actual = 0;
    bool ok = false;
};
std::vector<threshold_result> evaluate(const run_data& d, const std::vector<threshold>& ts);

/// results.json. With `thresholds`, their outcomes and the verdict are included.
nlohmann::json to_json(const run_data& d, const std::vector<threshold_result>& thresholds = {});
/// The inverse (histograms and counts; the summary is recomputed from them). spec_error
/// naming the file's field on a document that is not a results document.
run_data from_json(const nlohmann::json& j);

/// Several shards' results as one run: counts added, histograms merged, seconds aligned by
/// their index. spec_error when the runs cannot be merged (different operations).
run_data merge(const std::vector<run_data>& runs);

/// Figure-by-figure comparison of two runs.
struct comparison_row {
    std::string figure; ///< "rps", "p99", "get_agent.p99", "error_rate", …
    double base = 0, now = 0;
    double change = 0;   ///< (now - base) / base; +0.1 = 10% higher
    std::string verdict; ///< better, worse, same
};
std::vector<comparison_row> compare(const run_data& base, const run_data& now, double tolerance);

/// The live line for one second, and the closing summary, as text.
std::string second_line(const second_stats& s, double intended_rate);
std::string summary_text(const run_data& d, const std::vector<threshold_result>& ts);

/// results.html: one self-contained page with inline SVG plots (the percentile distribution
/// on HdrHistogram's log scale, throughput, p50/p99 and errors over time).
std::string to_html(const run_data& d, const std::vector<threshold_result>& ts);

/// Parses a duration: "250ms", "10s", "2m", "1h", "1500us"; a bare number is seconds.
/// spec_error naming `flag` otherwise.
std::chrono::microseconds parse_duration(const std::string& text, const std::string& flag);

} // namespace agentcheck::load
