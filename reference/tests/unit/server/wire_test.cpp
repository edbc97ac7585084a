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

} // namespace
} // namespace agent::server
