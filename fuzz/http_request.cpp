// HTTP/1.1 requests as agentd reads them: bytes through Beast's request_parser with agentd's
// default limits (16 KiB head, 1 MiB body); a complete request then goes through the steps
// app::admit() and handle() take before a resource handler (route, method, Allow, bearer
// token, query, X-Request-ID, JSON body, Idempotency-Key) — the parts that need no store.
#include <chrono>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "fuzz/support.hpp"
#include "reference/handlers/app.hpp"

namespace {

namespace http = agent::handlers::http;

const agent::jwt_verifier& verifier() {
    static const agent::manual_clock clk{
        std::chrono::system_clock::time_point{std::chrono::seconds{1767225600}}};
    static const agent::jwt_verifier v{agent::auth_settings{std::string(fuzz::hs256_secret),
                                                            {},
                                                            {},
                                                            {},
                                                            {},
                                                            std::chrono::seconds{30},
                                                            8192,
                                                            /*cache_verified=*/false},
                                       clk};
    return v;
}

} // namespace

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const agent::config defaults; // max_header_bytes 16 KiB, max_body_bytes 1 MiB
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(defaults.max_header_bytes));
    parser.body_limit(defaults.max_body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    for (std::size_t at = 0; !parser.is_done() && at < size;) {
        const auto used = parser.put(boost::asio::buffer(data + at, size - at), ec);
        if (ec || used == 0) break; // need_more at the end of the input: an incomplete request
        at += used;
    }
    if (ec || !parser.is_done()) return 0;

    agent::handlers::exchange x;
    x.req = parser.release();
    const auto target = x.req.target();
    x.route = agent::handlers::match_route(target);
    if (x.route.id == agent::handlers::route_id::none) return 0;
    fuzz::require(x.route.agent_id.find('/') == std::string::npos, "an {id} is one path segment");
    (void)agent::handlers::allow_header(x.route.id);
    (void)agent::handlers::parse_query(target);
    (void)agent::handlers::is_valid_request_id(x.req["X-Request-ID"]);
    x.rule = agent::handlers::find_method(x.route.id, x.req.method());
    if (x.rule == nullptr) return 0;
    if (x.rule->needs != agent::role::none)
        (void)verifier().verify(x.req[http::field::authorization]);
    if (x.rule->takes_body) {
        // app::handle() refuses a body nested deeper than 64 levels; here such parts are dropped.
        x.body = nlohmann::json::parse(
            x.req.body(), [](int depth, auto, auto&) { return depth <= 64; }, false);
        if (x.body.is_discarded()) return 0;
    }
    (void)agent::handlers::idempotency_of(x, x.route.route_template);
    return 0;
}
