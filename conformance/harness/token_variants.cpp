#include "conformance/harness/token_variants.hpp"

#include <algorithm>
#include <stdexcept>

#include "conformance/client/jwt.hpp"
#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {

using json = nlohmann::json;

const json& auth_of(const json& discovery) {
    static const json empty = json::object();
    return discovery.is_object() && discovery.contains("auth") && discovery["auth"].is_object()
               ? discovery["auth"]
               : empty;
}

long long leeway_of(const json& discovery) {
    // Clamped so that now ± leeway ± an hour cannot overflow, whatever the target declares
    // (DISC-007 fails a leeway that is not a non-negative integer; 2^62 s is beyond any clock).
    constexpr long long leeway_max = 1LL << 62;
    const auto& a = auth_of(discovery);
    return a.contains("leeway_s") && a["leeway_s"].is_number_integer()
               ? std::clamp(a["leeway_s"].get<long long>(), 0LL, leeway_max)
               : 30;
}

/// A declared string as it is; another JSON value as its text.
std::string text_of(const json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
}

/// A secret that is not `secret`, the same every time.
std::string other_secret(std::string_view secret) {
    std::string s = "agentcheck-wrong-secret-0123456789abcdef0123456789";
    if (s == secret) s += "x";
    return s;
}

/// header.payload signed HMAC-SHA256 with secret whatever the header's alg says.
std::string hmac_signed(const json& header, const json& claims, std::string_view secret) {
    const auto unsigned_token = client::mint(header, claims, {}); // "h.p."
    const auto head = unsigned_token.substr(0, unsigned_token.size() - 1);
    return head + "." + client::b64url(client::hmac_sha256(secret, head));
}

} // namespace

const std::vector<token_variant>& token_variants() {
    static const std::vector<token_variant> all = {
        {"expired", "exp is leeway_s + 60 s in the past", false},
        {"expired-within-leeway", "exp is leeway_s / 2 in the past", true},
        {"nbf-future", "nbf is leeway_s + 60 s in the future", false},
        {"nbf-within-leeway", "nbf is leeway_s / 2 in the future", true},
        {"nbf-past", "nbf is 60 s in the past", true},
        {"iat-future", "iat is leeway_s + 300 s in the future", false},
        {"wrong-iss", "iss is not the declared auth.issuer", false},
        {"no-iss", "no iss (the target declares auth.issuer)", false},
        {"wrong-aud", "aud is not the declared auth.audience", false},
        {"no-aud", "no aud (the target declares auth.audience)", false},
        {"aud-array", "aud is an array holding the declared auth.audience", true},
        {"no-sub", "no sub", false},
        {"no-exp", "no exp", false},
        {"sub-number", "sub is a number", false},
        {"exp-string", "exp is a string", false},
        {"alg-none", "header alg \"none\", no signature", false},
        {"alg-None", "header alg \"None\", no signature", false},
        {"alg-NONE", "header alg \"NONE\", no signature", false},
        {"alg-none-signed", "header alg \"none\" with a valid HS256 signature", false},
        {"alg-hs512", "header alg \"HS512\" (signed HMAC-SHA256)", false},
        {"wrong-secret", "HS256, signed with another secret", false},
        {"unknown-role", "roles [\"superuser\"]", false},
        {"empty-roles", "roles []", false},
        {"far-expired", "exp a day in the past", false},
    };
    return all;
}

variant_token mint_token_variant(std::string_view name, json claims, const json& discovery,
                                 long long now, std::string_view secret) {
    const long long leeway = leeway_of(discovery);
    const auto& auth = auth_of(discovery);
    json header = {{"alg", "HS256"}, {"typ", "JWT"}};
    std::string token;
    auto need = [&](const char* member) {
        if (!auth.contains(member))
            throw std::invalid_argument("token variant " + std::string(name) +
                                        ": the target declares no auth." + member);
    };
    if (name == "expired") {
        claims["exp"] = now - leeway - 60;
        claims["iat"] = now - leeway - 3600;
    } else if (name == "expired-within-leeway") {
        claims["exp"] = now - leeway / 2;
        claims["iat"] = now - 600;
    } else if (name == "nbf-future") {
        claims["nbf"] = now + leeway + 60;
    } else if (name == "nbf-within-leeway") {
        claims["nbf"] = now + leeway / 2;
    } else if (name == "nbf-past") {
        claims["nbf"] = now - 60;
    } else if (name == "iat-future") {
        claims["iat"] = now + leeway + 300;
        claims["exp"] = now + leeway + 3600;
    } else if (name == "wrong-iss") {
        need("issuer");
        claims["iss"] = "agentcheck-not-" + text_of(auth["issuer"]);
    } else if (name == "no-iss") {
        need("issuer");
        claims.erase("iss");
    } else if (name == "wrong-aud") {
        need("audience");
        claims["aud"] = "agentcheck-not-" + text_of(auth["audience"]);
    } else if (name == "no-aud") {
        need("audience");
        claims.erase("aud");
    } else if (name == "aud-array") {
        need("audience");
        claims["aud"] = json::array({"agentcheck-other", auth["audience"]});
    } else if (name == "no-sub") {
        claims.erase("sub");
    } else if (name == "no-exp") {
        claims.erase("exp");
    } else if (name == "sub-number") {
        claims["sub"] = 42;
    } else if (name == "exp-string") {
        claims["exp"] = "tomorrow";
    } else if (name == "alg-none" || name == "alg-None" || name == "alg-NONE") {
        header["alg"] = std::string(name.substr(4));
    } else if (name == "alg-none-signed") {
        header["alg"] = "none";
        token = hmac_signed(header, claims, secret);
    } else if (name == "alg-hs512") {
        header["alg"] = "HS512";
        token = hmac_signed(header, claims, secret);
    } else if (name == "wrong-secret") {
        token = client::mint(header, claims, other_secret(secret));
    } else if (name == "unknown-role") {
        claims["roles"] = json::array({"superuser"});
    } else if (name == "empty-roles") {
        claims["roles"] = json::array();
    } else if (name == "far-expired") {
        claims["exp"] = now - 86400;
    } else {
        std::vector<std::string> names;
        for (const auto& v : token_variants())
            names.emplace_back(v.name);
        const auto hint = text::nearest(name, names);
        throw std::invalid_argument("unknown token variant \"" + std::string(name) + "\"" +
                                    (hint.empty() ? "" : " (did you mean " + hint + "?)"));
    }
    if (token.empty()) token = client::mint(header, claims, secret);
    return {std::move(token), std::move(header), std::move(claims)};
}

} // namespace agentcheck
