// PROTOCOL.md §2: the registry over HTTP.
#include "reference/tests/integration/agentd_fixture.hpp"

#include <atomic>
#include <set>
#include <thread>

namespace agentd_test {
namespace {

class registry_api : public agentd_suite {
protected:
    static void SetUpTestSuite() {
        extra_args_ = {};
        agentd_suite::SetUpTestSuite();
    }
    using headers = std::vector<std::pair<std::string, std::string>>;
    static headers auth(const std::string& token, bool json = true) {
        headers h = {{"Authorization", bearer(token)}};
        if (json) h.emplace_back("Content-Type", "application/json");
        return h;
    }
    reply post(const nlohmann::json& body, const std::string& token = op(), headers extra = {}) {
        conn c(agentd().port());
        auto h = auth(token);
        h.insert(h.end(), extra.begin(), extra.end());
        return c.send("POST", "/agents", body.dump(), h);
    }
    static nlohmann::json valid(nlohmann::json over = nlohmann::json::object()) {
        nlohmann::json b = {
            {"name", unique_name()},
            {"version", "1.2.3-rc.1+build.5"},
            {"capabilities", {{{"name", "summarize"}, {"version", "2"}, {"description", "d"}}}},
            {"endpoint", "http://127.0.0.1:9/x"},
            {"metadata", {{"team", "core"}}}};
        for (auto& [k, v] : over.items()) {
            if (v.is_null())
                b.erase(k);
            else
                b[k] = v;
        }
        return b;
    }
};

TEST_F(registry_api, create_returns_the_resource) {
    auto r = post(valid());
    ASSERT_EQ(r.status, 201) << r.body;
    auto a = r.json();
    EXPECT_EQ(r.header("location"), "/agents/" + a["id"].get<std::string>());
    EXPECT_EQ(r.header("etag"), "\"1\"");
    EXPECT_EQ(a["status"], "registered");
    EXPECT_EQ(a["owner"], "operator-1");
    EXPECT_EQ(a["revision"], 1);
    EXPECT_EQ(a["created_at"], a["updated_at"]);
    EXPECT_EQ(a["capabilities"][0]["description"], "d");
    EXPECT_FALSE(a.contains("circuit"));
}

TEST_F(registry_api, boundaries_are_exact) {
    std::string n64 = "a" + std::string(63, 'b');
    EXPECT_EQ(post(valid({{"name", n64}})).status, 201);
    EXPECT_EQ(post(valid({{"name", n64 + "c"}})).status, 422);
    nlohmann::json caps = nlohmann::json::array();
    for (int i = 0; i < 64; ++i)
        caps.push_back({{"name", "c" + std::to_string(i)}});
    EXPECT_EQ(post(valid({{"capabilities", caps}})).status, 201);
    caps.push_back({{"name", "c64"}});
    EXPECT_EQ(post(valid({{"capabilities", caps}})).status, 422);
    std::string d256;
    for (int i = 0; i < 256; ++i)
        d256 += "\xC3\xA9"; // 256 characters, 512 bytes
    EXPECT_EQ(post(valid({{"capabilities", {{{"name", "x"}, {"description", d256}}}}})).status,
              201);
    EXPECT_EQ(
        post(valid({{"capabilities", {{{"name", "x"}, {"description", d256 + "e"}}}}})).status,
        422);
    std::string url = "http://h/" + std::string(2048 - 9, 'p');
    EXPECT_EQ(post(valid({{"endpoint", url}})).status, 201);
    EXPECT_EQ(post(valid({{"endpoint", url + "p"}})).status, 422);
    nlohmann::json md = nlohmann::json::object();
    for (int i = 0; i < 32; ++i)
        md["k" + std::to_string(i)] = std::string(256, 'v');
    EXPECT_EQ(post(valid({{"metadata", md}})).status, 201);
    md["k32"] = "v";
    EXPECT_EQ(post(valid({{"metadata", md}})).status, 422);
    EXPECT_EQ(post(valid({{"metadata", {{std::string(64, 'K'), "v"}}}})).status, 201);
    EXPECT_EQ(post(valid({{"metadata", {{std::string(65, 'K'), "v"}}}})).status, 422);
    EXPECT_EQ(post(valid({{"version", "1." + std::string(60, '1') + ".0"}})).status,
              201); // 64 chars
    EXPECT_EQ(post(valid({{"version", "1." + std::string(61, '1') + ".0"}})).status, 422);
}

TEST_F(registry_api, every_rule_reports_its_pointer) {
    auto pointer_of = [&](const nlohmann::json& body) {
        auto r = post(body);
        EXPECT_EQ(r.status, 422) << body.dump();
        auto errs = r.json()["errors"];
        return errs.empty() ? std::string("<none>") : errs[0]["pointer"].get<std::string>();
    };
    EXPECT_EQ(pointer_of(valid({{"name", "9abc"}})), "/name");
    EXPECT_EQ(pointer_of(valid({{"version", "01.0.0"}})), "/version");
    EXPECT_EQ(pointer_of(valid({{"capabilities", {{{"name", "Bad"}}}}})), "/capabilities/0/name");
    EXPECT_EQ(pointer_of(valid({{"capabilities", {{{"name", "a"}}, {{"name", "a"}}}}})),
              "/capabilities/1/name");
    EXPECT_EQ(pointer_of(valid({{"capabilities", {{{"name", "a"}, {"colour", "red"}}}}})),
              "/capabilities/0/colour");
    EXPECT_EQ(pointer_of(valid({{"endpoint", "ftp://x"}})), "/endpoint");
    EXPECT_EQ(pointer_of(valid({{"endpoint", "/relative"}})), "/endpoint");
    EXPECT_EQ(pointer_of(valid({{"metadata", {{"bad key", "v"}}}})), "/metadata/bad key");
    EXPECT_EQ(pointer_of(valid({{"metadata", {{"n", 1}}}})), "/metadata/n");
    EXPECT_EQ(pointer_of(valid({{"name", nullptr}})), "/name");
    for (const char* ro :
         {"id", "status", "owner", "created_at", "updated_at", "revision", "circuit"})
        EXPECT_EQ(pointer_of(valid({{ro, "x"}})), std::string("/") + ro);
    EXPECT_EQ(pointer_of(nlohmann::json::array()), "");
}

TEST_F(registry_api, duplicate_name_is_409) {
    auto body = valid();
    EXPECT_EQ(post(body).status, 201);
    auto again = body;
    again["version"] = "2.0.0";
    EXPECT_EQ(post(again).status, 409);
}

TEST_F(registry_api, read_with_etag_and_304) {
    auto a = create(op());
    conn c(agentd().port());
    const std::string path = "/agents/" + a["id"].get<std::string>();
    auto r = c.send("GET", path, {}, auth(viewer(), false));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("etag"), "\"1\"");
    EXPECT_EQ(r.json(), a);
    EXPECT_EQ(
        c.send("GET", path, {}, {{"Authorization", bearer(viewer())}, {"If-None-Match", "\"1\""}})
            .status,
        304);
    EXPECT_EQ(
        c.send("GET", path, {}, {{"Authorization", bearer(viewer())}, {"If-None-Match", "W/\"1\""}})
            .status,
        304);
    EXPECT_EQ(c.send("GET", path, {},
                     {{"Authorization", bearer(viewer())}, {"If-None-Match", "\"7\", \"1\""}})
                  .status,
              304);
    EXPECT_EQ(
        c.send("GET", path, {}, {{"Authorization", bearer(viewer())}, {"If-None-Match", "\"2\""}})
            .status,
        200);
    EXPECT_EQ(
        c.send("GET", "/agents/00000000-0000-4000-8000-000000000000", {}, auth(viewer(), false))
            .status,
        404);
}

TEST_F(registry_api, put_needs_if_match) {
    auto a = create(op());
    conn c(agentd().port());
    const std::string path = "/agents/" + a["id"].get<std::string>();
    auto body = valid({{"name", a["name"]}, {"version", "2.0.0"}}).dump();
    EXPECT_EQ(c.send("PUT", path, body, auth(op())).status, 428);
    auto h = auth(op());
    h.emplace_back("If-Match", "\"9\"");
    EXPECT_EQ(c.send("PUT", path, body, h).status, 412);
    h.back().second = "W/\"1\"";
    EXPECT_EQ(c.send("PUT", path, body, h).status, 412); // weak tags never match If-Match
    h.back().second = "\"1\"";
    auto r = c.send("PUT", path, body, h);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["revision"], 2);
    EXPECT_EQ(r.json()["version"], "2.0.0");
    EXPECT_EQ(r.header("etag"), "\"2\"");
    EXPECT_EQ(c.send("PUT", path, body, h).status, 412); // "1" is stale now
    h.back().second = "*";
    EXPECT_EQ(c.send("PUT", path, body, h).status, 200);
}

TEST_F(registry_api, put_validation_comes_after_preconditions) {
    auto a = create(op());
    conn c(agentd().port());
    const std::string path = "/agents/" + a["id"].get<std::string>();
    EXPECT_EQ(c.send("PUT", path, R"({"name":"BAD"})", auth(op())).status, 428);
    auto h = auth(op());
    h.emplace_back("If-Match", "\"1\"");
    EXPECT_EQ(c.send("PUT", path, R"({"name":"BAD"})", h).status, 422);
    auto other = create(op());
    auto clash = valid({{"name", other["name"]}}).dump();
    EXPECT_EQ(c.send("PUT", path, clash, h).status, 409);
}

TEST_F(registry_api, delete_then_404) {
    auto a = create(op());
    conn c(agentd().port());
    const std::string path = "/agents/" + a["id"].get<std::string>();
    EXPECT_EQ(c.send("DELETE", path, {}, auth(op(), false)).status, 204);
    EXPECT_EQ(c.send("DELETE", path, {}, auth(op(), false)).status, 404);
    EXPECT_EQ(c.send("GET", path, {}, auth(op(), false)).status, 404);
}

TEST_F(registry_api, list_pages_in_creation_order_with_filters) {
    const std::string cap = "cap-" + unique_name("x").substr(2, 8);
    std::vector<std::string> mine;
    for (int i = 0; i < 7; ++i)
        mine.push_back(create(op(), {{"capabilities", {{{"name", cap}}}}})["id"]);
    conn c(agentd().port());
    std::vector<std::string> seen;
    std::string cursor;
    int pages = 0;
    do {
        auto target =
            "/agents?limit=3&capability=" + cap + (cursor.empty() ? "" : "&cursor=" + cursor);
        auto r = c.send("GET", target, {}, auth(viewer(), false));
        ASSERT_EQ(r.status, 200) << r.body;
        auto j = r.json();
        for (const auto& it : j["items"])
            seen.push_back(it["id"]);
        cursor = j["next_cursor"].is_null() ? "" : j["next_cursor"].get<std::string>();
        ++pages;
    } while (!cursor.empty() && pages < 10);
    EXPECT_EQ(seen, mine);
    EXPECT_EQ(pages, 3);
    auto none =
        c.send("GET", "/agents?status=draining&capability=" + cap, {}, auth(viewer(), false))
            .json();
    EXPECT_TRUE(none["items"].empty());
    EXPECT_TRUE(none["next_cursor"].is_null());
}

TEST_F(registry_api, bad_list_parameters_are_400) {
    conn c(agentd().port());
    for (const char* q : {"limit=0", "limit=501", "limit=-1", "limit=abc", "limit=", "cursor=zzz",
                          "cursor=!!", "status=sleepy", "capability=Bad%20Cap", "limit=%ZZ"})
        EXPECT_EQ(c.send("GET", std::string("/agents?") + q, {}, auth(viewer(), false)).status, 400)
            << q;
    EXPECT_EQ(c.send("GET", "/agents?limit=500", {}, auth(viewer(), false)).status, 200);
    EXPECT_EQ(c.send("GET", "/agents?limit=1&unknown=1", {}, auth(viewer(), false)).status, 200);
}

TEST_F(registry_api, walk_never_skips_or_repeats_under_concurrent_writes) {
    const std::string cap = "walk-" + unique_name("x").substr(2, 8);
    std::set<std::string> stable;
    for (int i = 0; i < 40; ++i)
        stable.insert(create(op(), {{"capabilities", {{{"name", cap}}}}})["id"].get<std::string>());
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        conn w(agentd().port());
        while (!stop) {
            auto body = valid({{"capabilities", {{{"name", cap}}}}}).dump();
            auto r = w.send("POST", "/agents", body, auth(op()));
            if (r.status == 201)
                w.send("DELETE", "/agents/" + r.json()["id"].get<std::string>(), {},
                       auth(op(), false));
        }
    });
    conn c(agentd().port());
    std::multiset<std::string> seen;
    std::string cursor;
    do {
        auto r = c.send("GET",
                        "/agents?limit=4&capability=" + cap +
                            (cursor.empty() ? "" : "&cursor=" + cursor),
                        {}, auth(viewer(), false));
        ASSERT_EQ(r.status, 200);
        auto j = r.json();
        for (const auto& it : j["items"])
            seen.insert(it["id"].get<std::string>());
        cursor = j["next_cursor"].is_null() ? "" : j["next_cursor"].get<std::string>();
    } while (!cursor.empty());
    stop = true;
    churn.join();
    for (const auto& id : stable)
        EXPECT_EQ(seen.count(id), 1U) << id;
}

TEST_F(registry_api, capabilities_are_cacheable) {
    auto a = create(op());
    conn c(agentd().port());
    const std::string path = "/agents/" + a["id"].get<std::string>() + "/capabilities";
    auto r = c.send("GET", path, {}, auth(viewer(), false));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("cache-control"), "private, max-age=300");
    EXPECT_EQ(r.json()["agent_id"], a["id"]);
    EXPECT_EQ(r.json()["capabilities"], a["capabilities"]);
    auto etag = r.header("etag");
    ASSERT_FALSE(etag.empty());
    auto nm =
        c.send("GET", path, {}, {{"Authorization", bearer(viewer())}, {"If-None-Match", etag}});
    EXPECT_EQ(nm.status, 304);
    EXPECT_EQ(nm.header("cache-control"), "private, max-age=300");
    EXPECT_EQ(c.send("GET", "/agents/00000000-0000-4000-8000-000000000000/capabilities", {},
                     auth(viewer(), false))
                  .status,
              404);
}

TEST_F(registry_api, status_machine_allows_exactly_the_listed_moves) {
    const std::map<std::string, std::set<std::string>> allowed = {
        {"registered", {"active", "inactive"}},
        {"active", {"inactive", "degraded", "draining"}},
        {"inactive", {"active", "draining"}},
        {"degraded", {"active", "inactive", "draining"}},
        {"draining", {"inactive"}}};
    // A path that reaches each status from registered.
    const std::map<std::string, std::vector<std::string>> reach = {
        {"registered", {}},
        {"active", {"active"}},
        {"inactive", {"inactive"}},
        {"degraded", {"active", "degraded"}},
        {"draining", {"active", "draining"}}};
    conn c(agentd().port());
    auto set = [&](const std::string& id, const std::string& st) {
        return c.send("PUT", "/agents/" + id + "/status",
                      nlohmann::json{{"status", st}, {"reason", "test"}}.dump(), auth(op()));
    };
    for (const auto& [from, path] : reach) {
        for (const auto& [to, unused] : allowed) {
            auto id = create(op())["id"].get<std::string>();
            for (const auto& step : path)
                ASSERT_EQ(set(id, step).status, 200);
            auto r = set(id, to);
            int want = (from == to || allowed.at(from).count(to)) ? 200 : 409;
            EXPECT_EQ(r.status, want) << from << " -> " << to << ": " << r.body;
            if (want == 200) {
                EXPECT_EQ(r.json()["status"], to);
            }
            if (from == to) {
                EXPECT_EQ(r.json()["revision"], static_cast<int>(path.size()) + 1);
            }
        }
    }
    auto id = create(op())["id"].get<std::string>();
    EXPECT_EQ(
        c.send("PUT", "/agents/" + id + "/status", R"({"status":"sleeping"})", auth(op())).status,
        422);
    EXPECT_EQ(c.send("PUT", "/agents/" + id + "/status", R"({})", auth(op())).status, 422);
}

TEST_F(registry_api, idempotency_key_replays_and_refuses_other_bodies) {
    auto body = valid();
    auto first = post(body, op(), {{"Idempotency-Key", "key-1"}});
    ASSERT_EQ(first.status, 201);
    EXPECT_FALSE(first.has("idempotent-replayed"));
    auto again = post(body, op(), {{"Idempotency-Key", "key-1"}});
    EXPECT_EQ(again.status, 201);
    EXPECT_EQ(again.header("idempotent-replayed"), "true");
    EXPECT_EQ(again.body, first.body);
    EXPECT_EQ(again.header("location"), first.header("location"));
    auto other = valid();
    EXPECT_EQ(post(other, op(), {{"Idempotency-Key", "key-1"}}).status, 422);
    // Keys are per principal: another caller's same key is a new request.
    EXPECT_EQ(post(other, op2(), {{"Idempotency-Key", "key-1"}}).status, 201);
    EXPECT_EQ(post(valid(), op(), {{"Idempotency-Key", std::string(256, 'k')}}).status, 400);
}

TEST_F(registry_api, idempotency_key_in_flight_is_409) {
    // Fire the same key from many connections at once: exactly one creates, the others
    // replay it or are told it is in flight; never two agents.
    auto body = valid();
    std::vector<int> statuses(8);
    std::vector<std::string> ids(8);
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; ++i)
        ts.emplace_back([&, i] {
            auto r = post(body, op(), {{"Idempotency-Key", "race"}});
            statuses[i] = r.status;
            if (r.status == 201) ids[i] = r.json()["id"];
        });
    for (auto& t : ts)
        t.join();
    std::set<std::string> distinct;
    for (int i = 0; i < 8; ++i) {
        EXPECT_TRUE(statuses[i] == 201 || statuses[i] == 409) << statuses[i];
        if (!ids[i].empty()) distinct.insert(ids[i]);
    }
    EXPECT_EQ(distinct.size(), 1U);
}

TEST_F(registry_api, full_lifecycle_workflow) {
    auto a = create(op(), valid());
    const std::string id = a["id"];
    conn c(agentd().port());
    auto h = auth(op());
    EXPECT_EQ(
        c.send("PUT", "/agents/" + id + "/status", R"({"status":"active"})", h).json()["revision"],
        2);
    h.emplace_back("If-Match", "\"2\"");
    auto upd = valid({{"name", a["name"]}, {"capabilities", {{{"name", "translate"}}}}});
    auto r = c.send("PUT", "/agents/" + id, upd.dump(), h);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["status"], "active");
    auto caps = c.send("GET", "/agents/" + id + "/capabilities", {}, auth(viewer(), false)).json();
    EXPECT_EQ(caps["capabilities"][0]["name"], "translate");
    EXPECT_EQ(c.send("DELETE", "/agents/" + id, {}, auth(op(), false)).status, 204);
}

} // namespace
} // namespace agentd_test
