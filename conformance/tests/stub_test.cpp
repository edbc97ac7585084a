// The downstream stub's scripting: answers in order then the fallback, delays, resets,
// requests held without an answer, calls kept with their headers, the forbidden address.
#include "conformance/stub/stub.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "conformance/client/http.hpp"

namespace agentcheck::stub {
namespace {

using namespace std::chrono_literals;

client::target_url target_of(const std::string& url) {
    return *client::target_url::parse(url);
}

client::response post(const std::string& url, std::chrono::milliseconds timeout = 2000ms) {
    client::connection c(target_of(url), timeout);
    client::request r("POST", "/invoke");
    r.json({{"capability", "sum"}});
    r.with("X-Request-ID", "rid-7");
    return c.send(r);
}

TEST(stub, answers_as_scripted_then_with_the_fallback_and_keeps_each_call) {
    downstream s;
    s.script({step::status_code(500), step::ok(R"({"n":2})")}, step::status_code(404));
    EXPECT_EQ(post(s.url()).status, 500);
    auto second = post(s.url());
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, R"({"n":2})");
    EXPECT_EQ(post(s.url()).status, 404);
    EXPECT_EQ(post(s.url()).status, 404);
    const auto calls = s.calls();
    ASSERT_EQ(calls.size(), 4U);
    EXPECT_EQ(calls[0].method, "POST");
    EXPECT_EQ(calls[0].target, "/invoke");
    EXPECT_EQ(calls[0].header("x-request-id"), "rid-7");
    EXPECT_EQ(calls[0].body, R"({"capability":"sum"})");
    EXPECT_LE(calls[0].at, calls[3].at);
}

TEST(stub, delays_resets_and_requests_never_answered) {
    downstream s;
    step reset;
    reset.reset = true;
    step hang;
    hang.hang = true;
    s.script({step::slow(150ms), reset, hang});
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(post(s.url()).status, 200);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
    EXPECT_THROW((void)post(s.url()), client::transport_exception) << "reset: no answer";
    try {
        (void)post(s.url(), 300ms);
        FAIL() << "a held request was answered";
    } catch (const client::transport_exception& e) {
        EXPECT_EQ(e.kind(), client::transport_error::timeout);
    }
    EXPECT_EQ(s.call_count(), 3U);
    // The stub stops even with a request held (its destructor releases it).
}

TEST(stub, counts_connections_on_the_forbidden_address_and_never_serves_them) {
    downstream s;
    ASSERT_FALSE(s.forbidden_url().empty()) << "127.0.0.2 (loopback) could not be bound";
    EXPECT_EQ(s.forbidden_connections(), 0U);
    EXPECT_THROW((void)post(s.forbidden_url()), client::transport_exception);
    EXPECT_EQ(s.forbidden_connections(), 1U);
    EXPECT_EQ(s.call_count(), 0U) << "nothing is served there";
    EXPECT_EQ(target_of(s.forbidden_url()).port, target_of(s.url()).port);
}

} // namespace
} // namespace agentcheck::stub
