#pragma once
// Which checks a run (or a listing) takes: level, --only / --exclude patterns, --layer.

#include <string>
#include <string_view>
#include <vector>

#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/check.hpp"

namespace agentcheck {

/// Case-insensitive glob: `*` matches any run of characters, `?` any one character.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

/// True when level `v` is `selected` or stricter (MUST ≤ SHOULD ≤ MAY).
constexpr bool within_level(level v, level selected) noexcept {
    return static_cast<int>(v) <= static_cast<int>(selected);
}

/// The strictest level among a check's requirements (MAY when it names none that exist).
level check_level(const check& c, const catalogue& cat);

/// The sections of a check's requirements, in order, without repeats.
std::vector<std::string> check_sections(const check& c, const catalogue& cat);

/// What to select.
struct selection {
    level lvl = level::must;          ///< run requirements of this level and stricter
    std::vector<std::string> only;    ///< patterns; empty = everything
    std::vector<std::string> exclude; ///< patterns
    std::vector<layer> layers;        ///< empty = every layer but robustness
};

/// True when a pattern names the check: a glob over the check ID or any of its requirement
/// IDs, or a section given as "2", "s2" or "section:2".
bool pattern_matches(std::string_view pattern, const check& c, const catalogue& cat);

/// True when the check is selected: some requirement within the level, a listed layer,
/// matched by an --only pattern (if any) and by no --exclude pattern.
bool is_selected(const check& c, const catalogue& cat, const selection& sel);

/// The selected checks, in registration order.
std::vector<const check*> select_checks(const check_registry& registry, const catalogue& cat,
                                        const selection& sel);

} // namespace agentcheck
