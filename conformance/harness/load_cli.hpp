#pragma once
// `agentcheck load`: drive an agent with an open or closed load model and report latency,
// throughput and errors with thresholds as CI gates; `load compare` and `load merge`.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/cli.hpp"
#include "conformance/load/results.hpp"
#include "conformance/load/scenario.hpp"

namespace agentcheck {

struct load_cli_options {
    std::string target;
    std::string secret_file;
    std::string scenario;
    double rate = 0;
    std::string ramp = "0s";
    int connections = 64;
    std::string duration = "10s";
    std::uint64_t requests = 0;
    int threads = 1;
    std::string timeout = "5s";
    std::uint64_t seed = 0;
    bool seed_given = false;
    std::string shard = "0/1";
    std::vector<std::string> thresholds;
    std::string report_dir = "reports/load";
    std::string max_lag = "5ms";
    bool allow_non_loopback = false;
    bool quiet = false;
    bool keep_agents = false;
    /// Record the operations on this many of the setup agents and check them for
    /// linearizability after the run (0: off).
    std::size_t record_history = 0;
    /// The scenario without --scenario (a JSON document; "" = GET /health only).
    std::string default_scenario_json;
    // load compare
    std::vector<std::string> compare_files;
    std::string tolerance = "10%";
    // load merge
    std::vector<std::string> merge_files;

    CLI::App* load = nullptr;
    CLI::App* compare = nullptr;
    CLI::App* merge = nullptr;
};

/// Adds the load command (and its compare and merge commands) to app.
void attach_load(CLI::App& app, load_cli_options& o);

/// A load's options checked, before anything is sent: usage_error naming the flag.
struct load_settings {
    client::target_url target;
    load::scenario sc;
    std::chrono::microseconds duration{}, ramp{}, timeout{}, max_lag{};
    std::vector<load::threshold> thresholds;
    std::uint32_t shard_index = 0, shard_count = 1;
    bool needs_secret = false; ///< the scenario authenticates (secret then holds the key)
    std::string secret;
};
load_settings check_load_options(const load_cli_options& o);

/// What a caller that drives a load beside its own work (agentcheck soak) hooks into it.
struct load_hooks {
    /// Called right before the engine starts sending (after discovery and setup).
    std::function<void()> on_start;
    /// Called once a second with the second just ended, instead of the live line.
    std::function<void(const load::second_stats&)> on_second;
};

/// One load run as `agentcheck load` makes it (discovery, setup, the engine, teardown, the
/// summary printed), without writing its results.
struct load_run {
    bool ran = false;        ///< false: it stopped before sending (exit_code says why)
    int exit_code = exit_ok; ///< what agentcheck load exits with
    load::run_data data;
    std::vector<load::threshold_result> thresholds;
    std::string extra_html; ///< what --record-history adds to results.html
};
load_run drive_load(const load_cli_options& o, const std::string& command, const cli_io& io,
                    const load_hooks& hooks = {});
/// results.json and results.html of a run into dir (usage_error naming --report-dir).
void write_load_results(const std::string& dir, const load_run& run, std::ostream& out);
/// Ends the load under way early, from any thread (not an interruption: exit_code stays as the
/// figures say).
void stop_load() noexcept;

/// Runs whichever of load, load compare and load merge was parsed. `command` is the command
/// line as typed (recorded in the results). Throws usage_error on bad options.
int run_load(const load_cli_options& o, const std::string& command, const cli_io& io);

} // namespace agentcheck
