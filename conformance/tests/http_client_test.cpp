#include "conformance/client/http.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "conformance/tests/fake_server.hpp"

namespace agentcheck::client {
namespace {

using testing::beast_request;
using testing::fake_server;
using testing::reply;

/// Generous: only reached when something is wrong (CI machines can be heavily loaded).
constexpr std::chrono::milliseconds quick{10000};
constexpr std::chrono::milliseconds short_timeout{150};
constexpr std::chrono::milliseconds slow_reply{3000};

/// Echoes method, target and body as JSON; "/close" closes after replying, "/drop" closes
/// without replying, "/slow" replies late.
reply echo(const beast_request& req) {
    const std::string target(req.target());
    reply r = reply::json(
        200, {{"method", std::string(req.method_string())},
              {"target", target},
              {"body", req.body()},
              {"host", std::string(req[testing::http::field::host])},
              {"content_length", std::string(req[testing::http::field::content_length])},
              {"tenant", std::string(req["X-Tenant"])}});
    if (target == "/close") r.close = true;
    if (target == "/drop") r.drop = true;
    if (target == "/slow") r.delay = slow_reply;
    if (target == "/dup") {
        r.headers.emplace_back("X-Dup", "a");
        r.headers.emplace_back("X-Dup", "b");
    }
    return r;
}

TEST(target_url, parses_host_port_and_rejects_others) {
    auto u = target_url::parse("http://127.0.0.1:8080/");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 8080);
    EXPECT_EQ(u->base(), "http://127.0.0.1:8080");
    auto d = target_url::parse("HTTP://LocalHost");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->host, "localhost");
    EXPECT_EQ(d->port, 80);
    auto v6 = target_url::parse("http://[::1]:9000");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->base(), "http://[::1]:9000");
    // An agent mounted under a path: every request target is prefixed with it.
    auto prefixed = target_url::parse("http://127.0.0.1:8080/api/v1/");
    ASSERT_TRUE(prefixed);
    EXPECT_EQ(prefixed->path_prefix, "/api/v1");
    EXPECT_EQ(prefixed->base(), "http://127.0.0.1:8080/api/v1");
    EXPECT_EQ(prefixed->origin(), "http://127.0.0.1:8080");
    // https: port 443 unless given; the scheme is kept.
    auto secure = target_url::parse("HTTPS://127.0.0.1");
    ASSERT_TRUE(secure);
    EXPECT_TRUE(secure->tls());
    EXPECT_EQ(secure->port, 443);
    EXPECT_EQ(secure->base(), "https://127.0.0.1:443");
    EXPECT_FALSE(target_url::parse("http://127.0.0.1")->tls());
    for (const char* bad :
         {"ftp://127.0.0.1", "https:/127.0.0.1", "httpss://h", "127.0.0.1:80", "http://",
          "http://h:0", "http://h:70000", "http://h:x", "http://h/a?b", "http://h//x",
          "http://h/a#f", "http://h:", "http://[::1", "http://[::1]x", "http://u@h", "http://[]:80",
          "http://:80", "http://[::1]:", "http:///api"}) {
        EXPECT_FALSE(target_url::parse(bad)) << bad;
    }
}

TEST(target_url, loopback_detection) {
    EXPECT_TRUE(target_url::parse("http://127.0.0.1")->is_loopback());
    EXPECT_TRUE(target_url::parse("http://127.9.8.7")->is_loopback());
    EXPECT_TRUE(target_url::parse("http://localhost:1")->is_loopback());
    EXPECT_TRUE(target_url::parse("http://[::1]:1")->is_loopback());
    EXPECT_FALSE(target_url::parse("http://10.0.0.1")->is_loopback());
    EXPECT_FALSE(target_url::parse("http://example.org")->is_loopback());
}

TEST(request_response, helpers) {
    request r("POST", "/agents");
    r.json({{"a", 1}}).bearer("tok").with("X-A", "1");
    r.json({{"b", 2}}); // replaces, does not duplicate Content-Type
    EXPECT_EQ(r.body, R"({"b":2})");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("authorization"), "Bearer tok");
    EXPECT_FALSE(r.header("missing"));
    std::size_t content_types = 0;
    for (const auto& h : r.headers)
        content_types += h.name == "Content-Type" ? 1 : 0;
    EXPECT_EQ(content_types, 1U);

    response resp;
    resp.headers = {
        {"Content-Type", " Application/Problem+JSON ; charset=utf-8"}, {"X-D", "1"}, {"x-d", "2"}};
    resp.body = "{\"x\":1}";
    EXPECT_EQ(resp.media_type(), "application/problem+json");
    EXPECT_EQ(resp.header_count("X-D"), 2U);
    EXPECT_EQ(resp.header("x-d"), "1");
    ASSERT_TRUE(resp.json());
    EXPECT_EQ((*resp.json())["x"], 1);
    resp.body = "not json";
    EXPECT_FALSE(resp.json());
    EXPECT_EQ(response{}.media_type(), "");
}

TEST(http_client, keep_alive_reuses_one_connection) {
    fake_server server(echo);
    http_client client(server.url(), quick);
    for (int i = 0; i < 3; ++i) {
        const auto r = client.send(request("GET", "/x" + std::to_string(i)));
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ((*r.json())["target"], "/x" + std::to_string(i));
    }
    EXPECT_EQ(server.connections(), 1U);
    EXPECT_EQ(server.requests(), 3U);
}

TEST(http_client, sends_host_and_content_length) {
    fake_server server(echo);
    http_client client(server.url(), quick);
    request req("POST", "/p");
    req.body = "hello";
    const auto r = client.send(req);
    EXPECT_EQ((*r.json())["body"], "hello");
    EXPECT_EQ((*r.json())["host"], "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(client.target().port, server.port());
    // POST with an empty body still says Content-Length: 0 (the server would wait otherwise).
    const auto empty = client.send(request("POST", "/p"));
    EXPECT_EQ(empty.status, 200);
    EXPECT_EQ((*empty.json())["content_length"], "0");
}

// A target behind a path prefix, with extra headers for every request (-H).
TEST(http_client, path_prefix_and_extra_headers_reach_every_request) {
    fake_server server(echo);
    auto target = *target_url::parse("http://127.0.0.1:" + std::to_string(server.port()) + "/api");
    target.extra_headers = {{"X-Tenant", "a"}};
    http_client client(target, quick);
    const auto r = client.send(request("GET", "/agents?limit=1"));
    EXPECT_EQ((*r.json())["target"], "/api/agents?limit=1");
    EXPECT_EQ((*r.json())["tenant"], "a");
    request own("GET", "/x");
    own.with("X-Tenant", "b"); // the request's own value wins
    EXPECT_EQ((*client.send(own).json())["tenant"], "b");
    const auto curl = to_curl(target, request("GET", "/agents"));
    EXPECT_NE(curl.find("'http://127.0.0.1:" + std::to_string(server.port()) + "/api/agents'"),
              std::string::npos)
        << curl;
    EXPECT_NE(curl.find("-H 'X-Tenant: a'"), std::string::npos) << curl;
}

TEST(http_client, reconnects_after_connection_close) {
    fake_server server(echo);
    http_client client(server.url(), quick);
    EXPECT_EQ(client.send(request("GET", "/close")).status, 200);
    EXPECT_EQ(client.send(request("GET", "/after")).status, 200);
    EXPECT_EQ(server.connections(), 2U);
}

TEST(http_client, retries_once_when_a_kept_alive_connection_was_closed) {
    int calls = 0;
    fake_server server([&](const beast_request& req) {
        ++calls;
        reply r = echo(req);
        if (calls == 1) {
            // Reply, but close without saying so: the next request finds the socket closed.
            r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            r.close = true;
        }
        return r;
    });
    http_client client(server.url(), quick);
    EXPECT_EQ(client.send(request("GET", "/first")).body, "ok");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto second = client.send(request("GET", "/second"));
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ((*second.json())["target"], "/second");
    EXPECT_EQ(server.connections(), 2U);
}

TEST(http_client, fresh_connection_closed_without_reply_is_closed_error) {
    fake_server server(echo);
    http_client client(server.url(), quick);
    try {
        client.send(request("GET", "/drop"));
        FAIL() << "expected a transport error";
    } catch (const transport_exception& e) {
        EXPECT_EQ(e.kind(), transport_error::closed);
    }
}

TEST(http_client, connect_refused_is_connect_error) {
    std::uint16_t port = 0;
    {
        fake_server server(echo);
        port = server.port();
    } // now nothing listens there
    target_url u;
    u.port = port;
    http_client client(u, quick);
    try {
        client.send(request("GET", "/"));
        FAIL() << "expected a transport error";
    } catch (const transport_exception& e) {
        EXPECT_EQ(e.kind(), transport_error::connect);
        EXPECT_STREQ(to_string(e.kind()), "connect");
    }
}

TEST(connection, read_timeout_is_timeout_error) {
    fake_server server(echo);
    connection conn(server.url(), short_timeout);
    const auto started = std::chrono::steady_clock::now();
    try {
        conn.send(request("GET", "/slow"));
        FAIL() << "expected a timeout";
    } catch (const transport_exception& e) {
        EXPECT_EQ(e.kind(), transport_error::timeout);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, slow_reply);
}

TEST(connection, pipelined_requests_come_back_in_order) {
    fake_server server(echo);
    connection conn(server.url(), quick);
    std::string bytes;
    for (int i = 0; i < 3; ++i)
        bytes += conn.serialize(request("GET", "/p" + std::to_string(i)));
    conn.write_raw(bytes);
    for (int i = 0; i < 3; ++i) {
        const auto r = conn.read_response();
        EXPECT_EQ((*r.json())["target"], "/p" + std::to_string(i));
    }
    EXPECT_EQ(server.connections(), 1U);
}

TEST(connection, surplus_bytes_stay_buffered_for_the_next_response) {
    fake_server server([](const beast_request&) {
        reply r;
        r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
                "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nB";
        return r;
    });
    connection conn(server.url(), quick);
    const auto first = conn.send(request("GET", "/"));
    EXPECT_EQ(first.body, "A");
    const auto second = conn.read_response();
    EXPECT_EQ(second.status, 201);
    EXPECT_EQ(second.body, "B");
}

TEST(connection, head_response_has_no_body_and_informational_is_skipped) {
    fake_server server([](const beast_request& req) {
        reply r;
        if (req.method() == testing::http::verb::head) {
            r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        } else {
            r.raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Dup: a\r\nX-Dup: "
                    "b\r\nContent-Length: 2\r\n\r\nhi";
        }
        return r;
    });
    connection conn(server.url(), quick);
    const auto head = conn.send(request("HEAD", "/"));
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.body, "");
    const auto get = conn.send(request("GET", "/"));
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, "hi");
    EXPECT_EQ(get.header_count("x-dup"), 2U);
}

TEST(connection, garbage_is_a_parse_error) {
    fake_server server([](const beast_request&) {
        reply r;
        r.raw = "NOT HTTP AT ALL\r\n\r\n";
        return r;
    });
    connection conn(server.url(), quick);
    try {
        conn.send(request("GET", "/"));
        FAIL() << "expected a parse error";
    } catch (const transport_exception& e) {
        EXPECT_EQ(e.kind(), transport_error::parse);
    }
}

TEST(connection, truncated_body_is_closed_mid_response) {
    fake_server server([](const beast_request&) {
        reply r;
        r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        r.close = true;
        return r;
    });
    connection conn(server.url(), quick);
    try {
        conn.send(request("GET", "/"));
        FAIL() << "expected a closed error";
    } catch (const transport_exception& e) {
        EXPECT_EQ(e.kind(), transport_error::closed);
        EXPECT_FALSE(conn.closed_before_response());
    }
}

TEST(connection, wait_closed_detects_close_and_open) {
    fake_server server(echo);
    connection open_conn(server.url(), quick);
    EXPECT_FALSE(open_conn.wait_closed(std::chrono::milliseconds(100)));

    connection closing(server.url(), quick);
    closing.write_raw(closing.serialize(request("GET", "/close")));
    std::string received;
    EXPECT_TRUE(closing.wait_closed(quick, &received));
    EXPECT_NE(received.find("HTTP/1.1 200"), std::string::npos);

    // Moving keeps the connection usable.
    connection moved = std::move(open_conn);
    moved.set_timeout(quick);
    EXPECT_EQ(moved.send(request("GET", "/m")).status, 200);
}

TEST(curl, quotes_and_redacts) {
    target_url u;
    u.port = 8080;
    request r("POST", "/agents?x=1");
    r.bearer("secret-token").json({{"name", "it's"}}).with("X-Empty", "");
    r.with("Content-Length", std::to_string(r.body.size()));
    const auto curl = to_curl(u, r);
    EXPECT_EQ(curl,
              "curl -sS -i -w '\\n' -X 'POST' 'http://127.0.0.1:8080/agents?x=1' -H "
              "\"Authorization: Bearer $AGENTCHECK_TOKEN\" -H 'Content-Type: application/json' "
              "-H 'X-Empty;' --data-binary '{\"name\":\"it'\\''s\"}'");
    EXPECT_EQ(curl.find("secret-token"), std::string::npos);

    // The scheme word as sent (a lower-case "bearer" is what a check may test).
    request lower("GET", "/x");
    lower.with("Authorization", "bearer t0k");
    EXPECT_NE(to_curl(u, lower).find("-H \"Authorization: bearer $AGENTCHECK_TOKEN\""),
              std::string::npos);
    // Without hiding (a made-up value, no credential), the header goes as it is.
    EXPECT_NE(to_curl(u, lower, false).find("-H 'Authorization: bearer t0k'"), std::string::npos);

    request head("HEAD", "/x");
    head.with("Authorization", "abc");
    EXPECT_EQ(to_curl(u, head),
              "curl -sS -i -w '\\n' -I 'http://127.0.0.1:8080/x' -H \"Authorization: "
              "$AGENTCHECK_TOKEN\"");

    // A body without Content-Type: curl must not add its form type.
    request binary("POST", "/b");
    binary.body = std::string("a\x01'\\b", 5);
    EXPECT_EQ(to_curl(u, binary), "curl -sS -i -w '\\n' -X 'POST' 'http://127.0.0.1:8080/b' -H "
                                  "'Content-Type:' --data-binary $'a\\x01\\'\\\\b'");
}

// What curl cannot send as it is goes as bytes through nc, the credential as a variable.
TEST(curl, raw_reproductions_send_the_same_bytes) {
    target_url u;
    u.port = 8080;
    request chunked("POST", "/agents");
    chunked.with("Transfer-Encoding", "chunked");
    EXPECT_FALSE(curl_can_send(chunked));
    EXPECT_TRUE(curl_can_send(request("GET", "/")));
    const std::string bytes = "GET /livez HTTP/1.1\r\nAuthorization: Bearer x.y.z\r\nX-P: 100%\r\n";
    EXPECT_EQ(to_raw_repro(u, bytes, std::chrono::seconds(3)),
              "{ printf 'GET /livez HTTP/1.1\\r\\nAuthorization: Bearer %s\\r\\nX-P: "
              "100%%\\r\\n' \"$AGENTCHECK_TOKEN\"; sleep 5; } | timeout 3 nc 127.0.0.1 8080");
    EXPECT_EQ(to_raw_repro(u, "GET / HTTP/1.1\r\n\r\n"),
              "printf 'GET / HTTP/1.1\\r\\n\\r\\n' | nc -q 5 127.0.0.1 8080");
    // serialize_request: what connection::send writes, prefix and extra headers included.
    auto prefixed = *target_url::parse("http://127.0.0.1:8080/api");
    prefixed.extra_headers = {{"X-Tenant", "a"}};
    EXPECT_EQ(serialize_request(prefixed, request("GET", "/x")),
              "GET /api/x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Tenant: a\r\n\r\n");
}

TEST(curl, redacted_hides_every_authorization_value) {
    request r("GET", "/");
    r.bearer("abc").with("authorization", "opaque").with("X-Other", "keep");
    const auto red = redacted(r);
    EXPECT_EQ(red.headers[0].value, "Bearer <redacted>");
    EXPECT_EQ(red.headers[1].value, "<redacted>");
    EXPECT_EQ(red.headers[2].value, "keep");
}

} // namespace
} // namespace agentcheck::client
