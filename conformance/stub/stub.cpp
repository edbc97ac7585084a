#include "conformance/stub/stub.hpp"

#include <sys/socket.h>

#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace agentcheck::stub {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct downstream::listener {
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::thread thread;
};

std::string call::header(std::string_view name) const {
    for (const auto& h : headers)
        if (beast::iequals(h.name, name)) return h.value;
    return {};
}

downstream::downstream() {
    auto open = [&](const char* address, std::uint16_t port) {
        auto l = std::make_unique<listener>();
        beast::error_code ec;
        const tcp::endpoint ep{asio::ip::make_address(address), port};
        l->acceptor.open(ep.protocol(), ec);
        if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) l->acceptor.bind(ep, ec);
        if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return std::unique_ptr<listener>();
        return l;
    };
    main_ = open("127.0.0.1", 0);
    if (!main_) throw std::runtime_error("the downstream stub cannot listen on 127.0.0.1");
    port_ = main_->acceptor.local_endpoint().port();
    forbidden_ = open("127.0.0.2", port_);
    for (auto* l : {main_.get(), forbidden_.get()}) {
        if (l == nullptr) continue;
        const bool forbidden = l == forbidden_.get();
        l->thread = std::thread([this, l, forbidden] {
            for (;;) {
                beast::error_code ec;
                tcp::socket s(l->io);
                l->acceptor.accept(s, ec);
                if (stopping_) return;
                if (ec) continue;
                if (forbidden) ++forbidden_conns_;
                const int fd = s.release(ec);
                if (ec) continue;
                std::lock_guard lock(mutex_);
                open_fds_.push_back(fd);
                threads_.emplace_back([this, fd, forbidden] { serve(fd, forbidden); });
            }
        });
    }
}

downstream::~downstream() {
    stopping_ = true;
    stop_cv_.notify_all();
    for (auto* l : {main_.get(), forbidden_.get()}) {
        if (l == nullptr) continue;
        // Wake the blocking accept with a connection of our own.
        asio::io_context io;
        tcp::socket s(io);
        beast::error_code ec;
        s.connect(l->acceptor.local_endpoint(ec), ec);
        l->thread.join();
    }
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        for (const int fd : open_fds_)
            ::shutdown(fd, SHUT_RDWR);
        threads = std::move(threads_);
    }
    for (auto& t : threads)
        t.join();
}

std::string downstream::url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
}

std::string downstream::forbidden_url() const {
    return forbidden_ ? "http://127.0.0.2:" + std::to_string(port_) : std::string();
}

void downstream::script(std::deque<step> next, step otherwise) {
    std::lock_guard lock(mutex_);
    script_ = std::move(next);
    otherwise_ = std::move(otherwise);
}

std::vector<call> downstream::calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

std::size_t downstream::call_count() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
}

step downstream::next_step() {
    std::lock_guard lock(mutex_);
    if (script_.empty()) return otherwise_;
    auto s = std::move(script_.front());
    script_.pop_front();
    return s;
}

void downstream::serve(int fd, bool forbidden) {
    asio::io_context io;
    beast::error_code ec;
    tcp::socket sock(io);
    sock.assign(tcp::v4(), fd, ec);
    if (ec) return;
    beast::flat_buffer buffer;
    while (!stopping_) {
        http::request<http::string_body> req;
        http::read(sock, buffer, req, ec);
        if (ec) break;
        if (forbidden) break; // counted; never served
        call c;
        c.method = std::string(req.method_string());
        c.target = std::string(req.target());
        for (const auto& f : req)
            c.headers.push_back({std::string(f.name_string()), std::string(f.value())});
        c.body = req.body();
        c.at = std::chrono::steady_clock::now();
        {
            std::lock_guard lock(mutex_);
            calls_.push_back(std::move(c));
        }
        auto s = next_step();
        if (s.delay.count() > 0 || s.hang) {
            std::unique_lock lock(mutex_);
            if (s.hang)
                stop_cv_.wait(lock, [&] { return stopping_.load(); });
            else
                stop_cv_.wait_for(lock, s.delay, [&] { return stopping_.load(); });
        }
        if (stopping_ || s.reset || s.hang) break;
        http::response<http::string_body> res{static_cast<http::status>(s.status), 11};
        res.set(http::field::server, "agentcheck-stub");
        if (!s.body.empty()) res.set(http::field::content_type, "application/json");
        res.body() = s.body;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        http::write(sock, res, ec);
        if (ec || !req.keep_alive()) break;
    }
    {
        std::lock_guard lock(mutex_);
        std::erase(open_fds_, fd); // before the close: the number may be reused at once
    }
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
}

} // namespace agentcheck::stub
