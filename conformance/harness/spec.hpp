#pragma once
// Documents generated from the catalogue and the registered checks: SPEC.md and the
// coverage table.

#include <map>
#include <ostream>
#include <string>

#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/check.hpp"

namespace agentcheck {

/// conformance/SPEC.md: title, introduction, levels, and per section every rule with its ID,
/// level, feature, text and the checks that cover it. Deterministic.
std::string generate_spec(const catalogue& cat, const check_registry& registry);

/// Writes per level and per section how many requirements have a check, then every
/// problem of cross_check(). With `kills` (requirement → failpoints its checks killed, from
/// `agentcheck selftest`), also how many are proven (killed at least one failpoint) and the
/// unproven MUSTs. Returns 0 when every non-planned MUST has a check and every check names
/// known requirements, else 1.
int write_coverage(const catalogue& cat, const check_registry& registry, std::ostream& out,
                   const std::map<std::string, int>* kills = nullptr);

} // namespace agentcheck
