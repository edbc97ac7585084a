// Hot paths of agentd, measured in-process (no sockets): request validation, token
// verification, and whole requests through the handler pipeline.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <future>
#include <random>

#include "reference/handlers/app.hpp"
#include "reference/storage/sqlite_store.hpp"
#include "reference/tests/support/mint.hpp"
#include "reference/util/base64url.hpp"

namespace {

using namespace agent;
namespace http = handlers::http;

const std::string secret = "benchmark-secret-0123456789abcdef0123";

std::string mint(const nlohmann::json& claims) {
    return test_support::mint_hs256(claims, secret);
}

std::string bearer(const agent::clock& clk, const std::string& role) {
    auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clk.now().time_since_epoch()).count();
    return "Bearer " + mint({{"sub", "bench"}, {"roles", {role}}, {"exp", now + 3600}});
}

void BM_models_parse_agent_input(benchmark::State& state) {
    auto body = nlohmann::json::parse(
        R"({"name":"bench-agent","version":"1.2.3-rc.1","endpoint":"http://127.0.0.1:9000/x",
        "capabilities":[{"name":"summarize","version":"1","description":"Summarises text"},{"name":"translate"}],
        "metadata":{"team":"core","tier":"gold"}})");
    for (auto _ : state)
        benchmark::DoNotOptimize(models::parse_agent_input(body));
}
BENCHMARK(BM_models_parse_agent_input);

// A full HS256 verification: split, base64url, HMAC-SHA256, two JSON parses, claims.
void BM_auth_verify_hs256(benchmark::State& state) {
    system_clock_source clk;
    jwt_verifier v(
        auth_settings{secret, {}, {}, {}, {}, std::chrono::seconds(30), 8192, /*cache=*/false},
        clk);
    auto token = bearer(clk, "viewer");
    for (auto _ : state) {
        auto r = v.verify(token);
        if (!r) state.SkipWithError("the token was refused");
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_auth_verify_hs256);

// The common case: a client reusing a token that verified before (a cache hit; the time
// claims are still checked).
void BM_auth_verify_hs256_cached(benchmark::State& state) {
    system_clock_source clk;
    jwt_verifier v(auth_settings{secret, {}, {}, {}, {}, std::chrono::seconds(30), 8192}, clk);
    auto token = bearer(clk, "viewer");
    if (!v.verify(token)) state.SkipWithError("the token was refused");
    for (auto _ : state) {
        auto r = v.verify(token);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_auth_verify_hs256_cached);

// The whole application without sockets.
struct app_fixture {
    app_fixture()
        : dir(std::filesystem::temp_directory_path() /
              ("bench-" + std::to_string(std::random_device{}()))),
          store((std::filesystem::create_directories(dir),
                 sqlite_settings{(dir / "db").string(), "NORMAL"}),
                clk),
          events(store, clk), agents(store, clk, events),
          tasks(store, clk, rnd, events, agents, task_settings{},
                [](const std::string&) -> util::expected<int, std::string> { return 200; }),
          invoker(agents, events, store, clk, rnd, endpoint_allowlist({"127.0.0.1:*"}),
                  invoke_settings{}),
          verifier(auth_settings{secret, {}, {}, {}, {}, std::chrono::seconds(30), 8192}, clk),
          log(2, false),
          app({cfg, clk, agents, events, tasks, invoker, store, verifier, life, log}) {
        life.ready = true;
    }
    ~app_fixture() {
        store.stop();
        std::filesystem::remove_all(dir);
    }
    handlers::response call(handlers::request req) {
        req.set(http::field::host, "bench");
        std::promise<handlers::response> p;
        auto f = p.get_future();
        app.handle(std::move(req), "127.0.0.1",
                   [&p](handlers::response r) { p.set_value(std::move(r)); });
        return f.get();
    }
    config cfg;
    system_clock_source clk;
    std::filesystem::path dir;
    sqlite_store store;
    event_log events;
    registry agents;
    seeded_random rnd{1};
    task_queue tasks;
    invoke_service invoker;
    jwt_verifier verifier;
    lifecycle_state life;
    log_sink log;
    handlers::app app;
};

void BM_app_get_health(benchmark::State& state) {
    app_fixture f;
    handlers::request req{http::verb::get, "/health", 11};
    if (f.call(req).result_int() != 200) state.SkipWithError("GET /health did not answer 200");
    for (auto _ : state)
        benchmark::DoNotOptimize(f.call(req));
}
BENCHMARK(BM_app_get_health);

void BM_app_get_agent(benchmark::State& state) {
    app_fixture f;
    handlers::request post{http::verb::post, "/agents", 11};
    post.set(http::field::authorization, bearer(f.clk, "operator"));
    post.set(http::field::content_type, "application/json");
    post.body() = R"({"name":"bench","version":"1.0.0","capabilities":[{"name":"x"}]})";
    auto created = nlohmann::json::parse(f.call(post).body());
    handlers::request get{http::verb::get, "/agents/" + created["id"].get<std::string>(), 11};
    get.set(http::field::authorization, bearer(f.clk, "viewer"));
    if (f.call(get).result_int() != 200) state.SkipWithError("GET /agents/{id} did not answer 200");
    for (auto _ : state)
        benchmark::DoNotOptimize(f.call(get));
}
BENCHMARK(BM_app_get_agent);

void BM_app_post_agent_sequential(benchmark::State& state) {
    app_fixture f;
    handlers::request post{http::verb::post, "/agents", 11};
    post.set(http::field::authorization, bearer(f.clk, "operator"));
    post.set(http::field::content_type, "application/json");
    std::uint64_t i = 0;
    for (auto _ : state) {
        post.body() = R"({"name":"b)" + std::to_string(i++) + R"(","version":"1.0.0"})";
        auto r = f.call(post);
        if (r.result_int() != 201) {
            state.SkipWithError("POST /agents did not answer 201");
            break;
        }
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_app_post_agent_sequential)->Unit(benchmark::kMicrosecond);

} // namespace
