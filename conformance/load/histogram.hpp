#pragma once
// A log-linear latency histogram with HdrHistogram's semantics (Gil Tene's design, as in
// HdrHistogram_c): values from `lowest` to `highest` are kept with `digits` significant
// decimal digits, so every recorded value is known to within 1 part in 10^digits; counts
// are exact, histograms merge by adding counts (two shards' merged histogram is exactly the
// histogram of all their values), and percentiles are read from the counts — never averaged.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentcheck::load {

class histogram {
public:
    /// Tracks integers from lowest (>= 1) to highest (>= 2 * lowest) with `digits` (1..5)
    /// significant decimal digits. Throws std::invalid_argument otherwise.
    explicit histogram(std::int64_t lowest = 1, std::int64_t highest = 3'600'000'000,
                       int digits = 3);

    /// Records a value `count` times; a value outside [0, highest] is clamped to the range and
    /// counted in clamped().
    void record(std::int64_t value, std::uint64_t count = 1) noexcept;
    /// Adds every count of other (same lowest, highest and digits; else std::invalid_argument).
    void merge(const histogram& other);
    /// Forgets every value.
    void reset() noexcept;

    [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
    [[nodiscard]] std::uint64_t clamped() const noexcept { return clamped_; }
    [[nodiscard]] std::int64_t min() const noexcept;
    [[nodiscard]] std::int64_t max() const noexcept;
    [[nodiscard]] double mean() const noexcept;
    [[nodiscard]] double stddev() const noexcept;
    /// The value below or at which `percentile` (0..100) of the recorded values fall: the
    /// highest value equivalent to the recorded value at rank ceil(p/100 * count) (as
    /// HdrHistogram reports it). 0 when empty.
    [[nodiscard]] std::int64_t value_at_percentile(double percentile) const noexcept;

    /// The smallest and largest values that share v's bucket (v is stored as any of them).
    [[nodiscard]] std::int64_t lowest_equivalent(std::int64_t v) const noexcept;
    [[nodiscard]] std::int64_t highest_equivalent(std::int64_t v) const noexcept;
    /// True when a and b are stored in the same bucket.
    [[nodiscard]] bool equivalent(std::int64_t a, std::int64_t b) const noexcept {
        return lowest_equivalent(a) == lowest_equivalent(b);
    }

    [[nodiscard]] std::int64_t lowest() const noexcept { return lowest_; }
    [[nodiscard]] std::int64_t highest() const noexcept { return highest_; }
    [[nodiscard]] int digits() const noexcept { return digits_; }

    /// One row of the percentile distribution (HdrHistogram's "percentile distribution":
    /// values at percentiles that halve the remaining tail, 1/(1-p) for log-scale plots).
    struct percentile_row {
        double percentile;
        std::int64_t value;
        std::uint64_t count_at_or_below;
    };
    /// Rows for p = 0, 50, 75, 87.5, … up to 100, `ticks_per_half` rows per halving.
    [[nodiscard]] std::vector<percentile_row> distribution(int ticks_per_half = 5) const;

    /// {"lowest","highest","digits","count","clamped","counts":[[index,count],…]} (sparse;
    /// index is the bucket index of this layout). from_json is its inverse; nullopt and a reason
    /// for a document that is not one.
    [[nodiscard]] nlohmann::json to_json() const;
    static std::optional<histogram> from_json(const nlohmann::json& j, std::string* why = nullptr);

private:
    [[nodiscard]] std::size_t index_of(std::int64_t v) const noexcept;
    [[nodiscard]] std::int64_t value_at_index(std::size_t i) const noexcept;
    [[nodiscard]] std::int64_t next_non_equivalent(std::int64_t v) const noexcept;

    std::int64_t lowest_, highest_;
    int digits_;
    int unit_magnitude_ = 0;
    int sub_bucket_count_magnitude_ = 0;
    int sub_bucket_half_count_magnitude_ = 0;
    std::int64_t sub_bucket_count_ = 0;
    std::int64_t sub_bucket_half_count_ = 0;
    std::int64_t sub_bucket_mask_ = 0;
    int bucket_count_ = 0;
    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    std::uint64_t clamped_ = 0;
    std::int64_t min_ = INT64_MAX;
    std::int64_t max_ = 0;
};

} // namespace agentcheck::load
