#pragma once
// `agentcheck soak`: start the agent, hold a steady open-model load on it for a long time,
// sample its resident memory and open descriptors once a second, and fail when either grows
// after the warm-up (a least-squares slope beyond the tolerance), when the load fails its
// thresholds, or when the agent dies. Reports: soak.json and soak.html (and the load's
// results.json and results.html) in --report-dir, the agent's output in agent.log there.

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "conformance/harness/cli.hpp"
#include "conformance/harness/load_cli.hpp"

namespace agentcheck {

struct soak_cli_options {
    /// The load's options (--target, --jwt-secret-file, --scenario, --rate, --duration,
    /// --connections, --threshold, --report-dir, -q, …), as agentcheck load takes them.
    load_cli_options load;
    std::string launch;   ///< the agent's command line ("{data_dir}" replaced)
    std::string data_dir; ///< "" = a fresh temporary directory, removed afterwards
    std::string warmup;   ///< "" = soak::default_warmup_s(duration)
    std::string ready_timeout = "30s";
    double rss_slope_max = 0; ///< KiB per minute (set by attach_soak to the default)
    int fd_growth_max = 0;
    double fd_slope_max = 0; ///< descriptors per minute
    CLI::App* soak = nullptr;
};

/// Adds the soak command to app.
void attach_soak(CLI::App& app, soak_cli_options& o);

/// Runs the soak. `command` is the command line as typed (recorded in the reports). Exit 0 pass,
/// 1 fail, 2 usage (usage_error thrown, naming the flag), 3 the agent did not start or
/// answer, 130 interrupted.
int run_soak(const soak_cli_options& o, const std::string& command, const cli_io& io);

/// fixtures/load/soak.json, embedded at build time: the scenario without --scenario.
std::string_view embedded_soak_scenario_json() noexcept;

} // namespace agentcheck
