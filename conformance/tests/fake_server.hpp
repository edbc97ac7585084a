#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1:0 for the harness's own tests (Beast, blocking, a
// thread per connection). The handler decides each reply: status, headers, body, a delay,
// raw bytes, or closing without a reply. Started in the constructor, stopped in the
// destructor (as cpp-httplib's test fixtures do).

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "conformance/client/http.hpp"

namespace agentcheck::testing {

namespace http = boost::beast::http;
using beast_request = http::request<http::string_body>;

/// What the fake server answers to one request.
struct reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool close = false;                 ///< close the connection after replying
    bool drop = false;                  ///< close the connection without replying
    std::chrono::milliseconds delay{0}; ///< wait before replying
    std::string raw;                    ///< when set: write these bytes instead of a response

    /// A JSON reply.
    static reply json(int status, const nlohmann::json& body) {
        reply r;
        r.status = status;
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = body.dump();
        return r;
    }
};

/// The fake server. Thread-safe; the handler is called from connection threads concurrently.
class fake_server {
public:
    using handler = std::function<reply(const beast_request&)>;

    explicit fake_server(handler h) : handler_(std::move(h)) {
        namespace asio = boost::asio;
        acceptor_.open(asio::ip::tcp::v4());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        accept_thread_ = std::thread([this] { accept_loop(); });
    }

    ~fake_server() {
        stopping_ = true;
        {
            // Wake the blocking accept with a connection of our own.
            boost::asio::io_context io;
            boost::asio::ip::tcp::socket s(io);
            boost::system::error_code ec;
            s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
        }
        accept_thread_.join();
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            for (const int fd : open_fds_)
                ::shutdown(fd, SHUT_RDWR);
        }
        for (auto& t : connection_threads_)
            t.join();
    }

    fake_server(const fake_server&) = delete;
    fake_server& operator=(const fake_server&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] client::target_url url() const {
        client::target_url u;
        u.host = "127.0.0.1";
        u.port = port_;
        return u;
    }
    /// Connections accepted so far.
    [[nodiscard]] std::size_t connections() const noexcept { return connections_; }
    /// Requests read so far.
    [[nodiscard]] std::size_t requests() const noexcept { return requests_; }

private:
    void accept_loop() {
        for (;;) {
            boost::asio::ip::tcp::socket socket(io_);
            boost::system::error_code ec;
            acceptor_.accept(socket, ec);
            if (stopping_) return;
            if (ec) continue;
            ++connections_;
            const std::lock_guard<std::mutex> lock(mutex_);
            open_fds_.push_back(socket.native_handle());
            connection_threads_.emplace_back(
                [this, s = std::move(socket)]() mutable { serve(std::move(s)); });
        }
    }

    void serve(boost::asio::ip::tcp::socket socket) {
        boost::beast::flat_buffer buffer;
        boost::system::error_code ec;
        for (;;) {
            beast_request req;
            http::read(socket, buffer, req, ec);
            if (ec) break;
            ++requests_;
            reply r = handler_(req);
            if (r.delay.count() > 0) std::this_thread::sleep_for(r.delay);
            if (r.drop) break;
            if (!r.raw.empty()) {
                boost::asio::write(socket, boost::asio::buffer(r.raw), ec);
                if (ec || r.close) break;
                continue;
            }
            http::response<http::string_body> resp{static_cast<http::status>(r.status),
                                                   req.version()};
            for (const auto& [name, value] : r.headers)
                resp.set(name, value);
            resp.body() = r.body;
            resp.keep_alive(!r.close && req.keep_alive());
            resp.prepare_payload();
            http::write(socket, resp, ec);
            if (ec || r.close || !req.keep_alive()) break;
        }
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            std::erase(open_fds_, socket.native_handle());
        }
        socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
        socket.close(ec);
    }

    handler handler_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> connections_{0};
    std::atomic<std::size_t> requests_{0};
    std::thread accept_thread_;
    std::mutex mutex_;
    std::vector<int> open_fds_;
    std::vector<std::thread> connection_threads_;
};

/// A minimal agent for runner and CLI tests: discovery (features as given), POST /agents,
/// DELETE /agents/{id}, GET /echo-status/{code}. Thread-safe.
class fake_agent {
public:
    explicit fake_agent(nlohmann::json features = nlohmann::json::array())
        : features_(std::move(features)),
          server_([this](const beast_request& r) { return handle(r); }) {}

    [[nodiscard]] client::target_url url() const { return server_.url(); }
    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
    /// IDs deleted so far, in order.
    [[nodiscard]] std::vector<std::string> deleted() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return deleted_;
    }
    /// Authorization headers seen on DELETE requests.
    [[nodiscard]] std::vector<std::string> delete_auth() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return delete_auth_;
    }

private:
    reply handle(const beast_request& req) {
        const std::string target(req.target());
        if (target == "/.well-known/agent-service") {
            return reply::json(200, {{"protocol", "agent-service/1"},
                                     {"implementation", {{"name", "fake"}, {"version", "0.0.1"}}},
                                     {"features", features_},
                                     {"auth", {{"type", "bearer-jwt"}, {"issuer", "fake-iss"}}},
                                     {"limits", {{"max_body_bytes", 1024}}}});
        }
        if (target == "/agents" && req.method() == http::verb::post) {
            auto body = nlohmann::json::parse(req.body(), nullptr, false);
            const std::lock_guard<std::mutex> lock(mutex_);
            const std::string id =
                "00000000-0000-4000-8000-" + std::to_string(100000000000 + ++next_id_);
            body["id"] = id;
            return reply::json(201, body);
        }
        if (target.rfind("/agents/", 0) == 0 && req.method() == http::verb::delete_) {
            const std::lock_guard<std::mutex> lock(mutex_);
            deleted_.push_back(target.substr(std::string("/agents/").size()));
            delete_auth_.emplace_back(req[http::field::authorization]);
            reply r;
            r.status = 204;
            return r;
        }
        if (target.rfind("/echo-status/", 0) == 0) {
            const int code = std::stoi(target.substr(std::string("/echo-status/").size()));
            return reply::json(code, {{"status", code}});
        }
        return reply::json(404, {{"title", "not found"}});
    }

    nlohmann::json features_;
    mutable std::mutex mutex_;
    long long next_id_ = 0;
    std::vector<std::string> deleted_;
    std::vector<std::string> delete_auth_;
    fake_server server_;
};

} // namespace agentcheck::testing
