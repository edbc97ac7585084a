#include "conformance/client/jwt.hpp"

#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

namespace agentcheck::client {

namespace {

constexpr std::string_view b64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr unsigned bits_per_char = 6;
constexpr unsigned bits_per_byte = 8;
constexpr unsigned char_mask = 0x3f;
constexpr unsigned byte_mask = 0xff;
/// Size of one coordinate of a P-256 signature (r and s each), RFC 7518 §3.4.
constexpr int es256_coordinate_bytes = 32;

struct bio_free {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct md_ctx_free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct ecdsa_sig_free {
    void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

std::unique_ptr<EVP_PKEY, pkey_free> load_private_key(std::string_view pem) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::invalid_argument("cannot allocate a BIO for the key");
    std::unique_ptr<EVP_PKEY, pkey_free> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) throw std::invalid_argument("the key is not a PEM private key");
    return key;
}

/// SHA-256 signature of data with a private key (PKCS#1 v1.5 for RSA, DER ECDSA for EC).
std::string sign_sha256(EVP_PKEY* key, std::string_view data) {
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    std::size_t size = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        throw std::invalid_argument("cannot sign with this key");
    }
    std::string sig(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        throw std::invalid_argument("cannot sign with this key");
    }
    sig.resize(size);
    return sig;
}

/// DER ECDSA-Sig-Value → raw r||s, each left-padded to 32 bytes (RFC 7518 §3.4).
std::string der_to_raw_es256(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig) throw std::invalid_argument("cannot decode the ECDSA signature");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string raw(static_cast<std::size_t>(2 * es256_coordinate_bytes), '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(r, out, es256_coordinate_bytes) != es256_coordinate_bytes ||
        BN_bn2binpad(s, out + es256_coordinate_bytes, es256_coordinate_bytes) !=
            es256_coordinate_bytes) {
        throw std::invalid_argument("the ECDSA signature does not fit P-256");
    }
    return raw;
}

} // namespace

std::string b64url(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * bits_per_byte + bits_per_char - 1) / bits_per_char);
    unsigned acc = 0;
    unsigned bits = 0;
    for (char c : bytes) {
        acc = (acc << bits_per_byte) | (static_cast<unsigned char>(c) & byte_mask);
        bits += bits_per_byte;
        while (bits >= bits_per_char) {
            bits -= bits_per_char;
            out.push_back(b64url_alphabet[(acc >> bits) & char_mask]);
        }
    }
    if (bits > 0) out.push_back(b64url_alphabet[(acc << (bits_per_char - bits)) & char_mask]);
    return out;
}

std::optional<std::string> b64url_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size() * bits_per_char / bits_per_byte);
    unsigned acc = 0;
    unsigned bits = 0;
    for (char c : text) {
        const auto pos = b64url_alphabet.find(c);
        if (pos == std::string_view::npos) return std::nullopt;
        acc = (acc << bits_per_char) | static_cast<unsigned>(pos);
        bits += bits_per_char;
        if (bits >= bits_per_byte) {
            bits -= bits_per_byte;
            out.push_back(static_cast<char>((acc >> bits) & byte_mask));
        }
    }
    // A lone trailing character (6 bits) cannot encode a byte; leftover bits must be zero.
    if (bits >= bits_per_char || (acc & ((1U << bits) - 1U)) != 0) return std::nullopt;
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
             &size) == nullptr) {
        throw std::invalid_argument("HMAC-SHA256 failed");
    }
    return {reinterpret_cast<const char*>(mac.data()), size};
}

std::string mint(const nlohmann::json& header, const nlohmann::json& claims, std::string_view key) {
    const std::string signing_input = b64url(header.dump()) + "." + b64url(claims.dump());
    const auto alg_it = header.find("alg");
    const std::string alg =
        alg_it != header.end() && alg_it->is_string() ? alg_it->get<std::string>() : std::string();
    std::string signature;
    if (alg == "HS256") {
        signature = hmac_sha256(key, signing_input);
    } else if (alg == "RS256") {
        auto pkey = load_private_key(key);
        if (EVP_PKEY_is_a(pkey.get(), "RSA") != 1)
            throw std::invalid_argument("RS256 needs an RSA key");
        signature = sign_sha256(pkey.get(), signing_input);
    } else if (alg == "ES256") {
        auto pkey = load_private_key(key);
        if (EVP_PKEY_is_a(pkey.get(), "EC") != 1)
            throw std::invalid_argument("ES256 needs an EC key");
        signature = der_to_raw_es256(sign_sha256(pkey.get(), signing_input));
    }
    return signing_input + "." + b64url(signature);
}

std::string mint_hs256(const nlohmann::json& claims, std::string_view secret) {
    return mint({{"alg", "HS256"}, {"typ", "JWT"}}, claims, secret);
}

} // namespace agentcheck::client
