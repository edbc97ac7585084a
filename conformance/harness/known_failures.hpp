#pragma once
// Known failures (waivers): requirements a target is allowed to fail for a while, each
// with a reason and an expiry date. JSON: [{"id": "REG-012", "reason": "...",
// "expires": "2027-01-31"}] ("expires" optional).

#include <string>
#include <string_view>
#include <vector>

#include "conformance/harness/catalogue.hpp"

namespace agentcheck {

/// One waiver.
struct known_failure {
    std::string id; ///< requirement ID
    std::string reason;
    std::string expires; ///< "YYYY-MM-DD" (last valid day, UTC); empty = never
};

/// Parses a known-failures document and checks each ID against the catalogue. Throws
/// config_error naming the entry (unknown ID, bad date, missing reason, duplicate).
std::vector<known_failure> parse_known_failures(std::string_view json_text, const catalogue& cat);

/// True when the waiver's expiry date is before `today` ("YYYY-MM-DD").
bool is_expired(const known_failure& k, std::string_view today) noexcept;

} // namespace agentcheck
