#pragma once
// The requirement catalogue (conformance/catalogue.json): every rule of the spec with its
// ID, section, level and feature. Embedded into the binary at build time.

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/harness/check.hpp"

namespace agentcheck {

/// One section of the protocol ("2", "Registry").
struct section {
    std::string id;
    std::string title;
};

/// Thrown when a catalogue or another configuration input is invalid; what() names the
/// problem (and the entry).
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The parsed, validated catalogue. Immutable after loading; thread-safe to read.
struct catalogue {
    int version = 1;
    std::string protocol;
    std::vector<section> sections;
    std::vector<requirement> requirements;
    /// IDs of requirements that are in the spec but have no check yet.
    std::set<std::string> planned;

    /// The requirement with this ID, or nullptr.
    [[nodiscard]] const requirement* find(std::string_view id) const noexcept;
    /// The section with this ID, or nullptr.
    [[nodiscard]] const section* find_section(std::string_view id) const noexcept;
    /// True when the requirement is marked planned.
    [[nodiscard]] bool is_planned(std::string_view id) const;
};

/// Parses and validates catalogue JSON: version 1, unique section and requirement IDs,
/// IDs of the form PREFIX-NNN, every requirement in a known section, levels MUST/SHOULD/MAY.
/// Throws config_error naming the offending entry.
catalogue parse_catalogue(std::string_view json_text);

/// The catalogue.json text embedded at build time (generated source).
std::string_view embedded_catalogue_json() noexcept;

/// The embedded catalogue, parsed once. Throws config_error if it is invalid.
const catalogue& builtin_catalogue();

/// Problems between a catalogue and the registered checks: checks naming unknown
/// requirement IDs and non-planned MUSTs without a check.
/// Empty when they agree.
std::vector<std::string> cross_check(const catalogue& cat, const check_registry& registry);

} // namespace agentcheck
