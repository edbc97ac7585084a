// §0 Shape: HTTP/1.1 behaviour, JSON bodies, problem documents, 404/405, limits, times, ids,
// X-Request-ID, nosniff / no-store, keep-alive, pipelining, Connection: close.

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using namespace std::chrono_literals;

std::string host_header(context& ctx) {
    return ctx.target().host + ":" + std::to_string(ctx.target().port);
}

/// A raw POST /agents with the given body bytes and Content-Type (none when empty).
request raw_post(context& ctx, std::string body, std::string content_type,
                 std::string_view identity = "operator") {
    auto r = authed(ctx, identity, "POST", "/agents");
    if (!content_type.empty()) r.with("Content-Type", std::move(content_type));
    r.body = std::move(body);
    return r;
}

/// A labelled response, for checks that look at one header on many kinds of response.
struct sample {
    std::string label;
    response resp;
};

/// One response of (nearly) every kind the core protocol has: open endpoints, reads, writes,
/// 304, and the error statuses 400/401/403/404/405/409/412/415/422/428. Fails the check when
/// a response is not of the kind its label names (the header under test would then not have
/// been looked at on that kind of response).
std::vector<sample> battery(context& ctx, agent_guard& guard) {
    std::vector<sample> out;
    std::string wrong;
    auto add = [&](std::string label, const request& r, std::initializer_list<int> expected) {
        out.push_back({std::move(label), ctx.send(r)});
        const auto& got = out.back().resp;
        if (wrong.empty() &&
            std::find(expected.begin(), expected.end(), got.status) == expected.end())
            wrong = out.back().label + " answered " + describe(got);
        return got;
    };
    add("GET /.well-known/agent-service", make("GET", "/.well-known/agent-service"), {200});
    add("GET /health", make("GET", "/health"), {200, 503});
    add("GET /livez", make("GET", "/livez"), {200});
    add("GET /readyz", make("GET", "/readyz"), {200, 503});
    add("GET /agents (viewer)", authed(ctx, "viewer", "GET", "/agents?limit=1"), {200});
    auto body = base_body(ctx, "battery");
    auto created =
        add("POST /agents 201", authed(ctx, "operator", "POST", "/agents").json(body), {201});
    guard.adopt(created);
    std::string id = random_uuid(ctx);
    std::string etag = "\"1\"";
    if (created.status == 201)
        if (auto j = created.json(); j && j->contains("id") && (*j)["id"].is_string()) {
            id = (*j)["id"].get<std::string>();
            etag = created.header("ETag").value_or(etag);
        }
    add("GET /agents/{id} 200", authed(ctx, "viewer", "GET", "/agents/" + id), {200});
    add("GET /agents/{id} 304",
        authed(ctx, "viewer", "GET", "/agents/" + id).with("If-None-Match", etag), {304});
    add("GET /agents/{id}/capabilities",
        authed(ctx, "viewer", "GET", "/agents/" + id + "/capabilities"), {200});
    add("POST /agents 409 (duplicate name)", authed(ctx, "operator", "POST", "/agents").json(body),
        {409});
    add("PUT /agents/{id} 428",
        authed(ctx, "operator", "PUT", "/agents/" + id).json(mutable_fields(body)), {428});
    add("PUT /agents/{id} 412",
        authed(ctx, "operator", "PUT", "/agents/" + id)
            .json(mutable_fields(body))
            .with("If-Match", "\"999999\""),
        {412});
    auto put = add("PUT /agents/{id} 200",
                   authed(ctx, "operator", "PUT", "/agents/" + id)
                       .json(mutable_fields(body))
                       .with("If-Match", etag),
                   {200});
    add("PUT /agents/{id}/status 200",
        authed(ctx, "operator", "PUT", "/agents/" + id + "/status")
            .json(json{{"status", "active"}}),
        {200});
    add("GET /agents (no token) 401", make("GET", "/agents"), {401});
    add("POST /agents (viewer) 403", authed(ctx, "viewer", "POST", "/agents").json(base_body(ctx)),
        {403});
    add("GET unknown path 404", authed(ctx, "admin", "GET", "/no-such-path-" + random_hex(ctx, 6)),
        {404});
    add("GET unknown agent 404", authed(ctx, "viewer", "GET", "/agents/" + random_uuid(ctx)),
        {404});
    add("DELETE /agents 405", authed(ctx, "admin", "DELETE", "/agents"), {405});
    add("POST /agents bad JSON 400", raw_post(ctx, "{\"name\":", "application/json"), {400});
    add("POST /agents text/plain 415", raw_post(ctx, body.dump(), "text/plain"), {415});
    add("POST /agents schema 422",
        authed(ctx, "operator", "POST", "/agents").json(json{{"name", 42}}), {422});
    add("DELETE /agents/{id} 204", authed(ctx, "operator", "DELETE", "/agents/" + id), {204});
    if (!wrong.empty())
        ctx.fail("a response of the battery was not of the kind it stands for, so the header "
                 "was not seen on every kind of response",
                 "each labelled status", wrong);
    return out;
}

void add_connection_checks(check_registry& reg) {
    reg.add({"HTTP-001.keep-alive",
             {"HTTP-001"},
             layer::unit,
             "Three requests one after the other on one connection each get a response",
             [](context& ctx) {
                 auto conn = ctx.open_connection();
                 for (const char* path : {"/livez", "/.well-known/agent-service", "/health"}) {
                     auto req = make("GET", path);
                     response r;
                     try {
                         r = conn.send(req);
                     } catch (const client::transport_exception& e) {
                         ctx.record(req, nullptr, "kept-alive connection");
                         ctx.fail(std::string("the connection did not serve a further request: ") +
                                      e.what(),
                                  "a response on the same connection", "transport error");
                     }
                     ctx.record(req, &r, "kept-alive connection");
                 }
             }});
    reg.add({"HTTP-001.keep-alive-across-errors",
             {"HTTP-001"},
             layer::unit,
             "A 404 and a 401 do not end a kept-alive connection: a third request on it is served",
             [](context& ctx) {
                 auto conn = ctx.open_connection();
                 std::vector<request> reqs{make("GET", "/no-such-path-" + random_hex(ctx, 6)),
                                           make("GET", "/agents"), make("GET", "/livez")};
                 for (auto& req : reqs) {
                     response r;
                     try {
                         r = conn.send(req);
                     } catch (const client::transport_exception& e) {
                         ctx.record(req, nullptr, "kept-alive connection");
                         ctx.fail(
                             std::string("the connection was closed after an error response: ") +
                                 e.what(),
                             "a response on the same connection", "transport error");
                     }
                     ctx.record(req, &r, "kept-alive connection");
                     if (r.header("Connection") &&
                         lower(*r.header("Connection")).find("close") != std::string::npos)
                         ctx.fail("the agent announced Connection: close after " +
                                      std::to_string(r.status),
                                  "the connection kept alive", *r.header("Connection"));
                 }
             }});
    reg.add({"HTTP-002.pipelining",
             {"HTTP-002"},
             layer::unit,
             "Three GETs written at once on one connection get their three responses in order",
             [](context& ctx) {
                 auto conn = ctx.open_connection();
                 // Each answer is told apart by its X-Request-ID (echoed, HTTP-025) and, for an
                 // agent that does not echo it, by its status and body.
                 const std::string tag = random_hex(ctx, 6);
                 std::vector<request> reqs{make("GET", "/no-such-path-" + tag),
                                           make("GET", "/.well-known/agent-service"),
                                           make("GET", "/livez")};
                 const int expected[] = {404, 200, 200};
                 std::string bytes;
                 for (std::size_t i = 0; i < reqs.size(); ++i) {
                     reqs[i].with("X-Request-ID", "ac-pipe-" + std::to_string(i + 1) + "-" + tag);
                     bytes += conn.serialize(reqs[i]);
                 }
                 conn.write_raw(bytes);
                 for (std::size_t i = 0; i < reqs.size(); ++i) {
                     response r;
                     try {
                         r = conn.read_response();
                     } catch (const client::transport_exception& e) {
                         ctx.record(reqs[i], nullptr, "pipelined");
                         ctx.fail("pipelined request " + std::to_string(i + 1) +
                                      " got no response: " + e.what(),
                                  "3 responses in order", std::to_string(i) + " responses");
                     }
                     ctx.record(reqs[i], &r, "pipelined");
                     const std::string n = std::to_string(i + 1);
                     if (const auto echoed = r.header("X-Request-ID")) {
                         for (std::size_t j = 0; j < reqs.size(); ++j)
                             if (j != i && *echoed == *reqs[j].header("X-Request-ID"))
                                 ctx.fail("pipelined response " + n + " answers request " +
                                              std::to_string(j + 1) + " (by its X-Request-ID)",
                                          "the answer to request " + n, describe(r));
                     }
                     const bool discovery = i == 1 && r.json() && r.json()->contains("protocol");
                     if (r.status != expected[i] || (i == 1 && !discovery))
                         ctx.fail("pipelined response " + n + " (to " + reqs[i].method + " " +
                                      reqs[i].target + ") answered " + std::to_string(r.status) +
                                      ", not what that request gets",
                                  std::to_string(expected[i]) +
                                      (i == 1 ? " with the discovery document" : ""),
                                  describe(r));
                 }
             }});
    reg.add(
        {"HTTP-002.pipelined-posts",
         {"HTTP-002"},
         layer::integration,
         "Two POST /agents written at once on one connection create both agents, answered in order",
         [](context& ctx) {
             agent_guard guard(ctx);
             auto conn = ctx.open_connection();
             auto b1 = base_body(ctx, "pipe");
             auto b2 = base_body(ctx, "pipe");
             auto r1 = authed(ctx, "operator", "POST", "/agents").json(b1);
             auto r2 = authed(ctx, "operator", "POST", "/agents").json(b2);
             conn.write_raw(conn.serialize(r1) + conn.serialize(r2));
             const json* bodies[] = {&b1, &b2};
             const request* reqs[] = {&r1, &r2};
             for (int i = 0; i < 2; ++i) {
                 response r;
                 try {
                     r = conn.read_response();
                 } catch (const client::transport_exception& e) {
                     ctx.record(*reqs[i], nullptr, "pipelined");
                     ctx.fail(std::string("pipelined POST got no response: ") + e.what(), "201",
                              "none");
                 }
                 ctx.record(*reqs[i], &r, "pipelined");
                 guard.adopt(r);
                 expect_created(ctx, r);
                 auto j = ctx.expect_json(r);
                 if (j.value("name", std::string()) != (*bodies[i])["name"].get<std::string>())
                     ctx.fail("pipelined responses are out of order", (*bodies[i])["name"].dump(),
                              j.value("name", std::string("?")));
             }
         }});
    reg.add({"HTTP-003.connection-close",
             {"HTTP-003"},
             layer::unit,
             "A request with Connection: close is answered, then the agent closes the connection",
             [](context& ctx) {
                 auto conn = ctx.open_connection();
                 auto req = make("GET", "/livez").with("Connection", "close");
                 auto r = conn.send(req);
                 ctx.record(req, &r);
                 ctx.expect_status(r, 200);
                 bool closed = conn.wait_closed(ctx.scaled(2000ms));
                 ctx.expect(closed,
                            "the agent kept the connection open after answering Connection: close",
                            "connection closed", "still open after 2 s");
             }});
    reg.add({"HTTP-004.connection-close-echoed",
             {"HTTP-004"},
             layer::unit,
             "The response to a Connection: close request carries Connection: close",
             [](context& ctx) {
                 auto conn = ctx.open_connection();
                 auto req = make("GET", "/livez").with("Connection", "close");
                 auto r = conn.send(req);
                 ctx.record(req, &r);
                 auto v = r.header("Connection");
                 ctx.expect(v && lower(*v).find("close") != std::string::npos,
                            "the response does not carry Connection: close", "Connection: close",
                            v.value_or("absent"));
             }});
    reg.add({"HTTP-033.chunked-request-body",
             {"HTTP-033"},
             layer::unit,
             "POST /agents with a chunked body (Transfer-Encoding: chunked) creates the agent",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 auto body = base_body(ctx, "chunked").dump();
                 auto req = authed(ctx, "operator", "POST", "/agents")
                                .with("Content-Type", "application/json")
                                .with("Transfer-Encoding", "chunked");
                 std::string half1 = body.substr(0, body.size() / 2),
                             half2 = body.substr(body.size() / 2);
                 auto hex = [](std::size_t n) {
                     char b[20];
                     std::snprintf(b, sizeof b, "%zx", n);
                     return std::string(b);
                 };
                 req.body = hex(half1.size()) + "\r\n" + half1 + "\r\n" + hex(half2.size()) +
                            "\r\n" + half2 + "\r\n0\r\n\r\n";
                 auto conn = ctx.open_connection();
                 response r;
                 try {
                     conn.write_raw(conn.serialize(req));
                     r = conn.read_response();
                 } catch (const client::transport_exception& e) {
                     ctx.record(req, nullptr);
                     ctx.fail(std::string("no response to a chunked request: ") + e.what(), "201",
                              "none");
                 }
                 ctx.record(req, &r, "chunked transfer coding");
                 guard.adopt(r);
                 expect_created(ctx, r);
             }});
    reg.add({"HTTP-034.missing-host-400",
             {"HTTP-034"},
             layer::unit,
             "An HTTP/1.1 request without a Host header is 400",
             [](context& ctx) {
                 auto conn = ctx.open_connection();
                 request shown = make("GET", "/livez");
                 const std::string bytes = "GET " + ctx.target().path_prefix +
                                           "/livez HTTP/1.1\r\nUser-Agent: agentcheck\r\n\r\n";
                 response r;
                 try {
                     conn.write_raw(bytes);
                     r = conn.read_response();
                 } catch (const client::transport_exception& e) {
                     ctx.record_raw(shown, bytes, nullptr, "raw request without Host");
                     ctx.fail(std::string("no response to a request without Host: ") + e.what(),
                              "400", "none");
                 }
                 ctx.record_raw(shown, bytes, &r, "raw request without Host");
                 ctx.expect_status(r, 400);
             }});
}

void add_json_checks(check_registry& reg) {
    reg.add(
        {"HTTP-005.json-responses",
         {"HTTP-005"},
         layer::unit,
         "Discovery, health, an agent and a list are application/json bodies that parse",
         [](context& ctx) {
             auto agent = ctx.create_agent();
             std::vector<request> reqs{
                 make("GET", "/.well-known/agent-service"), make("GET", "/health"),
                 authed(ctx, "viewer", "GET", "/agents?limit=2"),
                 authed(ctx, "viewer", "GET", "/agents/" + id_of(ctx, agent)),
                 authed(ctx, "viewer", "GET", "/agents/" + id_of(ctx, agent) + "/capabilities")};
             for (auto& q : reqs) {
                 auto r = ctx.send(q);
                 if (r.status != 200 && !(q.target == "/health" && r.status == 503))
                     ctx.fail(q.method + " " + q.target + " did not succeed", "200", describe(r));
                 if (r.media_type() != "application/json")
                     ctx.fail(q.target + " is not application/json", "application/json",
                              r.header("Content-Type").value_or("no Content-Type"));
                 if (!r.json()) ctx.fail(q.target + " body is not JSON", "JSON", describe(r));
             }
         }});

    struct bad_json {
        const char* slug;
        const char* title;
        std::string body;
    };
    const std::vector<bad_json> bad = {
        {"truncated-object", "an unterminated object", "{\"name\": \"x\""},
        {"missing-value", "a member without a value", "{\"name\":}"},
        {"single-quotes", "single-quoted strings", "{'name': 'x'}"},
        {"trailing-comma", "a trailing comma", "{\"name\": \"x\",}"},
        {"bare-word", "a bare word", "nul"},
        {"trailing-garbage", "an object followed by garbage", "{\"name\": \"x\"} x"},
        {"empty-body", "an empty body", ""},
        {"unescaped-control", "a raw control character in a string",
         std::string("{\"name\": \"a\x01") + "b\"}"},
    };
    for (const auto& b : bad) {
        reg.add({std::string("HTTP-006.") + b.slug,
                 {"HTTP-006"},
                 layer::unit,
                 std::string("POST /agents with ") + b.title + " (application/json) is 400",
                 [b](context& ctx) {
                     agent_guard guard(ctx);
                     auto r = ctx.send(raw_post(ctx, b.body, "application/json"));
                     guard.adopt(r);
                     expect_refused(ctx, r, 400, std::string("a body with ") + b.title);
                 }});
    }
    reg.add({"HTTP-006.put-bad-json",
             {"HTTP-006"},
             layer::unit,
             "PUT /agents/{id} (own agent, right If-Match) with malformed JSON is 400",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto req = authed(ctx, "operator", "PUT", "/agents/" + id_of(ctx, a))
                                .with("Content-Type", "application/json")
                                .with("If-Match", quoted(a.value("revision", 1)));
                 req.body = "{\"name\": ";
                 expect_refused(ctx, ctx.send(req), 400, "PUT with malformed JSON");
             }});
    reg.add({"HTTP-006.status-bad-json",
             {"HTTP-006"},
             layer::unit,
             "PUT /agents/{id}/status (own agent) with malformed JSON is 400",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto req = authed(ctx, "operator", "PUT", "/agents/" + id_of(ctx, a) + "/status")
                                .with("Content-Type", "application/json");
                 req.body = "{\"status\" \"active\"}";
                 expect_refused(ctx, ctx.send(req), 400, "PUT status with malformed JSON");
             }});

    struct bad_utf8 {
        const char* slug;
        const char* title;
        std::string bytes;
    };
    const std::vector<bad_utf8> utf8 = {
        {"truncated-sequence", "C3 28 (a lead byte followed by ASCII)", "\xC3\x28"},
        {"lone-continuation", "a lone continuation byte 80", "\x80"},
        {"overlong", "the overlong encoding C0 AF", "\xC0\xAF"},
        {"surrogate", "an encoded surrogate ED A0 80", "\xED\xA0\x80"},
        {"invalid-byte", "the byte FF", "\xFF"},
        {"beyond-unicode", "F4 90 80 80 (above U+10FFFF)", "\xF4\x90\x80\x80"},
    };
    for (const auto& u : utf8) {
        reg.add({std::string("HTTP-007.") + u.slug,
                 {"HTTP-007"},
                 layer::unit,
                 std::string("POST /agents whose metadata value holds ") + u.title + " is 400",
                 [u](context& ctx) {
                     agent_guard guard(ctx);
                     auto body = base_body(ctx, "utf8").dump();
                     const std::string marker = "\"agentcheck\"";
                     auto at = body.find(marker);
                     body.replace(at, marker.size(), "\"agent" + u.bytes + "check\"");
                     auto r = ctx.send(raw_post(ctx, body, "application/json"));
                     guard.adopt(r);
                     expect_refused(ctx, r, 400,
                                    std::string("a body with invalid UTF-8 (") + u.title + ")");
                 }});
    }
    reg.add({"HTTP-007.invalid-utf8-in-name",
             {"HTTP-007"},
             layer::unit,
             "POST /agents whose name holds invalid UTF-8 is 400 (not 422)",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 auto body = base_body(ctx, "utf8");
                 std::string name = body["name"].get<std::string>();
                 auto text = body.dump();
                 text.replace(text.find(name), name.size(), name + "\xC3\x28");
                 auto r = ctx.send(raw_post(ctx, text, "application/json"));
                 guard.adopt(r);
                 expect_refused(ctx, r, 400, "a name with invalid UTF-8");
             }});

    struct bad_type {
        const char* slug;
        std::string ct;
    };
    for (const auto& t :
         std::vector<bad_type>{{"text-plain", "text/plain"},
                               {"form-urlencoded", "application/x-www-form-urlencoded"},
                               {"xml", "application/xml"},
                               {"json-lookalike", "application/jsonx"}}) {
        reg.add({"HTTP-008.post-" + std::string(t.slug),
                 {"HTTP-008"},
                 layer::unit,
                 "POST /agents with a valid JSON body sent as " + t.ct + " is 415",
                 [t](context& ctx) {
                     agent_guard guard(ctx);
                     auto r = ctx.send(raw_post(ctx, base_body(ctx, "ct").dump(), t.ct));
                     guard.adopt(r);
                     expect_refused(ctx, r, 415, "a JSON body sent as " + t.ct);
                 }});
    }
    reg.add({"HTTP-008.put-text-plain",
             {"HTTP-008"},
             layer::unit,
             "PUT /agents/{id} (own agent, right If-Match) sent as text/plain is 415",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto req = authed(ctx, "operator", "PUT", "/agents/" + id_of(ctx, a))
                                .with("Content-Type", "text/plain")
                                .with("If-Match", quoted(a.value("revision", 1)));
                 req.body = mutable_fields(a).dump();
                 expect_refused(ctx, ctx.send(req), 415, "PUT as text/plain");
             }});
    reg.add({"HTTP-008.status-text-plain",
             {"HTTP-008"},
             layer::unit,
             "PUT /agents/{id}/status (own agent) sent as text/plain is 415",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto req = authed(ctx, "operator", "PUT", "/agents/" + id_of(ctx, a) + "/status")
                                .with("Content-Type", "text/plain");
                 req.body = R"({"status": "active"})";
                 expect_refused(ctx, ctx.send(req), 415, "PUT status as text/plain");
             }});
    reg.add({"HTTP-009.post-no-content-type",
             {"HTTP-009"},
             layer::unit,
             "POST /agents with a valid JSON body and no Content-Type is 415",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 auto r = ctx.send(raw_post(ctx, base_body(ctx, "noct").dump(), ""));
                 guard.adopt(r);
                 expect_refused(ctx, r, 415, "a body without Content-Type");
             }});
    reg.add({"HTTP-009.status-no-content-type",
             {"HTTP-009"},
             layer::unit,
             "PUT /agents/{id}/status with a JSON body and no Content-Type is 415",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto req = authed(ctx, "operator", "PUT", "/agents/" + id_of(ctx, a) + "/status");
                 req.body = R"({"status": "active"})";
                 expect_refused(ctx, ctx.send(req), 415, "PUT status without Content-Type");
             }});
    for (const auto& ct : std::vector<std::pair<std::string, std::string>>{
             {"charset-param", "application/json; charset=utf-8"},
             {"mixed-case", "Application/JSON"}}) {
        reg.add({"HTTP-010." + ct.first,
                 {"HTTP-010"},
                 layer::unit,
                 "POST /agents with Content-Type: " + ct.second + " is accepted (201)",
                 [ct](context& ctx) {
                     agent_guard guard(ctx);
                     auto r = ctx.send(raw_post(ctx, base_body(ctx, "ct").dump(), ct.second));
                     guard.adopt(r);
                     expect_accepted(ctx, r, "Content-Type: " + ct.second);
                 }});
    }

    struct schema_case {
        const char* slug;
        const char* title;
        std::string body; // raw JSON text; "$NAME" replaced by a unique name
    };
    const std::vector<schema_case> schema = {
        {"array-body", "a JSON array", "[]"},
        {"string-body", "a JSON string", "\"agent\""},
        {"null-body", "JSON null", "null"},
        {"number-body", "a JSON number", "42"},
        {"capabilities-object", "capabilities as an object",
         R"({"name": "$NAME", "version": "1.0.0", "capabilities": {}, "metadata": {}})"},
        {"capability-string", "a capability that is a string",
         R"({"name": "$NAME", "version": "1.0.0", "capabilities": ["echo"], "metadata": {}})"},
        {"metadata-array", "metadata as an array",
         R"({"name": "$NAME", "version": "1.0.0", "capabilities": [], "metadata": []})"},
        {"endpoint-number", "a numeric endpoint",
         R"({"name": "$NAME", "version": "1.0.0", "capabilities": [], "endpoint": 80, "metadata": {}})"},
        {"description-number", "a numeric capability description",
         R"({"name": "$NAME", "version": "1.0.0", "capabilities": [{"name": "echo", "description": 7}], "metadata": {}})"},
    };
    for (const auto& s : schema) {
        reg.add({std::string("HTTP-011.") + s.slug,
                 {"HTTP-011"},
                 layer::unit,
                 std::string("POST /agents with ") + s.title + " is 422",
                 [s](context& ctx) {
                     agent_guard guard(ctx);
                     std::string text = s.body;
                     if (auto at = text.find("$NAME"); at != std::string::npos)
                         text.replace(at, 5, ctx.unique_name("schema"));
                     auto r = ctx.send(raw_post(ctx, text, "application/json"));
                     guard.adopt(r);
                     expect_refused(ctx, r, 422, std::string("a well-formed body with ") + s.title);
                 }});
    }
}

void add_problem_checks(check_registry& reg) {
    using maker = std::function<response(context&)>;
    struct problem_case {
        int status;
        const char* what;
        maker make_response;
    };
    const std::vector<problem_case> cases = {
        {400, "malformed JSON",
         [](context& ctx) { return ctx.send(raw_post(ctx, "{", "application/json")); }},
        {401, "no token", [](context& ctx) { return ctx.send(make("GET", "/agents")); }},
        {403, "viewer creating an agent",
         [](context& ctx) {
             return ctx.send(authed(ctx, "viewer", "POST", "/agents").json(base_body(ctx)));
         }},
        {404, "an unknown path",
         [](context& ctx) {
             return ctx.send(authed(ctx, "admin", "GET", "/no-such-path-" + random_hex(ctx, 6)));
         }},
        {404, "an unknown agent",
         [](context& ctx) {
             return ctx.send(authed(ctx, "admin", "GET", "/agents/" + random_uuid(ctx)));
         }},
        {405, "a wrong method",
         [](context& ctx) { return ctx.send(authed(ctx, "admin", "DELETE", "/agents")); }},
        {409, "a duplicate name",
         [](context& ctx) {
             auto a = ctx.create_agent();
             auto body = base_body(ctx);
             body["name"] = a["name"];
             agent_guard guard(ctx);
             return post_agent(ctx, guard, body);
         }},
        {412, "a stale If-Match",
         [](context& ctx) {
             auto a = ctx.create_agent();
             return put_agent(ctx, id_of(ctx, a), mutable_fields(a), std::string("\"999999\""));
         }},
        {415, "a text/plain body",
         [](context& ctx) {
             agent_guard guard(ctx);
             auto r = ctx.send(raw_post(ctx, base_body(ctx).dump(), "text/plain"));
             guard.adopt(r);
             return r;
         }},
        {422, "a schema violation",
         [](context& ctx) {
             agent_guard guard(ctx);
             return post_agent(ctx, guard, json{{"name", "Not A Name"}, {"version", "1.0.0"}});
         }},
        {428, "a PUT without If-Match",
         [](context& ctx) {
             auto a = ctx.create_agent();
             return put_agent(ctx, id_of(ctx, a), mutable_fields(a), std::nullopt);
         }},
    };
    std::map<int, int> seen;
    for (const auto& c : cases) {
        std::string slug = "problem-" + std::to_string(c.status);
        if (seen[c.status]++ > 0) slug += "-" + std::to_string(seen[c.status]);
        reg.add({"HTTP-012." + slug,
                 {"HTTP-012", "HTTP-013"},
                 layer::unit,
                 "The " + std::to_string(c.status) + " for " + c.what +
                     " is an application/problem+json with "
                     "type/title/status/detail/instance/request_id",
                 [c](context& ctx) {
                     auto r = c.make_response(ctx);
                     expect_refused(ctx, r, c.status, c.what);
                     auto p = ctx.expect_json(r);
                     if (!p["type"].is_string() || p["type"].get<std::string>().empty())
                         ctx.fail("problem type is not a URI reference", "a non-empty URI",
                                  p["type"].dump());
                 }});
    }
    reg.add({"HTTP-012.problem-413",
             {"HTTP-012", "HTTP-013"},
             layer::unit,
             "The 413 for a body over max_body_bytes is an application/problem+json",
             [](context& ctx) {
                 const long long max = ctx.limit("max_body_bytes", 1 << 20);
                 if (max > (16LL << 20)) ctx.skip("max_body_bytes is over 16 MiB");
                 agent_guard guard(ctx);
                 auto req = raw_post(ctx, std::string(static_cast<std::size_t>(max) + 1, ' '),
                                     "application/json");
                 auto r = send_large(ctx, req);
                 if (!r)
                     ctx.fail("no response to an oversized body", "413 problem",
                              "connection closed");
                 guard.adopt(*r);
                 expect_refused(ctx, *r, 413, "a body over max_body_bytes");
             }});
    reg.add({"HTTP-012.problem-431",
             {"HTTP-012", "HTTP-013"},
             layer::unit,
             "The 431 for a head over max_header_bytes is an application/problem+json",
             [](context& ctx) {
                 const long long max = ctx.limit("max_header_bytes", 16 << 10);
                 if (max > (1LL << 20)) ctx.skip("max_header_bytes is over 1 MiB");
                 auto req = make("GET", "/livez")
                                .with("X-Padding", std::string(static_cast<std::size_t>(max), 'a'));
                 auto r = send_large(ctx, req);
                 if (!r)
                     ctx.fail("no response to an oversized head", "431 problem",
                              "connection closed");
                 expect_refused(ctx, *r, 431, "a head over max_header_bytes");
             }});
    reg.add(
        {"HTTP-013.request-id-in-problem",
         {"HTTP-013"},
         layer::unit,
         "A problem's request_id equals the X-Request-ID the client sent (and the response echoes)",
         [](context& ctx) {
             std::string rid = "ac-problem-" + random_hex(ctx, 12);
             auto r = ctx.send(authed(ctx, "viewer", "GET", "/agents/" + random_uuid(ctx))
                                   .with("X-Request-ID", rid));
             auto p = expect_refused(ctx, r, 404, "an unknown agent");
             ctx.expect(p.value("request_id", std::string()) == rid,
                        "problem request_id is not the request's id", rid,
                        p.value("request_id", std::string("absent")));
         }});
    reg.add({"HTTP-014.errors-shape",
             {"HTTP-014"},
             layer::unit,
             "errors[] in 422 problems is an array of {pointer (JSON Pointer), detail} objects",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 std::vector<json> bodies{json{{"name", "Bad Name"},
                                               {"version", "1.0.0"},
                                               {"capabilities", json::array()},
                                               {"metadata", json::object()}},
                                          json{{"name", ctx.unique_name()},
                                               {"version", "x"},
                                               {"capabilities", json::array()},
                                               {"metadata", json::object()},
                                               {"colour", "red"}}};
                 bool any = false;
                 for (auto& b : bodies) {
                     auto r = post_agent(ctx, guard, b);
                     auto p = expect_refused(ctx, r, 422, "an invalid body");
                     if (!p.contains("errors")) continue;
                     any = true;
                     if (!p["errors"].is_array())
                         ctx.fail("errors is not an array", "array", p["errors"].dump());
                     for (auto& e : p["errors"]) {
                         if (!e.is_object() || !e.contains("pointer") ||
                             !e["pointer"].is_string() || !e.contains("detail") ||
                             !e["detail"].is_string())
                             ctx.fail("an errors[] item is not {pointer, detail}",
                                      "{\"pointer\": string, \"detail\": string}", e.dump());
                         auto ptr = e["pointer"].get<std::string>();
                         if (!ptr.empty() && ptr[0] != '/')
                             ctx.fail("errors[].pointer is not a JSON Pointer (RFC 6901)",
                                      "\"\" or \"/...\"", ptr);
                     }
                 }
                 if (!any) ctx.skip("no 422 problem carried errors[] (the member is optional)");
             }});

    struct pointer_case {
        const char* slug;
        const char* title;
        std::function<json(context&)> body;
        std::vector<std::string> accepted;
    };
    const std::vector<pointer_case> ptrs = {
        {"name",
         "a bad name",
         [](context& ctx) {
             auto b = base_body(ctx);
             b["name"] = "Bad Name";
             return b;
         },
         {"/name"}},
        {"version",
         "a bad version",
         [](context& ctx) {
             auto b = base_body(ctx);
             b["version"] = "1.0";
             return b;
         },
         {"/version"}},
        {"capability-name",
         "a bad second capability name",
         [](context& ctx) {
             auto b = base_body(ctx);
             b["capabilities"].push_back(json{{"name", "Bad"}});
             return b;
         },
         {"/capabilities/1/name", "/capabilities/1"}},
        {"metadata-value",
         "a non-string metadata value",
         [](context& ctx) {
             auto b = base_body(ctx);
             b["metadata"]["count"] = 3;
             return b;
         },
         {"/metadata/count"}},
        {"unknown-field",
         "an unknown field",
         [](context& ctx) {
             auto b = base_body(ctx);
             b["colour"] = "red";
             return b;
         },
         {"/colour"}},
        {"read-only-field",
         "a read-only field",
         [](context& ctx) {
             auto b = base_body(ctx);
             b["owner"] = "someone";
             return b;
         },
         {"/owner"}},
    };
    for (const auto& pc : ptrs) {
        reg.add({std::string("HTTP-015.pointer-") + pc.slug,
                 {"HTTP-015"},
                 layer::unit,
                 std::string("The 422 for ") + pc.title + " has an errors[] pointer naming it",
                 [pc](context& ctx) {
                     agent_guard guard(ctx);
                     auto r = post_agent(ctx, guard, pc.body(ctx));
                     auto p = expect_refused(ctx, r, 422, pc.title);
                     if (!p.contains("errors") || !p["errors"].is_array())
                         ctx.fail("the 422 problem has no errors[]", "errors[] with a pointer",
                                  r.body);
                     std::string got;
                     for (auto& e : p["errors"]) {
                         auto ptr = e.value("pointer", std::string());
                         got += ptr + " ";
                         for (auto& a : pc.accepted)
                             if (ptr == a) return;
                     }
                     ctx.fail("no errors[] pointer names the bad field", pc.accepted.front(), got);
                 }});
    }
}

void add_routing_checks(check_registry& reg) {
    for (const auto& p :
         std::vector<std::pair<std::string, std::string>>{{"top-level", "/no-such-path"},
                                                          {"under-agent", "/agents/$ID/no-such"},
                                                          {"well-known", "/.well-known/no-such"},
                                                          {"prefix", "/agentsx"}}) {
        reg.add({"HTTP-016.unknown-path-" + p.first,
                 {"HTTP-016"},
                 layer::unit,
                 "GET " + p.second + " (admin token) is a 404 problem",
                 [p](context& ctx) {
                     std::string path = p.second;
                     if (auto at = path.find("$ID"); at != std::string::npos)
                         path.replace(at, 3, random_uuid(ctx));
                     expect_refused(ctx, ctx.send(authed(ctx, "admin", "GET", path)), 404,
                                    "GET " + path);
                 }});
    }
    struct wrong_method {
        const char* slug;
        std::string method;
        std::string path;               // $ID: a random uuid
        std::vector<std::string> allow; // must be listed
    };
    const std::vector<wrong_method> cases = {
        {"agents-delete", "DELETE", "/agents", {"GET", "POST"}},
        {"agents-put", "PUT", "/agents", {"GET", "POST"}},
        {"agent-post", "POST", "/agents/$ID", {"GET", "PUT", "DELETE"}},
        {"agent-patch", "PATCH", "/agents/$ID", {"GET", "PUT", "DELETE"}},
        {"capabilities-post", "POST", "/agents/$ID/capabilities", {"GET"}},
        {"capabilities-delete", "DELETE", "/agents/$ID/capabilities", {"GET"}},
        {"status-post", "POST", "/agents/$ID/status", {"PUT"}},
        {"status-delete", "DELETE", "/agents/$ID/status", {"PUT"}},
        {"discovery-post", "POST", "/.well-known/agent-service", {"GET"}},
        {"health-post", "POST", "/health", {"GET"}},
        {"livez-delete", "DELETE", "/livez", {"GET"}},
        {"readyz-put", "PUT", "/readyz", {"GET"}},
    };
    for (const auto& w : cases) {
        std::string allow_text;
        for (auto& m : w.allow)
            allow_text += (allow_text.empty() ? "" : ", ") + m;
        reg.add({std::string("HTTP-017.") + w.slug,
                 {"HTTP-017", "HTTP-018"},
                 layer::unit,
                 w.method + " " + w.path + " (admin token) is a 405 problem with Allow listing " +
                     allow_text,
                 [w](context& ctx) {
                     std::string path = w.path;
                     if (auto at = path.find("$ID"); at != std::string::npos)
                         path.replace(at, 3, random_uuid(ctx));
                     auto req = authed(ctx, "admin", w.method, path);
                     if (w.method == "POST" || w.method == "PUT" || w.method == "PATCH")
                         req.json(json::object());
                     auto r = ctx.send(req);
                     expect_refused(ctx, r, 405, w.method + " " + w.path);
                     auto allow = r.header("Allow");
                     if (!allow) ctx.fail("the 405 has no Allow header", "Allow: ...", "absent");
                     auto set = allow_set(*allow);
                     for (auto& m : w.allow)
                         if (!set.count(m))
                             ctx.fail("Allow does not list " + m, "Allow listing " + m, *allow);
                     if (set.count(w.method))
                         ctx.fail("Allow lists the refused method " + w.method,
                                  "Allow without " + w.method, *allow);
                 }});
    }
}

void add_limit_checks(check_registry& reg) {
    reg.add({"HTTP-019.body-over-limit",
             {"HTTP-019"},
             layer::unit,
             "POST /agents with a valid body padded to max_body_bytes + 1 is 413",
             [](context& ctx) {
                 const long long max = ctx.limit("max_body_bytes", 1 << 20);
                 if (max > (16LL << 20)) ctx.skip("max_body_bytes is over 16 MiB");
                 agent_guard guard(ctx);
                 auto body = base_body(ctx, "big").dump();
                 if (static_cast<long long>(body.size()) <= max)
                     body.append(static_cast<std::size_t>(max) + 1 - body.size(), ' ');
                 auto r = send_large(ctx, raw_post(ctx, body, "application/json"));
                 if (!r)
                     ctx.fail("no response to a body over the limit", "413", "connection closed");
                 guard.adopt(*r);
                 expect_refused(ctx, *r, 413, "a body of max_body_bytes + 1");
             }});
    reg.add({"HTTP-019.chunked-body-over-limit",
             {"HTTP-019", "HTTP-033"},
             layer::unit,
             "POST /agents with a chunked body totalling max_body_bytes + 1 is 413",
             [](context& ctx) {
                 const long long max = ctx.limit("max_body_bytes", 1 << 20);
                 if (max > (16LL << 20)) ctx.skip("max_body_bytes is over 16 MiB");
                 agent_guard guard(ctx);
                 auto body = base_body(ctx, "big").dump();
                 body.append(static_cast<std::size_t>(max) + 1 - body.size(), ' ');
                 std::string chunked;
                 constexpr std::size_t piece = 32 * 1024;
                 for (std::size_t off = 0; off < body.size(); off += piece) {
                     auto part = body.substr(off, piece);
                     char b[20];
                     std::snprintf(b, sizeof b, "%zx\r\n", part.size());
                     chunked += b + part + "\r\n";
                 }
                 chunked += "0\r\n\r\n";
                 auto req = authed(ctx, "operator", "POST", "/agents")
                                .with("Content-Type", "application/json")
                                .with("Transfer-Encoding", "chunked");
                 auto conn = ctx.open_connection();
                 conn.set_timeout(ctx.scaled(15000ms));
                 std::optional<response> r;
                 try {
                     conn.write_raw(conn.serialize(req));
                     try {
                         for (std::size_t off = 0; off < chunked.size(); off += piece)
                             conn.write_raw(std::string_view(chunked).substr(off, piece));
                     } catch (const client::transport_exception&) {
                     }
                     r = conn.read_response();
                 } catch (const client::transport_exception& e) {
                     ctx.note(std::string("transport: ") + e.what());
                 }
                 auto shown = req;
                 shown.body = "(chunked, " + std::to_string(body.size()) + " bytes)";
                 ctx.record_raw(shown, conn.serialize(req) + chunked, r ? &*r : nullptr,
                                "chunked body over the limit");
                 if (!r)
                     ctx.fail("no response to a chunked body over the limit", "413",
                              "connection closed");
                 guard.adopt(*r);
                 expect_refused(ctx, *r, 413, "a chunked body of max_body_bytes + 1");
             }});
    reg.add({"HTTP-020.body-at-limit",
             {"HTTP-020"},
             layer::unit,
             "POST /agents with a valid body padded with JSON whitespace to exactly max_body_bytes "
             "is 201",
             [](context& ctx) {
                 const long long max = ctx.limit("max_body_bytes", 1 << 20);
                 if (max > (16LL << 20)) ctx.skip("max_body_bytes is over 16 MiB");
                 agent_guard guard(ctx);
                 auto body = base_body(ctx, "atlimit").dump();
                 if (static_cast<long long>(body.size()) > max)
                     ctx.skip("max_body_bytes is smaller than an agent body");
                 body.append(static_cast<std::size_t>(max) - body.size(), ' ');
                 auto r = send_large(ctx, raw_post(ctx, body, "application/json"));
                 if (!r) ctx.fail("no response to a body at the limit", "201", "connection closed");
                 guard.adopt(*r);
                 expect_accepted(ctx, *r, "a valid body of exactly max_body_bytes");
             }});
    reg.add({"HTTP-021.head-over-limit",
             {"HTTP-021"},
             layer::unit,
             "A GET whose head carries a header of max_header_bytes bytes is 431",
             [](context& ctx) {
                 const long long max = ctx.limit("max_header_bytes", 16 << 10);
                 if (max > (1LL << 20)) ctx.skip("max_header_bytes is over 1 MiB");
                 auto req = authed(ctx, "viewer", "GET", "/agents?limit=1")
                                .with("X-Padding", std::string(static_cast<std::size_t>(max), 'a'));
                 auto r = send_large(ctx, req);
                 if (!r)
                     ctx.fail("no response to a head over the limit", "431", "connection closed");
                 expect_refused(ctx, *r, 431, "a head over max_header_bytes");
             }});
    reg.add({"HTTP-021.many-headers-over-limit",
             {"HTTP-021"},
             layer::unit,
             "A GET whose head holds many small headers totalling over max_header_bytes is 431",
             [](context& ctx) {
                 const long long max = ctx.limit("max_header_bytes", 16 << 10);
                 if (max > (1LL << 20)) ctx.skip("max_header_bytes is over 1 MiB");
                 auto req = make("GET", "/livez");
                 for (long long n = 0; n * 40 <= max + 40; ++n)
                     req.with("X-Pad-" + std::to_string(n), std::string(28, 'b'));
                 auto r = send_large(ctx, req);
                 if (!r)
                     ctx.fail("no response to a head over the limit", "431", "connection closed");
                 expect_refused(ctx, *r, 431, "many headers over max_header_bytes");
             }});
    reg.add(
        {"HTTP-022.partial-head",
         {"HTTP-022"},
         layer::unit,
         "A head left incomplete gets 408 or the connection closed within header_timeout_ms x 1.5",
         [](context& ctx) {
             const long long t = ctx.limit("header_timeout_ms", 10000);
             if (t > 15000)
                 ctx.skip("header_timeout_ms is over 15 s (" + std::to_string(t) + " ms)");
             auto conn = ctx.open_connection();
             std::string partial = "GET " + ctx.target().path_prefix +
                                   "/livez HTTP/1.1\r\nHost: " + host_header(ctx) +
                                   "\r\nX-Slow: 1\r\n";
             conn.write_raw(partial);
             std::string got;
             auto wait = ctx.scaled(std::chrono::milliseconds(t * 3 / 2 + 500));
             bool closed = conn.wait_closed(wait, &got);
             auto shown = make("GET", "/livez").with("X-Slow", "1");
             auto r = parse_raw_response(got, closed);
             ctx.record_raw(shown, partial, r ? &*r : nullptr, "head never completed",
                            std::chrono::duration_cast<std::chrono::seconds>(wait) +
                                std::chrono::seconds(1));
             if (r && r->status == 408) return;
             if (closed) return;
             ctx.fail("the agent neither answered 408 nor closed the connection",
                      "408 or close within " + std::to_string(wait.count()) + " ms",
                      r ? describe(*r) : "connection still open");
         }});
    reg.add({"HTTP-022.slow-head",
             {"HTTP-022"},
             layer::unit,
             "A head trickled one header a second gets 408 or the connection closed within "
             "header_timeout_ms x 1.5",
             [](context& ctx) {
                 const long long t = ctx.limit("header_timeout_ms", 10000);
                 if (t > 15000)
                     ctx.skip("header_timeout_ms is over 15 s (" + std::to_string(t) + " ms)");
                 auto conn = ctx.open_connection();
                 const auto start = std::chrono::steady_clock::now();
                 const auto deadline =
                     start + ctx.scaled(std::chrono::milliseconds(t * 3 / 2 + 500));
                 auto shown = make("GET", "/livez").with("X-Slow", "...");
                 std::string got;
                 std::string sent = "GET " + ctx.target().path_prefix +
                                    "/livez HTTP/1.1\r\nHost: " + host_header(ctx) + "\r\n";
                 bool closed = false;
                 try {
                     conn.write_raw(sent);
                     int n = 0;
                     while (std::chrono::steady_clock::now() < deadline) {
                         std::string more;
                         closed = conn.wait_closed(std::chrono::milliseconds(std::max<long long>(
                                                       100, std::min<long long>(1000, t / 4))),
                                                   &more);
                         got += more;
                         if (closed || !got.empty()) break;
                         const std::string line = "X-Slow-" + std::to_string(n++) + ": 1\r\n";
                         conn.write_raw(line);
                         sent += line;
                     }
                 } catch (const client::transport_exception&) {
                     closed = true;
                 }
                 auto r = parse_raw_response(got, closed);
                 ctx.record_raw(shown, sent, r ? &*r : nullptr,
                                "head trickled, never completed (the reproduction sends the same "
                                "bytes at once, then waits)",
                                std::chrono::duration_cast<std::chrono::seconds>(deadline - start) +
                                    std::chrono::seconds(1));
                 if (r && r->status == 408) return;
                 if (closed) return;
                 ctx.fail("the agent kept reading a trickled head past header_timeout_ms",
                          "408 or close within header_timeout_ms x 1.5",
                          r ? describe(*r) : "connection still open");
             }});
}

void add_value_checks(check_registry& reg) {
    reg.add({"HTTP-023.agent-times",
             {"HTTP-023"},
             layer::unit,
             "created_at and updated_at of a created and of an updated agent are RFC 3339 UTC with "
             "milliseconds",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto check = [&](const json& j, const char* when) {
                     for (const char* f : {"created_at", "updated_at"}) {
                         if (!j.contains(f) || !j[f].is_string())
                             ctx.fail(std::string(f) + " missing " + when, "a string", j.dump());
                         auto v = j[f].get<std::string>();
                         if (!is_rfc3339_ms_utc(v))
                             ctx.fail(std::string(f) + " " + when +
                                          " is not RFC 3339 UTC with milliseconds",
                                      "YYYY-MM-DDThh:mm:ss.mmmZ", v);
                     }
                 };
                 check(a, "after create");
                 auto r = put_agent(ctx, id_of(ctx, a), mutable_fields(a),
                                    quoted(a.value("revision", 1)));
                 ctx.expect_status(r, 200);
                 check(ctx.expect_json(r), "after PUT");
             }});
    reg.add({"HTTP-024.agent-id-uuid",
             {"HTTP-024"},
             layer::unit,
             "The id of a created agent is a lowercase UUID",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto id = id_of(ctx, a);
                 ctx.expect(is_lower_uuid(id), "the agent id is not a lowercase UUID",
                            "8-4-4-4-12 lowercase hex", id);
             }});

    struct rid_case {
        const char* slug;
        const char* title;
        std::function<std::string(context&)> value;
    };
    const std::vector<rid_case> valid = {
        {"simple", "a simple id", [](context& ctx) { return "ac-" + random_hex(ctx, 16); }},
        {"all-characters", "an id using every allowed character class",
         [](context& ctx) { return "AZaz09._-" + random_hex(ctx, 8); }},
        {"one-character", "a one-character id", [](context&) { return std::string("Z"); }},
        {"128-characters", "an id of exactly 128 characters",
         [](context& ctx) { return random_hex(ctx, 16) + std::string(112, 'R'); }},
    };
    for (const auto& v : valid) {
        reg.add({std::string("HTTP-025.echo-") + v.slug,
                 {"HTTP-025"},
                 layer::unit,
                 std::string("X-Request-ID with ") + v.title + " is echoed on a 200 and on a 404",
                 [v](context& ctx) {
                     auto id = v.value(ctx);
                     for (auto& req :
                          {make("GET", "/livez"),
                           authed(ctx, "viewer", "GET", "/agents/" + random_uuid(ctx))}) {
                         auto q = req;
                         q.with("X-Request-ID", id);
                         auto r = ctx.send(q);
                         auto got = r.header("X-Request-ID");
                         if (got != id)
                             ctx.fail("X-Request-ID not echoed on " + q.target, id,
                                      got.value_or("absent"));
                     }
                 }});
    }
    const std::vector<rid_case> invalid = {
        {"129-characters", "129 characters",
         [](context& ctx) { return random_hex(ctx, 16) + std::string(113, 'R'); }},
        {"space", "a space", [](context& ctx) { return "ac " + random_hex(ctx, 8); }},
        {"markup", "markup (<script>)",
         [](context&) { return std::string("<script>alert(1)</script>"); }},
        {"non-ascii", "non-ASCII bytes",
         [](context&) { return std::string("id-\xC3\xA9t\xC3\xA9"); }},
        {"slash", "a slash", [](context& ctx) { return "a/" + random_hex(ctx, 8); }},
        {"quote", "a double quote", [](context& ctx) { return "a\"" + random_hex(ctx, 8); }},
    };
    for (const auto& v : invalid) {
        reg.add({std::string("HTTP-026.replace-") + v.slug,
                 {"HTTP-026", "HTTP-028"},
                 layer::unit,
                 std::string("X-Request-ID with ") + v.title +
                     " is not reflected: a new id is generated",
                 [v](context& ctx) {
                     auto bad = v.value(ctx);
                     for (auto& req :
                          {make("GET", "/livez"),
                           authed(ctx, "viewer", "GET", "/agents/" + random_uuid(ctx))}) {
                         auto q = req;
                         q.with("X-Request-ID", bad);
                         auto r = ctx.send(q);
                         auto got = r.header("X-Request-ID");
                         if (!got || got->empty())
                             ctx.fail("no X-Request-ID generated for an invalid one on " + q.target,
                                      "a new id", "absent");
                         if (*got == bad || bad.find(*got) != std::string::npos ||
                             got->find(bad) != std::string::npos)
                             ctx.fail("the invalid X-Request-ID was reflected on " + q.target,
                                      "a new id", *got);
                         if (r.status == 404) {
                             auto p = ctx.expect_problem(r, 404);
                             auto pid = p.value("request_id", std::string());
                             if (pid.find("<") != std::string::npos || pid == bad)
                                 ctx.fail("the invalid X-Request-ID was reflected in the problem",
                                          "a new id", pid);
                         }
                     }
                 }});
    }
    reg.add({"HTTP-027.generated",
             {"HTTP-027", "HTTP-028"},
             layer::unit,
             "Requests without X-Request-ID each get a fresh, distinct one",
             [](context& ctx) {
                 std::set<std::string> seen;
                 for (int i = 0; i < 4; ++i) {
                     auto r = ctx.send(make("GET", i % 2 ? "/livez" : "/no-such-path"));
                     auto got = r.header("X-Request-ID");
                     if (!got || got->empty())
                         ctx.fail("no X-Request-ID generated", "a new id", "absent");
                     if (!seen.insert(*got).second)
                         ctx.fail("the same X-Request-ID was generated twice", "distinct ids",
                                  *got);
                 }
             }});
    reg.add({"HTTP-028.request-id-everywhere",
             {"HTTP-028"},
             layer::integration,
             "Every kind of response (open, read, write, 304, 204, each error status) carries "
             "X-Request-ID",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 std::string missing;
                 for (auto& s : battery(ctx, guard))
                     if (!s.resp.header("X-Request-ID") || s.resp.header("X-Request-ID")->empty())
                         missing += s.label + " (" + std::to_string(s.resp.status) + "); ";
                 ctx.expect(missing.empty(), "responses without X-Request-ID",
                            "X-Request-ID on every response", missing);
             }});
    reg.add({"HTTP-029.nosniff-everywhere",
             {"HTTP-029"},
             layer::integration,
             "Every kind of response (open, read, write, 304, 204, each error status) carries "
             "X-Content-Type-Options: nosniff",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 std::string missing;
                 for (auto& s : battery(ctx, guard)) {
                     auto v = s.resp.header("X-Content-Type-Options");
                     if (!v || lower(*v) != "nosniff")
                         missing += s.label + " (" + v.value_or("absent") + "); ";
                 }
                 ctx.expect(missing.empty(), "responses without X-Content-Type-Options: nosniff",
                            "nosniff on every response", missing);
             }});
    reg.add({"HTTP-030.no-store",
             {"HTTP-030"},
             layer::integration,
             "Authenticated responses (list, read, create, update, status, delete) carry "
             "Cache-Control: no-store",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 std::vector<sample> got;
                 auto body = base_body(ctx, "nostore");
                 auto c = post_agent(ctx, guard, body);
                 got.push_back({"POST /agents", c});
                 auto a = ctx.expect_json(c);
                 auto id = id_of(ctx, a);
                 got.push_back(
                     {"GET /agents", ctx.send(authed(ctx, "viewer", "GET", "/agents?limit=1"))});
                 got.push_back({"GET /agents/{id}", get_agent(ctx, id)});
                 got.push_back({"PUT /agents/{id}", put_agent(ctx, id, mutable_fields(a),
                                                              c.header("ETag").value_or("\"1\""))});
                 got.push_back({"PUT /agents/{id}/status", put_status(ctx, id, "active")});
                 got.push_back({"DELETE /agents/{id}",
                                ctx.send(authed(ctx, "operator", "DELETE", "/agents/" + id))});
                 std::string bad;
                 for (auto& s : got) {
                     if (s.resp.status >= 300)
                         ctx.fail(s.label + " failed", "2xx", describe(s.resp));
                     auto v = s.resp.header("Cache-Control");
                     bool ok = false;
                     if (v)
                         for (auto& d : split_list(*v))
                             ok = ok || lower(d) == "no-store";
                     if (!ok) bad += s.label + " (" + v.value_or("absent") + "); ";
                 }
                 ctx.expect(bad.empty(), "authenticated responses without Cache-Control: no-store",
                            "no-store", bad);
             }});
    reg.add({"HTTP-031.date-header",
             {"HTTP-031"},
             layer::integration,
             "2xx, 3xx and 4xx responses carry a Date header in IMF-fixdate form",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 static const std::regex imf("^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
                                             "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                                             "[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$");
                 std::string bad;
                 for (auto& s : battery(ctx, guard)) {
                     if (s.resp.status >= 500) continue;
                     auto v = s.resp.header("Date");
                     if (!v || !std::regex_match(*v, imf))
                         bad += s.label + " (" + v.value_or("absent") + "); ";
                 }
                 ctx.expect(bad.empty(), "responses without a valid Date", "Date: <IMF-fixdate>",
                            bad);
             }});
    reg.add({"HTTP-032.304-etag",
             {"HTTP-032"},
             layer::unit,
             "The 304 to a conditional GET of an agent and of its capabilities carries the ETag",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto id = id_of(ctx, a);
                 for (std::string path : {"/agents/" + id, "/agents/" + id + "/capabilities"}) {
                     auto r1 = ctx.send(authed(ctx, "viewer", "GET", path));
                     ctx.expect_status(r1, 200);
                     auto etag = ctx.expect_header_present(r1, "ETag");
                     auto r2 =
                         ctx.send(authed(ctx, "viewer", "GET", path).with("If-None-Match", etag));
                     ctx.expect_status(r2, 304);
                     ctx.expect_header(r2, "ETag", etag);
                 }
             }});
}

} // namespace

void register_s00_shape(check_registry& registry) {
    add_connection_checks(registry);
    add_json_checks(registry);
    add_problem_checks(registry);
    add_routing_checks(registry);
    add_limit_checks(registry);
    add_value_checks(registry);
}

} // namespace agentcheck
