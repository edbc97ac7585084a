#pragma once
// A WebSocket client (RFC 6455, Boost.Beast) for the stream checks and, later, the load
// generator: the upgrade carries a token and any headers, a refused upgrade gives the HTTP
// response, reads wait at most a deadline, pings are answered and counted, and a client can
// stop reading on purpose (a small receive buffer makes the agent's own bound matter).

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "conformance/client/http.hpp"

namespace agentcheck::client {

/// What a read saw.
struct ws_event {
    enum class kind { message, closed, timeout };
    kind what = kind::timeout;
    std::string text;         ///< message: its payload
    int close_code = 0;       ///< closed: the code of the close frame (1006 when none came)
    std::string close_reason; ///< closed: its reason
    std::chrono::steady_clock::time_point at{}; ///< when it arrived
};

/// One WebSocket connection. Not thread-safe.
class ws_client {
public:
    struct options {
        std::chrono::milliseconds timeout{10000}; ///< connect and handshake
        int receive_buffer_bytes = 0;             ///< SO_RCVBUF before connecting (0: default)
    };

    /// Connects and upgrades `path` (with the target's prefix and extra headers). On a
    /// refused upgrade returns null and sets *refused to the agent's HTTP answer. Throws
    /// transport_exception when the connection or the handshake fails otherwise.
    static std::unique_ptr<ws_client> open(const target_url& target, const std::string& path,
                                           const header_list& headers, const options& opts,
                                           response* refused);
    ~ws_client();
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    /// The next message or close within `wait` (timeout otherwise; nothing is lost: a later
    /// read continues the same one).
    ws_event read(std::chrono::milliseconds wait);
    /// Sends a ping with `payload`.
    void ping(const std::string& payload);
    /// Waits up to `wait` for a pong carrying `payload` (messages that arrive meanwhile are
    /// kept for read()).
    bool wait_pong(const std::string& payload, std::chrono::milliseconds wait);
    /// Sends a close frame (1000) and waits briefly for the agent's.
    void close();

private:
    struct impl;
    explicit ws_client(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace agentcheck::client
