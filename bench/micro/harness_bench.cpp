// Hot paths of agentcheck load: recording a latency, reading a percentile, rendering a request.
#include <benchmark/benchmark.h>

#include "bench/micro/calibration.hpp"

#include <random>

#include "conformance/load/engine.hpp"
#include "conformance/load/histogram.hpp"
#include "conformance/load/scenario.hpp"

namespace {

using namespace agentcheck;

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
