#include "reference/services/http_probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "reference/util/text.hpp"

namespace agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::optional<http_url> parse_http_url(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.size() <= scheme.size() || !util::iequals(url.substr(0, scheme.size()), scheme))
        return std::nullopt;
    auto rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    http_url u;
    u.path = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
    while (!u.path.empty() && u.path.back() == '/')
        u.path.pop_back();
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    if (authority.front() == '[') return std::nullopt; // IPv6 literals: not probed
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
        auto n = util::parse_int(authority.substr(colon + 1));
        if (!n || *n < 1 || *n > 65535) return std::nullopt;
        u.port = static_cast<std::uint16_t>(*n);
        authority = authority.substr(0, colon);
    }
    u.host = std::string(authority);
    return u;
}

util::expected<int, std::string> probe_health(const std::string& endpoint,
                                              const endpoint_allowlist& allow,
                                              std::chrono::milliseconds timeout) {
    auto url = parse_http_url(endpoint);
    if (!url) return util::unexpected(std::string("the endpoint is not an http:// URL"));
    if (!allow.allows(url->host, url->port))
        return util::unexpected("the endpoint " + url->host + ":" + std::to_string(url->port) +
                                " is not in the allowlist");
    asio::io_context io;
    beast::tcp_stream stream(io);
    beast::error_code ec;
    asio::ip::tcp::resolver resolver(io);
    auto results = resolver.resolve(url->host, std::to_string(url->port), ec);
    if (ec) return util::unexpected("cannot resolve " + url->host + ": " + ec.message());
    http::request<http::empty_body> req{http::verb::get, url->path + "/health", 11};
    req.set(http::field::host, url->host + ":" + std::to_string(url->port));
    req.set(http::field::user_agent, "agentd");
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    std::string failure;
    stream.expires_after(timeout);
    stream.async_connect(results, [&](beast::error_code e, const auto&) {
        if (e) {
            failure = "connect: " + e.message();
            return;
        }
        http::async_write(stream, req, [&](beast::error_code we, std::size_t) {
            if (we) {
                failure = "write: " + we.message();
                return;
            }
            http::async_read(stream, buffer, res, [&](beast::error_code re, std::size_t) {
                if (re) failure = "read: " + re.message();
            });
        });
    });
    io.run();
    if (!failure.empty()) {
        if (failure.find("timed out") != std::string::npos ||
            failure.find("timeout") != std::string::npos)
            return util::unexpected("timed out after " + std::to_string(timeout.count()) + " ms");
        return util::unexpected(failure);
    }
    return static_cast<int>(res.result_int());
}

} // namespace agent
