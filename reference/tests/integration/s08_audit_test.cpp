// PROTOCOL.md §8, audit: every mutating request and every 401/403 has one record, with the
// actor, the answer's status and the request's X-Request-ID; GET /audit is for admins and
// pages by seq; no token appears in the audit log, the answers or the request log; a record
// is committed with its change (a restart keeps both).
#include <filesystem>
#include <set>

#include "reference/tests/integration/agentd_fixture.hpp"

namespace agentd_test {
namespace {

using headers = std::vector<std::pair<std::string, std::string>>;

class audit : public agentd_suite {
protected:
    static headers as(const std::string& token, const std::string& request_id, bool json = false) {
        headers h{{"Authorization", bearer(token)}, {"X-Request-ID", request_id}};
        if (json) h.emplace_back("Content-Type", "application/json");
        return h;
    }
    /// Every record after `after`, paging with limit 100.
    static std::vector<nlohmann::json> records(conn& c, long long after = 0) {
        std::vector<nlohmann::json> out;
        while (true) {
            auto r = c.send("GET", "/audit?limit=100&after=" + std::to_string(after), {},
                            {{"Authorization", bearer(admin())}});
            EXPECT_EQ(r.status, 200) << r.body;
            auto page = r.json();
            if (page["items"].empty()) return out;
            for (auto& item : page["items"])
                out.push_back(item);
            after = page["next_after"].get<long long>();
        }
    }
    /// The records carrying request_id.
    static std::vector<nlohmann::json> with_id(const std::vector<nlohmann::json>& all,
                                               const std::string& request_id) {
        std::vector<nlohmann::json> out;
        for (const auto& r : all)
            if (r["request_id"] == request_id) out.push_back(r);
        return out;
    }
};

TEST_F(audit, is_declared) {
    conn c(agentd().port());
    auto d = c.send("GET", "/.well-known/agent-service").json();
    EXPECT_NE(std::find(d["features"].begin(), d["features"].end(), "audit"), d["features"].end());
}

TEST_F(audit, every_mutation_and_refusal_has_one_record_with_its_answer) {
    conn c(agentd().port());
    const auto name = unique_name("audited");
    const std::string body =
        R"({"name":")" + name +
        R"(","version":"1.0.0","capabilities":[{"name":"echo"}],"endpoint":"http://127.0.0.1:9/x"})";
    auto created = c.send("POST", "/agents", body, as(op(), "aud-create", true));
    ASSERT_EQ(created.status, 201);
    const auto id = created.json()["id"].get<std::string>();
    // Refused by the store (the name is taken) after the request was admitted.
    EXPECT_EQ(c.send("POST", "/agents", body, as(op(), "aud-dup", true)).status, 409);
    EXPECT_EQ(c.send("PUT", "/agents/" + id, body,
                     [&] {
                         auto h = as(op(), "aud-stale", true);
                         h.emplace_back("If-Match", "\"99\"");
                         return h;
                     }())
                  .status,
              412);
    EXPECT_EQ(c.send("PUT", "/agents/" + id + "/status", R"({"status":"active"})",
                     as(op(), "aud-status", true))
                  .status,
              200);
    EXPECT_EQ(c.send("POST", "/agents", "{", as(op(), "aud-badjson", true)).status, 400);
    EXPECT_EQ(c.send("DELETE", "/agents/" + id, {}, as(op2(), "aud-other-owner")).status, 403);
    EXPECT_EQ(c.send("GET", "/agents", {}, {{"X-Request-ID", "aud-anon"}}).status, 401);
    EXPECT_EQ(c.send("GET", "/audit", {}, as(viewer(), "aud-viewer")).status, 403);
    EXPECT_EQ(c.send("DELETE", "/agents/" + id, {}, as(op(), "aud-delete")).status, 204);
    // Not audited: reads, a method the route does not take.
    EXPECT_EQ(c.send("GET", "/agents/" + id, {}, as(viewer(), "aud-read")).status, 404);
    EXPECT_EQ(c.send("PATCH", "/agents", {}, as(op(), "aud-405")).status, 405);

    const auto all = records(c);
    struct expected {
        const char* request_id;
        const char* action;
        int status;
        std::string actor;
        std::string resource;
    };
    const std::vector<expected> want = {
        {"aud-create", "POST /agents", 201, "operator-1", "/agents/" + id},
        {"aud-dup", "POST /agents", 409, "operator-1", "/agents"},
        {"aud-stale", "PUT /agents/{id}", 412, "operator-1", "/agents/" + id},
        {"aud-status", "PUT /agents/{id}/status", 200, "operator-1", "/agents/" + id + "/status"},
        {"aud-badjson", "POST /agents", 400, "operator-1", "/agents"},
        {"aud-other-owner", "DELETE /agents/{id}", 403, "operator-2", "/agents/" + id},
        {"aud-anon", "GET /agents", 401, "", "/agents"},
        {"aud-viewer", "GET /audit", 403, "viewer-1", "/audit"},
        {"aud-delete", "DELETE /agents/{id}", 204, "operator-1", "/agents/" + id},
    };
    for (const auto& w : want) {
        auto found = with_id(all, w.request_id);
        ASSERT_EQ(found.size(), 1U) << w.request_id;
        const auto& r = found[0];
        EXPECT_EQ(r["action"], w.action) << w.request_id;
        EXPECT_EQ(r["status"], w.status) << w.request_id;
        if (w.actor.empty()) {
            EXPECT_TRUE(r["actor"].is_null()) << w.request_id;
        } else {
            EXPECT_EQ(r["actor"], w.actor) << w.request_id;
        }
        EXPECT_EQ(r["resource"], w.resource) << w.request_id;
        EXPECT_EQ(r["remote_addr"], "127.0.0.1");
        EXPECT_EQ(r["at"].get<std::string>().size(), 24U) << r["at"]; // 2026-01-02T03:04:05.678Z
    }
    EXPECT_TRUE(with_id(all, "aud-read").empty());
    EXPECT_TRUE(with_id(all, "aud-405").empty());
    // A generated request id is the one answered.
    auto anon = c.send("POST", "/tasks", "{}", {{"Content-Type", "application/json"}});
    ASSERT_EQ(anon.status, 401);
    auto generated = with_id(records(c), anon.header("x-request-id"));
    ASSERT_EQ(generated.size(), 1U);
    EXPECT_EQ(generated[0]["action"], "POST /tasks");
}

TEST_F(audit, tasks_and_events_are_audited_with_the_created_resource) {
    conn c(agentd().port());
    auto t =
        c.send("POST", "/tasks", R"({"type":"noop","payload":{}})", as(op(), "aud-task", true));
    ASSERT_EQ(t.status, 202);
    auto e = c.send("POST", "/events", R"({"type":"x_audit_note","data":{}})",
                    as(op(), "aud-event", true));
    ASSERT_EQ(e.status, 201);
    auto retry = c.send("POST", "/tasks/" + t.json()["id"].get<std::string>() + "/retry", {},
                        as(op(), "aud-retry"));
    EXPECT_EQ(retry.status, 409); // not dead-lettered
    const auto all = records(c);
    auto task = with_id(all, "aud-task");
    ASSERT_EQ(task.size(), 1U);
    EXPECT_EQ(task[0]["resource"], "/tasks/" + t.json()["id"].get<std::string>());
    EXPECT_EQ(task[0]["status"], 202);
    auto event = with_id(all, "aud-event");
    ASSERT_EQ(event.size(), 1U);
    EXPECT_EQ(event[0]["action"], "POST /events");
    auto r = with_id(all, "aud-retry");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0]["status"], 409);
}

TEST_F(audit, pages_by_seq_and_refuses_bad_parameters) {
    conn c(agentd().port());
    for (int i = 0; i < 3; ++i)
        c.send("GET", "/agents", {}, {{"X-Request-ID", "aud-page-" + std::to_string(i)}});
    const auto all = records(c);
    ASSERT_GE(all.size(), 3U);
    for (std::size_t i = 1; i < all.size(); ++i)
        EXPECT_EQ(all[i]["seq"].get<long long>(), all[i - 1]["seq"].get<long long>() + 1);
    const auto first = all[0]["seq"].get<long long>();
    auto page = c.send("GET", "/audit?limit=2&after=" + std::to_string(first), {},
                       {{"Authorization", bearer(admin())}})
                    .json();
    ASSERT_EQ(page["items"].size(), 2U);
    EXPECT_EQ(page["items"][0]["seq"], first + 1);
    EXPECT_EQ(page["next_after"], first + 2);
    for (const char* bad :
         {"/audit?after=-1", "/audit?after=x", "/audit?limit=0", "/audit?limit=100000"}) {
        auto r = c.send("GET", bad, {}, {{"Authorization", bearer(admin())}});
        EXPECT_EQ(r.status, 400) << bad;
    }
    EXPECT_EQ(c.send("GET", "/audit", {}, {{"Authorization", bearer(op())}}).status, 403);
    EXPECT_EQ(c.send("GET", "/audit").status, 401);
}

TEST_F(audit, no_token_appears_in_the_audit_log_the_answers_or_the_request_log) {
    conn c(agentd().port());
    const auto forged = mint({{"sub", "aud-forger"}, {"roles", {"admin"}}, {"exp", 4102444800}},
                             "not-the-secret-not-the-secret-not-the-secret");
    std::vector<std::string> tokens = {op(), admin(), viewer(), forged};
    std::string answers;
    for (const auto& t : tokens) {
        answers += c.send("POST", "/agents", R"({"name":"x"})", as(t, "aud-secret", true)).body;
        answers += c.send("GET", "/audit", {}, as(t, "aud-secret")).body;
    }
    std::string audit_text;
    for (const auto& r : records(c))
        audit_text += r.dump();
    const auto log = agentd().log();
    for (const auto& t : tokens) {
        const auto signature = t.substr(t.rfind('.') + 1);
        EXPECT_EQ(answers.find(signature), std::string::npos);
        EXPECT_EQ(audit_text.find(signature), std::string::npos);
        EXPECT_EQ(log.find(signature), std::string::npos);
    }
    EXPECT_EQ(audit_text.find(agentd().secret()), std::string::npos);
    EXPECT_EQ(log.find(agentd().secret()), std::string::npos);
}

TEST(audit_durability, records_are_kept_with_their_changes_across_a_restart) {
    const auto dir = temp_dir();
    std::string id;
    {
        agentd_process p({}, dir + "/data");
        conn c(p.port());
        auto r = c.send(
            "POST", "/agents",
            R"({"name":"kept-audited","version":"1.0.0","capabilities":[{"name":"echo"}],"endpoint":"http://127.0.0.1:9/x"})",
            {{"Authorization", "Bearer " + p.token("keeper", {"operator"})},
             {"Content-Type", "application/json"},
             {"X-Request-ID", "aud-kept"}});
        ASSERT_EQ(r.status, 201);
        id = r.json()["id"];
        p.kill_hard();
    }
    agentd_process again({}, dir + "/data");
    conn c(again.port());
    auto page = c.send("GET", "/audit?limit=100", {},
                       {{"Authorization", "Bearer " + again.token("root", {"admin"})}})
                    .json();
    ASSERT_EQ(page["items"].size(), 1U);
    EXPECT_EQ(page["items"][0]["request_id"], "aud-kept");
    EXPECT_EQ(page["items"][0]["resource"], "/agents/" + id);
    again.terminate();
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace agentd_test
