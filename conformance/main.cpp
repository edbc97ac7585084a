// agentcheck: the conformance harness's command line (see conformance/harness/cli.hpp).
#include <iostream>

#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/check.hpp"

int main() {
    agentcheck::check_registry registry;
    agentcheck::register_all_suites(registry);
    return 0;
}
