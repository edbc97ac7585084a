#pragma once
// The tokens the harness mints for its identities (see `identities` in check.hpp).

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace agentcheck {

/// Lifetime of an identity token (exp - iat).
inline constexpr long long identity_token_lifetime_s = 3600;

/// "agentcheck-<name>-<run id>".
std::string identity_subject(std::string_view name, std::string_view run_id);

/// The claims of an identity: sub, roles (none for "noroles"), iat = now_s,
/// exp = now_s + 1 h, and iss/aud when discovery's "auth" declares issuer/audience.
/// Throws std::invalid_argument for a name not in `identities`.
nlohmann::json identity_claims(std::string_view name, std::string_view run_id,
                               const nlohmann::json& discovery, long long now_s);

/// Every identity's claims and HS256 token, minted once per run. Immutable; thread-safe.
class identity_set {
public:
    identity_set() = default;
    /// Mints all identities with `secret`.
    identity_set(std::string_view secret, std::string_view run_id, const nlohmann::json& discovery,
                 long long now_s);
    /// The token; throws std::invalid_argument for an unknown identity.
    [[nodiscard]] const std::string& token(std::string_view name) const;
    /// The claims; throws std::invalid_argument for an unknown identity.
    [[nodiscard]] const nlohmann::json& claims(std::string_view name) const;

private:
    std::map<std::string, std::string, std::less<>> tokens_;
    std::map<std::string, nlohmann::json, std::less<>> claims_;
};

} // namespace agentcheck
