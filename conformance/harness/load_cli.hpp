#pragma once
// `agentcheck load`: drive an agent with an open or closed load model and report latency,
// throughput and errors with thresholds as CI gates; `load compare` and `load merge`.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "conformance/harness/cli.hpp"

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

/// Runs whichever of load, load compare and load merge was parsed. `command` is the command
/// line as typed (recorded in the results). Throws usage_error on bad options.
int run_load(const load_cli_options& o, const std::string& command, const cli_io& io);

} // namespace agentcheck
