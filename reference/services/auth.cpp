#include "reference/services/auth.hpp"

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "reference/util/base64url.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/util/text.hpp"

namespace agent {
namespace {

using json = nlohmann::json;
using verify_result = util::expected<principal, token_error>;

constexpr std::string_view bearer_scheme = "Bearer";
constexpr std::string_view alg_hs256 = "HS256";
constexpr std::string_view alg_rs256 = "RS256";
constexpr std::string_view alg_es256 = "ES256";
constexpr std::size_t sha256_bytes = 32;
constexpr std::size_t es256_scalar_bytes = 32; // P-256 r and s (RFC 7518 §3.4)
constexpr std::size_t es256_signature_bytes = 2 * es256_scalar_bytes;
constexpr int min_rsa_bits = 2048; // RFC 7518 §3.3
constexpr std::size_t group_name_buffer = 64;
constexpr std::size_t jwt_segments = 3;

// ---- OpenSSL RAII -------------------------------------------------------------------

struct openssl_free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
    void operator()(unsigned char* p) const noexcept { OPENSSL_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_free>;
using bio_ptr = std::unique_ptr<BIO, openssl_free>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, openssl_free>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_free>;
using der_ptr = std::unique_ptr<unsigned char, openssl_free>;

const unsigned char* bytes_of(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

/// Parses a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"). Throws invalid_argument.
pkey_ptr parse_public_key(std::string_view pem, const char* what) {
    if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw std::invalid_argument(std::string(what) + ": PEM too large");
    bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::bad_alloc();
    pkey_ptr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!key)
        throw std::invalid_argument(std::string(what) +
                                    ": not a PEM public key (BEGIN PUBLIC KEY)");
    return key;
}

pkey_ptr load_rsa_key(std::string_view pem) {
    constexpr const char* what = "RS256 public key";
    auto key = parse_public_key(pem, what);
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
        throw std::invalid_argument(std::string(what) + ": not an RSA key");
    if (EVP_PKEY_get_bits(key.get()) < min_rsa_bits)
        throw std::invalid_argument(std::string(what) + ": RSA keys must have at least " +
                                    std::to_string(min_rsa_bits) + " bits (RFC 7518 section 3.3)");
    return key;
}

pkey_ptr load_ec_key(std::string_view pem) {
    constexpr const char* what = "ES256 public key";
    auto key = parse_public_key(pem, what);
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC)
        throw std::invalid_argument(std::string(what) + ": not an EC key");
    std::array<char, group_name_buffer> group{};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &len) != 1 ||
        std::string_view(group.data(), len) != SN_X9_62_prime256v1) {
        ERR_clear_error();
        throw std::invalid_argument(std::string(what) + ": not a P-256 (prime256v1) key");
    }
    return key;
}

// ---- signatures ---------------------------------------------------------------------

bool verify_hs256(std::string_view secret, std::string_view signing_input, std::string_view sig) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytes_of(signing_input),
             signing_input.size(), mac.data(), &mac_len) == nullptr) {
        ERR_clear_error();
        return false;
    }
    return mac_len == sha256_bytes && sig.size() == sha256_bytes &&
           CRYPTO_memcmp(mac.data(), sig.data(), sha256_bytes) == 0;
}

/// EVP_DigestVerify with SHA-256; sig is what OpenSSL expects (PKCS#1 v1.5 / DER ECDSA).
bool verify_with_key(EVP_PKEY* key, std::string_view signing_input, const unsigned char* sig,
                     std::size_t sig_len) {
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    const bool ok =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(ctx.get(), sig, sig_len, bytes_of(signing_input), signing_input.size()) ==
            1;
    ERR_clear_error();
    return ok;
}

/// JWS ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4); OpenSSL wants DER.
bool verify_es256(EVP_PKEY* key, std::string_view signing_input, std::string_view sig) {
    if (sig.size() != es256_signature_bytes) return false;
    bignum_ptr r(BN_bin2bn(bytes_of(sig), es256_scalar_bytes, nullptr));
    bignum_ptr s(BN_bin2bn(bytes_of(sig.substr(es256_scalar_bytes)), es256_scalar_bytes, nullptr));
    ecdsa_sig_ptr ecdsa(ECDSA_SIG_new());
    if (!r || !s || !ecdsa || ECDSA_SIG_set0(ecdsa.get(), r.get(), s.get()) != 1) {
        ERR_clear_error();
        return false;
    }
    static_cast<void>(r.release()); // now owned by ecdsa
    static_cast<void>(s.release());
    unsigned char* der_raw = nullptr;
    const int der_len = i2d_ECDSA_SIG(ecdsa.get(), &der_raw);
    der_ptr der(der_raw);
    if (der_len <= 0) {
        ERR_clear_error();
        return false;
    }
    return verify_with_key(key, signing_input, der.get(), static_cast<std::size_t>(der_len));
}

// ---- JSON ---------------------------------------------------------------------------

/// Parses a JSON object, refusing duplicate member names at any depth (RFC 7519 §4
/// allows rejecting them; accepting "last wins" invites parser-differential attacks).
std::optional<json> parse_object(std::string_view text) {
    std::vector<std::unordered_set<std::string>> keys_by_depth;
    bool duplicate = false;
    const json::parser_callback_t track = [&](int /*depth*/, json::parse_event_t event,
                                              json& parsed) {
        switch (event) {
        case json::parse_event_t::object_start:
            keys_by_depth.emplace_back();
            break;
        case json::parse_event_t::object_end:
            keys_by_depth.pop_back();
            break;
        case json::parse_event_t::key:
            if (!keys_by_depth.back().insert(parsed.get<std::string>()).second) duplicate = true;
            break;
        default:
            break;
        }
        return true;
    };
    json doc = json::parse(text, track, /*allow_exceptions=*/false);
    if (doc.is_discarded() || duplicate || !doc.is_object()) return std::nullopt;
    return doc;
}

/// A NumericDate (RFC 7519 §2): any JSON number, as seconds since the epoch.
std::optional<double> numeric_date(const json& v) {
    if (!v.is_number()) return std::nullopt;
    const double d = v.get<double>();
    if (!std::isfinite(d)) return std::nullopt;
    return d;
}

bool is_string_array(const json& v) {
    if (!v.is_array()) return false;
    for (const auto& item : v)
        if (!item.is_string()) return false;
    return true;
}

role role_from_name(std::string_view name) noexcept {
    if (name == "viewer") return role::viewer;
    if (name == "operator") return role::operator_;
    if (name == "admin") return role::admin;
    return role::none;
}

/// The three dot-separated parts of a compact JWS, decoded.
struct jws_parts {
    std::string_view signing_input; ///< "header.payload" as sent
    std::string header;
    std::string payload;
    std::string signature;
};

std::optional<jws_parts> split_jws(std::string_view token) {
    std::array<std::string_view, jwt_segments> seg{};
    std::size_t start = 0;
    for (std::size_t i = 0; i < jwt_segments; ++i) {
        const std::size_t dot = token.find('.', start);
        const bool last = i + 1 == jwt_segments;
        if (last != (dot == std::string_view::npos)) return std::nullopt; // wrong number of dots
        seg[i] = token.substr(start, last ? std::string_view::npos : dot - start);
        start = dot + 1;
    }
    auto header = util::base64url_decode(seg[0]);
    auto payload = util::base64url_decode(seg[1]);
    auto signature = util::base64url_decode(seg[2]);
    if (!header || !payload || !signature) return std::nullopt;
    return jws_parts{token.substr(0, seg[0].size() + 1 + seg[1].size()), std::move(*header),
                     std::move(*payload), std::move(*signature)};
}

} // namespace

/// Tokens that verified, so that a client reusing its token (the common case) costs one
/// hash lookup instead of a signature and two JSON parses. Only what cannot change for
/// the same bytes is cached (signature, structure, claims); the time claims are checked
/// again on every hit. Bounded: a shard that fills up is emptied.
class verified_cache {
public:
    struct entry {
        principal who;
        double exp = 0;
        std::optional<double> nbf;
        std::optional<double> iat;
    };
    std::optional<entry> find(std::string_view token) {
        auto& s = shard_for(token);
        std::lock_guard lock(s.mutex);
        auto it = s.map.find(std::string(token));
        if (it == s.map.end()) return std::nullopt;
        return it->second;
    }
    void insert(std::string_view token, entry e) {
        auto& s = shard_for(token);
        std::lock_guard lock(s.mutex);
        if (s.map.size() >= per_shard) s.map.clear();
        s.map.insert_or_assign(std::string(token), std::move(e));
    }

private:
    static constexpr std::size_t shards = 16;
    static constexpr std::size_t per_shard = 1024;
    struct shard {
        std::mutex mutex;
        std::unordered_map<std::string, entry> map;
    };
    shard& shard_for(std::string_view token) {
        return shards_[std::hash<std::string_view>{}(token) % shards];
    }
    std::array<shard, shards> shards_;
};

struct jwt_verifier::keys {
    pkey_ptr rsa;
    pkey_ptr ec;
    verified_cache cache;
};

namespace {
/// RFC 7519 §4.1.4-4.1.6 with leeway: expired / not yet valid, or nullopt when valid now.
std::optional<token_error> time_refusal(double now, double leeway, double exp,
                                        std::optional<double> nbf, std::optional<double> iat) {
    // AUTH-007 and AUTH-009 (their failpoints skip the exp and the nbf test).
    // AUTH-008: exp is honoured with the leeway (the failpoint forgets the leeway for exp).
    const double exp_leeway = AGENT_FAILPOINT("AUTH-008.no-exp-leeway") ? 0.0 : leeway;
    if (now >= exp + exp_leeway && !AGENT_FAILPOINT("AUTH-007.exp-ignored"))
        return token_error::expired;
    if (nbf && now < *nbf - leeway && !AGENT_FAILPOINT("AUTH-009.nbf-ignored"))
        return token_error::not_yet_valid;
    if (iat && now < *iat - leeway) return token_error::not_yet_valid;
    return std::nullopt;
}
} // namespace

const char* to_string(role r) noexcept {
    switch (r) {
    case role::viewer:
        return "viewer";
    case role::operator_:
        return "operator";
    case role::admin:
        return "admin";
    case role::none:
        break;
    }
    return "none";
}

const char* to_string(token_error e) noexcept {
    switch (e) {
    case token_error::missing:
        return "no bearer token";
    case token_error::malformed:
        return "malformed token";
    case token_error::too_long:
        return "token too long";
    case token_error::alg_not_allowed:
        return "signing algorithm not allowed";
    case token_error::bad_signature:
        return "bad signature";
    case token_error::expired:
        return "token expired";
    case token_error::not_yet_valid:
        return "token not yet valid";
    case token_error::wrong_issuer:
        return "wrong issuer";
    case token_error::wrong_audience:
        return "wrong audience";
    case token_error::missing_claim:
        return "required claim missing";
    }
    return "invalid token";
}

jwt_verifier::jwt_verifier(auth_settings settings, const clock& clk)
    : settings_(std::move(settings)), clock_(clk), keys_(std::make_unique<keys>()) {
    if (settings_.hs256_secret.empty() && settings_.rs256_public_key_pem.empty() &&
        settings_.es256_public_key_pem.empty())
        throw std::invalid_argument(
            "no JWT key configured (HS256 secret, RS256 or ES256 public key)");
    if (settings_.leeway.count() < 0)
        throw std::invalid_argument("JWT leeway must not be negative");
    if (!settings_.rs256_public_key_pem.empty())
        keys_->rsa = load_rsa_key(settings_.rs256_public_key_pem);
    if (!settings_.es256_public_key_pem.empty())
        keys_->ec = load_ec_key(settings_.es256_public_key_pem);
}

jwt_verifier::~jwt_verifier() = default;

std::vector<std::string> jwt_verifier::algorithms() const {
    std::vector<std::string> out;
    if (!settings_.hs256_secret.empty()) out.emplace_back(alg_hs256);
    if (keys_->rsa) out.emplace_back(alg_rs256);
    if (keys_->ec) out.emplace_back(alg_es256);
    return out;
}

verify_result jwt_verifier::verify(std::string_view authorization) const {
    using util::unexpected;

    // --- scheme: "Bearer" 1*SP token (RFC 6750 §2.1), scheme case-insensitive
    const std::string_view value = util::trim(authorization);
    if (value.empty()) return unexpected{token_error::missing};
    const std::size_t space = value.find(' ');
    if (!util::iequals(value.substr(0, space), bearer_scheme))
        return unexpected{token_error::missing};
    if (space == std::string_view::npos) return unexpected{token_error::malformed};
    const std::string_view token = util::trim(value.substr(space + 1));
    // AUTH-016: tokens of up to max_token_bytes are accepted. The failpoint measures the whole
    // header value ("Bearer " and all), refusing tokens a few bytes under the limit.
    if ((AGENT_FAILPOINT("AUTH-016.limit-counts-scheme") ? value.size() : token.size()) >
        settings_.max_token_bytes)
        return unexpected{token_error::too_long};
    if (token.empty() || token.find_first_of(" \t") != std::string_view::npos)
        return unexpected{token_error::malformed};

    const double now = std::chrono::duration<double>(clock_.now().time_since_epoch()).count();
    const double leeway = std::chrono::duration<double>(settings_.leeway).count();
    if (auto hit = settings_.cache_verified ? keys_->cache.find(token) : std::nullopt) {
        if (auto late = time_refusal(now, leeway, hit->exp, hit->nbf, hit->iat))
            return unexpected{*late};
        return std::move(hit->who);
    }

    // --- structure and header
    const auto parts = split_jws(token);
    if (!parts) return unexpected{token_error::malformed};
    const auto header = parse_object(parts->header);
    if (!header) return unexpected{token_error::malformed};
    const auto alg_it = header->find("alg");
    if (alg_it == header->end() || !alg_it->is_string()) return unexpected{token_error::malformed};
    // We implement no JWS extensions, so any "crit" header must be refused (RFC 7515 §4.1.11).
    if (header->contains("crit")) return unexpected{token_error::malformed};

    // --- signature: the key is chosen by our configuration for that alg, never by the token
    const auto& alg = alg_it->get_ref<const std::string&>();
    bool valid = false;
    if (alg == alg_hs256 && !settings_.hs256_secret.empty()) {
        valid = verify_hs256(settings_.hs256_secret, parts->signing_input, parts->signature);
    } else if (alg == alg_rs256 && keys_->rsa) {
        valid = verify_with_key(keys_->rsa.get(), parts->signing_input, bytes_of(parts->signature),
                                parts->signature.size());
    } else if (alg == alg_es256 && keys_->ec) {
        valid = verify_es256(keys_->ec.get(), parts->signing_input, parts->signature);
    } else if (AGENT_FAILPOINT("AUTH-004.alg-none-accepted") && util::iequals(alg, "none")) {
        valid = true; // AUTH-004: the failpoint takes an unsigned token at its word
    } else {
        return unexpected{token_error::alg_not_allowed}; // "none" and friends land here
    }
    if (!valid) return unexpected{token_error::bad_signature};

    // --- claims (only parsed once the signature holds)
    const auto claims = parse_object(parts->payload);
    if (!claims) return unexpected{token_error::malformed};
    const json& c = *claims;

    const auto sub = c.find("sub");
    if (sub != c.end() && (!sub->is_string() || sub->get_ref<const std::string&>().empty()))
        return unexpected{token_error::malformed};
    std::optional<double> exp;
    std::optional<double> nbf;
    std::optional<double> iat;
    for (auto [name, slot] :
         {std::pair{"exp", &exp}, std::pair{"nbf", &nbf}, std::pair{"iat", &iat}}) {
        const auto it = c.find(name);
        if (it == c.end()) continue;
        *slot = numeric_date(*it);
        if (!*slot) return unexpected{token_error::malformed};
    }
    const auto roles = c.find("roles");
    if (roles != c.end() && !is_string_array(*roles)) return unexpected{token_error::malformed};
    const auto iss = c.find("iss");
    if (iss != c.end() && !iss->is_string()) return unexpected{token_error::malformed};
    const auto aud = c.find("aud");
    if (aud != c.end() && !aud->is_string() && !is_string_array(*aud))
        return unexpected{token_error::malformed};
    if (!exp) return unexpected{token_error::missing_claim};

    // --- time (RFC 7519 §4.1.4-4.1.6), with leeway. NumericDates may be fractional, so
    // compare in (double) seconds: exact for whole seconds, sub-microsecond otherwise.
    if (auto late = time_refusal(now, leeway, *exp, nbf, iat)) return unexpected{*late};
    if (sub == c.end()) return unexpected{token_error::missing_claim};

    // --- issuer and audience
    // AUTH-011: with an issuer configured, another or no iss is refused. The failpoint's
    // defect compares iss only when the token has one.
    if (settings_.issuer &&
        ((iss == c.end() && !AGENT_FAILPOINT("AUTH-011.missing-iss-accepted")) ||
         (iss != c.end() && iss->get_ref<const std::string&>() != *settings_.issuer)))
        return unexpected{token_error::wrong_issuer};
    // AUTH-012: with an audience configured, another or no aud is refused (the failpoint
    // never compares it).
    if (settings_.audience && !AGENT_FAILPOINT("AUTH-012.audience-unchecked")) {
        bool found = false;
        if (aud != c.end()) {
            if (aud->is_string()) {
                found = aud->get_ref<const std::string&>() == *settings_.audience;
            } else {
                for (const auto& a : *aud)
                    if (a.get_ref<const std::string&>() == *settings_.audience) found = true;
            }
        }
        if (!found) return unexpected{token_error::wrong_audience};
    }

    principal p;
    p.sub = sub->get<std::string>();
    if (roles != c.end()) {
        for (const auto& r : *roles) {
            p.roles.push_back(r.get<std::string>());
            const role known = role_from_name(p.roles.back());
            if (static_cast<int>(known) > static_cast<int>(p.highest)) p.highest = known;
        }
    }
    // AUTH-019: no recognised role, no access (the failpoint makes such a token a viewer).
    if (p.highest == role::none && AGENT_FAILPOINT("AUTH-019.roleless-is-viewer"))
        p.highest = role::viewer;
    if (settings_.cache_verified) keys_->cache.insert(token, {p, *exp, nbf, iat});
    return p;
}

} // namespace agent
