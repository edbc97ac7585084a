#pragma once
// The calibration benchmark every micro-benchmark binary carries (see bench/check.py).
#include <benchmark/benchmark.h>

#include <cstdint>

namespace bench_calibration {

// A fixed amount of integer work, independent of this project's code: bench/check.py scales
// every other benchmark by it, so that a baseline recorded on one machine gates another.
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

} // namespace bench_calibration
