// Discovery documents (GET /.well-known/agent-service) as the harness reads them: the
// identities' claims and tokens (auth.issuer, auth.audience), every bad-token variant (auth
// leeway_s and friends), the features that decide which checks apply, the declared limits.
// Time, secret and run id are fixed, so an input is read the same way every time.
#include <chrono>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/identities.hpp"
#include "conformance/harness/run_context.hpp"
#include "conformance/harness/runner.hpp"
#include "conformance/harness/token_variants.hpp"
#include "fuzz/support.hpp"

namespace {

/// Each feature of the catalogue ("" for the core) and a check of its first rule.
const std::vector<std::pair<std::string, agentcheck::check>>& checks_by_feature() {
    static const auto all = [] {
        std::vector<std::pair<std::string, agentcheck::check>> out;
        std::set<std::string> seen;
        for (const auto& r : agentcheck::builtin_catalogue().requirements)
            if (seen.insert(r.feature).second)
                out.emplace_back(r.feature,
                                 agentcheck::check{
                                     "FUZZ." + r.id, {r.id}, agentcheck::layer::unit, r.title, {}});
        return out;
    }();
    return all;
}

} // namespace

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto doc = nlohmann::json::parse(fuzz::as_text(data, size), nullptr, false);
    if (doc.is_discarded()) return 0;
    constexpr long long now_s = 1767225600;
    const std::string secret{fuzz::hs256_secret};
    agentcheck::run_environment env;
    env.discovery = doc;
    env.identities = agentcheck::identity_set(secret, "fuzz0001", doc, now_s);
    env.secret = secret;
    for (const auto& v : agentcheck::token_variants()) {
        try {
            (void)agentcheck::mint_token_variant(v.name, env.identities.claims("operator"), doc,
                                                 now_s, secret);
        } catch (const std::invalid_argument&) {
            // a variant the document does not declare what for (wrong-iss without auth.issuer)
        }
    }
    for (const auto& [feature, c] : checks_by_feature())
        (void)agentcheck::missing_features(c, agentcheck::builtin_catalogue(), doc);
    if (!doc.is_object()) return 0; // fetch_discovery() takes nothing but an object
    const auto& first = checks_by_feature().front().second;
    agentcheck::run_context ctx(env, first,
                                std::chrono::steady_clock::now() + std::chrono::hours{1});
    for (const auto& [feature, c] : checks_by_feature())
        (void)ctx.has_feature(feature);
    for (const char* limit : {"max_body_bytes", "max_header_bytes", "page_limit_max"})
        (void)ctx.limit(limit, 1);
    return 0;
}
