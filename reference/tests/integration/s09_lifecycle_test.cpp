// PROTOCOL.md §9: drain on SIGTERM, durability across SIGKILL; start-up errors.
#include "reference/tests/integration/agentd_fixture.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace agentd_test {
namespace {

std::string bearer_for(const agentd_process& p, const std::string& sub, const std::string& role) {
    return "Bearer " + p.token(sub, {role});
}

TEST(lifecycle, sigterm_drains_then_exits_zero) {
    agentd_process p({"--drain-timeout-ms", "5000"});
    conn idle(p.port()); // an idle keep-alive connection: closed by the drain
    conn busy(p.port());
    EXPECT_EQ(busy.send("GET", "/readyz").status, 200);
    ::kill(p.pid(), SIGTERM);
    // The kept-alive connection still gets an answer, and readiness is now 503.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(idle.closed_within(std::chrono::seconds(3)));
    EXPECT_EQ(p.terminate(), 0);
}

TEST(lifecycle, readyz_turns_503_while_draining) {
    agentd_process p({"--drain-timeout-ms", "3000"});
    conn c(p.port());
    // Hold a request open: a partial head keeps the session busy while the drain starts.
    c.write_raw("GET /readyz HTTP/1.1\r\nHost: x\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::kill(p.pid(), SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    c.write_raw("\r\n");
    auto r = c.read();
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_EQ(p.terminate(), 0);
}

TEST(lifecycle, acknowledged_writes_survive_sigkill) {
    auto dir = temp_dir();
    std::vector<std::string> ids;
    {
        agentd_process p({}, dir + "/data");
        const auto auth = bearer_for(p, "owner", "operator");
        // Many concurrent writers so that commits are grouped; every 201 must survive.
        std::vector<std::thread> writers;
        std::mutex m;
        for (int w = 0; w < 4; ++w) {
            writers.emplace_back([&, w] {
                conn c(p.port());
                for (int i = 0; i < 25; ++i) {
                    auto body = nlohmann::json{
                        {"name", "w" + std::to_string(w) + "-n" + std::to_string(i)},
                        {"version",
                         "1.0.0"}}.dump();
                    auto r =
                        c.send("POST", "/agents", body,
                               {{"Authorization", auth}, {"Content-Type", "application/json"}});
                    if (r.status == 201) {
                        std::lock_guard lock(m);
                        ids.push_back(r.json()["id"]);
                    }
                }
            });
        }
        for (auto& t : writers)
            t.join();
        p.kill_hard();
    }
    ASSERT_EQ(ids.size(), 100U);
    agentd_process again({}, dir + "/data");
    conn c(again.port());
    const auto auth = bearer_for(again, "v", "viewer");
    for (const auto& id : ids)
        EXPECT_EQ(c.send("GET", "/agents/" + id, {}, {{"Authorization", auth}}).status, 200) << id;
    auto list = c.send("GET", "/agents?limit=500", {}, {{"Authorization", auth}}).json();
    EXPECT_EQ(list["items"].size(), 100U);
    again.terminate();
    std::filesystem::remove_all(dir);
}

TEST(lifecycle, state_survives_restart_with_revisions_and_idempotency) {
    auto dir = temp_dir();
    std::string id;
    std::string secret;
    const std::string body = nlohmann::json{{"name", "keep-me"}, {"version", "1.0.0"}}.dump();
    {
        agentd_process p({}, dir + "/data");
        conn c(p.port());
        auto auth = bearer_for(p, "owner", "operator");
        auto r = c.send("POST", "/agents", body,
                        {{"Authorization", auth},
                         {"Content-Type", "application/json"},
                         {"Idempotency-Key", "k1"}});
        ASSERT_EQ(r.status, 201);
        id = r.json()["id"];
        r = c.send("PUT", "/agents/" + id + "/status", R"({"status":"active"})",
                   {{"Authorization", auth}, {"Content-Type", "application/json"}});
        ASSERT_EQ(r.status, 200);
        p.terminate();
    }
    agentd_process p({}, dir + "/data");
    conn c(p.port());
    auto auth = bearer_for(p, "owner", "operator");
    auto r = c.send("GET", "/agents/" + id, {}, {{"Authorization", auth}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["status"], "active");
    EXPECT_EQ(r.json()["revision"], 2);
    r = c.send(
        "POST", "/agents", body,
        {{"Authorization", auth}, {"Content-Type", "application/json"}, {"Idempotency-Key", "k1"}});
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.header("idempotent-replayed"), "true");
    EXPECT_EQ(r.json()["id"], id);
    p.terminate();
    std::filesystem::remove_all(dir);
}

TEST(lifecycle, bad_option_exits_2_naming_it) {
    auto [code, out] = run_agentd({"--max-body-bytes", "lots"});
    EXPECT_EQ(code, 2);
    EXPECT_NE(out.find("--max-body-bytes"), std::string::npos) << out;
    std::tie(code, out) = run_agentd({"--no-such-flag"});
    EXPECT_EQ(code, 2);
    EXPECT_NE(out.find("--no-such-flag"), std::string::npos) << out;
}

TEST(lifecycle, missing_key_exits_2) {
    auto [code, out] = run_agentd({"--port", "0"});
    EXPECT_EQ(code, 2);
    EXPECT_NE(out.find("JWT"), std::string::npos) << out;
}

TEST(lifecycle, secret_from_environment_and_help) {
    auto [code, out] = run_agentd({"--help"});
    EXPECT_EQ(code, 0);
    EXPECT_NE(out.find("--max-header-bytes"), std::string::npos);
    auto dir = temp_dir();
    auto [c2, o2] =
        run_agentd({"--port", "0", "--data-dir", dir, "--drain-timeout-ms", "50", "--version"},
                   {"AGENT_JWT_SECRET=0123456789abcdef0123456789abcdef"});
    EXPECT_EQ(c2, 0) << o2;
    EXPECT_NE(o2.find("0.1.0"), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(lifecycle, unusable_data_dir_fails_start_up) {
    auto dir = temp_dir();
    std::ofstream(dir + "/file") << "x";
    auto [code, out] = run_agentd({"--port", "0", "--data-dir", dir + "/file/sub"},
                                  {"AGENT_JWT_SECRET=0123456789abcdef0123456789abcdef"});
    EXPECT_NE(code, 0);
    EXPECT_NE(out.find("start-up failed"), std::string::npos) << out;
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace agentd_test
