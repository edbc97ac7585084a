#include "reference/handlers/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reference/handlers/problem.hpp"

namespace agent::handlers {
namespace {

using boost::beast::http::verb;

TEST(router, matches_every_route_and_ignores_the_query) {
    EXPECT_EQ(match_route("/.well-known/agent-service").id, route_id::discovery);
    EXPECT_EQ(match_route("/health?x=1").id, route_id::health);
    EXPECT_EQ(match_route("/livez").id, route_id::livez);
    EXPECT_EQ(match_route("/readyz").id, route_id::readyz);
    EXPECT_EQ(match_route("/agents?limit=1").id, route_id::agents);
    auto m = match_route("/agents/abc");
    EXPECT_EQ(m.id, route_id::agent);
    EXPECT_EQ(m.agent_id, "abc");
    EXPECT_EQ(m.route_template, "/agents/{id}");
    EXPECT_EQ(match_route("/agents/abc/capabilities").id, route_id::agent_capabilities);
    EXPECT_EQ(match_route("/agents/abc/status").id, route_id::agent_status);
}

TEST(router, unknown_paths_do_not_match) {
    for (const char* p : {"/", "/agents/", "/agents//status", "/agents/a/b", "/agents/a/status/x",
                          "/healthz", "/Agents"})
        EXPECT_EQ(match_route(p).id, route_id::none) << p;
}

TEST(router, methods_roles_and_allow) {
    ASSERT_NE(find_method(route_id::agents, verb::post), nullptr);
    EXPECT_EQ(find_method(route_id::agents, verb::post)->needs, role::operator_);
    EXPECT_TRUE(find_method(route_id::agents, verb::post)->takes_body);
    EXPECT_EQ(find_method(route_id::agent, verb::head)->needs, role::viewer);
    EXPECT_EQ(find_method(route_id::health, verb::get)->needs, role::none);
    // GET on the status route is the WebSocket stream (§5).
    EXPECT_EQ(find_method(route_id::agent_status, verb::get)->needs, role::viewer);
    EXPECT_EQ(find_method(route_id::agent_status, verb::delete_), nullptr);
    EXPECT_EQ(match_route("/events/stream").id, route_id::events_stream);
    EXPECT_EQ(allow_header(route_id::events_stream), "GET, HEAD, OPTIONS");
    EXPECT_EQ(find_method(route_id::none, verb::get), nullptr);
    EXPECT_EQ(allow_header(route_id::agent), "GET, HEAD, PUT, DELETE, OPTIONS");
    EXPECT_EQ(allow_header(route_id::agent_status), "GET, HEAD, PUT, OPTIONS");
    EXPECT_EQ(allow_header(route_id::none), "");
}

TEST(problem, maps_every_error_kind) {
    struct row {
        errc code;
        int status;
    };
    for (auto [code, status] :
         {row{errc::bad_request, 400}, row{errc::unsupported_media_type, 415},
          row{errc::payload_too_large, 413}, row{errc::header_too_large, 431},
          row{errc::request_timeout, 408}, row{errc::validation_failed, 422},
          row{errc::not_found, 404}, row{errc::method_not_allowed, 405},
          row{errc::unauthenticated, 401}, row{errc::invalid_token, 401},
          row{errc::insufficient_scope, 403}, row{errc::forbidden, 403}, row{errc::conflict, 409},
          row{errc::precondition_required, 428}, row{errc::precondition_failed, 412},
          row{errc::idempotency_mismatch, 422}, row{errc::unavailable, 503},
          row{errc::storage_failure, 500}, row{errc::internal, 500}}) {
        auto res = make_problem({code, "why", {}}, 11, "/p", "rid", "GET");
        EXPECT_EQ(res.result_int(), status);
        auto body = nlohmann::json::parse(res.body());
        EXPECT_EQ(body["status"], status);
        EXPECT_EQ(body["detail"], "why");
        EXPECT_EQ(body["instance"], "/p");
        EXPECT_EQ(body["request_id"], "rid");
        EXPECT_TRUE(body["type"].get<std::string>().starts_with("urn:agent-service:problem:"));
        EXPECT_EQ(res[http::field::content_type], "application/problem+json");
    }
}

TEST(problem, carries_the_headers_of_its_kind) {
    EXPECT_EQ(
        make_problem({errc::unauthenticated, "", {}}, 11, "/", "r")[http::field::www_authenticate],
        "Bearer realm=\"agent\"");
    EXPECT_EQ(
        make_problem({errc::invalid_token, "", {}}, 11, "/", "r")[http::field::www_authenticate],
        "Bearer error=\"invalid_token\"");
    EXPECT_EQ(make_problem({errc::insufficient_scope, "", {}}, 11, "/",
                           "r")[http::field::www_authenticate],
              "Bearer error=\"insufficient_scope\"");
    EXPECT_EQ(make_problem({errc::method_not_allowed, "", {}}, 11, "/", "r",
                           "GET, OPTIONS")[http::field::allow],
              "GET, OPTIONS");
    EXPECT_EQ(make_problem({errc::unavailable, "", {}}, 11, "/", "r")[http::field::retry_after],
              "1");
    auto with_fields =
        make_problem({errc::validation_failed, "bad", {{"/a", "x"}, {"/b", "y"}}}, 11, "/", "r");
    auto body = nlohmann::json::parse(with_fields.body());
    EXPECT_EQ(body["errors"].size(), 2U);
    EXPECT_EQ(body["errors"][1]["pointer"], "/b");
    EXPECT_EQ(nlohmann::json::parse(
                  make_problem({errc::conflict, "", {}}, 11, "/", "r").body())["detail"],
              "Conflict");
}

} // namespace
} // namespace agent::handlers
