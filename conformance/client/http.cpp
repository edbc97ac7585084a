#include "conformance/client/http.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <thread>
#include <utility>

#include "conformance/client/tls.hpp"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <openssl/ssl.h>

namespace agentcheck::client {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::uint16_t default_http_port = 80;
constexpr std::uint16_t default_https_port = 443;
/// Largest response body the client accepts (checks never need more).
constexpr std::uint64_t max_response_body_bytes = 64ULL * 1024 * 1024;
/// Largest response head the client accepts.
constexpr std::uint32_t max_response_header_bytes = 1024U * 1024U;
/// Size of one read while waiting for the peer to close.
constexpr std::size_t drain_chunk_bytes = 4096;
constexpr int informational_min = 100;
constexpr int informational_max = 199;
constexpr int switching_protocols = 101;
constexpr unsigned char first_printable = 0x20;
constexpr unsigned char delete_char = 0x7f;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::optional<std::string> find_header(const header_list& headers, std::string_view name) {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) return h.value;
    }
    return std::nullopt;
}

bool is_closed_error(const error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
           ec == asio::error::not_connected || ec == asio::error::bad_descriptor;
}

/// True when every token of a comma-separated header value differs from `token`.
bool header_has_token(std::string_view value, std::string_view token) {
    std::size_t start = 0;
    while (start <= value.size()) {
        std::size_t end = value.find(',', start);
        if (end == std::string_view::npos) end = value.size();
        std::string_view part = value.substr(start, end - start);
        while (!part.empty() && (part.front() == ' ' || part.front() == '\t'))
            part.remove_prefix(1);
        while (!part.empty() && (part.back() == ' ' || part.back() == '\t'))
            part.remove_suffix(1);
        if (iequals(part, token)) return true;
        start = end + 1;
    }
    return false;
}

} // namespace

// ---- to_string ---------------------------------------------------------------------------------

const char* to_string(transport_error e) noexcept {
    switch (e) {
    case transport_error::connect:
        return "connect";
    case transport_error::write:
        return "write";
    case transport_error::read:
        return "read";
    case transport_error::timeout:
        return "timeout";
    case transport_error::closed:
        return "closed";
    case transport_error::parse:
        return "parse";
    }
    return "unknown";
}

// ---- target_url --------------------------------------------------------------------------------

std::optional<target_url> target_url::parse(std::string_view url) {
    constexpr std::string_view plain = "http://";
    constexpr std::string_view secure = "https://";
    const bool tls = url.size() >= secure.size() && iequals(url.substr(0, secure.size()), secure);
    const auto& prefix = tls ? secure : plain;
    if (url.size() < prefix.size() || !iequals(url.substr(0, prefix.size()), prefix)) {
        return std::nullopt;
    }
    std::string_view rest = url.substr(prefix.size());
    while (!rest.empty() && rest.back() == '/')
        rest.remove_suffix(1);
    if (rest.empty() || rest.find_first_of("?#@ \t\r\n\\") != std::string_view::npos)
        return std::nullopt;
    target_url out;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        out.path_prefix = std::string(rest.substr(slash));
        rest = rest.substr(0, slash);
        if (out.path_prefix.find("//") != std::string::npos || rest.empty()) return std::nullopt;
    }
    out.scheme = tls ? "https" : "http";
    out.port = tls ? default_https_port : default_http_port;
    std::string_view host;
    std::string_view port;
    if (rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || close == 1) return std::nullopt;
        host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port = after.substr(1);
            if (port.empty()) return std::nullopt;
        }
    } else {
        const auto colon = rest.find(':');
        host = rest.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = rest.substr(colon + 1);
            if (port.empty()) return std::nullopt;
        }
        if (host.empty()) return std::nullopt;
    }
    if (!port.empty()) {
        unsigned value = 0;
        const auto* end = port.data() + port.size();
        const auto [ptr, ec] = std::from_chars(port.data(), end, value);
        if (ec != std::errc{} || ptr != end || value == 0 ||
            value > std::numeric_limits<std::uint16_t>::max()) {
            return std::nullopt;
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    out.host = lower(host);
    return out;
}

std::string target_url::origin() const {
    const bool v6 = host.find(':') != std::string::npos;
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string target_url::base() const {
    return origin() + path_prefix;
}

bool target_url::is_loopback() const {
    if (host == "localhost" || host == "::1") return true;
    error_code ec;
    const auto addr = asio::ip::make_address(host, ec);
    return !ec && addr.is_loopback();
}

// ---- request / response ------------------------------------------------------------------------

request& request::json(const nlohmann::json& j) {
    body = j.dump();
    for (auto& h : headers) {
        if (iequals(h.name, "Content-Type")) {
            h.value = "application/json";
            return *this;
        }
    }
    headers.push_back({"Content-Type", "application/json"});
    return *this;
}

request& request::bearer(std::string_view token) {
    headers.push_back({"Authorization", "Bearer " + std::string(token)});
    return *this;
}

request& request::with(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
    return *this;
}

std::optional<std::string> request::header(std::string_view name) const {
    return find_header(headers, name);
}

std::optional<std::string> response::header(std::string_view name) const {
    return find_header(headers, name);
}

std::size_t response::header_count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(
        headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.name, name); }));
}

std::optional<nlohmann::json> response::json() const {
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
}

std::string response::media_type() const {
    auto value = header("Content-Type").value_or("");
    const auto semicolon = value.find(';');
    std::string_view type(value);
    type = type.substr(0, semicolon);
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t'))
        type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t'))
        type.remove_prefix(1);
    return lower(type);
}

// ---- connection --------------------------------------------------------------------------------

struct connection::impl {
    asio::io_context io;
    tcp::socket socket{io};
    /// https: TLS over `socket` (handshake done), which every read and write then goes through.
    std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
    std::shared_ptr<asio::ssl::context> tls_context; ///< kept while tls lives

    /// Calls f with the stream bytes go through: TLS, or the socket itself.
    template <class F> void with_stream(F&& f) {
        if (tls)
            f(*tls);
        else
            f(socket);
    }
    beast::flat_buffer buffer;
    std::chrono::milliseconds timeout;
    target_url target; ///< where, with its path prefix and extra headers
    bool closed_before_response = false;

    explicit impl(std::chrono::milliseconds t) : timeout(t) {}

    /// Runs one asynchronous operation to completion or until `limit`; on timeout the
    /// operation is cancelled and `timed_out` is set. Returns the operation's error.
    template <class Start>
    error_code run(Start&& start, std::chrono::milliseconds limit, bool& timed_out,
                   std::size_t* transferred = nullptr) {
        error_code result;
        bool done = false;
        std::size_t bytes = 0;
        start([&](error_code ec, auto n) {
            result = ec;
            bytes = static_cast<std::size_t>(n);
            done = true;
        });
        io.restart();
        io.run_for(limit);
        timed_out = false;
        if (!done) {
            timed_out = true;
            error_code ignored;
            socket.cancel(ignored);
            io.restart();
            io.run();
        }
        if (transferred != nullptr) *transferred = bytes;
        return result;
    }
};

void start_tls(connection::impl& d, const target_url& target) {
    d.tls_context = client_tls_context(target);
    d.tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(d.socket, *d.tls_context);
    SSL* ssl = d.tls->native_handle();
    configure_client_tls(ssl, target);
    bool timed_out = false;
    const auto ec = d.run(
        [&](auto handler) {
            d.tls->async_handshake(asio::ssl::stream_base::client,
                                   [handler](error_code e) mutable { handler(e, 0); });
        },
        d.timeout, timed_out);
    if (timed_out)
        throw transport_exception(transport_error::timeout,
                                  "TLS handshake with " + target.base() + " timed out");
    if (ec)
        throw transport_exception(transport_error::connect,
                                  "TLS handshake with " + target.base() +
                                      " failed: " + tls_handshake_failure(ssl, ec));
}

tls_probe probe_tls(const target_url& target, int min_version, int max_version,
                    std::chrono::milliseconds timeout) {
    auto plain = target;
    plain.scheme = "http"; // the TCP connection only
    connection c(plain, timeout);
    auto& d = *c.impl_;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_security_level(ctx.native_handle(), 0); // or OpenSSL will not offer TLS 1.0
    SSL_CTX_set_min_proto_version(ctx.native_handle(), min_version);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    SSL_CTX_set_cipher_list(ctx.native_handle(), "ALL:@SECLEVEL=0");
    ctx.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<tcp::socket&> tls(d.socket, ctx);
    bool timed_out = false;
    const auto ec = d.run(
        [&](auto handler) {
            tls.async_handshake(asio::ssl::stream_base::client,
                                [handler](error_code e) mutable { handler(e, 0); });
        },
        timeout, timed_out);
    tls_probe out;
    if (timed_out) {
        out.error = "the handshake timed out";
    } else if (ec) {
        out.error = ec.message();
    } else {
        out.established = true;
        out.version = SSL_get_version(tls.native_handle());
    }
    return out;
}

connection::connection(const target_url& target, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(timeout)) {
    auto& d = *impl_;
    d.target = target;
    tcp::resolver resolver(d.io);
    error_code ec;
    const auto endpoints = resolver.resolve(target.host, std::to_string(target.port),
                                            tcp::resolver::numeric_service, ec);
    if (ec) {
        throw transport_exception(transport_error::connect,
                                  "cannot resolve " + target.host + ": " + ec.message());
    }
    bool timed_out = false;
    ec = d.run(
        [&](auto handler) {
            asio::async_connect(
                d.socket, endpoints,
                [handler](error_code e, const tcp::endpoint&) mutable { handler(e, 0); });
        },
        d.timeout, timed_out);
    if (timed_out) {
        throw transport_exception(transport_error::timeout,
                                  "connect to " + target.base() + " timed out");
    }
    if (ec) {
        throw transport_exception(transport_error::connect,
                                  "connect to " + target.base() + ": " + ec.message());
    }
    d.socket.set_option(tcp::no_delay(true), ec);
    if (target.tls()) start_tls(d, target);
}

connection::~connection() {
    if (impl_) {
        error_code ignored;
        impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
        impl_->socket.close(ignored);
    }
}

connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;

bool connection::closed_before_response() const noexcept {
    return impl_->closed_before_response;
}

void connection::set_timeout(std::chrono::milliseconds timeout) {
    impl_->timeout = timeout;
}

namespace {
std::string host_header_of(const target_url& target) {
    const bool v6 = target.host.find(':') != std::string::npos;
    return (v6 ? "[" + target.host + "]" : target.host) +
           (target.port == (target.tls() ? default_https_port : default_http_port)
                ? ""
                : ":" + std::to_string(target.port));
}
} // namespace

std::string serialize_request(const target_url& target, const request& req) {
    std::string out;
    out.reserve(req.method.size() + req.target.size() + req.body.size() + drain_chunk_bytes / 4);
    out.append(req.method).append(" ").append(target.path_prefix).append(req.target);
    out.append(" HTTP/1.1\r\n");
    if (!req.header("Host")) out.append("Host: ").append(host_header_of(target)).append("\r\n");
    for (const auto& h : req.headers)
        out.append(h.name).append(": ").append(h.value).append("\r\n");
    for (const auto& [name, value] : target.extra_headers)
        if (!req.header(name)) out.append(name).append(": ").append(value).append("\r\n");
    const bool body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (!req.header("Content-Length") && !req.header("Transfer-Encoding") &&
        (!req.body.empty() || body_method)) {
        out.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
    }
    out.append("\r\n").append(req.body);
    return out;
}

std::string connection::serialize(const request& req) const {
    return serialize_request(impl_->target, req);
}

void connection::write_raw(std::string_view bytes) {
    auto& d = *impl_;
    bool timed_out = false;
    const auto ec = d.run(
        [&](auto handler) {
            d.with_stream([&](auto& s) {
                asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), handler);
            });
        },
        d.timeout, timed_out);
    if (timed_out) throw transport_exception(transport_error::timeout, "write timed out");
    if (ec) {
        d.closed_before_response = is_closed_error(ec);
        throw transport_exception(is_closed_error(ec) ? transport_error::closed
                                                      : transport_error::write,
                                  "write: " + ec.message());
    }
}

response connection::read_response(bool head_request) {
    auto& d = *impl_;
    const auto started = std::chrono::steady_clock::now();
    for (;;) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_response_body_bytes);
        parser.header_limit(max_response_header_bytes);
        if (head_request) parser.skip(true);
        const std::size_t buffered_before = d.buffer.size();
        d.closed_before_response = false;
        bool timed_out = false;
        const auto ec = d.run(
            [&](auto handler) {
                d.with_stream([&](auto& s) { http::async_read(s, d.buffer, parser, handler); });
            },
            d.timeout, timed_out);
        if (timed_out) {
            throw transport_exception(transport_error::timeout,
                                      "read timed out waiting for a response");
        }
        if (ec) {
            d.closed_before_response =
                ec == http::error::end_of_stream || (buffered_before == 0 && is_closed_error(ec));
            if (d.closed_before_response) {
                throw transport_exception(transport_error::closed,
                                          "connection closed before a response: " + ec.message());
            }
            if (ec == http::error::partial_message || is_closed_error(ec)) {
                throw transport_exception(transport_error::closed,
                                          "connection closed mid-response: " + ec.message());
            }
            if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
                throw transport_exception(transport_error::parse, "bad response: " + ec.message());
            }
            throw transport_exception(transport_error::read, "read: " + ec.message());
        }
        auto& msg = parser.get();
        const int status = static_cast<int>(msg.result_int());
        if (status >= informational_min && status <= informational_max &&
            status != switching_protocols) {
            continue; // 100 Continue and friends: the real response follows
        }
        response out;
        out.status = status;
        out.reason = std::string(msg.reason());
        for (const auto& field : msg) {
            out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
        }
        out.body = std::move(msg.body());
        out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started);
        return out;
    }
}

response connection::send(const request& req) {
    const auto started = std::chrono::steady_clock::now();
    write_raw(serialize(req));
    auto out = read_response(req.method == "HEAD");
    out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    return out;
}

bool connection::wait_closed(std::chrono::milliseconds wait, std::string* received) {
    auto& d = *impl_;
    if (received != nullptr && d.buffer.size() > 0) {
        const auto data = d.buffer.data();
        received->append(static_cast<const char*>(data.data()), data.size());
    }
    d.buffer.consume(d.buffer.size());
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::array<char, drain_chunk_bytes> chunk{};
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        bool timed_out = false;
        std::size_t n = 0;
        const auto ec = d.run(
            [&](auto handler) {
                d.with_stream([&](auto& s) { s.async_read_some(asio::buffer(chunk), handler); });
            },
            left, timed_out, &n);
        if (received != nullptr && n > 0) received->append(chunk.data(), n);
        if (timed_out) return false;
        if (ec) return true; // EOF, reset, or any other end of the connection
    }
}

// ---- http_client -------------------------------------------------------------------------------

http_client::http_client(target_url target, std::chrono::milliseconds timeout)
    : target_(std::move(target)), timeout_(timeout) {}

http_client::~http_client() = default;

void http_client::set_timeout(std::chrono::milliseconds timeout) {
    timeout_ = timeout;
    if (conn_) conn_->set_timeout(timeout);
}

response http_client::send(const request& req) {
    const bool reused = conn_ != nullptr;
    if (!conn_) conn_ = std::make_unique<connection>(target_, timeout_);
    response out;
    try {
        out = conn_->send(req);
    } catch (const transport_exception& e) {
        const bool stale =
            reused && e.kind() == transport_error::closed && conn_->closed_before_response();
        conn_.reset();
        if (!stale) throw;
        conn_ = std::make_unique<connection>(target_, timeout_);
        try {
            out = conn_->send(req);
        } catch (...) {
            conn_.reset();
            throw;
        }
    }
    const auto conn_header = out.header("Connection");
    if (conn_header && header_has_token(*conn_header, "close")) conn_.reset();
    return out;
}

// ---- curl and redaction ------------------------------------------------------------------------

namespace {

/// Single-quotes s for a POSIX shell, or uses $'...' with escapes when s holds control bytes.
std::string shell_quote(std::string_view s) {
    const bool needs_ansi = std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < first_printable && c != '\n' && c != '\t') || u == delete_char;
    });
    std::string out;
    if (!needs_ansi) {
        out.push_back('\'');
        for (char c : s) {
            if (c == '\'') {
                out.append("'\\''");
            } else {
                out.push_back(c);
            }
        }
        out.push_back('\'');
        return out;
    }
    out.append("$'");
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\'' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < first_printable || u == delete_char) {
            std::array<char, 5> hex{};
            std::snprintf(hex.data(), hex.size(), "\\x%02x", static_cast<unsigned>(u));
            out.append(hex.data());
        } else {
            out.push_back(c);
        }
    }
    out.push_back('\'');
    return out;
}

} // namespace

bool curl_can_send(const request& req) {
    // curl adds Host itself and re-chunks a body sent with Transfer-Encoding: chunked.
    return !req.header("Transfer-Encoding") && req.header("Host").value_or("x") != "";
}

std::string to_curl(const target_url& target, const request& req, bool hide_tokens) {
    std::string out = "curl -sS -i -w '\\n'"; // a newline after the body: sequences stay readable
    if (req.method == "HEAD") {
        out.append(" -I");
    } else {
        out.append(" -X ").append(shell_quote(req.method));
    }
    out.append(" ").append(shell_quote(target.base() + req.target));
    for (const auto& h : req.headers) {
        if (iequals(h.name, "Authorization") && hide_tokens) {
            // The scheme word exactly as sent ("bearer" stays lower-case); the token itself
            // becomes $AGENTCHECK_TOKEN.
            const auto space = h.value.find(' ');
            const std::string scheme =
                space == std::string::npos ? std::string() : h.value.substr(0, space + 1);
            out.append(" -H \"Authorization: " + scheme + "$AGENTCHECK_TOKEN\"");
            continue;
        }
        if (iequals(h.name, "Content-Length") && h.value == std::to_string(req.body.size())) {
            continue; // curl computes it
        }
        if (h.value.empty()) {
            out.append(" -H ").append(
                shell_quote(h.name + ";")); // curl's syntax for an empty value
        } else {
            out.append(" -H ").append(shell_quote(h.name + ": " + h.value));
        }
    }
    for (const auto& [name, value] : target.extra_headers)
        if (!req.header(name)) out.append(" -H ").append(shell_quote(name + ": " + value));
    // curl adds a form Content-Type to --data-binary unless one is given: remove it.
    if (!req.body.empty() && !req.header("Content-Type")) out.append(" -H 'Content-Type:'");
    if (!req.body.empty()) out.append(" --data-binary ").append(shell_quote(req.body));
    return out;
}

std::string to_raw_repro(const target_url& target, std::string_view bytes,
                         std::chrono::seconds hold, bool hide_tokens) {
    // printf's format: the bytes with \r \n \\ and % escaped; a bearer token becomes %s and
    // "$AGENTCHECK_TOKEN" its argument, so that the token never appears.
    std::string format;
    std::string token_arg;
    std::size_t i = 0;
    while (i < bytes.size()) {
        if (hide_tokens && token_arg.empty() && iequals(bytes.substr(i, 15), "Authorization: ")) {
            const auto eol = bytes.find("\r\n", i);
            const auto line =
                bytes.substr(i, eol == std::string_view::npos ? bytes.size() - i : eol - i);
            const auto space = line.find(' ', 15);
            if (space != std::string_view::npos) {
                for (char c : line.substr(0, space + 1))
                    format.push_back(c);
                format.append("%s");
                token_arg = " \"$AGENTCHECK_TOKEN\"";
                i += line.size();
                continue;
            }
        }
        const char c = bytes[i++];
        switch (c) {
        case '\r':
            format.append("\\r");
            break;
        case '\n':
            format.append("\\n");
            break;
        case '\\':
            format.append("\\\\");
            break;
        case '%':
            format.append("%%");
            break;
        default:
            format.push_back(c);
        }
    }
    // A held head: the connection stays open (never half-closed, as the check never closes
    // it) and whatever the agent says within `hold` seconds is shown.
    constexpr long long answer_wait_s = 5;
    const bool v6 = target.host.find(':') != std::string::npos;
    const std::string address =
        std::string(v6 ? "-6 " : "") + target.host + " " + std::to_string(target.port);
    if (hold.count() > 0) {
        return "{ printf " + shell_quote(format) + token_arg + "; sleep " +
               std::to_string(hold.count() + 2) + "; } | timeout " + std::to_string(hold.count()) +
               " nc " + address;
    }
    return "printf " + shell_quote(format) + token_arg + " | nc -q " +
           std::to_string(answer_wait_s) + " " + address;
}

request redacted(request req) {
    for (auto& h : req.headers) {
        if (!iequals(h.name, "Authorization")) continue;
        const auto space = h.value.find(' ');
        h.value =
            space == std::string::npos ? "<redacted>" : h.value.substr(0, space) + " <redacted>";
    }
    return req;
}

long long retry_after_seconds(const response& r, long long max_s) {
    long long wait = 1;
    if (auto ra = r.header("Retry-After"); ra && !ra->empty() && ra->size() < 6 &&
                                           ra->find_first_not_of("0123456789") == std::string::npos)
        wait = std::stoll(*ra);
    return std::clamp<long long>(wait, 1, std::max<long long>(1, max_s));
}

} // namespace agentcheck::client
