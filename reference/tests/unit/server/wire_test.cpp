// The hand-written response head is byte for byte what Beast's serializer writes.
#include "reference/server/wire.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include <boost/beast/http/write.hpp>

namespace agent::server {
namespace {

namespace http = boost::beast::http;

std::string beast_bytes(const handlers::response& res) {
    std::ostringstream out;
    out << res;
    return out.str();
}

TEST(wire, head_and_body_are_what_beast_writes) {
    std::vector<handlers::response> cases;
    handlers::response ok{http::status::ok, 11};
    ok.set(http::field::content_type, "application/json");
    ok.set("X-Request-ID", "abc");
    ok.body() = R"({"status":"healthy"})";
    ok.prepare_payload();
    ok.keep_alive(true);
    cases.push_back(ok);
    handlers::response closing{http::status::not_found, 11};
    closing.set(http::field::content_type, "application/problem+json");
    closing.body() = "{}";
    closing.prepare_payload();
    closing.keep_alive(false);
    cases.push_back(closing);
    handlers::response old{http::status::created, 10};
    old.set(http::field::location, "/agents/1");
    old.keep_alive(true);
    old.body() = "x";
    old.prepare_payload();
    cases.push_back(old);
    handlers::response empty{http::status::no_content, 11};
    empty.insert("Vary", "Authorization");
    empty.insert("Vary", "Accept"); // repeated fields keep their order
    cases.push_back(empty);
    handlers::response custom{http::status::too_many_requests, 11};
    custom.reason("Slow Down");
    custom.set(http::field::retry_after, "3");
    custom.prepare_payload();
    cases.push_back(custom);
    handlers::response unknown{static_cast<http::status>(599), 11};
    unknown.prepare_payload();
    cases.push_back(unknown);
    for (const auto& res : cases) {
        SCOPED_TRACE(res.result_int());
        EXPECT_EQ(serialize_head(res) + res.body(), beast_bytes(res));
    }
}

handlers::request head(const char* target, std::vector<std::pair<const char*, const char*>> fields,
                       http::verb method = http::verb::get) {
    handlers::request r{method, target, 11};
    for (auto& [n, v] : fields)
        r.insert(n, v);
    return r;
}

TEST(request_head, only_a_final_single_chunked_transfer_coding_is_framed) {
    auto ok = head("/agents", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}});
    EXPECT_EQ(check_request_head(ok), "");
    auto upper = head("/agents", {{"Host", "a"}, {"Transfer-Encoding", " CHUNKED "}});
    EXPECT_EQ(check_request_head(upper), "");
    auto empty_items = head("/agents", {{"Host", "a"}, {"Transfer-Encoding", ", chunked"}});
    EXPECT_EQ(check_request_head(empty_items), "");
    for (const char* te : {"gzip, chunked", "chunked, gzip", "identity", "xchunked", "chunked;q=1",
                           "chunked, chunked", "chunked;"}) {
        auto r = head("/agents", {{"Host", "a"}, {"Transfer-Encoding", te}});
        EXPECT_NE(check_request_head(r), "") << te;
    }
    auto twice =
        head("/agents",
             {{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}});
    EXPECT_NE(check_request_head(twice), "");
}

TEST(request_head, host_and_authorization_are_single_and_well_formed) {
    for (const char* h : {"a", "a:80", "127.0.0.1:8080", "[::1]:80", "", "xn--bcher-kva.example"}) {
        auto r = head("/health", {{"Host", h}});
        EXPECT_EQ(check_request_head(r), "") << h;
    }
    for (const char* h : {"a b", "a/b", "u@a", "a:80:81", "[zz]", "a:port"}) {
        auto r = head("/health", {{"Host", h}});
        EXPECT_NE(check_request_head(r), "") << h;
    }
    auto two = head("/health", {{"Host", "a"}, {"Host", "a"}});
    EXPECT_NE(check_request_head(two), "");
    auto creds = head(
        "/agents", {{"Host", "a"}, {"Authorization", "Bearer x"}, {"Authorization", "Bearer y"}});
    EXPECT_NE(check_request_head(creds), "");
}

TEST(request_head, targets_are_origin_form_or_absolute_form_rewritten) {
    for (const char* t : {"/health", "/agents?limit=5&cursor=a%2Fb", "/a/../health"}) {
        auto r = head(t, {{"Host", "a"}});
        EXPECT_EQ(check_request_head(r), "") << t;
    }
    for (const char* t : {"health", "/he alth", "/health#frag", "/a\\b", "/caf\xc3\xa9",
                          "http://u@a/health", "http:///health", "*"}) {
        auto r = head(t, {{"Host", "a"}});
        EXPECT_NE(check_request_head(r), "") << t;
    }
    auto absolute = head("HTTP://example.test:81/health?x=1", {{"Host", "other"}});
    EXPECT_EQ(check_request_head(absolute), "");
    EXPECT_EQ(absolute.target(), "/health?x=1");
    EXPECT_EQ(absolute[http::field::host], "example.test:81"); // the authority, not Host
    auto no_host = head("http://a/health", {});
    EXPECT_NE(check_request_head(no_host), "");
    auto star = head("*", {{"Host", "a"}}, http::verb::options);
    EXPECT_EQ(check_request_head(star), "");
}

TEST(request_head, leading_empty_lines_are_dropped_and_higher_minor_versions_read_as_1_1) {
    std::string crlf = "\r\nGET / HTTP/1.1\r\n";
    bool changed = false;
    EXPECT_EQ(repair_request_line(crlf.data(), crlf.size(), changed), 2U);
    EXPECT_FALSE(changed);
    std::string v12 = "GET / HTTP/1.2\r\nHost: a\r\n\r\n";
    EXPECT_EQ(repair_request_line(v12.data(), v12.size(), changed), 0U);
    EXPECT_TRUE(changed);
    EXPECT_EQ(v12.substr(0, 16), "GET / HTTP/1.1\r\n");
    std::string v20 = "GET / HTTP/2.0\r\n";
    EXPECT_EQ(repair_request_line(v20.data(), v20.size(), changed), 0U);
    EXPECT_FALSE(changed); // HTTP/2 is not HTTP/1.x: refused as it is
}

} // namespace
} // namespace agent::server
