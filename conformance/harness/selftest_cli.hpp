#pragma once
// `agentcheck selftest`: proves that the checks catch defects. It asks the agent command for
// its failpoints (`CMD --list-failpoints`), runs `agentcheck run --launch` against the clean
// agent (which must pass) and against the agent with each failpoint on (`CMD --failpoint
// NAME [its args]`, which must fail on a check of the requirement the failpoint breaks),
// several at a time, and writes selftest.json, selftest.html (the kill matrix drawn) and
// summary.md into --report-dir, each run's reports under runs/. Exit 0 when the clean agent
// passes and every failpoint is killed, 1 when not, 2 on bad usage, 130 when interrupted.

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/cli.hpp"

namespace agentcheck {

struct selftest_cli_options {
    std::string agent_cmd;   ///< "{port}" and "{data_dir}" are replaced
    std::string secret_file; ///< the agent's HS256 secret (or AGENTCHECK_JWT_SECRET)
    std::string scope = "section";
    std::vector<std::string> only; ///< failpoint name globs ([] = all)
    std::string level = "should";
    unsigned jobs = 0; ///< 0 = the machine's hardware threads
    int crash_cycles = 2;
    unsigned retries = 0; ///< passed to every run: a check that fails, then passes, is flaky
    double timeout_scale = 1;
    std::string run_timeout = "15m";
    std::uint64_t seed = 0;
    bool seed_given = false;
    std::string report_dir = "reports/selftest";
    bool quiet = false;
    CLI::App* selftest = nullptr;
};

/// Adds the selftest command to app.
void attach_selftest(CLI::App& app, selftest_cli_options& o);

/// Runs the self-test. Exit codes as above; usage errors are thrown as usage_error.
int run_selftest(const selftest_cli_options& o, const catalogue& cat,
                 const check_registry& registry, const cli_io& io);

} // namespace agentcheck
