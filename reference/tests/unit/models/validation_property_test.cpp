// The validators accept exactly what the protocol's patterns and lengths allow: each is
// compared with the protocol's own regular expression on generated strings that sit on and
// around every edge (first character, allowed set, length limit).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <regex>
#include <string>

#include "reference/models/agent.hpp"

namespace agent::models {
namespace {

/// Strings over `alphabet` (plus a few characters outside it) of length 0 to max_len + 3.
rc::Gen<std::string> near(const std::string& alphabet, int max_len) {
    const std::string outside = "A_.-!~ /\xc3\xa9\x00Z9a";
    return rc::gen::mapcat(rc::gen::inRange(0, max_len + 4), [=](int n) {
        return rc::gen::container<std::string>(
            static_cast<std::size_t>(n),
            rc::gen::weightedOneOf<char>(
                {{20, rc::gen::elementOf(alphabet)}, {1, rc::gen::elementOf(outside)}}));
    });
}

const std::string lower_digits_dash = "abcdefghijklmnopqrstuvwxyz0123456789-";

RC_GTEST_PROP(validation, a_name_is_valid_exactly_when_the_protocol_pattern_matches, ()) {
    static const std::regex pattern("^[a-z][a-z0-9-]{0,63}$");
    const auto s = *near(lower_digits_dash, 64);
    RC_ASSERT(is_valid_name(s) == std::regex_match(s, pattern));
}

RC_GTEST_PROP(validation, a_capability_name_is_valid_exactly_when_its_pattern_matches, ()) {
    static const std::regex pattern("^[a-z][a-z0-9_.-]{0,63}$");
    const auto s = *near("abcdefghijklmnopqrstuvwxyz0123456789_.-", 64);
    RC_ASSERT(is_valid_capability_name(s) == std::regex_match(s, pattern));
}

RC_GTEST_PROP(validation, a_metadata_key_is_valid_exactly_when_its_pattern_matches, ()) {
    static const std::regex pattern("^[A-Za-z0-9_.-]{1,64}$");
    const auto s = *near("abcXYZ0129_.-", 64);
    RC_ASSERT(is_valid_metadata_key(s) == std::regex_match(s, pattern));
}

RC_GTEST_PROP(validation, a_version_is_valid_exactly_when_semver_2_and_at_most_64_chars, ()) {
    // semver.org's own regular expression (numbered-groups form).
    static const std::regex semver("^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)"
                                   "(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]"
                                   "\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                                   "(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$");
    // Pieces that make versions valid and invalid in every part.
    const auto part = rc::gen::element<std::string>("0", "1", "10", "01", "999999", "x", "");
    const auto ident = rc::gen::element<std::string>("alpha", "1", "01", "0", "x-y", "", "a.b",
                                                     "rc.1", "-", "00a");
    auto s = *part + "." + *part + "." + *part;
    if (*rc::gen::arbitrary<bool>()) s += "-" + *ident;
    if (*rc::gen::arbitrary<bool>()) s += "+" + *ident;
    if (*rc::gen::inRange(0, 8) == 0)
        s += std::string(static_cast<std::size_t>(*rc::gen::inRange(0, 70)), '1');
    const bool expected = std::regex_match(s, semver) && s.size() <= 64;
    RC_ASSERT(is_valid_semver(s) == expected);
}

RC_GTEST_PROP(validation, every_status_parses_back_from_its_name, ()) {
    const auto st =
        *rc::gen::element(agent_status::registered, agent_status::active, agent_status::inactive,
                          agent_status::degraded, agent_status::draining);
    RC_ASSERT(parse_status(to_string(st)) == st);
    // A move and its reverse are both allowed only between the statuses the table lets go
    // back and forth; no status moves to itself through transition_allowed.
    RC_ASSERT(!transition_allowed(st, st));
}

} // namespace
} // namespace agent::models
