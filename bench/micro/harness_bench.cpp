// Hot paths of agentcheck load: recording a latency, reading a percentile, rendering a request.
#include <benchmark/benchmark.h>

#include <random>

#include "conformance/load/engine.hpp"
#include "conformance/load/histogram.hpp"
#include "conformance/load/scenario.hpp"

namespace {

using namespace agentcheck;

// The same fixed integer work as in the agent's benchmarks (see bench/check.py).
void BM_calibration(benchmark::State& state) {
    for (auto _ : state) {
        std::uint64_t x = 88172645463325252ULL;
        for (int i = 0; i < 4096; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        benchmark::DoNotOptimize(x);
    }
}
BENCHMARK(BM_calibration);

void BM_histogram_record(benchmark::State& state) {
    auto h = load::latency_histogram();
    std::mt19937_64 rng(1);
    std::lognormal_distribution<double> latency(5.5, 1.0); // around 250 us, a long tail
    std::vector<std::int64_t> values(4096);
    for (auto& v : values)
        v = static_cast<std::int64_t>(latency(rng));
    std::size_t i = 0;
    for (auto _ : state)
        h.record(values[i++ & 4095]);
    benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_histogram_record);

void BM_histogram_p99(benchmark::State& state) {
    auto h = load::latency_histogram();
    std::mt19937_64 rng(1);
    std::lognormal_distribution<double> latency(5.5, 1.0);
    for (int i = 0; i < 100000; ++i)
        h.record(static_cast<std::int64_t>(latency(rng)));
    for (auto _ : state)
        benchmark::DoNotOptimize(h.value_at_percentile(99));
}
BENCHMARK(BM_histogram_p99);

void BM_load_render_request(benchmark::State& state) {
    auto sc = load::parse_scenario(nlohmann::json::parse(R"({"operations": [
        {"name": "create", "method": "POST", "path": "/agents", "identity": "operator",
         "body": {"name": "load-{uniq}", "version": "1.0.0"}, "expect": [201]}]})"));
    const auto target = *client::target_url::parse("http://127.0.0.1:8080");
    const load::compiled_request req(target, sc.operations[0], std::string(180, 't'));
    std::string out;
    for (auto _ : state) {
        req.render(out, "", "0123456789abcdef");
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_load_render_request);

} // namespace
