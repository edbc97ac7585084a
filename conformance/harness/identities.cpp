#include "conformance/harness/identities.hpp"

#include <algorithm>
#include <stdexcept>

#include "conformance/client/jwt.hpp"
#include "conformance/harness/check.hpp"

namespace agentcheck {

namespace {

void require_known(std::string_view name) {
    if (std::find(std::begin(identities), std::end(identities), name) == std::end(identities)) {
        throw std::invalid_argument("unknown identity \"" + std::string(name) +
                                    "\" (known: viewer, operator, operator2, admin, noroles)");
    }
}

} // namespace

std::string identity_subject(std::string_view name, std::string_view run_id) {
    return "agentcheck-" + std::string(name) + "-" + std::string(run_id);
}

nlohmann::json identity_claims(std::string_view name, std::string_view run_id,
                               const nlohmann::json& discovery, long long now_s) {
    require_known(name);
    nlohmann::json claims = {{"sub", identity_subject(name, run_id)},
                             {"iat", now_s},
                             {"exp", now_s + identity_token_lifetime_s}};
    if (name == "viewer") claims["roles"] = {"viewer"};
    if (name == "operator" || name == "operator2") claims["roles"] = {"operator"};
    if (name == "admin") claims["roles"] = {"admin"};
    if (discovery.is_object() && discovery.contains("auth") && discovery["auth"].is_object()) {
        const auto& auth = discovery["auth"];
        if (auth.contains("issuer") && auth["issuer"].is_string()) claims["iss"] = auth["issuer"];
        if (auth.contains("audience") &&
            (auth["audience"].is_string() || auth["audience"].is_array())) {
            claims["aud"] = auth["audience"];
        }
    }
    return claims;
}

identity_set::identity_set(std::string_view secret, std::string_view run_id,
                           const nlohmann::json& discovery, long long now_s) {
    for (const auto name : identities) {
        auto c = identity_claims(name, run_id, discovery, now_s);
        tokens_.emplace(std::string(name), client::mint_hs256(c, secret));
        claims_.emplace(std::string(name), std::move(c));
    }
}

const std::string& identity_set::token(std::string_view name) const {
    require_known(name);
    const auto it = tokens_.find(name);
    if (it == tokens_.end()) throw std::invalid_argument("no tokens were minted");
    return it->second;
}

const nlohmann::json& identity_set::claims(std::string_view name) const {
    require_known(name);
    const auto it = claims_.find(name);
    if (it == claims_.end()) throw std::invalid_argument("no tokens were minted");
    return it->second;
}

} // namespace agentcheck
