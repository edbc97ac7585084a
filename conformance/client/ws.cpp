#include "conformance/client/ws.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "conformance/client/tls.hpp"

namespace agentcheck::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct ws_client::impl {
    using plain_ws = websocket::stream<beast::tcp_stream>;
    using tls_ws = websocket::stream<asio::ssl::stream<beast::tcp_stream>>;
    asio::io_context io;
    std::shared_ptr<asio::ssl::context> tls_context; ///< wss: kept while `secure` lives
    std::unique_ptr<plain_ws> plain;                 ///< ws://
    std::unique_ptr<tls_ws> secure;                  ///< wss://
    beast::flat_buffer buffer;
    bool read_pending = false;
    std::deque<ws_event> ready;
    std::deque<std::string> pongs;
    bool closed = false;

    explicit impl(const target_url& target) {
        if (target.tls()) {
            tls_context = client_tls_context(target);
            secure = std::make_unique<tls_ws>(io, *tls_context);
        } else {
            plain = std::make_unique<plain_ws>(io);
        }
    }
    ~impl() {
        // Finish what is pending (as aborted) while the stream still exists.
        beast::error_code ec;
        socket().close(ec);
        io.restart();
        io.poll();
    }

    /// Calls f with the WebSocket stream, whichever transport it runs on.
    template <class F> void visit(F&& f) {
        if (secure)
            f(*secure);
        else
            f(*plain);
    }
    tcp::socket& socket() {
        return secure ? beast::get_lowest_layer(*secure).socket()
                      : beast::get_lowest_layer(*plain).socket();
    }

    /// Runs the io_context until `done` or the deadline.
    template <class Done>
    void run_until(Done done, std::chrono::steady_clock::time_point deadline) {
        while (!done()) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) return;
            io.restart();
            io.run_one_for(deadline - now);
        }
    }

    void start_read() {
        if (read_pending || closed) return;
        read_pending = true;
        visit([this](auto& ws) { read_with(ws); });
    }

    template <class Stream> void read_with(Stream& ws) {
        ws.async_read(buffer, [this, &ws](beast::error_code ec, std::size_t) {
            read_pending = false;
            ws_event e;
            e.at = std::chrono::steady_clock::now();
            if (ec) {
                closed = true;
                e.what = ws_event::kind::closed;
                const auto& reason = ws.reason();
                e.close_code =
                    ec == websocket::error::closed ? static_cast<int>(reason.code) : 1006;
                e.close_reason = std::string(reason.reason.data(), reason.reason.size());
            } else {
                e.what = ws_event::kind::message;
                e.text = beast::buffers_to_string(buffer.data());
                buffer.consume(buffer.size());
            }
            ready.push_back(std::move(e));
        });
    }
};

ws_client::ws_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ws_client::~ws_client() = default;

std::unique_ptr<ws_client> ws_client::open(const target_url& target, const std::string& path,
                                           const header_list& headers, const options& opts,
                                           response* refused) {
    auto p = std::make_unique<impl>(target);
    const auto deadline = std::chrono::steady_clock::now() + opts.timeout;
    auto& sock = p->socket();
    tcp::resolver resolver(p->io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(target.host, std::to_string(target.port), ec);
    if (ec) throw transport_exception(transport_error::connect, "resolve: " + ec.message());
    bool connected = false;
    for (const auto& ep : endpoints) {
        sock.close(ec);
        sock.open(ep.endpoint().protocol(), ec);
        if (opts.receive_buffer_bytes > 0)
            sock.set_option(asio::socket_base::receive_buffer_size(opts.receive_buffer_bytes), ec);
        sock.connect(ep.endpoint(), ec);
        if (!ec) {
            connected = true;
            break;
        }
    }
    if (!connected) throw transport_exception(transport_error::connect, "connect: " + ec.message());
    if (p->secure) {
        // wss: the TLS handshake first, with the same checks as https.
        auto& tls = p->secure->next_layer();
        configure_client_tls(tls.native_handle(), target);
        bool tls_done = false;
        beast::error_code tls_ec;
        tls.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) {
            tls_ec = e;
            tls_done = true;
        });
        p->run_until([&] { return tls_done; }, deadline);
        if (!tls_done)
            throw transport_exception(transport_error::timeout, "the TLS handshake timed out");
        if (tls_ec)
            throw transport_exception(transport_error::connect,
                                      "TLS handshake failed: " +
                                          tls_handshake_failure(tls.native_handle(), tls_ec));
    }

    auto res = std::make_shared<websocket::response_type>();
    auto done = std::make_shared<bool>(false);
    auto hs_ec = std::make_shared<beast::error_code>();
    const auto host = target.host + ":" + std::to_string(target.port);
    p->visit([&](auto& ws) {
        ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "agentcheck");
            for (const auto& [name, value] : target.extra_headers)
                req.set(name, value);
            for (const auto& h : headers)
                req.set(h.name, h.value);
        }));
        ws.async_handshake(*res, host, target.path_prefix + path,
                           [res, done, hs_ec](beast::error_code e) {
                               *hs_ec = e;
                               *done = true;
                           });
    });
    p->run_until([&] { return *done; }, deadline);
    if (!*done) throw transport_exception(transport_error::timeout, "the upgrade got no answer");
    const websocket::response_type& answer = *res;
    const beast::error_code failure = *hs_ec;
    if (failure) {
        if (failure == websocket::error::upgrade_declined && answer.result_int() != 0) {
            if (refused != nullptr) {
                refused->status = static_cast<int>(answer.result_int());
                refused->reason = std::string(answer.reason());
                refused->headers.clear();
                for (const auto& f : answer)
                    refused->headers.push_back(
                        {std::string(f.name_string()), std::string(f.value())});
                refused->body = answer.body();
            }
            return nullptr;
        }
        throw transport_exception(transport_error::parse,
                                  "the upgrade failed: " + failure.message());
    }
    p->visit([raw = p.get()](auto& ws) {
        ws.control_callback([raw](websocket::frame_type kind, beast::string_view payload) {
            if (kind == websocket::frame_type::pong) raw->pongs.emplace_back(payload);
        });
    });
    return std::unique_ptr<ws_client>(new ws_client(std::move(p)));
}

ws_event ws_client::read(std::chrono::milliseconds wait) {
    auto& p = *impl_;
    if (p.ready.empty()) {
        p.start_read();
        p.run_until([&] { return !p.ready.empty(); }, std::chrono::steady_clock::now() + wait);
    }
    if (p.ready.empty()) return ws_event{};
    auto e = std::move(p.ready.front());
    p.ready.pop_front();
    return e;
}

void ws_client::ping(const std::string& payload) {
    auto& p = *impl_;
    auto done = std::make_shared<bool>(false);
    p.visit([&](auto& ws) {
        ws.async_ping(websocket::ping_data(payload.c_str()),
                      [done](beast::error_code) { *done = true; });
    });
    p.run_until([&] { return *done; }, std::chrono::steady_clock::now() + std::chrono::seconds(5));
}

bool ws_client::wait_pong(const std::string& payload, std::chrono::milliseconds wait) {
    auto& p = *impl_;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    auto seen = [&] {
        for (const auto& x : p.pongs)
            if (x == payload) return true;
        return false;
    };
    while (!seen() && std::chrono::steady_clock::now() < deadline && !p.closed) {
        p.start_read(); // control frames are handled while a read is pending
        p.run_until([&] { return seen() || !p.ready.empty(); }, deadline);
        if (!p.ready.empty() && !seen()) {
            // a message arrived first: it stays queued for read(); keep waiting
            if (p.ready.back().what == ws_event::kind::closed) break;
        }
    }
    return seen();
}

void ws_client::close() {
    auto& p = *impl_;
    if (p.closed) return;
    auto done = std::make_shared<bool>(false);
    p.visit([&](auto& ws) {
        ws.async_close(websocket::close_code::normal, [done](beast::error_code) { *done = true; });
    });
    p.run_until([&] { return *done; }, std::chrono::steady_clock::now() + std::chrono::seconds(2));
    p.closed = true;
}

} // namespace agentcheck::client
