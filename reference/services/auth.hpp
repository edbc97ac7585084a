#pragma once
// Bearer JWT verification (RFC 7519 / 7515 / 6750) with OpenSSL, and roles.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference/interfaces/clock.hpp"
#include "reference/util/expected.hpp"

namespace agent {

/// Roles are cumulative: admin > operator > viewer > none.
enum class role { none = 0, viewer = 1, operator_ = 2, admin = 3 };

/// "viewer" / "operator" / "admin" / "none".
const char* to_string(role r) noexcept;

/// The authenticated caller.
struct principal {
    std::string sub;
    role highest = role::none;      ///< highest recognised role in the `roles` claim
    std::vector<std::string> roles; ///< the claim as sent (unknown names kept, ignored)
};

/// Why a token was refused. All map to 401; `missing` gets
/// `WWW-Authenticate: Bearer realm="agent"`, the rest `Bearer error="invalid_token"`.
enum class token_error {
    missing,         ///< no Authorization header, or not the Bearer scheme
    malformed,       ///< not three base64url parts of JSON objects, bad claim types
    too_long,        ///< over max_token_bytes
    alg_not_allowed, ///< "none"/"None"/..., or an algorithm not configured
    bad_signature,
    expired,       ///< exp + leeway <= now
    not_yet_valid, ///< nbf - leeway > now, or iat - leeway > now
    wrong_issuer,
    wrong_audience,
    missing_claim, ///< sub or exp absent
};

/// A short English reason for logs and problem details (never contains the token).
const char* to_string(token_error e) noexcept;

/// What the verifier accepts. Keys are PEM text (not file names).
struct auth_settings {
    std::string hs256_secret;            ///< empty: HS256 disabled
    std::string rs256_public_key_pem;    ///< empty: RS256 disabled
    std::string es256_public_key_pem;    ///< empty: ES256 disabled
    std::optional<std::string> issuer;   ///< checked against `iss` when set
    std::optional<std::string> audience; ///< must be in `aud` (string or array) when set
    std::chrono::seconds leeway{30};
    std::size_t max_token_bytes = 8192;
    /// Remember tokens that verified (time claims are still checked on every use). Off
    /// only to measure a full verification.
    bool cache_verified = true;
};

/// Verifies bearer tokens. Construction parses keys (throws std::invalid_argument naming
/// the bad key); verify() is const and thread-safe.
class jwt_verifier {
public:
    jwt_verifier(auth_settings settings, const clock& clk);
    ~jwt_verifier();
    jwt_verifier(const jwt_verifier&) = delete;
    jwt_verifier& operator=(const jwt_verifier&) = delete;

    /// Verifies the value of an Authorization header ("Bearer <jwt>", scheme
    /// case-insensitive). An empty view means the header was absent.
    [[nodiscard]] util::expected<principal, token_error>
    verify(std::string_view authorization) const;

    /// The algorithms enabled, in the order HS256, RS256, ES256 (for discovery).
    [[nodiscard]] std::vector<std::string> algorithms() const;

    [[nodiscard]] const auth_settings& settings() const noexcept { return settings_; }

private:
    struct keys;
    auth_settings settings_;
    const clock& clock_;
    std::unique_ptr<keys> keys_;
};

} // namespace agent
