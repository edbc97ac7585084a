#pragma once
// The downstream stub: a small HTTP agent the harness starts on loopback and registers as an
// agent's `endpoint`, so that invoke, retries, breakers and health checks are checked end to
// end. Scripted per request (status, delay, body, connection reset, never answer), it counts
// calls and keeps what each carried. It also listens on a second loopback address (127.0.0.2)
// that a conforming agent must not be allowed to reach, and counts connections there.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conformance/client/http.hpp"

namespace agentcheck::stub {

/// How the stub answers one request.
struct step {
    int status = 200;
    std::string body = "{}"; ///< JSON; "" sends no body
    std::chrono::milliseconds delay{0};
    bool reset = false; ///< close the connection without answering
    bool hang = false;  ///< never answer (until the stub stops)

    static step ok(std::string body = "{}") { return {200, std::move(body), {}, false, false}; }
    static step status_code(int s) {
        return {s, R"({"stub":"scripted failure"})", {}, false, false};
    }
    static step slow(std::chrono::milliseconds d, int s = 200) {
        return {s, "{}", d, false, false};
    }
};

/// A request the stub received.
struct call {
    std::string method;
    std::string target;
    client::header_list headers;
    std::string body;
    std::chrono::steady_clock::time_point at;
    [[nodiscard]] std::string header(std::string_view name) const;
};

class downstream {
public:
    /// Starts listening on 127.0.0.1:0 (and 127.0.0.2 on the same port when it can).
    /// Throws std::runtime_error when it cannot listen.
    downstream();
    ~downstream();
    downstream(const downstream&) = delete;
    downstream& operator=(const downstream&) = delete;

    /// "http://127.0.0.1:PORT".
    [[nodiscard]] std::string url() const;
    /// "http://127.0.0.2:PORT" (empty when that address could not be bound).
    [[nodiscard]] std::string forbidden_url() const;

    /// The answers to the next requests, in order; then `otherwise` for every later one.
    void script(std::deque<step> next, step otherwise = step::ok());

    /// Requests answered (or reset, or held) so far, on the allowed address.
    [[nodiscard]] std::vector<call> calls() const;
    [[nodiscard]] std::size_t call_count() const;
    /// Connections accepted on the forbidden address.
    [[nodiscard]] std::size_t forbidden_connections() const noexcept { return forbidden_conns_; }

private:
    struct listener;
    void serve(int fd, bool forbidden);
    step next_step();

    std::unique_ptr<listener> main_;
    std::unique_ptr<listener> forbidden_;
    std::uint16_t port_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable stop_cv_;
    std::deque<step> script_;
    step otherwise_ = step::ok();
    std::vector<call> calls_;
    std::atomic<std::size_t> forbidden_conns_{0};
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> threads_;
    std::vector<int> open_fds_;
};

} // namespace agentcheck::stub
