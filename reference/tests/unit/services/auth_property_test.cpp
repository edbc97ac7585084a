// JWT: a token signed with the secret verifies to its own subject and roles; one changed
// byte anywhere makes it fail.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "reference/interfaces/clock.hpp"
#include "reference/services/auth.hpp"
#include "reference/tests/support/mint.hpp"

namespace agent {
namespace {

RC_GTEST_PROP(jwt, a_signed_token_verifies_to_its_claims_and_a_changed_one_never_does, ()) {
    const std::chrono::system_clock::time_point start{std::chrono::seconds(1'800'000'000)};
    manual_clock clk(start);
    auth_settings s;
    s.hs256_secret = "property-secret-of-32-bytes-long!";
    s.cache_verified = false;
    jwt_verifier v(s, clk);

    const auto sub = *rc::gen::nonEmpty(rc::gen::container<std::string>(
        rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz0123456789-_.@"))));
    const auto roles = *rc::gen::container<std::vector<std::string>>(
        rc::gen::element<std::string>("viewer", "operator", "admin", "auditor"));
    const auto lifetime = *rc::gen::inRange(1, 86400);
    const nlohmann::json claims{
        {"sub", sub}, {"roles", roles}, {"iat", 1'800'000'000}, {"exp", 1'800'000'000 + lifetime}};
    const auto token = test_support::mint_hs256(claims, s.hs256_secret);
    auto p = v.verify("Bearer " + token);
    RC_ASSERT(p.has_value());
    RC_ASSERT(p->sub == sub);
    RC_ASSERT(p->roles == roles);
    role want = role::none;
    for (const auto& r : roles) {
        if (r == "viewer") want = std::max(want, role::viewer);
        if (r == "operator") want = std::max(want, role::operator_);
        if (r == "admin") want = std::max(want, role::admin);
    }
    RC_ASSERT(p->highest == want);

    // One byte changed (to another base64url character) anywhere but the separators.
    auto changed = token;
    const auto at = *rc::gen::inRange<std::size_t>(0, changed.size());
    RC_PRE(changed[at] != '.');
    const char c = *rc::gen::elementOf(std::string("ABCabc012-_"));
    RC_PRE(c != changed[at]);
    changed[at] = c;
    RC_ASSERT(!v.verify("Bearer " + changed).has_value());
}

} // namespace
} // namespace agent
