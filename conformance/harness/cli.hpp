#pragma once
// The agentcheck command line: run, list, coverage, spec, token. Exit codes in
// aggregate.hpp (0 pass, 1 failures, 2 usage/configuration, 3 target unreachable).

#include <ostream>
#include <string_view>

#include "conformance/harness/check.hpp"

namespace agentcheck {

/// Where the CLI writes and how.
struct cli_io {
    std::ostream& out;  ///< results, listings, the spec, the token
    std::ostream& err;  ///< diagnostics
    bool tty = false;   ///< out is a terminal: live progress counter
    bool color = false; ///< colour the terminal output
};

/// Runs the command line against a catalogue (JSON text) and the registered checks.
/// Returns the process exit code; never throws.
int run_cli(int argc, const char* const* argv, std::string_view catalogue_json,
            const check_registry& registry, const cli_io& io);

/// The tool's version ("0.1.0").
std::string_view tool_version() noexcept;

} // namespace agentcheck
