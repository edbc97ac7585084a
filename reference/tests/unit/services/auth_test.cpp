#include "reference/services/auth.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "reference/util/base64url.hpp"

namespace {

using namespace std::chrono;
using agent::auth_settings;
using agent::jwt_verifier;
using agent::manual_clock;
using agent::role;
using agent::token_error;
using agent::util::base64url_decode;
using agent::util::base64url_encode;
using json = nlohmann::json;

// ---- a small test-only signer ---------------------------------------------------------

struct ossl_free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
    void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
    void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, ossl_free>;

const unsigned char* u8(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), u8(data), data.size(), mac, &len);
    return {reinterpret_cast<char*>(mac), len};
}

std::string digest_sign(EVP_PKEY* key, std::string_view data) {
    std::unique_ptr<EVP_MD_CTX, ossl_free> ctx(EVP_MD_CTX_new());
    EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key), 1);
    std::size_t len = 0;
    EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, u8(data), data.size()), 1);
    std::string sig(len, '\0');
    EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                             u8(data), data.size()),
              1);
    sig.resize(len);
    return sig;
}

/// ES256 as JWS wants it: DER from OpenSSL converted to r || s, 32 bytes each.
std::string es256_sign(EVP_PKEY* key, std::string_view data) {
    const std::string der = digest_sign(key, data);
    const auto* p = u8(der);
    std::unique_ptr<ECDSA_SIG, ossl_free> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(sig);
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string out(64, '\0');
    BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
    return out;
}

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, ossl_free> bio(BIO_new(BIO_s_mem()));
    EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(len)};
}

pkey_ptr rsa_key(unsigned bits = 2048) {
    return pkey_ptr(EVP_RSA_gen(bits));
}
pkey_ptr ec_key(const char* curve = "P-256") {
    return pkey_ptr(EVP_EC_gen(curve));
}

/// Builds a public key from its JWK parameters (RFC 7518 §6.2 / §6.3).
pkey_ptr key_from_params(const char* type, const std::function<void(OSSL_PARAM_BLD*)>& fill) {
    std::unique_ptr<OSSL_PARAM_BLD, ossl_free> bld(OSSL_PARAM_BLD_new());
    fill(bld.get());
    std::unique_ptr<OSSL_PARAM, ossl_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
    std::unique_ptr<EVP_PKEY_CTX, ossl_free> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    EXPECT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
    EXPECT_EQ(EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()), 1);
    return pkey_ptr(key);
}

pkey_ptr rsa_public_from_jwk(std::string_view n_b64, std::string_view e_b64) {
    const std::string n = *base64url_decode(n_b64);
    const std::string e = *base64url_decode(e_b64);
    std::unique_ptr<BIGNUM, ossl_free> bn_n(BN_bin2bn(u8(n), static_cast<int>(n.size()), nullptr));
    std::unique_ptr<BIGNUM, ossl_free> bn_e(BN_bin2bn(u8(e), static_cast<int>(e.size()), nullptr));
    return key_from_params("RSA", [&](OSSL_PARAM_BLD* b) {
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
    });
}

pkey_ptr ec_public_from_jwk(std::string_view x_b64, std::string_view y_b64) {
    const std::string point =
        std::string(1, '\x04') + *base64url_decode(x_b64) + *base64url_decode(y_b64);
    return key_from_params("EC", [&](OSSL_PARAM_BLD* b) {
        OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    });
}

using signer = std::function<std::string(std::string_view signing_input)>;

/// header and payload are raw JSON text (so tests can send anything); the signature is
/// whatever the signer returns for "b64(header).b64(payload)".
std::string make_token(std::string_view header, std::string_view payload, const signer& sign) {
    const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
    return input + "." + base64url_encode(sign(input));
}

signer hs256_signer(std::string secret) {
    return [secret = std::move(secret)](std::string_view in) { return hmac_sha256(secret, in); };
}
signer rs256_signer(EVP_PKEY* key) {
    return [key](std::string_view in) { return digest_sign(key, in); };
}
signer es256_signer(EVP_PKEY* key) {
    return [key](std::string_view in) { return es256_sign(key, in); };
}

std::string bearer(const std::string& token) {
    return "Bearer " + token;
}

/// Builds auth_settings fluently (designated initializers trip -Wmissing-field-initializers).
class settings {
public:
    settings& hs(std::string v) {
        s_.hs256_secret = std::move(v);
        return *this;
    }
    settings& rs(std::string v) {
        s_.rs256_public_key_pem = std::move(v);
        return *this;
    }
    settings& es(std::string v) {
        s_.es256_public_key_pem = std::move(v);
        return *this;
    }
    settings& iss(std::string v) {
        s_.issuer = std::move(v);
        return *this;
    }
    settings& aud(std::string v) {
        s_.audience = std::move(v);
        return *this;
    }
    settings& leeway(seconds v) {
        s_.leeway = v;
        return *this;
    }
    settings& max_bytes(std::size_t v) {
        s_.max_token_bytes = v;
        return *this;
    }
    [[nodiscard]] auth_settings get() const { return s_; }

private:
    auth_settings s_;
};

// ---- fixtures -------------------------------------------------------------------------

const std::string secret = "0123456789abcdef0123456789abcdef-test-secret";
const system_clock::time_point t0{seconds{1'800'000'000}};
constexpr long long t0_s = 1'800'000'000;

json claims_ok() {
    return {{"sub", "alice"}, {"exp", t0_s + 3600}, {"roles", {"operator"}}};
}
const std::string hs_header = R"({"alg":"HS256","typ":"JWT"})";

/// Keys are slow to generate; make them once.
struct keyring {
    pkey_ptr rsa = rsa_key();
    pkey_ptr rsa_other = rsa_key();
    pkey_ptr ec = ec_key();
    pkey_ptr ec_other = ec_key();
    std::string rsa_pem = public_pem(rsa.get());
    std::string ec_pem = public_pem(ec.get());
};
const keyring& keys() {
    static const keyring k;
    return k;
}

class auth_test : public ::testing::Test {
protected:
    manual_clock clk{t0};

    jwt_verifier hs_verifier(auth_settings s = {}) {
        s.hs256_secret = secret;
        return jwt_verifier(std::move(s), clk);
    }
    static std::string hs(const json& claims, const std::string& header = hs_header) {
        return make_token(header, claims.dump(), hs256_signer(secret));
    }
    static token_error error_of(const jwt_verifier& v, const std::string& authorization) {
        const auto r = v.verify(authorization);
        EXPECT_FALSE(r.has_value()) << "token unexpectedly accepted: " << authorization;
        return r.has_value() ? token_error::missing : r.error();
    }
};

// The verifier is neither copyable nor movable, so build it in place.
#define VERIFIER(name, builder) jwt_verifier name((builder).get(), clk)

// ---- RFC 7515 Appendix A vectors ------------------------------------------------------

// A.1-A.3 share this payload: {"iss":"joe",\r\n "exp":1300819380,\r\n
// "http://example.com/is_root":true} It has no "sub", so once the signature and exp pass, the
// verifier says missing_claim.
const std::string rfc_payload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcG"
                                "xlLmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr long long rfc_exp = 1300819380;

const std::string a1_header = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const std::string a1_signature = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string a1_key_k =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

const std::string a2_header = "eyJhbGciOiJSUzI1NiJ9";
const std::string a2_n = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
                         "4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-"
                         "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-"
                         "bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
                         "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_"
                         "I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_"
                         "h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const std::string a2_signature =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujGbds9"
    "uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
    "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_"
    "eSN9383LcOLn6_dO--xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rq"
    "Vt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

const std::string a3_header = "eyJhbGciOiJFUzI1NiJ9";
const std::string a3_x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const std::string a3_y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const std::string a3_signature =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// Flips the low bit of the first decoded byte of a base64url signature.
std::string flip_first_bit(const std::string& sig_b64) {
    std::string raw = *base64url_decode(sig_b64);
    raw[0] = static_cast<char>(raw[0] ^ 1);
    return base64url_encode(raw);
}

TEST_F(auth_test, rfc7515_a1_test_signer_reproduces_the_published_hmac) {
    const std::string key = *base64url_decode(a1_key_k);
    EXPECT_EQ(base64url_encode(hmac_sha256(key, a1_header + "." + rfc_payload)), a1_signature);
}

TEST_F(auth_test, rfc7515_a1_hs256_verifies_then_expires) {
    clk.set(system_clock::time_point{seconds{rfc_exp - 60}});
    VERIFIER(v, settings().hs(*base64url_decode(a1_key_k)));
    const std::string token = a1_header + "." + rfc_payload + "." + a1_signature;
    // Signature and exp accepted: the only complaint is the absent "sub".
    EXPECT_EQ(error_of(v, bearer(token)), token_error::missing_claim);
    // Leeway 30 s: still fine 29 s after exp, expired at exp + 30 s.
    clk.set(system_clock::time_point{seconds{rfc_exp + 29}});
    EXPECT_EQ(error_of(v, bearer(token)), token_error::missing_claim);
    clk.set(system_clock::time_point{seconds{rfc_exp + 30}});
    EXPECT_EQ(error_of(v, bearer(token)), token_error::expired);
    // And a changed signature is refused before any claim is looked at.
    clk.set(system_clock::time_point{seconds{rfc_exp - 60}});
    EXPECT_EQ(
        error_of(v, bearer(a1_header + "." + rfc_payload + "." + flip_first_bit(a1_signature))),
        token_error::bad_signature);
}

TEST_F(auth_test, rfc7515_a2_rs256_verifies_then_expires) {
    clk.set(system_clock::time_point{seconds{rfc_exp - 60}});
    const auto key = rsa_public_from_jwk(a2_n, "AQAB");
    ASSERT_TRUE(key);
    VERIFIER(v, settings().rs(public_pem(key.get())));
    const std::string token = a2_header + "." + rfc_payload + "." + a2_signature;
    EXPECT_EQ(error_of(v, bearer(token)), token_error::missing_claim);
    EXPECT_EQ(
        error_of(v, bearer(a2_header + "." + rfc_payload + "." + flip_first_bit(a2_signature))),
        token_error::bad_signature);
    clk.set(system_clock::time_point{seconds{rfc_exp + 30}});
    EXPECT_EQ(error_of(v, bearer(token)), token_error::expired);
}

TEST_F(auth_test, rfc7515_a3_es256_verifies_then_expires) {
    clk.set(system_clock::time_point{seconds{rfc_exp - 60}});
    const auto key = ec_public_from_jwk(a3_x, a3_y);
    ASSERT_TRUE(key);
    VERIFIER(v, settings().es(public_pem(key.get())));
    const std::string token = a3_header + "." + rfc_payload + "." + a3_signature;
    EXPECT_EQ(error_of(v, bearer(token)), token_error::missing_claim);
    EXPECT_EQ(
        error_of(v, bearer(a3_header + "." + rfc_payload + "." + flip_first_bit(a3_signature))),
        token_error::bad_signature);
    clk.set(system_clock::time_point{seconds{rfc_exp + 30}});
    EXPECT_EQ(error_of(v, bearer(token)), token_error::expired);
}

// ---- happy paths ----------------------------------------------------------------------

TEST_F(auth_test, hs256_valid_token_gives_principal) {
    const auto v = hs_verifier();
    const auto r = v.verify(bearer(hs(claims_ok())));
    ASSERT_TRUE(r.has_value()) << agent::to_string(r.error());
    EXPECT_EQ(r->sub, "alice");
    EXPECT_EQ(r->highest, role::operator_);
    EXPECT_EQ(r->roles, std::vector<std::string>{"operator"});
}

TEST_F(auth_test, rs256_and_es256_valid_tokens) {
    VERIFIER(v, settings().rs(keys().rsa_pem).es(keys().ec_pem));
    const auto rs = v.verify(bearer(
        make_token(R"({"alg":"RS256"})", claims_ok().dump(), rs256_signer(keys().rsa.get()))));
    ASSERT_TRUE(rs.has_value()) << agent::to_string(rs.error());
    EXPECT_EQ(rs->sub, "alice");
    const auto es = v.verify(bearer(
        make_token(R"({"alg":"ES256"})", claims_ok().dump(), es256_signer(keys().ec.get()))));
    ASSERT_TRUE(es.has_value()) << agent::to_string(es.error());
    EXPECT_EQ(es->highest, role::operator_);
}

TEST_F(auth_test, signature_from_another_key_is_refused) {
    VERIFIER(v, settings().rs(keys().rsa_pem).es(keys().ec_pem));
    EXPECT_EQ(error_of(v, bearer(make_token(R"({"alg":"RS256"})", claims_ok().dump(),
                                            rs256_signer(keys().rsa_other.get())))),
              token_error::bad_signature);
    EXPECT_EQ(error_of(v, bearer(make_token(R"({"alg":"ES256"})", claims_ok().dump(),
                                            es256_signer(keys().ec_other.get())))),
              token_error::bad_signature);
    const auto v2 = hs_verifier();
    EXPECT_EQ(
        error_of(v2, bearer(make_token(hs_header, claims_ok().dump(), hs256_signer(secret + "x")))),
        token_error::bad_signature);
}

TEST_F(auth_test, highest_role_of_recognised_names) {
    const auto v = hs_verifier();
    const auto highest = [&](const json& roles) {
        json c = claims_ok();
        c["roles"] = roles;
        const auto r = v.verify(bearer(hs(c)));
        EXPECT_TRUE(r.has_value());
        return r.has_value() ? r->highest : role::none;
    };
    EXPECT_EQ(highest(json::array({"viewer", "admin", "operator"})), role::admin);
    EXPECT_EQ(highest(json::array({"viewer"})), role::viewer);
    EXPECT_EQ(highest(json::array({"operator", "superuser"})), role::operator_);
    EXPECT_EQ(highest(json::array({"Admin", "ADMIN", "root"})), role::none);
    EXPECT_EQ(highest(json::array()), role::none);

    json no_roles = claims_ok();
    no_roles.erase("roles");
    const auto r = v.verify(bearer(hs(no_roles)));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->highest, role::none);
    EXPECT_TRUE(r->roles.empty());
}

TEST_F(auth_test, unknown_roles_are_kept_as_sent) {
    const auto v = hs_verifier();
    json c = claims_ok();
    c["roles"] = {"auditor", "viewer"};
    const auto r = v.verify(bearer(hs(c)));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->roles, (std::vector<std::string>{"auditor", "viewer"}));
    EXPECT_EQ(r->highest, role::viewer);
}

// ---- Authorization header syntax ------------------------------------------------------

TEST_F(auth_test, absent_header_or_other_scheme_is_missing) {
    const auto v = hs_verifier();
    const std::string token = hs(claims_ok());
    EXPECT_EQ(error_of(v, ""), token_error::missing);
    EXPECT_EQ(error_of(v, "   "), token_error::missing);
    EXPECT_EQ(error_of(v, "Basic YWxhZGRpbjpvcGVuc2VzYW1l"), token_error::missing);
    EXPECT_EQ(error_of(v, "Token " + token), token_error::missing);
    EXPECT_EQ(error_of(v, "Bearer" + token), token_error::missing); // no separator
    EXPECT_EQ(error_of(v, token), token_error::missing);
}

TEST_F(auth_test, bearer_scheme_is_case_insensitive) {
    const auto v = hs_verifier();
    const std::string token = hs(claims_ok());
    for (const char* scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR "})
        EXPECT_TRUE(v.verify(scheme + token).has_value()) << scheme;
    EXPECT_TRUE(v.verify("Bearer   " + token + "  ").has_value()); // 1*SP, surrounding OWS
}

TEST_F(auth_test, bearer_without_exactly_one_token_is_malformed) {
    const auto v = hs_verifier();
    const std::string token = hs(claims_ok());
    EXPECT_EQ(error_of(v, "Bearer"), token_error::malformed);
    EXPECT_EQ(error_of(v, "Bearer "), token_error::malformed);
    EXPECT_EQ(error_of(v, "Bearer    "), token_error::malformed);
    EXPECT_EQ(error_of(v, "Bearer " + token + " " + token), token_error::malformed);
    EXPECT_EQ(error_of(v, "Bearer " + token + " extra"), token_error::malformed);
    EXPECT_EQ(error_of(v, "Bearer " + token + "\tx"), token_error::malformed);
}

TEST_F(auth_test, too_long_is_checked_before_parsing) {
    const auto v = hs_verifier();
    // Not even a JWT: the length alone decides.
    EXPECT_EQ(error_of(v, "Bearer " + std::string(8193, '!')), token_error::too_long);
    EXPECT_EQ(error_of(v, "Bearer " + std::string(8192, '!')), token_error::malformed);
}

TEST_F(auth_test, too_long_boundary_on_a_valid_token) {
    const std::string token = hs(claims_ok());
    {
        VERIFIER(v, settings().hs(secret).max_bytes(token.size()));
        EXPECT_TRUE(v.verify(bearer(token)).has_value());
    }
    {
        VERIFIER(v, settings().hs(secret).max_bytes(token.size() - 1));
        EXPECT_EQ(error_of(v, bearer(token)), token_error::too_long);
    }
}

// ---- structure ------------------------------------------------------------------------

TEST_F(auth_test, wrong_number_of_segments_is_malformed) {
    const auto v = hs_verifier();
    const std::string token = hs(claims_ok());
    const auto last_dot = token.rfind('.');
    EXPECT_EQ(error_of(v, bearer(token.substr(0, last_dot))), token_error::malformed); // two parts
    EXPECT_EQ(error_of(v, bearer(token + ".x")), token_error::malformed);
    EXPECT_EQ(error_of(v, bearer(token + ".")), token_error::malformed);
    EXPECT_EQ(error_of(v, bearer("..")), token_error::malformed);
    EXPECT_EQ(error_of(v, bearer("...")), token_error::malformed);
    EXPECT_EQ(error_of(v, bearer("abc")), token_error::malformed);
}

TEST_F(auth_test, non_base64url_segments_are_malformed) {
    const auto v = hs_verifier();
    const std::string token = hs(claims_ok());
    const auto first_dot = token.find('.');
    // Standard-alphabet and padded encodings are not base64url.
    EXPECT_EQ(error_of(v, bearer("eyJ+" + token.substr(4))), token_error::malformed);
    EXPECT_EQ(error_of(v, bearer(token.substr(0, first_dot) + "=" + token.substr(first_dot))),
              token_error::malformed);
    EXPECT_EQ(error_of(v, bearer(token + "=")), token_error::malformed);
    EXPECT_EQ(error_of(v, bearer(token.substr(0, token.size() - 1) + "*")), token_error::malformed);
}

TEST_F(auth_test, header_must_be_a_json_object_with_string_alg) {
    const auto v = hs_verifier();
    const auto sign = hs256_signer(secret);
    const std::string payload = claims_ok().dump();
    for (const char* header :
         {"not json", "", "[\"HS256\"]", "\"HS256\"", "{}", R"({"typ":"JWT"})", R"({"alg":256})",
          R"({"alg":null})", R"({"alg":["HS256"]})", R"({"alg":"HS256"} trailing)",
          R"({"alg":"HS256","alg":"HS256"})", "{\"alg\":\"HS256\",\"x\":\"\xff\"}"})
        EXPECT_EQ(error_of(v, bearer(make_token(header, payload, sign))), token_error::malformed)
            << header;
}

TEST_F(auth_test, crit_header_is_refused) {
    const auto v = hs_verifier();
    EXPECT_EQ(error_of(v, bearer(hs(claims_ok(), R"({"alg":"HS256","crit":["exp"],"exp":1})"))),
              token_error::malformed);
    EXPECT_EQ(error_of(v, bearer(hs(claims_ok(), R"({"alg":"HS256","b64":false,"crit":["b64"]})"))),
              token_error::malformed);
}

TEST_F(auth_test, other_header_members_are_ignored) {
    const auto v = hs_verifier();
    EXPECT_TRUE(
        v.verify(bearer(hs(claims_ok(), R"({"alg":"HS256","typ":"JWT","kid":"k1","x":{"y":[1]}})")))
            .has_value());
}

TEST_F(auth_test, payload_must_be_a_json_object) {
    const auto v = hs_verifier();
    const auto sign = hs256_signer(secret);
    for (const char* payload : {"not json", "", "[]", "\"alice\"", "42", "null",
                                R"({"sub":"alice","exp":1900000000,"sub":"bob"})",
                                "{\"sub\":\"\xc3\",\"exp\":1900000000}"})
        EXPECT_EQ(error_of(v, bearer(make_token(hs_header, payload, sign))), token_error::malformed)
            << payload;
}

TEST_F(auth_test, duplicate_names_are_refused_at_any_depth_but_not_across_objects) {
    const auto v = hs_verifier();
    const auto sign = hs256_signer(secret);
    EXPECT_EQ(
        error_of(v, bearer(make_token(hs_header,
                                      R"({"sub":"a","exp":1900000000,"o":{"k":1,"k":2}})", sign))),
        token_error::malformed);
    EXPECT_TRUE(v.verify(bearer(make_token(
                             hs_header,
                             R"({"sub":"a","exp":1900000000,"o":{"sub":1},"p":{"sub":2}})", sign)))
                    .has_value());
}

// ---- algorithms -----------------------------------------------------------------------

TEST_F(auth_test, alg_none_in_every_spelling_is_refused) {
    const auto v = hs_verifier();
    for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
        const std::string header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
        // Unsigned, as "none" tokens are sent ...
        EXPECT_EQ(error_of(v, bearer(make_token(header, claims_ok().dump(),
                                                [](std::string_view) { return std::string(); }))),
                  token_error::alg_not_allowed)
            << alg;
        // ... and even with a valid HMAC under our own secret.
        EXPECT_EQ(error_of(v, bearer(make_token(header, claims_ok().dump(), hs256_signer(secret)))),
                  token_error::alg_not_allowed)
            << alg;
    }
}

TEST_F(auth_test, algorithms_not_enabled_are_refused) {
    const auto v = hs_verifier();
    for (const char* alg :
         {"HS384", "HS512", "hs256", "Hs256", "HS256 ", "RS256", "ES256", "PS256", "EdDSA", ""}) {
        const std::string header = std::string(R"({"alg":")") + alg + R"("})";
        EXPECT_EQ(error_of(v, bearer(make_token(header, claims_ok().dump(), hs256_signer(secret)))),
                  token_error::alg_not_allowed)
            << alg;
    }
    VERIFIER(rs_only, settings().rs(keys().rsa_pem));
    EXPECT_EQ(error_of(rs_only, bearer(hs(claims_ok()))), token_error::alg_not_allowed);
    EXPECT_EQ(error_of(rs_only, bearer(make_token(R"({"alg":"ES256"})", claims_ok().dump(),
                                                  es256_signer(keys().ec.get())))),
              token_error::alg_not_allowed);
}

TEST_F(auth_test, alg_confusion_hs256_signed_with_the_rsa_public_pem) {
    const auto forged = make_token(hs_header, claims_ok().dump(), hs256_signer(keys().rsa_pem));
    VERIFIER(rs_only, settings().rs(keys().rsa_pem));
    EXPECT_EQ(error_of(rs_only, bearer(forged)), token_error::alg_not_allowed);

    VERIFIER(both, settings().hs(secret).rs(keys().rsa_pem));
    EXPECT_EQ(error_of(both, bearer(forged)), token_error::bad_signature);
    // The HS256 path still works with the real secret.
    EXPECT_TRUE(both.verify(bearer(hs(claims_ok()))).has_value());
}

TEST_F(auth_test, alg_confusion_hs256_signed_with_the_ec_public_pem) {
    const auto forged = make_token(hs_header, claims_ok().dump(), hs256_signer(keys().ec_pem));
    VERIFIER(ec_only, settings().es(keys().ec_pem));
    EXPECT_EQ(error_of(ec_only, bearer(forged)), token_error::alg_not_allowed);
    VERIFIER(both, settings().hs(secret).es(keys().ec_pem));
    EXPECT_EQ(error_of(both, bearer(forged)), token_error::bad_signature);
}

TEST_F(auth_test, rs256_signature_is_not_accepted_as_es256_and_vice_versa) {
    VERIFIER(v, settings().rs(keys().rsa_pem).es(keys().ec_pem));
    EXPECT_EQ(error_of(v, bearer(make_token(R"({"alg":"ES256"})", claims_ok().dump(),
                                            rs256_signer(keys().rsa.get())))),
              token_error::bad_signature);
    EXPECT_EQ(error_of(v, bearer(make_token(R"({"alg":"RS256"})", claims_ok().dump(),
                                            es256_signer(keys().ec.get())))),
              token_error::bad_signature);
}

// ---- signatures -----------------------------------------------------------------------

TEST_F(auth_test, stripped_signature_is_refused) {
    VERIFIER(v, settings().hs(secret).rs(keys().rsa_pem).es(keys().ec_pem));
    const std::string payload = claims_ok().dump();
    for (const auto& token :
         {hs(claims_ok()),
          make_token(R"({"alg":"RS256"})", payload, rs256_signer(keys().rsa.get())),
          make_token(R"({"alg":"ES256"})", payload, es256_signer(keys().ec.get()))}) {
        const std::string stripped = token.substr(0, token.rfind('.') + 1); // "a.b."
        EXPECT_EQ(error_of(v, bearer(stripped)), token_error::bad_signature) << stripped;
    }
}

TEST_F(auth_test, tampered_payload_or_header_is_refused) {
    const auto v = hs_verifier();
    const std::string token = hs(claims_ok());
    json admin = claims_ok();
    admin["roles"] = {"admin"};
    const auto first_dot = token.find('.');
    const auto last_dot = token.rfind('.');
    const std::string swapped_payload =
        token.substr(0, first_dot + 1) + base64url_encode(admin.dump()) + token.substr(last_dot);
    EXPECT_EQ(error_of(v, bearer(swapped_payload)), token_error::bad_signature);
    const std::string swapped_header =
        base64url_encode(R"({"alg":"HS256","typ":"at+jwt"})") + token.substr(first_dot);
    EXPECT_EQ(error_of(v, bearer(swapped_header)), token_error::bad_signature);
    std::string flipped = token;
    flipped[last_dot + 1] = flipped[last_dot + 1] == 'A' ? 'B' : 'A';
    EXPECT_EQ(error_of(v, bearer(flipped)), token_error::bad_signature);
}

TEST_F(auth_test, hs256_truncated_or_extended_mac_is_refused) {
    const auto v = hs_verifier();
    const auto mac = hs256_signer(secret);
    EXPECT_EQ(
        error_of(v, bearer(make_token(hs_header, claims_ok().dump(),
                                      [&](std::string_view in) { return mac(in).substr(0, 16); }))),
        token_error::bad_signature);
    EXPECT_EQ(error_of(v, bearer(make_token(hs_header, claims_ok().dump(),
                                            [&](std::string_view in) { return mac(in) + "x"; }))),
              token_error::bad_signature);
}

TEST_F(auth_test, es256_signature_must_be_64_raw_bytes) {
    VERIFIER(v, settings().es(keys().ec_pem));
    const std::string header = R"({"alg":"ES256"})";
    const std::string payload = claims_ok().dump();
    // The DER form OpenSSL produces natively is not a JWS signature.
    EXPECT_EQ(error_of(v, bearer(make_token(header, payload,
                                            [](std::string_view in) {
                                                return digest_sign(keys().ec.get(), in);
                                            }))),
              token_error::bad_signature);
    const auto good = es256_signer(keys().ec.get());
    EXPECT_EQ(error_of(v, bearer(make_token(
                              header, payload,
                              [&](std::string_view in) { return good(in).substr(0, 63); }))),
              token_error::bad_signature);
    EXPECT_EQ(error_of(v, bearer(make_token(header, payload,
                                            [&](std::string_view in) { return good(in) + '\0'; }))),
              token_error::bad_signature);
    EXPECT_EQ(error_of(v, bearer(make_token(header, payload,
                                            [&](std::string_view in) {
                                                const std::string rs = good(in);
                                                return rs.substr(32) + rs.substr(0, 32); // s || r
                                            }))),
              token_error::bad_signature);
    EXPECT_EQ(
        error_of(v, bearer(make_token(header, payload,
                                      [](std::string_view) { return std::string(64, '\0'); }))),
        token_error::bad_signature);
    EXPECT_TRUE(v.verify(bearer(make_token(header, payload, good))).has_value());
}

// ---- claims ---------------------------------------------------------------------------

TEST_F(auth_test, wrong_claim_types_are_malformed) {
    const auto v = hs_verifier();
    const std::vector<std::pair<std::string, json>> bad = {
        {"exp", "1900000000"},
        {"exp", true},
        {"exp", nullptr},
        {"exp", json::array({1})},
        {"nbf", "0"},
        {"nbf", false},
        {"iat", "0"},
        {"iat", json::object()},
        {"sub", 42},
        {"sub", ""},
        {"sub", nullptr},
        {"sub", json::array({"a"})},
        {"roles", "admin"},
        {"roles", json::array({1})},
        {"roles", json::array({"admin", nullptr})},
        {"roles", nullptr},
        {"iss", 5},
        {"aud", 5},
        {"aud", json::array({"a", 1})},
    };
    for (const auto& [name, value] : bad) {
        json c = claims_ok();
        c[name] = value;
        EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::malformed)
            << name << "=" << value.dump();
    }
}

TEST_F(auth_test, sub_and_exp_are_required) {
    const auto v = hs_verifier();
    for (const char* name : {"sub", "exp"}) {
        json c = claims_ok();
        c.erase(name);
        EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::missing_claim) << name;
    }
    EXPECT_EQ(error_of(v, bearer(hs(json::object()))), token_error::missing_claim);
}

TEST_F(auth_test, exp_boundary_with_leeway) {
    const auto v = hs_verifier(); // leeway 30 s
    const auto with_exp = [&](double exp) {
        json c = claims_ok();
        c["exp"] = exp;
        return bearer(hs(c));
    };
    EXPECT_EQ(error_of(v, with_exp(t0_s - 30)), token_error::expired); // exp == now - leeway
    EXPECT_EQ(error_of(v, with_exp(t0_s - 31)), token_error::expired);
    EXPECT_TRUE(v.verify(with_exp(t0_s - 29)).has_value());   // now - leeway + 1 s
    EXPECT_TRUE(v.verify(with_exp(t0_s - 29.5)).has_value()); // fractional NumericDate
    EXPECT_EQ(error_of(v, with_exp(t0_s - 30.25)), token_error::expired);
    clk.advance(milliseconds{500}); // now = t0 + 0.5 s
    EXPECT_TRUE(v.verify(with_exp(t0_s - 29)).has_value());
    EXPECT_EQ(error_of(v, with_exp(t0_s - 29.5)), token_error::expired);
}

TEST_F(auth_test, exp_boundary_without_leeway) {
    const auto v = hs_verifier(settings().leeway(seconds{0}).get());
    json c = claims_ok();
    c["exp"] = t0_s;
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::expired);
    c["exp"] = t0_s + 1;
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
}

TEST_F(auth_test, nbf_boundary_with_leeway) {
    const auto v = hs_verifier();
    json c = claims_ok();
    c["nbf"] = t0_s + 30; // now == nbf - leeway: valid
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
    c["nbf"] = t0_s + 31; // now == nbf - leeway - 1 s
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::not_yet_valid);
    clk.advance(seconds{1});
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
    c["nbf"] = t0_s - 1000;
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
}

TEST_F(auth_test, iat_in_the_future_beyond_leeway) {
    const auto v = hs_verifier();
    json c = claims_ok();
    c["iat"] = t0_s + 30;
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
    c["iat"] = t0_s + 31;
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::not_yet_valid);
    c["iat"] = t0_s - 86400;
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
}

TEST_F(auth_test, expiry_is_checked_against_the_injected_clock) {
    const auto v = hs_verifier();
    json c = claims_ok(); // exp = t0 + 3600
    const std::string token = bearer(hs(c));
    EXPECT_TRUE(v.verify(token).has_value());
    clk.advance(seconds{3600 + 29});
    EXPECT_TRUE(v.verify(token).has_value());
    clk.advance(seconds{1});
    EXPECT_EQ(error_of(v, token), token_error::expired);
}

TEST_F(auth_test, huge_and_negative_numeric_dates) {
    const auto v = hs_verifier();
    json c = claims_ok();
    c["exp"] = 1e300;
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
    c["exp"] = std::numeric_limits<std::uint64_t>::max();
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
    c["exp"] = -1;
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::expired);
    c["exp"] = t0_s + 60;
    c["nbf"] = 1e300;
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::not_yet_valid);
}

TEST_F(auth_test, issuer_checked_only_when_configured) {
    const auto v = hs_verifier(settings().iss("https://issuer.example").get());
    json c = claims_ok();
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::wrong_issuer); // absent
    c["iss"] = "https://other.example";
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::wrong_issuer);
    c["iss"] = "https://issuer.example/";
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::wrong_issuer);
    c["iss"] = "https://issuer.example";
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());

    const auto open = hs_verifier();
    c["iss"] = "anyone";
    EXPECT_TRUE(open.verify(bearer(hs(c))).has_value());
}

TEST_F(auth_test, audience_string_or_array_checked_only_when_configured) {
    const auto v = hs_verifier(settings().aud("agent").get());
    json c = claims_ok();
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::wrong_audience); // absent
    c["aud"] = "other";
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::wrong_audience);
    c["aud"] = json::array();
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::wrong_audience);
    c["aud"] = {"x", "Agent"};
    EXPECT_EQ(error_of(v, bearer(hs(c))), token_error::wrong_audience);
    c["aud"] = "agent";
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());
    c["aud"] = {"x", "agent"};
    EXPECT_TRUE(v.verify(bearer(hs(c))).has_value());

    const auto open = hs_verifier();
    c["aud"] = "whatever";
    EXPECT_TRUE(open.verify(bearer(hs(c))).has_value());
}

TEST_F(auth_test, signature_is_checked_before_claims) {
    const auto v = hs_verifier();
    json c = claims_ok();
    c["exp"] = 0; // expired, but forged: the signature decides first
    EXPECT_EQ(error_of(v, bearer(make_token(hs_header, c.dump(), hs256_signer("wrong")))),
              token_error::bad_signature);
}

// ---- construction ---------------------------------------------------------------------

TEST_F(auth_test, constructor_requires_some_key) {
    EXPECT_THROW(jwt_verifier(auth_settings{}, clk), std::invalid_argument);
}

TEST_F(auth_test, constructor_rejects_bad_pem) {
    EXPECT_THROW(jwt_verifier(settings().rs("not a pem").get(), clk), std::invalid_argument);
    EXPECT_THROW(
        jwt_verifier(
            settings().es("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").get(),
            clk),
        std::invalid_argument);
    // A valid HS256 secret does not excuse a broken optional key.
    EXPECT_THROW(jwt_verifier(settings().hs(secret).rs("junk").get(), clk), std::invalid_argument);
}

TEST_F(auth_test, constructor_rejects_wrong_key_types) {
    EXPECT_THROW(jwt_verifier(settings().rs(keys().ec_pem).get(), clk), std::invalid_argument);
    EXPECT_THROW(jwt_verifier(settings().es(keys().rsa_pem).get(), clk), std::invalid_argument);
    const auto p384 = ec_key("P-384");
    EXPECT_THROW(jwt_verifier(settings().es(public_pem(p384.get())).get(), clk),
                 std::invalid_argument);
    const auto small_rsa = rsa_key(1024);
    EXPECT_THROW(jwt_verifier(settings().rs(public_pem(small_rsa.get())).get(), clk),
                 std::invalid_argument);
}

TEST_F(auth_test, constructor_error_names_the_key) {
    try {
        jwt_verifier v(settings().es(keys().rsa_pem).get(), clk);
        FAIL() << "accepted an RSA key for ES256";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("ES256"), std::string::npos) << e.what();
    }
}

TEST_F(auth_test, constructor_rejects_negative_leeway) {
    EXPECT_THROW(jwt_verifier(settings().hs(secret).leeway(seconds{-1}).get(), clk),
                 std::invalid_argument);
}

TEST_F(auth_test, algorithms_lists_enabled_in_fixed_order) {
    EXPECT_EQ(hs_verifier().algorithms(), std::vector<std::string>{"HS256"});
    VERIFIER(all, settings().hs(secret).rs(keys().rsa_pem).es(keys().ec_pem));
    EXPECT_EQ(all.algorithms(), (std::vector<std::string>{"HS256", "RS256", "ES256"}));
    VERIFIER(es, settings().es(keys().ec_pem));
    EXPECT_EQ(es.algorithms(), std::vector<std::string>{"ES256"});
    EXPECT_EQ(es.settings().es256_public_key_pem, keys().ec_pem);
}

TEST_F(auth_test, to_string_names) {
    EXPECT_STREQ(agent::to_string(role::none), "none");
    EXPECT_STREQ(agent::to_string(role::viewer), "viewer");
    EXPECT_STREQ(agent::to_string(role::operator_), "operator");
    EXPECT_STREQ(agent::to_string(role::admin), "admin");
    std::set<std::string> reasons;
    for (auto e : {token_error::missing, token_error::malformed, token_error::too_long,
                   token_error::alg_not_allowed, token_error::bad_signature, token_error::expired,
                   token_error::not_yet_valid, token_error::wrong_issuer,
                   token_error::wrong_audience, token_error::missing_claim})
        reasons.insert(agent::to_string(e));
    EXPECT_EQ(reasons.size(), 10U);
    EXPECT_STREQ(agent::to_string(token_error::expired), "token expired");
}

// Run twice: with the cache of verified tokens (every call after the first is a hit) and
// without it (every call runs the HMAC, RSA and ECDSA verification concurrently).
class auth_thread_test : public auth_test, public ::testing::WithParamInterface<bool> {};

TEST_P(auth_thread_test, verify_is_thread_safe) {
    auto s = settings().hs(secret).rs(keys().rsa_pem).es(keys().ec_pem).get();
    s.cache_verified = GetParam();
    jwt_verifier v(std::move(s), clk);
    const std::string payload = claims_ok().dump();
    const std::vector<std::string> good = {
        bearer(hs(claims_ok())),
        bearer(make_token(R"({"alg":"RS256"})", payload, rs256_signer(keys().rsa.get()))),
        bearer(make_token(R"({"alg":"ES256"})", payload, es256_signer(keys().ec.get())))};
    const std::string bad =
        bearer(make_token(R"({"alg":"RS256"})", payload, rs256_signer(keys().rsa_other.get())));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                for (const auto& token : good)
                    if (!v.verify(token).has_value()) ++failures;
                if (v.verify(bad).has_value()) ++failures;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(failures.load(), 0);
}
INSTANTIATE_TEST_SUITE_P(cache, auth_thread_test, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                             return p.param ? "cached" : "uncached";
                         });

} // namespace

// ---- the cache of verified tokens must never change a verdict ---------------------------

namespace {

TEST_F(auth_test, cached_token_still_expires_and_honours_nbf) {
    const auto v = hs_verifier();
    json c = claims_ok();
    c["nbf"] = t0_s + 100;
    const auto token = bearer(hs(c));
    EXPECT_EQ(error_of(v, token), token_error::not_yet_valid); // not cached: refused
    clk.advance(seconds(100));
    ASSERT_TRUE(v.verify(token).has_value()); // verified, now cached
    ASSERT_TRUE(v.verify(token).has_value()); // served from the cache
    clk.advance(seconds(3600 - 100 + 29));    // within the leeway
    EXPECT_TRUE(v.verify(token).has_value());
    clk.advance(seconds(1)); // exp + leeway reached
    EXPECT_EQ(error_of(v, token), token_error::expired);
    clk.set(t0); // the clock moved back
    EXPECT_EQ(error_of(v, token), token_error::not_yet_valid);
}

TEST_F(auth_test, cached_token_does_not_vouch_for_a_tampered_copy) {
    const auto v = hs_verifier();
    const auto token = hs(claims_ok());
    ASSERT_TRUE(v.verify(bearer(token)).has_value());
    const auto dot = token.rfind('.');
    const auto tampered = token.substr(0, dot + 1) + flip_first_bit(token.substr(dot + 1));
    EXPECT_EQ(error_of(v, bearer(tampered)), token_error::bad_signature);
    json other = claims_ok();
    other["roles"] = {"admin"};
    const auto forged =
        make_token(hs_header, other.dump(), hs256_signer("another-secret-0123456789abcdef0123"));
    EXPECT_EQ(error_of(v, bearer(forged)), token_error::bad_signature);
    const auto again = v.verify(bearer(token));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->highest, role::operator_);
}

TEST_F(auth_test, many_distinct_tokens_overflowing_the_cache_still_verify) {
    const auto v = hs_verifier();
    std::vector<std::string> tokens;
    for (int i = 0; i < 20000; ++i) {
        json c = claims_ok();
        c["sub"] = "user-" + std::to_string(i);
        tokens.push_back(bearer(hs(c)));
    }
    // 20,000 distinct tokens overflow the 16 x 1,024 entries, so shards are emptied on the
    // way; every token still verifies, the first ones again after their shard was emptied.
    for (int round = 0; round < 2; ++round)
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            auto r = v.verify(tokens[i]);
            ASSERT_TRUE(r.has_value()) << i;
            ASSERT_EQ(r->sub, "user-" + std::to_string(i));
        }
    // A cached token's verdict still follows the clock after the overflow.
    clk.advance(seconds(3600 + 30));
    EXPECT_EQ(error_of(v, tokens.front()), token_error::expired);
    EXPECT_EQ(error_of(v, tokens.back()), token_error::expired);
}

} // namespace
