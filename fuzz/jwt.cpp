// Bearer JWTs (RFC 7519 / 7515 / 6750): the input as an Authorization value, as a token after
// "Bearer ", and as the claims of a token signed with the verifier's own secret (so that the
// claim checks behind the signature are reached). The clock never moves and nothing is
// cached, so an input is verified the same way every time.
#include <chrono>
#include <string>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz/support.hpp"
#include "reference/interfaces/clock.hpp"
#include "reference/services/auth.hpp"
#include "reference/util/base64url.hpp"

namespace {

const std::string secret{fuzz::hs256_secret};

const agent::jwt_verifier& verifier() {
    // 2026-01-01T00:00:00Z: the seed tokens expire in 2030.
    static const agent::manual_clock clk{
        std::chrono::system_clock::time_point{std::chrono::seconds{1767225600}}};
    static const agent::jwt_verifier v{agent::auth_settings{secret,
                                                            {},
                                                            {},
                                                            "agentd-fuzz",
                                                            "agentd",
                                                            std::chrono::seconds{30},
                                                            8192,
                                                            /*cache_verified=*/false},
                                       clk};
    return v;
}

/// A compact JWS of header {"alg":"HS256","typ":"JWT"} and `claims` as given, signed with secret.
std::string sign(std::string_view claims) {
    const std::string input = agent::util::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") +
                              "." + agent::util::base64url_encode(claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return input + "." + agent::util::base64url_encode({reinterpret_cast<const char*>(mac), len});
}

void check(const agent::util::expected<agent::principal, agent::token_error>& r) {
    if (r) fuzz::require(!r->sub.empty(), "an accepted token names its subject");
}

} // namespace

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = fuzz::as_text(data, size);
    check(verifier().verify(in));
    check(verifier().verify("Bearer " + std::string(in)));
    check(verifier().verify("Bearer " + sign(in)));
    return 0;
}
