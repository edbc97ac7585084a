// The harness's WebSocket client against a small scripted Beast server: refused upgrades,
// messages, deadlines that lose nothing, pongs, close codes.
#include "conformance/client/ws.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace agentcheck::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// Accepts one connection and runs `script` on it (after the upgrade, or instead of it when
/// `refuse` is set).
class one_shot_server {
public:
    using script = std::function<void(websocket::stream<tcp::socket>&)>;
    one_shot_server(script s, int refuse = 0)
        : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        port_ = acceptor_.local_endpoint().port();
        thread_ = std::thread([this, s = std::move(s), refuse] {
            try {
                tcp::socket sock(io_);
                acceptor_.accept(sock);
                beast::flat_buffer buf;
                http::request<http::string_body> req;
                http::read(sock, buf, req);
                auth_ = std::string(req[http::field::authorization]);
                if (refuse != 0) {
                    http::response<http::string_body> res{static_cast<http::status>(refuse), 11};
                    res.set(http::field::content_type, "application/problem+json");
                    res.body() = R"({"status":)" + std::to_string(refuse) + "}";
                    res.prepare_payload();
                    http::write(sock, res);
                    return;
                }
                websocket::stream<tcp::socket> ws(std::move(sock));
                ws.accept(req);
                s(ws);
            } catch (const std::exception&) {
            }
        });
    }
    ~one_shot_server() { thread_.join(); }
    [[nodiscard]] target_url url() const {
        target_url u;
        u.port = port_;
        return u;
    }
    std::string auth_;

private:
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

TEST(ws_client, a_refused_upgrade_gives_the_http_answer) {
    one_shot_server server([](auto&) {}, 404);
    response refused;
    auto ws = ws_client::open(server.url(), "/agents/x/status", {{"Authorization", "Bearer t0k"}},
                              {}, &refused);
    EXPECT_EQ(ws, nullptr);
    EXPECT_EQ(refused.status, 404);
    EXPECT_EQ(refused.media_type(), "application/problem+json");
    EXPECT_EQ(refused.body, R"({"status":404})");
}

TEST(ws_client, reads_messages_waits_without_losing_them_and_sees_the_close_code) {
    std::atomic<bool> go{false};
    one_shot_server server([&](websocket::stream<tcp::socket>& ws) {
        ws.text(true);
        ws.write(asio::buffer(std::string(R"({"n":1})")));
        while (!go.load())
            std::this_thread::sleep_for(5ms);
        ws.write(asio::buffer(std::string(R"({"n":2})")));
        ws.close(websocket::close_reason(websocket::close_code::policy_error, "too slow"));
        beast::flat_buffer b;
        beast::error_code ec;
        ws.read(b, ec); // until the client's close answer
    });
    response refused;
    auto ws = ws_client::open(server.url(), "/events/stream", {{"Authorization", "Bearer abc"}}, {},
                              &refused);
    ASSERT_NE(ws, nullptr);
    EXPECT_EQ(server.auth_, "Bearer abc");
    auto first = ws->read(2s);
    EXPECT_EQ(first.what, ws_event::kind::message);
    EXPECT_EQ(first.text, R"({"n":1})");
    EXPECT_EQ(ws->read(100ms).what, ws_event::kind::timeout);
    go = true;
    auto second = ws->read(2s);
    EXPECT_EQ(second.what, ws_event::kind::message) << "the read that timed out lost nothing";
    EXPECT_EQ(second.text, R"({"n":2})");
    auto end = ws->read(2s);
    EXPECT_EQ(end.what, ws_event::kind::closed);
    EXPECT_EQ(end.close_code, 1008);
    EXPECT_EQ(end.close_reason, "too slow");
}

TEST(ws_client, pings_are_answered_with_their_payload) {
    one_shot_server server([](websocket::stream<tcp::socket>& ws) {
        beast::flat_buffer b;
        beast::error_code ec;
        ws.read(b, ec); // answers pings while reading, until the client's close
    });
    response refused;
    auto ws = ws_client::open(server.url(), "/s", {}, {}, &refused);
    ASSERT_NE(ws, nullptr);
    ws->ping("p-1");
    EXPECT_TRUE(ws->wait_pong("p-1", 2s));
    EXPECT_FALSE(ws->wait_pong("other", 50ms));
    ws->close();
}

TEST(ws_client, a_connection_lost_without_a_close_frame_reads_as_1006) {
    one_shot_server server([](websocket::stream<tcp::socket>& ws) {
        beast::error_code ec;
        ws.next_layer().shutdown(tcp::socket::shutdown_both, ec);
        ws.next_layer().close(ec);
    });
    response refused;
    auto ws = ws_client::open(server.url(), "/s", {}, {}, &refused);
    ASSERT_NE(ws, nullptr);
    auto e = ws->read(2s);
    EXPECT_EQ(e.what, ws_event::kind::closed);
    EXPECT_EQ(e.close_code, 1006);
}

TEST(ws_client, an_unreachable_target_throws) {
    target_url nowhere;
    nowhere.port = 1;
    response refused;
    EXPECT_THROW((void)ws_client::open(nowhere, "/s", {}, {}, &refused), transport_exception);
}

} // namespace
} // namespace agentcheck::client
