// Problem documents (RFC 9457) as the harness judges an agent's error answers: the input as
// a "type" URI reference, and as the body of a 404 through context::expect_problem(), once by
// a check of HTTP-012 (a bad shape fails it) and once by a check of another rule (noted).
#include <chrono>

#include <nlohmann/json.hpp>

#include "conformance/harness/check.hpp"
#include "conformance/harness/run_context.hpp"
#include "fuzz/support.hpp"

namespace {

const agentcheck::run_environment& environment() {
    static const agentcheck::run_environment env;
    return env;
}

void judge(const agentcheck::check& c, const agentcheck::client::response& r) {
    agentcheck::run_context ctx(environment(), c,
                                std::chrono::steady_clock::now() + std::chrono::hours{1});
    try {
        const auto body = ctx.expect_problem(r, 404);
        fuzz::require(body.is_object(), "expect_problem returns an object");
    } catch (const agentcheck::check_failed&) {
        // the verdict on a bad document
    }
}

} // namespace

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = fuzz::as_text(data, size);
    (void)agentcheck::is_uri_reference(in);
    const auto doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded()) return 0;
    agentcheck::client::response r;
    r.status = 404;
    r.headers = {{"Content-Type", "application/problem+json"}, {"X-Request-ID", "fuzz-1"}};
    r.body = std::string(in);
    static const agentcheck::check own{
        "HTTP-012.fuzz", {"HTTP-012"}, agentcheck::layer::unit, "problem document", {}};
    static const agentcheck::check other{
        "REG-001.fuzz", {"REG-001"}, agentcheck::layer::unit, "another rule", {}};
    judge(own, r);
    judge(other, r);
    return 0;
}
