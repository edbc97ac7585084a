// Registers every suite's checks, in protocol-section order.

#include "conformance/harness/check.hpp"
#include "conformance/properties/properties.hpp"
#include "conformance/robustness/robustness.hpp"
#include "conformance/suites/suites.hpp"

namespace agentcheck {

void register_all_suites(check_registry& registry) {
    register_s00_shape(registry);
    register_s01_discovery(registry);
    register_s02_registry(registry);
    register_s03_auth(registry);
    register_s04_events(registry);
    register_s05_websocket(registry);
    register_s06_tasks(registry);
    register_s07_invoke(registry);
    register_s08_observability(registry);
    register_workflows(registry);
    register_s09_lifecycle(registry);
    register_s09_restart(registry);
    register_properties(registry);
    register_robustness(registry);
}

} // namespace agentcheck
