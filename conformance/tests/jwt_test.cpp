#include "conformance/client/jwt.hpp"

#include <gtest/gtest.h>

#include <memory>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace agentcheck::client {
namespace {

// RFC 7515 Appendix A.1: the JWS signing input (header with CRLFs and spaces, as bytes) and
// the JWK "k" of the HMAC key, with the published signature.
constexpr std::string_view rfc7515_signing_input =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
constexpr std::string_view rfc7515_key_b64 =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr std::string_view rfc7515_signature = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

std::string private_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pem;
}

bool verify(EVP_PKEY* key, std::string_view data, const std::string& sig) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    const int ok =
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(data.data()), data.size());
    EVP_MD_CTX_free(ctx);
    return ok == 1;
}

/// Raw r||s (64 bytes) → DER, for verifying ES256 with OpenSSL.
std::string raw_to_der(const std::string& raw) {
    ECDSA_SIG* sig = ECDSA_SIG_new();
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
    ECDSA_SIG_set0(sig, BN_bin2bn(p, 32, nullptr), BN_bin2bn(p + 32, 32, nullptr));
    unsigned char* der = nullptr;
    const int n = i2d_ECDSA_SIG(sig, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return out;
}

struct parts {
    std::string header, payload, signature, signing_input;
};
parts split(const std::string& token) {
    const auto a = token.find('.');
    const auto b = token.find('.', a + 1);
    return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1),
            token.substr(0, b)};
}

TEST(jwt, b64url_round_trips_and_matches_rfc4648) {
    EXPECT_EQ(b64url(""), "");
    EXPECT_EQ(b64url("f"), "Zg");
    EXPECT_EQ(b64url("fo"), "Zm8");
    EXPECT_EQ(b64url("foo"), "Zm9v");
    EXPECT_EQ(b64url("foobar"), "Zm9vYmFy");
    EXPECT_EQ(b64url("\xfb\xff"), "-_8");
    for (const std::string& s :
         std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
        EXPECT_EQ(b64url_decode(b64url(s)), s);
    }
    EXPECT_FALSE(b64url_decode("a"));     // a lone character encodes no byte
    EXPECT_FALSE(b64url_decode("Zh"));    // non-zero leftover bits
    EXPECT_FALSE(b64url_decode("Zm9v=")); // padding is not base64url-nopad
    EXPECT_FALSE(b64url_decode("Zm+v"));  // '+' is base64, not base64url
}

TEST(jwt, hmac_sha256_reproduces_rfc7515_a1) {
    const auto key = b64url_decode(rfc7515_key_b64);
    ASSERT_TRUE(key);
    EXPECT_EQ(b64url(hmac_sha256(*key, rfc7515_signing_input)), rfc7515_signature);
}

TEST(jwt, hmac_sha256_rfc4231_case_2) {
    EXPECT_EQ(b64url(hmac_sha256("Jefe", "what do ya want for nothing?")),
              b64url(std::string("\x5b\xdc\xc1\x46\xbf\x60\x75\x4e\x6a\x04\x24\x26\x08\x95\x75\xc7"
                                 "\x5a\x00\x3f\x08\x9d\x27\x39\x83\x9d\xec\x58\xb9\x64\xec\x38\x43",
                                 32)));
}

TEST(jwt, mint_hs256_signs_its_own_signing_input) {
    const auto key = *b64url_decode(rfc7515_key_b64);
    const nlohmann::json claims = {
        {"iss", "joe"}, {"exp", 1300819380}, {"http://example.com/is_root", true}};
    const auto token = mint_hs256(claims, key);
    const auto p = split(token);
    EXPECT_EQ(nlohmann::json::parse(*b64url_decode(p.header)),
              (nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}}));
    EXPECT_EQ(nlohmann::json::parse(*b64url_decode(p.payload)), claims);
    EXPECT_EQ(p.signature, b64url(hmac_sha256(key, p.signing_input)));
    // Same bytes as mint() with the same header.
    EXPECT_EQ(token, mint({{"alg", "HS256"}, {"typ", "JWT"}}, claims, key));
}

TEST(jwt, none_and_unknown_algorithms_are_unsigned) {
    for (const char* alg : {"none", "None", "HS999"}) {
        const auto token = mint({{"alg", alg}}, {{"sub", "x"}}, "key");
        ASSERT_FALSE(token.empty());
        EXPECT_EQ(token.back(), '.') << alg;
    }
    EXPECT_EQ(mint(nlohmann::json::object(), {{"sub", "x"}}, "key").back(), '.');
}

TEST(jwt, rs256_verifies_with_the_public_key) {
    pkey_ptr key(EVP_RSA_gen(2048));
    ASSERT_TRUE(key);
    const auto token =
        mint({{"alg", "RS256"}, {"typ", "JWT"}}, {{"sub", "rs"}}, private_pem(key.get()));
    const auto p = split(token);
    EXPECT_TRUE(verify(key.get(), p.signing_input, *b64url_decode(p.signature)));
    EXPECT_FALSE(verify(key.get(), p.signing_input + "x", *b64url_decode(p.signature)));
}

TEST(jwt, es256_signature_is_raw_r_s_and_verifies) {
    pkey_ptr key(EVP_EC_gen("P-256"));
    ASSERT_TRUE(key);
    const auto pem = private_pem(key.get());
    const auto token = mint({{"alg", "ES256"}, {"typ", "JWT"}}, {{"sub", "es"}}, pem);
    const auto p = split(token);
    const auto raw = *b64url_decode(p.signature);
    ASSERT_EQ(raw.size(), 64U);
    EXPECT_TRUE(verify(key.get(), p.signing_input, raw_to_der(raw)));
    // RS256 with an EC key, ES256 with an RSA key, and garbage keys are refused.
    EXPECT_THROW(mint({{"alg", "RS256"}}, {{"sub", "x"}}, pem), std::invalid_argument);
    pkey_ptr rsa(EVP_RSA_gen(2048));
    EXPECT_THROW(mint({{"alg", "ES256"}}, {{"sub", "x"}}, private_pem(rsa.get())),
                 std::invalid_argument);
    EXPECT_THROW(mint({{"alg", "ES256"}}, {{"sub", "x"}}, "not a pem"), std::invalid_argument);
}

} // namespace
} // namespace agentcheck::client
