// PROTOCOL.md §3: bearer tokens, roles, ownership, order of refusals.
#include "reference/tests/integration/agentd_fixture.hpp"

#include "reference/util/base64url.hpp"

namespace agentd_test {
namespace {

class auth_api : public agentd_suite {
protected:
    static void SetUpTestSuite() {
        extra_args_ = {};
        agentd_suite::SetUpTestSuite();
    }
    static long long now() {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    static nlohmann::json claims() {
        return {{"sub", "someone"}, {"roles", {"admin"}}, {"exp", now() + 600}, {"iat", now()}};
    }
    reply get_with(const std::string& authorization) {
        conn c(agentd().port());
        std::vector<std::pair<std::string, std::string>> h;
        if (!authorization.empty()) h.emplace_back("Authorization", authorization);
        return c.send("GET", "/agents", {}, h);
    }
    void expect_invalid(const std::string& token, const std::string& why) {
        auto r = get_with("Bearer " + token);
        EXPECT_EQ(r.status, 401) << why;
        EXPECT_EQ(r.header("www-authenticate"), "Bearer error=\"invalid_token\"") << why;
        EXPECT_EQ(r.header("content-type"), "application/problem+json");
    }
};

TEST_F(auth_api, missing_token_is_401_with_realm) {
    auto r = get_with("");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"agent\"");
    EXPECT_EQ(get_with("Basic dXNlcjpwYXNz").header("www-authenticate"), "Bearer realm=\"agent\"");
}

TEST_F(auth_api, every_bad_token_is_401_invalid_token) {
    const auto& secret = agentd().secret();
    auto c = claims();
    for (const char* alg : {"none", "None", "NONE"}) {
        nlohmann::json h = {{"alg", alg}, {"typ", "JWT"}};
        expect_invalid(agent::util::base64url_encode(h.dump()) + "." +
                           agent::util::base64url_encode(c.dump()) + ".",
                       alg);
    }
    expect_invalid(mint(c, "another-secret-that-is-long-enough-123"), "bad signature");
    auto good = mint(c, secret);
    expect_invalid(good.substr(0, good.rfind('.') + 1), "stripped signature");
    expect_invalid(mint(c, secret, "HS512"), "alg not allowed");
    auto expired = c;
    expired["exp"] = now() - 30 - 60;
    expect_invalid(mint(expired, secret), "expired beyond leeway");
    auto nbf = c;
    nbf["nbf"] = now() + 30 + 60;
    expect_invalid(mint(nbf, secret), "nbf in the future");
    auto nosub = c;
    nosub.erase("sub");
    expect_invalid(mint(nosub, secret), "missing sub");
    auto noexp = c;
    noexp.erase("exp");
    expect_invalid(mint(noexp, secret), "missing exp");
    expect_invalid("!!!.@@@.###", "malformed base64url");
    expect_invalid("onlyonepart", "malformed");
    auto big = c;
    big["pad"] = std::string(9000, 'x');
    expect_invalid(mint(big, secret), "longer than 8 KiB");
}

TEST_F(auth_api, expiry_within_leeway_is_accepted) {
    auto c = claims();
    c["exp"] = now() - 10; // leeway 30 s
    EXPECT_EQ(get_with("Bearer " + mint(c, agentd().secret())).status, 200);
}

TEST_F(auth_api, role_too_low_is_403_insufficient_scope) {
    conn c(agentd().port());
    auto r = c.send("POST", "/agents", R"({"name":"x","version":"1.0.0"})",
                    {{"Authorization", bearer(viewer())}, {"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.header("www-authenticate"), "Bearer error=\"insufficient_scope\"");
    auto none = agentd().token("nobody", {});
    EXPECT_EQ(c.send("GET", "/agents", {}, {{"Authorization", bearer(none)}}).status, 403);
    auto unknown = agentd().token("odd", {"superuser"});
    EXPECT_EQ(c.send("GET", "/agents", {}, {{"Authorization", bearer(unknown)}}).status, 403);
}

TEST_F(auth_api, role_matrix) {
    auto a = create(op());
    const std::string id = a["id"];
    struct row {
        std::string method, path, body;
        int viewer, op_owner, admin;
    };
    const std::vector<row> rows = {
        {"GET", "/agents", "", 200, 200, 200},
        {"GET", "/agents/" + id, "", 200, 200, 200},
        {"GET", "/agents/" + id + "/capabilities", "", 200, 200, 200},
        {"PUT", "/agents/" + id + "/status", R"({"status":"registered"})", 403, 200, 200},
        {"POST", "/agents", "{}", 403, 422, 422},
        {"DELETE", "/agents/00000000-0000-4000-8000-000000000000", "", 403, 404, 404},
    };
    conn c(agentd().port());
    for (const auto& r : rows) {
        for (auto [token, want] : {std::pair{viewer(), r.viewer}, std::pair{op(), r.op_owner},
                                   std::pair{admin(), r.admin}}) {
            std::vector<std::pair<std::string, std::string>> h = {{"Authorization", bearer(token)}};
            if (!r.body.empty()) h.emplace_back("Content-Type", "application/json");
            EXPECT_EQ(c.send(r.method, r.path, r.body, h).status, want)
                << r.method << " " << r.path;
        }
    }
}

TEST_F(auth_api, operators_cannot_touch_other_owners_agents) {
    auto a = create(op());
    const std::string path = "/agents/" + a["id"].get<std::string>();
    conn c(agentd().port());
    auto h = std::vector<std::pair<std::string, std::string>>{{"Authorization", bearer(op2())},
                                                              {"Content-Type", "application/json"},
                                                              {"If-Match", "\"1\""}};
    auto body = nlohmann::json{{"name", a["name"]}, {"version", "9.9.9"}}.dump();
    EXPECT_EQ(c.send("PUT", path, body, h).status, 403);
    EXPECT_EQ(c.send("PUT", path + "/status", R"({"status":"active"})", h).status, 403);
    EXPECT_EQ(c.send("DELETE", path, {}, {{"Authorization", bearer(op2())}}).status, 403);
    EXPECT_EQ(c.send("GET", path, {}, {{"Authorization", bearer(op2())}}).status, 200);
    h[0].second = bearer(admin());
    EXPECT_EQ(c.send("PUT", path, body, h).status, 200);
    EXPECT_EQ(c.send("DELETE", path, {}, {{"Authorization", bearer(admin())}}).status, 204);
}

TEST_F(auth_api, order_of_refusals) {
    conn c(agentd().port());
    EXPECT_EQ(c.send("GET", "/nope").status, 404);     // 404 before 401
    EXPECT_EQ(c.send("PATCH", "/agents").status, 405); // 405 before 401
    EXPECT_EQ(c.send("POST", "/agents", "{bad", {{"Content-Type", "application/json"}}).status,
              401);
    EXPECT_EQ(c.send("POST", "/agents", "{bad",
                     {{"Authorization", bearer(viewer())}, {"Content-Type", "application/json"}})
                  .status,
              403);
    EXPECT_EQ(c.send("POST", "/agents", "{bad",
                     {{"Authorization", bearer(op())}, {"Content-Type", "text/plain"}})
                  .status,
              415);
    EXPECT_EQ(c.send("POST", "/agents", "{bad",
                     {{"Authorization", bearer(op())}, {"Content-Type", "application/json"}})
                  .status,
              400);
    EXPECT_EQ(c.send("PUT", "/agents/00000000-0000-4000-8000-000000000000", "{}",
                     {{"Authorization", bearer(op())}, {"Content-Type", "application/json"}})
                  .status,
              404);
    auto a = create(op());
    const std::string path = "/agents/" + a["id"].get<std::string>();
    EXPECT_EQ(c.send("PUT", path, "{}",
                     {{"Authorization", bearer(op2())}, {"Content-Type", "application/json"}})
                  .status,
              403);
}

} // namespace
} // namespace agentd_test
