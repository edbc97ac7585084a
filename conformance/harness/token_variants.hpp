#pragma once
// Named bad and edge-case tokens: the variants the auth checks send, which
// `agentcheck token --variant NAME` mints again for a reproduction.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentcheck {

/// One named variant of an identity's token.
struct token_variant {
    std::string_view name;    ///< "expired"
    std::string_view summary; ///< what is wrong with it (or unusual about it)
    bool accepted;            ///< whether a conforming agent accepts it
};

/// Every variant, in the order `agentcheck token --help` lists them.
const std::vector<token_variant>& token_variants();

/// A variant as sent: the token, and the header and claims it was made from.
struct variant_token {
    std::string token;
    nlohmann::json header;
    nlohmann::json claims;
};

/// Mints variant `name` of `claims` (an identity's claims, as identity_claims gives them):
/// times from `now_s` and the leeway the target declares (`discovery` auth.leeway_s, 30 s
/// when absent), issuer and audience as `discovery` declares them, signed with `secret`.
/// Throws std::invalid_argument naming the variant (and the nearest real one) when it is
/// unknown, or naming what the target must declare when the variant needs it (wrong-iss
/// needs auth.issuer).
variant_token mint_token_variant(std::string_view name, nlohmann::json claims,
                                 const nlohmann::json& discovery, long long now_s,
                                 std::string_view secret);

} // namespace agentcheck
