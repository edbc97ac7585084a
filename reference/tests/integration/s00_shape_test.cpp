// PROTOCOL.md §0: shape — JSON, problem documents, 404/405, limits, request ids, headers,
// keep-alive and pipelining.
#include "reference/tests/integration/agentd_fixture.hpp"

#include <chrono>
#include <regex>

namespace agentd_test {
namespace {

class shape : public agentd_suite {
protected:
    static void SetUpTestSuite() {
        extra_args_ = {"--header-timeout-ms", "300", "--max-body-bytes", "4096",
                       "--max-header-bytes",  "2048"};
        agentd_suite::SetUpTestSuite();
    }
    reply post_agents(const std::string& body, const std::string& ct = "application/json") {
        conn c(agentd().port());
        std::vector<std::pair<std::string, std::string>> h = {{"Authorization", bearer(op())}};
        if (!ct.empty()) h.emplace_back("Content-Type", ct);
        return c.send("POST", "/agents", body, h);
    }
    static void expect_problem(const reply& r, int status) {
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_EQ(r.header("content-type"), "application/problem+json");
        auto j = r.json();
        EXPECT_EQ(j.at("status"), status);
        EXPECT_TRUE(j.at("type").is_string());
        EXPECT_TRUE(j.at("title").is_string());
        EXPECT_TRUE(j.at("detail").is_string());
        EXPECT_TRUE(j.at("instance").is_string());
        EXPECT_EQ(j.at("request_id"), r.header("x-request-id"));
    }
};

TEST_F(shape, unknown_path_is_404_problem) {
    conn c(agentd().port());
    expect_problem(c.send("GET", "/nope"), 404);
    expect_problem(c.send("GET", "/agents/x/y"), 404);
}

TEST_F(shape, wrong_method_is_405_with_allow) {
    conn c(agentd().port());
    auto r = c.send("PATCH", "/agents");
    expect_problem(r, 405);
    EXPECT_EQ(r.header("allow"), "GET, HEAD, POST, OPTIONS");
    r = c.send("POST", "/health");
    expect_problem(r, 405);
    EXPECT_EQ(r.header("allow"), "GET, HEAD, OPTIONS");
}

TEST_F(shape, options_lists_methods) {
    conn c(agentd().port());
    auto r = c.send("OPTIONS", "/agents/abc");
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(r.header("allow"), "GET, HEAD, PUT, DELETE, OPTIONS");
}

TEST_F(shape, head_has_headers_and_no_body) {
    conn c(agentd().port());
    auto get = c.send("GET", "/health");
    auto r = c.send("HEAD", "/health");
    EXPECT_EQ(r.status, 200);
    // The length of the body a GET would carry, and no body (the next response parses).
    EXPECT_EQ(r.header("content-length"), std::to_string(get.body.size()));
    EXPECT_FALSE(get.body.empty());
    EXPECT_EQ(r.header("content-type"), get.header("content-type"));
    EXPECT_EQ(c.send("GET", "/livez").status, 200); // connection still in step
}

TEST_F(shape, invalid_json_is_400) {
    expect_problem(post_agents("{\"name\": "), 400);
    expect_problem(post_agents(""), 400);
    expect_problem(post_agents("{\"name\":\"a\"} trailing"), 400);
}

TEST_F(shape, invalid_utf8_is_400) {
    auto r = post_agents("{\"name\":\"\xC3\x28\",\"version\":\"1.0.0\"}");
    expect_problem(r, 400);
    EXPECT_NE(r.json()["detail"].get<std::string>().find("UTF-8"), std::string::npos);
}

TEST_F(shape, deep_nesting_is_400_not_a_crash) {
    expect_problem(post_agents(std::string(2000, '[') + std::string(2000, ']')), 400);
}

TEST_F(shape, wrong_or_missing_content_type_is_415) {
    expect_problem(post_agents("{}", "text/plain"), 415);
    expect_problem(post_agents("{}", ""), 415);
    EXPECT_EQ(post_agents(nlohmann::json{{"name", unique_name()}, {"version", "1.0.0"}}.dump(),
                          "application/json; charset=utf-8")
                  .status,
              201);
}

TEST_F(shape, schema_violation_is_422_with_pointers) {
    auto r = post_agents(R"({"name":"Bad Name","version":"1.0","extra":1})");
    expect_problem(r, 422);
    std::set<std::string> pointers;
    const auto body = r.json();
    for (const auto& e : body["errors"])
        pointers.insert(e["pointer"].get<std::string>());
    EXPECT_EQ(pointers, (std::set<std::string>{"/name", "/version", "/extra"}));
}

TEST_F(shape, body_over_limit_is_413_and_closes) {
    conn c(agentd().port());
    std::string body(5000, ' ');
    auto r = c.send("POST", "/agents", body,
                    {{"Authorization", bearer(op())}, {"Content-Type", "application/json"}});
    expect_problem(r, 413);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(3)));
}

TEST_F(shape, oversized_body_without_token_is_401_first) {
    conn c(agentd().port());
    auto r =
        c.send("POST", "/agents", std::string(5000, ' '), {{"Content-Type", "application/json"}});
    expect_problem(r, 401);
    conn c2(agentd().port());
    expect_problem(c2.send("POST", "/nowhere", std::string(5000, ' ')), 404);
}

TEST_F(shape, chunked_body_over_limit_is_413) {
    conn c(agentd().port());
    std::string chunk(3000, ' ');
    char size[16];
    std::snprintf(size, sizeof size, "%zx", chunk.size());
    c.write_raw("POST /agents HTTP/1.1\r\nHost: x\r\nAuthorization: " + bearer(op()) +
                "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + size +
                "\r\n" + chunk + "\r\n" + size + "\r\n" + chunk + "\r\n0\r\n\r\n");
    expect_problem(c.read(), 413);
}

TEST_F(shape, head_over_limit_is_431) {
    conn c(agentd().port());
    auto r = c.send("GET", "/health", {}, {{"X-Filler", std::string(3000, 'x')}});
    expect_problem(r, 431);
}

TEST_F(shape, slow_head_gets_408_or_close) {
    conn c(agentd().port());
    c.write_raw("GET /health HTTP/1.1\r\nHost: x\r\n");
    auto r = c.read();
    expect_problem(r, 408);
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(2)));
}

TEST_F(shape, idle_connection_without_bytes_is_kept_until_idle_timeout) {
    conn c(agentd().port());
    std::this_thread::sleep_for(std::chrono::milliseconds(500)); // > header timeout, < idle timeout
    EXPECT_EQ(c.send("GET", "/livez").status, 200);
}

TEST_F(shape, head_just_over_limit_of_many_small_fields_is_431) {
    conn c(agentd().port());
    std::string head = "GET /livez HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; head.size() <= 2048; ++i)
        head += "X-Pad-" + std::to_string(i) + ": bbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n";
    c.write_raw(head + "\r\n");
    expect_problem(c.read(), 431);
}

TEST_F(shape, head_at_the_limit_is_accepted) {
    conn c(agentd().port());
    std::string head = "GET /livez HTTP/1.1\r\nHost: x\r\nX-Fill: ";
    head += std::string(2048 - head.size() - 4, 'f') + "\r\n\r\n";
    ASSERT_EQ(head.size(), 2048U);
    c.write_raw(head);
    EXPECT_EQ(c.read().status, 200);
}

TEST_F(shape, http11_without_host_is_400) {
    conn c(agentd().port());
    c.write_raw("GET /livez HTTP/1.1\r\n\r\n");
    expect_problem(c.read(), 400);
}

TEST_F(shape, malformed_request_line_is_400) {
    conn c(agentd().port());
    c.write_raw("GARBAGE\r\n\r\n");
    auto r = c.read();
    EXPECT_EQ(r.status, 400);
}

TEST_F(shape, request_id_echoed_when_valid) {
    conn c(agentd().port());
    std::string id(128, 'a');
    EXPECT_EQ(c.send("GET", "/health", {}, {{"X-Request-ID", id}}).header("x-request-id"), id);
    EXPECT_EQ(c.send("GET", "/health", {}, {{"X-Request-ID", "a.b_c-9"}}).header("x-request-id"),
              "a.b_c-9");
}

TEST_F(shape, request_id_replaced_when_invalid_or_absent) {
    conn c(agentd().port());
    std::regex generated("^[A-Za-z0-9._-]{1,128}$");
    for (const std::string& bad :
         {std::string(129, 'a'), std::string("<script>"), std::string("a b")}) {
        auto got = c.send("GET", "/nope", {}, {{"X-Request-ID", bad}});
        EXPECT_NE(got.header("x-request-id"), bad);
        EXPECT_TRUE(std::regex_match(got.header("x-request-id"), generated));
        EXPECT_EQ(got.body.find("<script>"), std::string::npos);
    }
    auto a = c.send("GET", "/health").header("x-request-id");
    auto b = c.send("GET", "/health").header("x-request-id");
    EXPECT_FALSE(a.empty());
    EXPECT_NE(a, b);
}

TEST_F(shape, common_headers_on_every_response) {
    conn c(agentd().port());
    for (const auto& r :
         {c.send("GET", "/health"), c.send("GET", "/agents"), c.send("GET", "/nope"),
          c.send("GET", "/agents", {}, {{"Authorization", bearer(viewer())}})}) {
        EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
        EXPECT_FALSE(r.header("x-request-id").empty());
        EXPECT_FALSE(r.header("date").empty());
    }
    EXPECT_EQ(
        c.send("GET", "/agents", {}, {{"Authorization", bearer(viewer())}}).header("cache-control"),
        "no-store");
}

TEST_F(shape, pipelined_requests_answer_in_order) {
    conn c(agentd().port());
    c.write_raw("GET /livez HTTP/1.1\r\nHost: x\r\nX-Request-ID: one\r\n\r\n"
                "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-ID: two\r\n\r\n"
                "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: three\r\n\r\n");
    auto a = c.read(), b = c.read(), d = c.read();
    EXPECT_EQ(a.header("x-request-id"), "one");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(b.header("x-request-id"), "two");
    EXPECT_EQ(b.status, 404);
    EXPECT_EQ(d.header("x-request-id"), "three");
}

TEST_F(shape, connection_close_is_honoured) {
    conn c(agentd().port());
    auto r = c.send("GET", "/health", {}, {{"Connection", "close"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(2)));
}

TEST_F(shape, http10_without_keep_alive_closes) {
    conn c(agentd().port());
    c.write_raw("GET /livez HTTP/1.0\r\n\r\n");
    EXPECT_EQ(c.read().status, 200);
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(2)));
}

TEST_F(shape, expect_100_continue_gets_continue) {
    conn c(agentd().port());
    auto body = nlohmann::json{{"name", unique_name()}, {"version", "1.0.0"}}.dump();
    c.write_raw("POST /agents HTTP/1.1\r\nHost: x\r\nAuthorization: " + bearer(op()) +
                "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n");
    auto cont = c.read();
    EXPECT_EQ(cont.status, 100);
    c.write_raw(body);
    EXPECT_EQ(c.read().status, 201);
}

// Ids are lowercase UUIDs; agentd's are version 7 (time-ordered: its indexes grow at the end),
// and their time is the creation time.
TEST_F(shape, times_and_ids_have_the_protocol_format) {
    auto a = create(op());
    const auto id = a["id"].get<std::string>();
    EXPECT_TRUE(std::regex_match(
        id, std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")))
        << id;
    const auto id_ms = std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
    const auto now_ms =
        static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
    EXPECT_LE(id_ms, now_ms);
    EXPECT_GT(id_ms + 60'000, now_ms) << "the id's time is the creation time";
    EXPECT_TRUE(std::regex_match(a["created_at"].get<std::string>(),
                                 std::regex(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)")));
}

} // namespace
} // namespace agentd_test
