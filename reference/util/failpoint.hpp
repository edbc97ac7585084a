#pragma once
// Failpoints: deliberate defects compiled into agentd only when the CMake option
// AGENT_FAILPOINTS is on (the dev and coverage presets), as etcd's gofail or FreeBSD's
// fail(9). Each one breaks exactly one requirement of the protocol, is named after it
// ("REG-012.names-unique-per-owner") and sits in the code that implements that requirement, so that
// `grep -rn REG-012 reference/` lands on the rule. `agentd --failpoint NAME` turns one on;
// `agentd --list-failpoints` prints the table as JSON; `agentcheck selftest` runs the harness
// against each one and requires a check of the broken requirement to fail.
//
// In a build without the option AGENT_FAILPOINT(name) is the constant false: the name is
// not compiled in, the defect's branch is dead code the optimiser drops, and agentd has no
// --failpoint flag.
#include <span>
#include <string_view>

namespace agent::failpoint {

/// One entry of the table.
struct info {
    std::string_view name; ///< "REG-012.names-unique-per-owner": the requirement ID, a dot, a slug
    std::string_view breaks;     ///< what the agent does wrong when it is on
    std::string_view extra_args; ///< agentd flags the defect needs to show ("" for none)
};

/// Every failpoint compiled in (empty without AGENT_FAILPOINTS).
std::span<const info> all() noexcept;

/// The requirement ID a failpoint breaks: its name up to the first '.'.
std::string_view requirement_of(std::string_view name) noexcept;

/// Turns `name` on (at start-up, before any thread). False when it is not in the table.
bool enable(std::string_view name) noexcept;

/// The failpoint that is on ("" for none).
std::string_view active() noexcept;

/// True when the failpoint `name` is on. Only AGENT_FAILPOINT calls it.
bool on(std::string_view name) noexcept;

/// The table as a JSON array of {"name", "requirement", "breaks", "args"}.
std::string table_json();

} // namespace agent::failpoint

#ifdef AGENT_FAILPOINTS
#define AGENT_FAILPOINT(name) (::agent::failpoint::on(name))
#else
#define AGENT_FAILPOINT(name) false
#endif
