// agentcheck: the conformance harness's command line (see conformance/harness/cli.hpp).
#include <iostream>

#include <unistd.h>

#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/check.hpp"
#include "conformance/harness/cli.hpp"
#include "conformance/harness/console.hpp"

int main(int argc, char** argv) {
    agentcheck::check_registry registry;
    try {
        agentcheck::register_all_suites(registry);
    } catch (const std::exception& e) {
        std::cerr << "agentcheck: registering the checks failed: " << e.what() << "\n";
        return agentcheck::exit_usage;
    }
    const bool tty = isatty(STDOUT_FILENO) == 1;
    const agentcheck::cli_io io{std::cout, std::cerr, tty, agentcheck::color_wanted(STDOUT_FILENO)};
    return agentcheck::run_cli(argc, argv, agentcheck::embedded_catalogue_json(), registry, io);
}
