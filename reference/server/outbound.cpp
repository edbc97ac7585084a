#include "reference/server/outbound.hpp"

#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace agent::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

class exchange : public std::enable_shared_from_this<exchange> {
public:
    exchange(net::io_context& io, outbound_request req, std::function<void(outbound_result)> done)
        : resolver_(net::make_strand(io)), stream_(resolver_.get_executor()), req_(std::move(req)),
          done_(std::move(done)) {}

    void start() {
        stream_.expires_after(req_.timeout);
        resolver_.async_resolve(
            req_.host, std::to_string(req_.port),
            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                if (ec)
                    return self->finish(outbound_result::failure::connect,
                                        "resolve: " + ec.message());
                self->connect(r);
            });
    }

private:
    void connect(const tcp::resolver::results_type& r) {
        stream_.async_connect(
            r, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return self->fail(ec, outbound_result::failure::connect, "connect");
                self->write();
            });
    }
    void write() {
        msg_.method(http::verb::post);
        msg_.target(req_.target);
        msg_.version(11);
        msg_.set(http::field::host, req_.host + ":" + std::to_string(req_.port));
        msg_.set(http::field::content_type, "application/json");
        msg_.set(http::field::user_agent, "agentd");
        for (const auto& [n, v] : req_.headers)
            msg_.set(n, v);
        msg_.body() = req_.body;
        msg_.prepare_payload();
        msg_.keep_alive(false);
        http::async_write(stream_, msg_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->fail(ec, outbound_result::failure::io, "write");
                              self->read();
                          });
    }
    void read() {
        parser_.body_limit(8 * 1024 * 1024);
        http::async_read(stream_, buffer_, parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return self->fail(ec, outbound_result::failure::io, "read");
                             outbound_result r;
                             r.status = static_cast<int>(self->parser_.get().result_int());
                             r.body = std::move(self->parser_.get().body());
                             self->deliver(std::move(r));
                         });
    }
    void fail(beast::error_code ec, outbound_result::failure why, const char* step) {
        if (ec == beast::error::timeout)
            return finish(outbound_result::failure::timeout,
                          "no answer within " + std::to_string(req_.timeout.count()) + " ms");
        finish(why, std::string(step) + ": " + ec.message());
    }
    void finish(outbound_result::failure why, std::string detail) {
        outbound_result r;
        r.why = why;
        r.detail = std::move(detail);
        deliver(std::move(r));
    }
    void deliver(outbound_result r) {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        if (done_) {
            auto d = std::move(done_);
            d(std::move(r));
        }
    }

    tcp::resolver resolver_;
    beast::tcp_stream stream_;
    outbound_request req_;
    std::function<void(outbound_result)> done_;
    http::request<http::string_body> msg_;
    beast::flat_buffer buffer_;
    http::response_parser<http::string_body> parser_;
};

} // namespace

void beast_outbound::post(outbound_request req, std::function<void(outbound_result)> done) {
    std::make_shared<exchange>(io_, std::move(req), std::move(done))->start();
}

void beast_outbound::after(std::chrono::milliseconds d, std::function<void()> fn) {
    auto timer = std::make_shared<net::steady_timer>(io_, d);
    timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
        if (!ec) fn();
    });
}

} // namespace agent::server
