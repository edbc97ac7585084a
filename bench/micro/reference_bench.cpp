// Hot paths of agentd, measured in-process (no sockets): request validation, token
// verification, and whole requests through the handler pipeline.
#include <benchmark/benchmark.h>

#include "bench/micro/calibration.hpp"

#include <malloc.h>

#include <filesystem>
#include <future>
#include <random>

#include "reference/handlers/app.hpp"
#include "reference/handlers/problem.hpp"
#include "reference/handlers/router.hpp"
#include "reference/server/wire.hpp"
#include "reference/storage/sqlite_store.hpp"
#include "reference/tests/support/mint.hpp"
#include "reference/util/base64url.hpp"
#include "reference/util/time.hpp"
#include "reference/util/trace.hpp"
#include "reference/util/uuid.hpp"

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

void BM_router_match(benchmark::State& state) {
    const std::string targets[] = {"/health",
                                   "/agents/0195f1a2-7b3c-7d4e-8f60-123456789abc",
                                   "/agents?limit=20&cursor=YTE6MTA",
                                   "/events/stream?after=5",
                                   "/tasks/0195f1a2-7b3c-7d4e-8f60-123456789abc/retry",
                                   "/nope"};
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(handlers::match_route(targets[i++ % std::size(targets)]));
}
BENCHMARK(BM_router_match);

void BM_problem_render(benchmark::State& state) {
    const error err{errc::validation_failed,
                    "the request body breaks the agent schema",
                    {{"/name", "must match ^[a-z0-9][a-z0-9-]{0,62}$"},
                     {"/version", "must be a semantic version"}}};
    for (auto _ : state)
        benchmark::DoNotOptimize(handlers::make_problem(err, 11, "/agents", "req-1"));
}
BENCHMARK(BM_problem_render);

void BM_wire_serialize_head(benchmark::State& state) {
    handlers::response res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.set("X-Request-ID", "0123456789abcdef0123456789abcdef");
    res.set("X-Content-Type-Options", "nosniff");
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::etag, "\"3\"");
    res.body() = std::string(300, 'x');
    res.prepare_payload();
    for (auto _ : state)
        benchmark::DoNotOptimize(server::serialize_head(res));
}
BENCHMARK(BM_wire_serialize_head);

void BM_models_agent_to_json_text(benchmark::State& state) {
    models::agent a;
    a.id = "0195f1a2-7b3c-7d4e-8f60-123456789abc";
    a.fields.name = "bench-agent";
    a.fields.version = "1.2.3";
    a.fields.capabilities = {{"summarize", "1", "Summarises text"}, {"translate", {}, {}}};
    a.fields.metadata = {{"team", "core"}, {"tier", "gold"}};
    a.owner = "bench";
    a.created_at = a.updated_at = "2026-12-02T07:00:00.000Z";
    for (auto _ : state)
        benchmark::DoNotOptimize(models::to_json_text(a));
}
BENCHMARK(BM_models_agent_to_json_text);

// One group commit of 64 agent inserts with their events (synchronous=NORMAL: the batch's
// CPU, not the disk's fsync).
void BM_storage_write_batch_64(benchmark::State& state) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("bench-store-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    system_clock_source clk;
    {
        sqlite_store store(sqlite_settings{(dir / "db").string(), "NORMAL"}, clk);
        std::uint64_t n = 0;
        for (auto _ : state) {
            std::vector<std::promise<void>> done(64);
            for (auto& d : done) {
                models::agent a;
                a.id = util::new_time_ordered_uuid(util::unix_ms(clk.now()));
                a.fields.name = "b" + std::to_string(n++);
                a.fields.version = "1.0.0";
                auto e = std::make_shared<models::event>();
                e->id = util::new_uuid();
                e->type = "agent_registered";
                e->agent_id = a.id;
                store.submit({[a, e](store_txn& tx) mutable -> std::optional<error> {
                                  if (auto err = tx.insert_agent(a)) return err;
                                  return tx.append_event(*e);
                              },
                              [&d](const std::optional<error>&) { d.set_value(); }});
            }
            for (auto& d : done)
                d.get_future().wait();
        }
        store.stop();
    }
    std::filesystem::remove_all(dir);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 64);
}
BENCHMARK(BM_storage_write_batch_64)->Unit(benchmark::kMicrosecond);

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

// One answer's metrics: the series found in this thread's cache, one histogram observation.
void BM_metrics_observe_request(benchmark::State& state) {
    metrics m;
    double t = 0.0001;
    for (auto _ : state) {
        m.observe_request("GET", "/agents/{id}", 200, t);
        t = t < 1 ? t * 1.5 : 0.0001;
    }
}
BENCHMARK(BM_metrics_observe_request);

// A request's span: its traceparent read and a child made (two ids drawn, one header written).
void BM_trace_new_span(benchmark::State& state) {
    const std::string incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    for (auto _ : state) {
        auto s = util::new_span(incoming);
        benchmark::DoNotOptimize(s.header());
    }
}
BENCHMARK(BM_trace_new_span);

// One request's token from a bucket that exists (the common case: a principal seen before).
void BM_rate_limiter_take(benchmark::State& state) {
    system_clock_source clk;
    rate_limiter rl({1e9, 1000000000, 100000}, clk);
    const std::string principal = "sub agentcheck-operator-0123456789";
    for (auto _ : state)
        benchmark::DoNotOptimize(rl.take(principal));
}
BENCHMARK(BM_rate_limiter_take);

// A million distinct principals against the default bound of 100,000 buckets: the heap the
// limiter holds afterwards (malloc's own count), per bucket kept and in all.
void BM_rate_limiter_million_principals(benchmark::State& state) {
    system_clock_source clk;
    for (auto _ : state) {
        const auto before = ::mallinfo2().uordblks;
        auto rl = std::make_unique<rate_limiter>(rate_limit_settings{100, 200, 100000}, clk);
        for (int i = 0; i < 1000000; ++i)
            benchmark::DoNotOptimize(rl->take("sub principal-" + std::to_string(i)));
        const auto held = static_cast<double>(::mallinfo2().uordblks - before);
        state.counters["buckets"] = static_cast<double>(rl->size());
        state.counters["heap_MB"] = held / 1e6;
        state.counters["bytes_per_bucket"] = held / static_cast<double>(rl->size());
    }
}
BENCHMARK(BM_rate_limiter_million_principals)->Unit(benchmark::kMillisecond)->Iterations(1);

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
          app({cfg, clk, agents, events, tasks, invoker, store, verifier, life, log, &stats}) {
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
    metrics stats; // as agentd keeps them: every answer is observed
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
