#include "reference/server/server.hpp"

#include <array>
#include <limits>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "reference/handlers/problem.hpp"
#include "reference/server/wire.hpp"
#include "reference/server/ws_session.hpp"
#include "reference/util/failpoint.hpp"

namespace agent::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr auto drain_poll_interval = std::chrono::milliseconds(10);
/// How often the server looks for sessions past their deadline (the precision of every
/// timeout: header, idle, write, linger).
constexpr auto deadline_sweep_interval = std::chrono::milliseconds(50);
constexpr unsigned http11 = 11;
constexpr auto linger_timeout = std::chrono::milliseconds(2000);
/// What a TLS connection reads at once while idle (the next request's first bytes).
constexpr std::size_t idle_read_bytes = 4096;

// HTTP-021: a head over max_header_bytes is 431. The failpoint's defect applies a fixed 64 KiB
// instead (and skips the exact check of the head's size).
bool head_limit_fixed_64k() noexcept {
    return AGENT_FAILPOINT("HTTP-021.fixed-64k-head-limit");
}
} // namespace

/// What the server keeps of a connection, whatever its transport: its deadline, and how to
/// drain or expire it.
class connection_base {
public:
    virtual ~connection_base() = default;
    /// Closes the connection if it is between requests; otherwise it closes after the
    /// response it is working on.
    virtual void drain() = 0;
    /// On the session's executor, after the server's sweep saw it overdue: cancels the
    /// socket's pending operation, which then ends with timed_out_ set.
    virtual void expire() = 0;

    static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
    std::atomic<std::int64_t> deadline_ns_{never};

    /// True when the session's current phase has run past its deadline (any thread).
    [[nodiscard]] bool overdue(std::int64_t now_ns) const noexcept {
        return deadline_ns_.load(std::memory_order_relaxed) <= now_ns;
    }
    static std::int64_t steady_ns() noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
};

/// One connection: reads requests one after another (pipelined requests wait in the
/// buffer), hands each to the app, writes each response in one call. Tls: the bytes go
/// through OpenSSL (handshake first; the connection becomes a wss:// stream on upgrade).
template <bool Tls>
class http_session final : public connection_base,
                           public std::enable_shared_from_this<http_session<Tls>> {
public:
    /// A plain socket (deadlines are the sweep's, not the stream's), or TLS over Beast's
    /// tcp_stream (what the WebSocket stream takes over).
    using stream_type = std::conditional_t<Tls, net::ssl::stream<beast::tcp_stream>, tcp::socket>;

    http_session(tcp::socket&& socket, http_server& srv, std::uint64_t id, net::ssl::context* tls)
        : stream_(make_stream(std::move(socket), tls)), srv_(srv), id_(id) {
        beast::error_code ec;
        auto ep = this->socket().remote_endpoint(ec);
        if (!ec) remote_ = ep.address().to_string();
        this->socket().set_option(tcp::no_delay(true), ec);
    }
    ~http_session() override { srv_.session_ended(id_); }
    http_session(const http_session&) = delete;
    http_session& operator=(const http_session&) = delete;

    void start() {
        net::dispatch(socket().get_executor(), [self = this->shared_from_this()] {
            if constexpr (Tls) {
                self->do_handshake();
            } else {
                self->do_wait();
            }
        });
    }

    void drain() override {
        net::post(socket().get_executor(), [self = this->shared_from_this()] {
            // A request whose bytes have arrived but are not read yet is in flight: it is
            // answered (with Connection: close). Only a connection with nothing to read closes.
            if (self->state_ != state::idle) return;
            beast::error_code ec;
            if (ec || self->socket().available(ec) == 0) self->close();
        });
    }

    enum class state { idle, reading, handling, writing, closed };

    void expire() override {
        net::dispatch(socket().get_executor(), [self = this->shared_from_this()] {
            if (self->state_ == state::closed || self->timed_out_ || !self->overdue(steady_ns()))
                return;
            self->timed_out_ = true;
            beast::error_code ignored;
            self->socket().cancel(ignored);
        });
    }

private:
    static stream_type make_stream(tcp::socket&& socket, net::ssl::context* tls) {
        if constexpr (Tls) {
            return stream_type(beast::tcp_stream(std::move(socket)), *tls);
        } else {
            (void)tls;
            return std::move(socket);
        }
    }
    /// The TCP socket under the stream.
    tcp::socket& socket() noexcept {
        if constexpr (Tls) {
            return beast::get_lowest_layer(stream_).socket();
        } else {
            return stream_;
        }
    }

    // --- TLS: the handshake, within the header timeout ---------------------------------
    void do_handshake() {
        if constexpr (Tls) {
            state_ = state::reading;
            arm(srv_.cfg().header_timeout);
            stream_.async_handshake(net::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        self->disarm();
                                        // Plain HTTP, TLS 1.1 or older, a bad client hello:
                                        // OpenSSL has sent its alert; nothing is served.
                                        if (ec) return self->close();
                                        self->do_wait();
                                    });
        }
    }

    // --- deadlines: a time per phase, enforced by the server's sweep ----------------------
    // (a timer per phase cost two timer-queue operations and a cancelled handler per phase,
    // several per request; the sweep costs nothing per request)
    void arm(std::chrono::milliseconds d) {
        timed_out_ = false;
        deadline_ns_.store(steady_ns() + std::chrono::nanoseconds(d).count(),
                           std::memory_order_relaxed);
    }
    void disarm() { deadline_ns_.store(never, std::memory_order_relaxed); }

    // --- reading -------------------------------------------------------------------------
    void do_wait() {
        if (srv_.draining() && buffer_.size() == 0 && requests_ > 0) return close();
        if (buffer_.size() > 0) return do_read_header(); // a pipelined request is waiting
        state_ = state::idle;
        arm(srv_.cfg().idle_timeout);
        if constexpr (Tls) {
            // OpenSSL may hold decrypted bytes the socket no longer shows: read, not wait.
            stream_.async_read_some(
                buffer_.prepare(idle_read_bytes),
                [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                    self->buffer_.commit(n);
                    self->on_readable(ec);
                });
        } else {
            stream_.async_wait(
                tcp::socket::wait_read,
                [self = this->shared_from_this()](beast::error_code ec) { self->on_readable(ec); });
        }
    }

    void on_readable(beast::error_code ec) {
        disarm();
        if (ec || state_ == state::closed) return close();
        do_read_header();
    }

    void do_read_header() {
        state_ = state::reading;
        parser_.emplace();
        parser_->header_limit(head_limit_fixed_64k()
                                  ? std::uint32_t{64 << 10}
                                  : static_cast<std::uint32_t>(srv_.cfg().max_header_bytes));
        parser_->body_limit(boost::none); // checked after the head, so routing and auth come first
        arm(srv_.cfg().header_timeout);
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = this->shared_from_this()](beast::error_code ec, std::size_t head_bytes) {
                self->on_read_header(ec, head_bytes);
            });
    }

    void on_read_header(beast::error_code ec, std::size_t head_bytes) {
        disarm();
        if (ec) return on_read_error(ec);
        // Beast applies header_limit per parse step, so a head can pass it by a few hundred
        // bytes; the bytes it consumed for the head are exact.
        if (head_bytes > srv_.cfg().max_header_bytes && !head_limit_fixed_64k())
            return reject(errc::header_too_large, "the request head of " +
                                                      std::to_string(head_bytes) +
                                                      " bytes exceeds max_header_bytes " +
                                                      std::to_string(srv_.cfg().max_header_bytes));
        if (auto why = check_request_head(parser_->get()); !why.empty())
            return reject(errc::bad_request, std::move(why));
        const auto& head = parser_->get();
        const auto limit = srv_.cfg().max_body_bytes;
        // HTTP-019: a body over max_body_bytes is 413 (with the failpoint, any body is read).
        const bool body_limited = !AGENT_FAILPOINT("HTTP-019.no-body-limit");
        // HTTP-020: a body of exactly max_body_bytes is read (the failpoint refuses it: >=).
        const bool at_limit_refused = AGENT_FAILPOINT("HTTP-020.limit-off-by-one");
        if (auto len = parser_->content_length();
            body_limited && len && (*len > limit || (at_limit_refused && *len == limit)))
            return reject(errc::payload_too_large, "the body of " + std::to_string(*len) +
                                                       " bytes exceeds max_body_bytes " +
                                                       std::to_string(limit));
        if (body_limited) parser_->body_limit(limit);
        if (parser_->is_done()) return dispatch();
        if (beast::iequals(head[http::field::expect], "100-continue")) {
            auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                           head.version());
            http::async_write(
                stream_, *cont,
                [self = this->shared_from_this(), cont](beast::error_code wec, std::size_t) {
                    if (wec) return self->close();
                    self->do_read_body();
                });
            return;
        }
        do_read_body();
    }

    void do_read_body() {
        arm(srv_.cfg().header_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->disarm();
                             if (ec) return self->on_read_error(ec);
                             self->dispatch();
                         });
    }

    void on_read_error(beast::error_code ec) {
        if (timed_out_) {
            // A head (or body) that started but did not finish in time: 408, then close.
            if (parser_ && (parser_->got_some() || buffer_.size() > 0))
                return reject(errc::request_timeout,
                              "the request was not complete within header_timeout_ms");
            return close();
        }
        if (ec == http::error::end_of_stream || ec == net::error::eof ||
            ec == net::error::connection_reset || ec == net::error::operation_aborted ||
            state_ == state::closed)
            return close();
        if (ec == http::error::header_limit)
            return reject(errc::header_too_large, "the request head exceeds max_header_bytes " +
                                                      std::to_string(srv_.cfg().max_header_bytes));
        if (ec == http::error::body_limit)
            return reject(errc::payload_too_large, "the body exceeds max_body_bytes " +
                                                       std::to_string(srv_.cfg().max_body_bytes));
        if (ec == http::error::partial_message) return close();
        // Empty lines before the request line, or HTTP/1.2 and up: read again, repaired.
        if ((ec == http::error::bad_method || ec == http::error::bad_version) && repairs_ < 4 &&
            buffer_.size() > 0) {
            bool changed = false;
            const auto skip = repair_request_line(static_cast<char*>(buffer_.data().data()),
                                                  buffer_.size(), changed);
            if (skip > 0 || changed) {
                ++repairs_;
                buffer_.consume(skip);
                return do_read_header();
            }
        }
        reject(errc::bad_request, "malformed HTTP request: " + ec.message());
    }

    // --- handling ------------------------------------------------------------------------
    void dispatch() {
        state_ = state::handling;
        ++requests_;
        auto req = parser_->release();
        auto respond = [self = this->shared_from_this()](handlers::response res) {
            auto shared = std::make_shared<handlers::response>(std::move(res));
            net::dispatch(self->socket().get_executor(),
                          [self, shared] { self->do_write(shared); });
        };
        auto upgrade = [self = this->shared_from_this()](handlers::stream_plan plan) {
            // The connection becomes a WebSocket stream: this session lets go of it.
            self->state_ = state::closed;
            self->disarm();
            std::shared_ptr<stream_session> ws;
            if constexpr (Tls) {
                ws = start_stream(std::make_shared<ws_session<stream_type>>(
                    std::move(self->stream_), std::move(plan), self->srv_.app().svc()));
            } else {
                ws = start_stream(std::make_shared<ws_session<beast::tcp_stream>>(
                    beast::tcp_stream(std::move(self->stream_)), std::move(plan),
                    self->srv_.app().svc()));
            }
            self->srv_.stream_started(ws);
        };
        try {
            srv_.app().handle(std::move(req), remote_, respond, upgrade);
        } catch (const std::exception& e) {
            // A bug must cost one request, never the process.
            reject(errc::internal, std::string("internal error: ") + e.what());
        }
    }

    void reject(errc why, std::string detail) {
        handlers::request head;
        if (parser_) {
            const auto& h = parser_->get();
            if (!h.method_string().empty()) head.method_string(h.method_string());
            head.target(h.target());
            head.version(h.version() ? h.version() : http11);
            for (const auto& f : h)
                head.insert(f.name_string(), f.value());
        } else {
            head.version(http11);
        }
        auto res = std::make_shared<handlers::response>(
            srv_.app().reject(head, why, std::move(detail), remote_));
        res->keep_alive(false);
        do_write(res);
    }

    // --- writing -------------------------------------------------------------------------
    void do_write(const std::shared_ptr<handlers::response>& res) {
        if (state_ == state::closed) return;
        state_ = state::writing;
        arm(srv_.cfg().write_timeout);
        // Draining: the client learns that this connection ends with this answer.
        if (srv_.draining()) res->keep_alive(false);
        // The head is written by hand into one buffer and sent with the body in one gathered
        // write: Beast's serializer cost more instructions than the rest of a request.
        auto head = std::make_shared<std::string>(serialize_head(*res));
        const std::array<net::const_buffer, 2> buffers{net::buffer(*head),
                                                       net::buffer(res->body())};
        net::async_write(
            stream_, buffers,
            [self = this->shared_from_this(), res, head](beast::error_code ec, std::size_t) {
                self->disarm();
                if (ec) return self->close();
                if (!res->keep_alive()) return self->linger_close();
                self->do_wait();
            });
    }

    // Half-closes, then discards what the client is still sending (e.g. the rest of a body
    // refused with 413) until it closes or linger_timeout passes: closing a socket with
    // unread input would reset the connection and could destroy the response in flight.
    void linger_close() {
        state_ = state::writing;
        arm(linger_timeout);
        if constexpr (Tls) {
            // close_notify first (TLS's end of data), then the TCP half-close and discard.
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                self->half_close_and_discard();
            });
        } else {
            half_close_and_discard();
        }
    }
    void half_close_and_discard() {
        beast::error_code ec;
        socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) return close();
        do_discard();
    }
    void do_discard() {
        // The raw socket: after close_notify what arrives is discarded unread, encrypted or not.
        socket().async_read_some(net::buffer(discard_), [self = this->shared_from_this()](
                                                            beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->do_discard();
        });
    }

    void close() {
        if (state_ == state::closed) return;
        state_ = state::closed;
        disarm();
        beast::error_code ec;
        socket().shutdown(tcp::socket::shutdown_send, ec);
        socket().close(ec);
    }

    template <class Session>
    static std::shared_ptr<stream_session> start_stream(std::shared_ptr<Session> ws) {
        ws->start();
        return ws;
    }

    stream_type stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    bool timed_out_ = false;
    int repairs_ = 0; ///< request lines repaired on this connection (repair_request_line)
    state state_ = state::idle;
    std::uint64_t requests_ = 0;
    http_server& srv_;
    std::uint64_t id_;
    std::string remote_;
    std::array<char, 4096> discard_{};
};

http_server::http_server(const config& cfg, handlers::app& app, lifecycle_state& life)
    : cfg_(cfg), app_(app), life_(life),
      ioc_(static_cast<int>(cfg.threads ? cfg.threads
                                        : std::max(1U, std::thread::hardware_concurrency()))),
      acceptor_(net::make_strand(ioc_)), signals_(ioc_, SIGTERM, SIGINT),
      sweep_(acceptor_.get_executor()),
      single_thread_((cfg.threads ? cfg.threads : std::thread::hardware_concurrency()) <= 1) {
    if (cfg.tls()) tls_ = make_tls_context(cfg);
    signals_.async_wait([this](beast::error_code ec, int) {
        if (!ec) drain();
    });
    tcp::endpoint ep{net::ip::make_address(cfg.bind), cfg.port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

http_server::~http_server() = default;

std::unique_ptr<net::ssl::context> http_server::make_tls_context(const config& cfg) {
    auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    // TLS 1.2 or newer only (§8), whatever OpenSSL's defaults are; no renegotiation, no
    // compression; the server's order of ciphers.
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1 | net::ssl::context::no_compression |
                     net::ssl::context::single_dh_use);
    SSL_CTX_set_options(ctx->native_handle(),
                        SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    ctx->use_certificate_chain(net::buffer(cfg.tls_cert_pem));
    ctx->use_private_key(net::buffer(cfg.tls_key_pem), net::ssl::context::pem);
    return ctx;
}

void http_server::do_accept() {
    // With one I/O thread every handler already runs in order: a strand per connection
    // would only add its queue and lock to every operation.
    const auto executor = single_thread_ ? net::any_io_executor(ioc_.get_executor())
                                         : net::any_io_executor(net::make_strand(ioc_));
    acceptor_.async_accept(executor, [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (!acceptor_.is_open()) return;
        } else if (open_sessions_.load() >= cfg_.max_connections) {
            beast::error_code ignored;
            socket.close(ignored);
        } else {
            auto id = next_id_++;
            if (tls_) {
                auto s =
                    std::make_shared<http_session<true>>(std::move(socket), *this, id, tls_.get());
                session_started(id, s);
                s->start();
            } else {
                auto s =
                    std::make_shared<http_session<false>>(std::move(socket), *this, id, nullptr);
                session_started(id, s);
                s->start();
            }
        }
        do_accept();
    });
}

void http_server::session_started(std::uint64_t id, const std::weak_ptr<connection_base>& s) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.emplace(id, s);
    open_sessions_.fetch_add(1);
    if (auto* stats = app_.svc().stats) stats->connection_opened();
    if (!sweeping_) { // the sweep runs while there are sessions: an idle agentd sleeps
        sweeping_ = true;
        net::post(sweep_.get_executor(), [this] { sweep_deadlines(); });
    }
}

void http_server::sweep_deadlines() {
    const auto now = connection_base::steady_ns();
    std::vector<std::shared_ptr<connection_base>> overdue;
    {
        std::lock_guard lock(sessions_mutex_);
        if (sessions_.empty()) {
            sweeping_ = false;
            return;
        }
        for (auto& [id, weak] : sessions_)
            if (auto s = weak.lock(); s && s->overdue(now)) overdue.push_back(std::move(s));
    }
    for (auto& s : overdue)
        s->expire();
    overdue.clear(); // outside the lock: the last reference ends a session, which takes it
    sweep_.expires_after(deadline_sweep_interval);
    sweep_.async_wait([this](beast::error_code ec) {
        if (!ec) sweep_deadlines();
    });
}

void http_server::session_ended(std::uint64_t id) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(id);
    open_sessions_.fetch_sub(1);
    if (auto* stats = app_.svc().stats) stats->connection_closed();
}

void http_server::run() {
    do_accept();
    life_.ready = true;
    const unsigned n =
        cfg_.threads ? cfg_.threads : std::max(1U, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    pool.reserve(n - 1);
    for (unsigned i = 1; i < n; ++i)
        pool.emplace_back([this] { run_loop(); });
    run_loop();
    for (auto& t : pool)
        t.join();
}

void http_server::run_loop() {
    while (true) {
        try {
            ioc_.run();
            return;
        } catch (const std::exception&) {
            // A handler threw past its own guard: that connection is lost, the server is not.
        }
    }
}

void http_server::stream_started(const std::shared_ptr<stream_session>& s) {
    std::lock_guard lock(sessions_mutex_);
    std::erase_if(streams_, [](const auto& w) { return w.expired(); });
    streams_.push_back(s);
}

std::vector<std::shared_ptr<stream_session>> http_server::live_streams() {
    std::vector<std::shared_ptr<stream_session>> out;
    std::lock_guard lock(sessions_mutex_);
    for (const auto& w : streams_)
        if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
}

void http_server::drain() {
    // LIFE-002: readiness turns off and the listener closes at once. With the failpoint the
    // agent only closes its streams and serves on, ready, until the drain timeout.
    if (AGENT_FAILPOINT("LIFE-002.ready-while-draining")) {
        for (auto& s : live_streams())
            s->going_away();
        return wait_for_drain(std::chrono::steady_clock::now() + cfg_.drain_timeout);
    }
    if (life_.draining.exchange(true)) return;
    // LIFE-003: what is in flight finishes, streams are closed with 1001. With the failpoint
    // the I/O stops at once: requests in flight and streams are cut.
    if (AGENT_FAILPOINT("LIFE-003.no-drain")) return ioc_.stop();
    net::post(acceptor_.get_executor(), [this] {
        beast::error_code ec;
        acceptor_.close(ec);
    });
    std::vector<std::shared_ptr<connection_base>> open;
    {
        std::lock_guard lock(sessions_mutex_);
        for (auto& [id, weak] : sessions_)
            if (auto s = weak.lock()) open.push_back(std::move(s));
    }
    // Outside the lock: dropping the last reference ends a session, which takes the lock.
    for (auto& s : open)
        s->drain();
    open.clear();
    for (auto& s : live_streams())
        s->going_away();
    wait_for_drain(std::chrono::steady_clock::now() + cfg_.drain_timeout);
}

void http_server::wait_for_drain(std::chrono::steady_clock::time_point deadline) {
    auto timer = std::make_shared<net::steady_timer>(ioc_, drain_poll_interval);
    timer->async_wait([this, timer, deadline](beast::error_code) {
        if ((open_sessions_.load() == 0 && live_streams().empty()) ||
            std::chrono::steady_clock::now() >= deadline)
            return ioc_.stop();
        wait_for_drain(deadline);
    });
}

void http_server::stop() {
    signals_.cancel();
    net::post(sweep_.get_executor(), [this] { sweep_.cancel(); });
    ioc_.stop();
}

} // namespace agent::server
