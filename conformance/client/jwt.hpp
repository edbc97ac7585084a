#pragma once
// JWT minting (RFC 7519 / 7515) with OpenSSL, for the harness's identities and for every
// bad-token variant. Signs anything it is given — including deliberately wrong tokens.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace agentcheck::client {

/// base64url without padding (RFC 4648 §5).
std::string b64url(std::string_view bytes);

/// Decodes unpadded base64url; nullopt on a character outside the alphabet or a bad length.
std::optional<std::string> b64url_decode(std::string_view text);

/// Signs header.payload. header["alg"] picks the algorithm: "HS256" (key = the secret),
/// "RS256" / "ES256" (key = a PEM private key), anything else ("none", "None", …) gives an
/// empty signature. Throws std::invalid_argument on a bad key.
std::string mint(const nlohmann::json& header, const nlohmann::json& claims, std::string_view key);

/// Shorthand: {"alg":"HS256","typ":"JWT"} signed with secret.
std::string mint_hs256(const nlohmann::json& claims, std::string_view secret);

/// HMAC-SHA256 (for test vectors). Thread-safe.
std::string hmac_sha256(std::string_view key, std::string_view data);

} // namespace agentcheck::client
