#pragma once
// Test and benchmark support: signs HS256 JWTs the way a client of agentd would.

#include <string>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "reference/util/base64url.hpp"

namespace agent::test_support {

/// A compact JWS of claims, signed with HMAC-SHA256 under secret; header {"alg":alg,"typ":"JWT"}
/// (the signature is HS256 whatever alg says, so a wrong alg can be tested).
inline std::string mint_hs256(const nlohmann::json& claims, const std::string& secret,
                              const std::string& alg = "HS256") {
    const nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}};
    const std::string input =
        util::base64url_encode(header.dump()) + "." + util::base64url_encode(claims.dump());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return input + "." + util::base64url_encode(std::string(reinterpret_cast<char*>(mac), len));
}

} // namespace agent::test_support
