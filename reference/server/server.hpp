#pragma once
// The Beast HTTP/1.1 server: a pool of I/O threads, one strand per connection, keep-alive
// and pipelining, the protocol's limits (413/431/408), and a graceful drain on SIGTERM.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "reference/config/config.hpp"
#include "reference/handlers/app.hpp"

namespace agent::server {

class connection_base;
class stream_session;

/// The listening server. Construction binds (throws boost::system::system_error when it
/// cannot); run() serves until stop() or a drain completes. Thread-safe.
class http_server {
public:
    http_server(const config& cfg, handlers::app& app, lifecycle_state& life);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// The bound port (useful with --port 0).
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

    /// Serves on cfg.threads I/O threads (the calling thread included) until stopped.
    /// SIGTERM and SIGINT (caught from construction on) start a drain. Returns when every
    /// thread has finished.
    void run();

    /// Starts a drain (as SIGTERM does): /readyz turns 503, the listener closes, in-flight
    /// requests finish, idle connections close; run() returns once all are gone or the
    /// drain timeout passed.
    void drain();

    /// Stops at once.
    void stop();

    /// Open connections.
    [[nodiscard]] std::size_t connections() const noexcept { return open_sessions_.load(); }

    // For sessions.
    void session_started(std::uint64_t id, const std::weak_ptr<connection_base>& s);
    void session_ended(std::uint64_t id);
    /// A connection became a WebSocket stream (closed with 1001 when the server drains).
    void stream_started(const std::shared_ptr<stream_session>& s);
    [[nodiscard]] const config& cfg() const noexcept { return cfg_; }
    [[nodiscard]] handlers::app& app() noexcept { return app_; }
    [[nodiscard]] bool draining() const noexcept { return life_.draining.load(); }
    /// The I/O threads' context (outbound calls run on it too).
    [[nodiscard]] boost::asio::io_context& io() noexcept { return ioc_; }

private:
    void do_accept();
    void run_loop();
    void wait_for_drain(std::chrono::steady_clock::time_point deadline);
    /// Cancels what sessions past their phase's deadline are waiting for; runs every 50 ms
    /// while any session is open.
    void sweep_deadlines();
    std::vector<std::shared_ptr<stream_session>> live_streams();
    /// The TLS context of --tls-cert / --tls-key: TLS 1.2 or newer.
    static std::unique_ptr<boost::asio::ssl::context> make_tls_context(const config& cfg);

    const config& cfg_;
    handlers::app& app_;
    lifecycle_state& life_;
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::signal_set signals_; ///< SIGTERM/SIGINT, installed at construction
    boost::asio::steady_timer sweep_; ///< the deadline sweep (on the acceptor's strand)
    bool single_thread_;              ///< one I/O thread: connections need no strand
    std::uint16_t port_ = 0;
    std::atomic<std::size_t> open_sessions_{0};
    std::atomic<std::uint64_t> next_id_{1};
    std::mutex sessions_mutex_;
    std::unordered_map<std::uint64_t, std::weak_ptr<connection_base>> sessions_;
    std::vector<std::weak_ptr<stream_session>> streams_;
    std::unique_ptr<boost::asio::ssl::context> tls_; ///< null: plain HTTP
    bool sweeping_ = false;                          ///< under sessions_mutex_
};

} // namespace agent::server
