#include "reference/handlers/app.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <filesystem>
#include <future>
#include <random>

#include "reference/storage/sqlite_store.hpp"
#include "reference/tests/support/mint.hpp"
#include "reference/util/base64url.hpp"

namespace agent::handlers {
namespace {

const std::string secret = "0123456789abcdef0123456789abcdef-unit";

std::string mint(const nlohmann::json& claims) {
    return test_support::mint_hs256(claims, secret);
}

// The whole application in-process: SQLite in a temp dir, a manual clock, no sockets.
class app_test : public ::testing::Test {
protected:
    app_test()
        : clk_(std::chrono::system_clock::now()),
          dir_(std::filesystem::temp_directory_path() /
               ("app-test-" + std::to_string(std::random_device{}()))),
          store_(
              (std::filesystem::create_directories(dir_), sqlite_settings{(dir_ / "db").string()}),
              clk_),
          events_(store_, clk_), registry_(store_, clk_, events_),
          tasks_(store_, clk_, random_, events_, registry_,
                 {1, 3, std::chrono::milliseconds(5), std::chrono::milliseconds(20),
                  std::chrono::milliseconds(500)},
                 [this](const std::string& endpoint) -> util::expected<int, std::string> {
                     probes_.push_back(endpoint);
                     return probe_status_;
                 }),
          verifier_(auth_settings{secret, {}, {}, {}, {}, std::chrono::seconds(30), 8192}, clk_),
          log_(2, false),
          app_({cfg_, clk_, registry_, events_, tasks_, invoker_, store_, verifier_, life_, log_}) {
        life_.ready = true;
        tasks_.start();
    }
    ~app_test() override {
        tasks_.stop();
        store_.stop();
        std::filesystem::remove_all(dir_);
    }

    std::string token(const std::string& sub, const std::string& role) {
        auto now =
            std::chrono::duration_cast<std::chrono::seconds>(clk_.now().time_since_epoch()).count();
        return "Bearer " + mint({{"sub", sub}, {"roles", {role}}, {"exp", now + 60}});
    }

    response call(http::verb method, const std::string& target, const std::string& body = {},
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        request req{method, target, 11};
        req.set(http::field::host, "agentd.test");
        for (const auto& [n, v] : headers)
            req.set(n, v);
        req.body() = body;
        req.prepare_payload();
        std::promise<response> p;
        auto f = p.get_future();
        app_.handle(std::move(req), "127.0.0.1", [&p](response r) { p.set_value(std::move(r)); });
        return f.get();
    }
    response as(const std::string& role, http::verb m, const std::string& target,
                const std::string& body = {},
                std::vector<std::pair<std::string, std::string>> headers = {}) {
        headers.emplace_back("Authorization", token(role + "-user", role));
        bool has_ct = std::any_of(headers.begin(), headers.end(),
                                  [](const auto& h) { return h.first == "Content-Type"; });
        if (!body.empty() && !has_ct) headers.emplace_back("Content-Type", "application/json");
        return call(m, target, body, headers);
    }
    nlohmann::json create(const std::string& name, const std::string& role = "operator") {
        auto r = as(role, http::verb::post, "/agents",
                    nlohmann::json{{"name", name}, {"version", "1.0.0"}}.dump());
        EXPECT_EQ(r.result_int(), 201) << r.body();
        return nlohmann::json::parse(r.body());
    }

    /// Polls GET /tasks/{id}, moving the simulated clock on so that retries fall due, until
    /// the task has `status` (5 s of real time at most); returns the task.
    nlohmann::json poll_task(const std::string& id, const std::string& status) {
        nlohmann::json t;
        for (int i = 0; i < 1000; ++i) {
            t = nlohmann::json::parse(as("viewer", http::verb::get, "/tasks/" + id).body());
            if (t.value("status", "") == status) return t;
            clk_.advance(std::chrono::milliseconds(25));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        ADD_FAILURE() << "task " << id << " never became " << status << ": " << t.dump();
        return t;
    }

    config cfg_;
    manual_clock clk_;
    std::filesystem::path dir_;
    sqlite_store store_;
    event_log events_;
    registry registry_;
    seeded_random random_{7};
    std::vector<std::string> probes_;
    int probe_status_ = 200;
    task_queue tasks_;
    invoke_service invoker_{
        registry_,        events_, store_, clk_, random_, endpoint_allowlist({"127.0.0.1:*"}),
        invoke_settings{}};
    jwt_verifier verifier_;
    lifecycle_state life_;
    log_sink log_;
    app app_;
};

TEST_F(app_test, discovery_and_health) {
    auto d = call(http::verb::get, "/.well-known/agent-service");
    EXPECT_EQ(d.result_int(), 200);
    auto doc = nlohmann::json::parse(d.body());
    EXPECT_EQ(doc["protocol"], "agent-service/1");
    EXPECT_EQ(doc["limits"]["max_body_bytes"], cfg_.max_body_bytes);
    EXPECT_EQ(call(http::verb::get, "/health").result_int(), 200);
    EXPECT_EQ(call(http::verb::get, "/livez").result_int(), 200);
    EXPECT_EQ(call(http::verb::get, "/readyz").result_int(), 200);
    life_.draining = true;
    auto r = call(http::verb::get, "/readyz");
    EXPECT_EQ(r.result_int(), 503);
    EXPECT_FALSE(r.keep_alive());
}

TEST_F(app_test, writes_after_store_stop_are_503) {
    store_.stop();
    // A write after stop is refused by the store: the registry reports it as unavailable.
    auto r = as("operator", http::verb::post, "/agents", R"({"name":"n","version":"1.0.0"})");
    EXPECT_EQ(r.result_int(), 503);
    EXPECT_EQ(r[http::field::retry_after], "1");
}

TEST_F(app_test, common_headers_and_request_id) {
    auto r = call(http::verb::get, "/health", {}, {{"X-Request-ID", "abc"}});
    EXPECT_EQ(r["X-Request-ID"], "abc");
    EXPECT_EQ(r["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(r[http::field::cache_control], "no-store");
    EXPECT_FALSE(r[http::field::date].empty());
    auto bad = call(http::verb::get, "/health", {}, {{"X-Request-ID", "has space"}});
    EXPECT_NE(bad["X-Request-ID"], "has space");
    EXPECT_EQ(bad["X-Request-ID"].size(), 32U);
    EXPECT_TRUE(is_valid_request_id(std::string(128, 'x')));
    EXPECT_FALSE(is_valid_request_id(std::string(129, 'x')));
    EXPECT_FALSE(is_valid_request_id(""));
}

TEST_F(app_test, head_and_options) {
    auto h = call(http::verb::head, "/health");
    EXPECT_EQ(h.result_int(), 200);
    EXPECT_TRUE(h.body().empty());
    EXPECT_NE(h[http::field::content_length], "0");
    auto o = call(http::verb::options, "/agents");
    EXPECT_EQ(o.result_int(), 204);
    EXPECT_EQ(o[http::field::allow], "GET, HEAD, POST, OPTIONS");
}

TEST_F(app_test, crud_flow) {
    auto a = create("first");
    const std::string path = "/agents/" + a["id"].get<std::string>();
    auto g = as("viewer", http::verb::get, path);
    EXPECT_EQ(g.result_int(), 200);
    EXPECT_EQ(g[http::field::etag], "\"1\"");
    EXPECT_EQ(as("viewer", http::verb::get, path, {}, {{"If-None-Match", "\"1\""}}).result_int(),
              304);
    EXPECT_EQ(
        as("operator", http::verb::put, path, R"({"name":"first","version":"2.0.0"})").result_int(),
        428);
    EXPECT_EQ(as("operator", http::verb::put, path, R"({"name":"first","version":"2.0.0"})",
                 {{"If-Match", "\"5\""}})
                  .result_int(),
              412);
    auto u = as("operator", http::verb::put, path, R"({"name":"first","version":"2.0.0"})",
                {{"If-Match", "\"1\""}});
    EXPECT_EQ(u.result_int(), 200);
    EXPECT_EQ(u[http::field::etag], "\"2\"");
    auto s = as("operator", http::verb::put, path + "/status", R"({"status":"active"})");
    EXPECT_EQ(nlohmann::json::parse(s.body())["revision"], 3);
    EXPECT_EQ(as("operator", http::verb::put, path + "/status", R"({"status":"registered"})")
                  .result_int(),
              409);
    auto same = as("operator", http::verb::put, path + "/status", R"({"status":"active"})");
    EXPECT_EQ(nlohmann::json::parse(same.body())["revision"], 3);
    auto caps = as("viewer", http::verb::get, path + "/capabilities");
    EXPECT_EQ(caps[http::field::cache_control], "private, max-age=300");
    EXPECT_EQ(as("viewer", http::verb::get, path + "/capabilities", {},
                 {{"If-None-Match", std::string(caps[http::field::etag])}})
                  .result_int(),
              304);
    EXPECT_EQ(as("operator", http::verb::delete_, path).result_int(), 204);
    EXPECT_EQ(as("operator", http::verb::delete_, path).result_int(), 404);
    EXPECT_EQ(as("viewer", http::verb::get, path + "/capabilities").result_int(), 404);
}

TEST_F(app_test, conflicts_and_ownership) {
    create("dup");
    EXPECT_EQ(as("operator", http::verb::post, "/agents", R"({"name":"dup","version":"1.0.0"})")
                  .result_int(),
              409);
    auto a = create("mine");
    const std::string path = "/agents/" + a["id"].get<std::string>();
    auto other = [&](http::verb m, const std::string& p, const std::string& body) {
        std::vector<std::pair<std::string, std::string>> h = {
            {"Authorization", token("someone-else", "operator")}, {"If-Match", "\"1\""}};
        if (!body.empty()) h.emplace_back("Content-Type", "application/json");
        return call(m, p, body, h).result_int();
    };
    EXPECT_EQ(other(http::verb::put, path, R"({"name":"mine","version":"1.0.1"})"), 403);
    EXPECT_EQ(other(http::verb::put, path + "/status", R"({"status":"active"})"), 403);
    EXPECT_EQ(other(http::verb::delete_, path, ""), 403);
    EXPECT_EQ(as("admin", http::verb::put, path, R"({"name":"dup","version":"1.0.1"})",
                 {{"If-Match", "*"}})
                  .result_int(),
              409);
    EXPECT_EQ(as("admin", http::verb::delete_, path).result_int(), 204);
}

TEST_F(app_test, list_and_cursor) {
    for (int i = 0; i < 5; ++i)
        create("l" + std::to_string(i));
    auto page = nlohmann::json::parse(as("viewer", http::verb::get, "/agents?limit=2").body());
    ASSERT_EQ(page["items"].size(), 2U);
    EXPECT_EQ(page["items"][0]["name"], "l0");
    auto next =
        nlohmann::json::parse(as("viewer", http::verb::get,
                                 "/agents?limit=2&cursor=" + page["next_cursor"].get<std::string>())
                                  .body());
    EXPECT_EQ(next["items"][0]["name"], "l2");
    auto last = nlohmann::json::parse(as("viewer", http::verb::get, "/agents?limit=5").body());
    EXPECT_TRUE(last["next_cursor"].is_null());
    EXPECT_EQ(as("viewer", http::verb::get, "/agents?status=active").result_int(), 200);
    EXPECT_EQ(as("viewer", http::verb::get, "/agents?cursor=" + util::base64url_encode("a1:-5"))
                  .result_int(),
              400);
    EXPECT_EQ(as("viewer", http::verb::get, "/agents?cursor=" + util::base64url_encode("zz:5"))
                  .result_int(),
              400);
    EXPECT_EQ(as("viewer", http::verb::get, "/agents?&&limit=1").result_int(), 200);
    EXPECT_EQ(as("viewer", http::verb::get, "/agents?limit=1%").result_int(), 400);
}

TEST_F(app_test, idempotency) {
    std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "k"}};
    auto a =
        as("operator", http::verb::post, "/agents", R"({"name":"idem","version":"1.0.0"})", key);
    EXPECT_EQ(a.result_int(), 201);
    // Same body, different spacing and key order: the same request.
    auto b =
        as("operator", http::verb::post, "/agents", R"({ "version":"1.0.0", "name":"idem" })", key);
    EXPECT_EQ(b.result_int(), 201);
    EXPECT_EQ(b["Idempotent-Replayed"], "true");
    EXPECT_EQ(b.body(), a.body());
    EXPECT_EQ(b[http::field::location], a[http::field::location]);
    EXPECT_EQ(
        as("operator", http::verb::post, "/agents", R"({"name":"idem2","version":"1.0.0"})", key)
            .result_int(),
        422);
    EXPECT_EQ(as("operator", http::verb::post, "/agents", R"({"name":"x","version":"1.0.0"})",
                 {{"Idempotency-Key", "bad key"}})
                  .result_int(),
              400);
}

TEST_F(app_test, http11_without_host_is_400) {
    request req{http::verb::get, "/health", 11};
    std::promise<response> p;
    app_.handle(std::move(req), "127.0.0.1", [&p](response r) { p.set_value(std::move(r)); });
    EXPECT_EQ(p.get_future().get().result_int(), 400);
    request old{http::verb::get, "/health", 10};
    std::promise<response> p10;
    app_.handle(std::move(old), "127.0.0.1", [&p10](response r) { p10.set_value(std::move(r)); });
    EXPECT_EQ(p10.get_future().get().result_int(), 200);
}

TEST_F(app_test, refusals_in_protocol_order) {
    EXPECT_EQ(call(http::verb::get, "/nope").result_int(), 404);
    EXPECT_EQ(call(http::verb::patch, "/agents").result_int(), 405);
    EXPECT_EQ(call(http::verb::get, "/agents").result_int(), 401);
    EXPECT_EQ(
        call(http::verb::get, "/agents", {}, {{"Authorization", "Bearer x.y.z"}}).result_int(),
        401);
    EXPECT_EQ(as("viewer", http::verb::post, "/agents", "{").result_int(), 403);
    EXPECT_EQ(as("operator", http::verb::post, "/agents", "{", {{"Content-Type", "text/plain"}})
                  .result_int(),
              415);
    EXPECT_EQ(as("operator", http::verb::post, "/agents", "{").result_int(), 400);
    EXPECT_EQ(as("operator", http::verb::post, "/agents", "\"\xff\"").result_int(), 400);
    EXPECT_EQ(as("operator", http::verb::post, "/agents", std::string(100, '[')).result_int(), 400);
    EXPECT_EQ(as("operator", http::verb::post, "/agents", "[]").result_int(), 422);
    EXPECT_EQ(as("operator", http::verb::put, "/agents/none", "{}").result_int(), 404);
    EXPECT_EQ(as("operator", http::verb::put, "/agents/none/status", R"({"status":"active"})")
                  .result_int(),
              404);
}

TEST_F(app_test, reject_runs_routing_and_auth_before_the_limit) {
    request head{http::verb::post, "/agents", 11};
    head.set(http::field::host, "agentd.test");
    EXPECT_EQ(app_.reject(head, errc::payload_too_large, "big", "127.0.0.1").result_int(), 401);
    head.set(http::field::authorization, token("u", "operator"));
    head.set(http::field::content_type, "application/json");
    auto r = app_.reject(head, errc::payload_too_large, "big", "127.0.0.1");
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_FALSE(r.keep_alive());
    head.set(http::field::content_type, "text/plain");
    EXPECT_EQ(app_.reject(head, errc::payload_too_large, "big", "127.0.0.1").result_int(), 415);
    request nowhere{http::verb::post, "/x", 11};
    nowhere.set(http::field::host, "agentd.test");
    EXPECT_EQ(app_.reject(nowhere, errc::payload_too_large, "big", "").result_int(), 404);
    EXPECT_EQ(app_.reject(nowhere, errc::header_too_large, "big", "").result_int(), 431);
    EXPECT_EQ(app_.reject(nowhere, errc::request_timeout, "slow", "").result_int(), 408);
}

// Every acknowledged change emits exactly its event, in order; the same status emits none.
TEST_F(app_test, every_change_emits_its_event) {
    auto a = create("evt-a");
    const std::string id = a["id"];
    auto put = as("operator", http::verb::put, "/agents/" + id,
                  R"({"name":"evt-a","version":"1.1.0"})", {{"If-Match", "\"1\""}});
    ASSERT_EQ(put.result_int(), 200) << put.body();
    ASSERT_EQ(as("operator", http::verb::put, "/agents/" + id + "/status",
                 R"({"status":"active","reason":"ready"})")
                  .result_int(),
              200);
    ASSERT_EQ(as("operator", http::verb::put, "/agents/" + id + "/status", R"({"status":"active"})")
                  .result_int(),
              200);
    ASSERT_EQ(as("operator", http::verb::delete_, "/agents/" + id).result_int(), 204);
    auto r = as("viewer", http::verb::get, "/events");
    ASSERT_EQ(r.result_int(), 200);
    auto doc = nlohmann::json::parse(r.body());
    const auto& items = doc["items"];
    ASSERT_EQ(items.size(), 4U) << r.body();
    const char* types[] = {"agent_registered", "agent_updated", "agent_status_changed",
                           "agent_deleted"};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(items[i]["seq"], static_cast<int>(i + 1));
        EXPECT_EQ(items[i]["type"], types[i]);
        EXPECT_EQ(items[i]["agent_id"], id);
        EXPECT_TRUE(items[i]["data"].is_object());
    }
    EXPECT_EQ(items[2]["data"], (nlohmann::json{{"old_status", "registered"},
                                                {"new_status", "active"},
                                                {"reason", "ready"},
                                                {"revision", 3}}));
    EXPECT_EQ(doc["next_after"], 4);
    // Pages, filters, and the bad ones.
    auto page =
        nlohmann::json::parse(as("viewer", http::verb::get, "/events?after=1&limit=2").body());
    ASSERT_EQ(page["items"].size(), 2U);
    EXPECT_EQ(page["items"][0]["seq"], 2);
    EXPECT_EQ(page["next_after"], 3);
    auto typed =
        nlohmann::json::parse(as("viewer", http::verb::get, "/events?type=agent_deleted").body());
    ASSERT_EQ(typed["items"].size(), 1U);
    EXPECT_EQ(typed["items"][0]["seq"], 4);
    auto none = nlohmann::json::parse(
        as("viewer", http::verb::get, "/events?after=4&agent_id=" + id).body());
    EXPECT_TRUE(none["items"].empty());
    EXPECT_EQ(none["next_after"], 4);
    for (const char* bad : {"/events?limit=0", "/events?limit=501", "/events?after=-1",
                            "/events?after=x", "/events?type=nope", "/events?agent_id=42"})
        EXPECT_EQ(as("viewer", http::verb::get, bad).result_int(), 400) << bad;
    EXPECT_EQ(call(http::verb::get, "/events").result_int(), 401);
}

TEST_F(app_test, custom_events_are_published_by_operators) {
    auto a = create("evt-b");
    auto r = as(
        "operator", http::verb::post, "/events",
        nlohmann::json{{"type", "x_deployed"}, {"agent_id", a["id"]}, {"data", {{"v", 2}}}}.dump());
    ASSERT_EQ(r.result_int(), 201) << r.body();
    auto e = nlohmann::json::parse(r.body());
    EXPECT_EQ(e["seq"], 2);
    EXPECT_EQ(e["type"], "x_deployed");
    EXPECT_EQ(e["data"]["v"], 2);
    EXPECT_EQ(as("viewer", http::verb::post, "/events", R"({"type":"x_a","data":{}})").result_int(),
              403);
    for (const char* bad :
         {R"({"type":"agent_deleted","data":{}})", R"({"type":"x_","data":{}})",
          R"({"type":"x_A","data":{}})", R"({"type":"x_a"})", R"({"type":"x_a","data":[]})",
          R"({"type":"x_a","data":{},"extra":1})",
          R"({"type":"x_a","data":{},"agent_id":"00000000-0000-4000-8000-000000000000"})"}) {
        auto refused = as("operator", http::verb::post, "/events", bad);
        EXPECT_EQ(refused.result_int(), 422) << bad << " " << refused.body();
    }
    // A refused publication takes no number.
    auto next = nlohmann::json::parse(
        as("operator", http::verb::post, "/events", R"({"type":"x_next","data":{}})").body());
    EXPECT_EQ(next["seq"], 3);
}

TEST_F(app_test, tasks_run_retry_dead_letter_and_are_retried) {
    auto echo =
        as("operator", http::verb::post, "/tasks", R"({"type":"echo","payload":{"say":"hi"}})");
    ASSERT_EQ(echo.result_int(), 202) << echo.body();
    auto t = nlohmann::json::parse(echo.body());
    EXPECT_EQ(echo[http::field::location], "/tasks/" + t["id"].get<std::string>());
    EXPECT_EQ(t["status"], "queued");
    EXPECT_EQ(t["max_attempts"], 3);
    auto done = poll_task(t["id"], "succeeded");
    EXPECT_EQ(done["result"], (nlohmann::json{{"say", "hi"}}));
    EXPECT_EQ(done["attempts"], 1);

    auto flaky =
        nlohmann::json::parse(as("operator", http::verb::post, "/tasks",
                                 R"({"type":"flaky","payload":{"fail_times":2},"max_attempts":3})")
                                  .body());
    auto ok = poll_task(flaky["id"], "succeeded");
    EXPECT_EQ(ok["attempts"], 3);

    auto fail = nlohmann::json::parse(as("operator", http::verb::post, "/tasks",
                                         R"({"type":"fail","payload":{},"max_attempts":2})")
                                          .body());
    const std::string fid = fail["id"];
    auto dead = poll_task(fid, "dead_lettered");
    EXPECT_EQ(dead["attempts"], 2);
    EXPECT_EQ(dead["last_error"], "the fail task always fails");
    // The dead letter and the success are events.
    auto evs = nlohmann::json::parse(
        as("viewer", http::verb::get, "/events?type=task_dead_lettered").body());
    ASSERT_EQ(evs["items"].size(), 1U);
    EXPECT_EQ(evs["items"][0]["data"]["task_id"], fid);
    // Retry: only a dead-lettered task, only by its owner or an admin.
    EXPECT_EQ(as("operator", http::verb::post, "/tasks/" + t["id"].get<std::string>() + "/retry")
                  .result_int(),
              409);
    EXPECT_EQ(call(http::verb::post, "/tasks/" + fid + "/retry", {},
                   {{"Authorization", token("someone-else", "operator")}})
                  .result_int(),
              403);
    EXPECT_EQ(as("viewer", http::verb::post, "/tasks/" + fid + "/retry").result_int(), 403);
    EXPECT_EQ(as("operator", http::verb::post, "/tasks/00000000-0000-4000-8000-000000000000/retry")
                  .result_int(),
              404);
    auto again = as("operator", http::verb::post, "/tasks/" + fid + "/retry");
    ASSERT_EQ(again.result_int(), 202) << again.body();
    EXPECT_EQ(nlohmann::json::parse(again.body())["status"], "queued");
    EXPECT_EQ(poll_task(fid, "dead_lettered")["attempts"], 2);
    // Lists.
    auto dl =
        nlohmann::json::parse(as("viewer", http::verb::get, "/tasks?status=dead_lettered").body());
    ASSERT_EQ(dl["items"].size(), 1U);
    auto page = nlohmann::json::parse(as("viewer", http::verb::get, "/tasks?limit=2").body());
    ASSERT_EQ(page["items"].size(), 2U);
    ASSERT_TRUE(page["next_cursor"].is_string());
    auto rest =
        nlohmann::json::parse(as("viewer", http::verb::get,
                                 "/tasks?limit=2&cursor=" + page["next_cursor"].get<std::string>())
                                  .body());
    ASSERT_EQ(rest["items"].size(), 1U);
    EXPECT_TRUE(rest["next_cursor"].is_null());
    EXPECT_EQ(
        as("viewer", http::verb::get, "/tasks/00000000-0000-4000-8000-000000000000").result_int(),
        404);
    EXPECT_EQ(as("viewer", http::verb::get, "/tasks?status=done").result_int(), 400);
}

TEST_F(app_test, task_bodies_are_validated) {
    for (const char* bad :
         {R"({"type":"nope","payload":{}})", R"({"type":"noop"})",
          R"({"type":"noop","payload":[]})", R"({"type":"noop","payload":{},"max_attempts":0})",
          R"({"type":"noop","payload":{},"max_attempts":11})",
          R"({"type":"sleep","payload":{"ms":10001}})", R"({"type":"flaky","payload":{}})",
          R"({"type":"agent_health_check","payload":{"agent_id":"x"}})",
          R"({"type":"noop","payload":{},"extra":1})"}) {
        auto r = as("operator", http::verb::post, "/tasks", bad);
        EXPECT_EQ(r.result_int(), 422) << bad << " " << r.body();
    }
    EXPECT_EQ(
        as("viewer", http::verb::post, "/tasks", R"({"type":"noop","payload":{}})").result_int(),
        403);
}

TEST_F(app_test, a_full_queue_answers_503_and_drops_nothing) {
    // One worker, depth 3: a sleeping task holds the worker, two more wait, the fourth is refused.
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        auto r =
            as("operator", http::verb::post, "/tasks", R"({"type":"sleep","payload":{"ms":300}})");
        ASSERT_EQ(r.result_int(), 202) << r.body();
        ids.push_back(nlohmann::json::parse(r.body())["id"]);
    }
    auto full = as("operator", http::verb::post, "/tasks", R"({"type":"noop","payload":{}})");
    EXPECT_EQ(full.result_int(), 503);
    EXPECT_FALSE(full[http::field::retry_after].empty());
    for (const auto& id : ids)
        EXPECT_EQ(poll_task(id, "succeeded")["status"], "succeeded");
    EXPECT_EQ(
        as("operator", http::verb::post, "/tasks", R"({"type":"noop","payload":{}})").result_int(),
        202);
}

TEST_F(app_test, health_checks_move_the_agent) {
    auto a = nlohmann::json::parse(
        as("operator", http::verb::post, "/agents",
           R"({"name":"hc-a","version":"1.0.0","endpoint":"http://127.0.0.1:9/x"})")
            .body());
    const std::string id = a["id"];
    auto check = [&](int max_attempts) {
        auto r = as("operator", http::verb::post, "/tasks",
                    nlohmann::json{{"type", "agent_health_check"},
                                   {"payload", {{"agent_id", id}}},
                                   {"max_attempts", max_attempts}}
                        .dump());
        EXPECT_EQ(r.result_int(), 202) << r.body();
        return nlohmann::json::parse(r.body())["id"].get<std::string>();
    };
    auto agent_status = [&] {
        return nlohmann::json::parse(
            as("viewer", http::verb::get, "/agents/" + id).body())["status"];
    };
    poll_task(check(1), "succeeded");
    EXPECT_EQ(agent_status(), "active");
    ASSERT_FALSE(probes_.empty());
    EXPECT_EQ(probes_.back(), "http://127.0.0.1:9/x");
    probe_status_ = 500;
    auto failed = poll_task(check(1), "dead_lettered");
    EXPECT_EQ(failed["last_error"], "GET http://127.0.0.1:9/x/health answered 500");
    EXPECT_EQ(agent_status(), "degraded");
    probe_status_ = 200;
    poll_task(check(1), "succeeded");
    EXPECT_EQ(agent_status(), "active");
}

} // namespace
} // namespace agent::handlers
