#include "conformance/load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace agentcheck::load {
namespace {

constexpr int max_digits = 5;
constexpr double percent = 100.0;

int floor_log2(std::uint64_t v) noexcept {
    return 63 - std::countl_zero(v);
}

} // namespace

histogram::histogram(std::int64_t lowest, std::int64_t highest, int digits)
    : lowest_(lowest), highest_(highest), digits_(digits) {
    if (lowest < 1) throw std::invalid_argument("histogram: lowest must be at least 1");
    if (highest / 2 < lowest) // not highest < 2 * lowest, which overflows for a huge lowest
        throw std::invalid_argument("histogram: highest must be at least twice lowest");
    if (digits < 1 || digits > max_digits)
        throw std::invalid_argument("histogram: digits must be from 1 to 5");
    // The layout of HdrHistogram_c's hdr_init.
    const auto single_unit_resolution = static_cast<std::uint64_t>(2 * std::pow(10, digits));
    sub_bucket_count_magnitude_ =
        static_cast<int>(std::ceil(std::log2(static_cast<double>(single_unit_resolution))));
    sub_bucket_half_count_magnitude_ = std::max(sub_bucket_count_magnitude_, 1) - 1;
    unit_magnitude_ = floor_log2(static_cast<std::uint64_t>(lowest));
    // As hdr_calculate_bucket_config: beyond this, the bucket masks shift out of 64 bits.
    if (unit_magnitude_ + sub_bucket_half_count_magnitude_ > 61)
        throw std::invalid_argument("histogram: lowest is too large for this many digits");
    sub_bucket_count_ = std::int64_t{1} << (sub_bucket_half_count_magnitude_ + 1);
    sub_bucket_half_count_ = sub_bucket_count_ / 2;
    sub_bucket_mask_ = (sub_bucket_count_ - 1) << unit_magnitude_;
    std::int64_t smallest_untrackable = sub_bucket_count_ << unit_magnitude_;
    bucket_count_ = 1;
    while (smallest_untrackable <= highest) {
        if (smallest_untrackable > std::numeric_limits<std::int64_t>::max() / 2) {
            ++bucket_count_;
            break;
        }
        smallest_untrackable <<= 1;
        ++bucket_count_;
    }
    counts_.assign(static_cast<std::size_t>((bucket_count_ + 1) * sub_bucket_half_count_), 0);
}

std::size_t histogram::index_of(std::int64_t v) const noexcept {
    const auto u = static_cast<std::uint64_t>(v | sub_bucket_mask_);
    const int pow2ceiling = 64 - std::countl_zero(u);
    const int bucket = pow2ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
    const std::int64_t sub_bucket = v >> (bucket + unit_magnitude_);
    const std::int64_t base = static_cast<std::int64_t>(bucket + 1)
                              << sub_bucket_half_count_magnitude_;
    return static_cast<std::size_t>(base + (sub_bucket - sub_bucket_half_count_));
}

std::int64_t histogram::value_at_index(std::size_t i) const noexcept {
    auto bucket = static_cast<std::int64_t>(i >> sub_bucket_half_count_magnitude_) - 1;
    auto sub_bucket =
        static_cast<std::int64_t>(i & static_cast<std::size_t>(sub_bucket_half_count_ - 1)) +
        sub_bucket_half_count_;
    if (bucket < 0) {
        sub_bucket -= sub_bucket_half_count_;
        bucket = 0;
    }
    return sub_bucket << (bucket + unit_magnitude_);
}

std::int64_t histogram::lowest_equivalent(std::int64_t v) const noexcept {
    return value_at_index(index_of(std::clamp<std::int64_t>(v, 0, highest_)));
}

std::int64_t histogram::next_non_equivalent(std::int64_t v) const noexcept {
    v = std::clamp<std::int64_t>(v, 0, highest_);
    const auto u = static_cast<std::uint64_t>(v | sub_bucket_mask_);
    const int pow2ceiling = 64 - std::countl_zero(u);
    const int bucket = pow2ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
    const std::int64_t sub_bucket = v >> (bucket + unit_magnitude_);
    const int adjusted = sub_bucket >= sub_bucket_count_ ? bucket + 1 : bucket;
    return lowest_equivalent(v) + (std::int64_t{1} << (unit_magnitude_ + adjusted));
}

std::int64_t histogram::highest_equivalent(std::int64_t v) const noexcept {
    return next_non_equivalent(v) - 1;
}

void histogram::record(std::int64_t value, std::uint64_t count) noexcept {
    if (count == 0) return;
    if (value < 0 || value > highest_) {
        clamped_ += count;
        value = std::clamp<std::int64_t>(value, 0, highest_);
    }
    counts_[index_of(value)] += count;
    total_ += count;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
}

void histogram::merge(const histogram& other) {
    if (other.lowest_ != lowest_ || other.highest_ != highest_ || other.digits_ != digits_)
        throw std::invalid_argument("histogram: cannot merge histograms of different layouts");
    for (std::size_t i = 0; i < counts_.size(); ++i)
        counts_[i] += other.counts_[i];
    total_ += other.total_;
    clamped_ += other.clamped_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void histogram::reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = clamped_ = 0;
    min_ = INT64_MAX;
    max_ = 0;
}

std::int64_t histogram::min() const noexcept {
    return total_ ? min_ : 0;
}
std::int64_t histogram::max() const noexcept {
    return max_;
}

double histogram::mean() const noexcept {
    if (!total_) return 0;
    double sum = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        if (!counts_[i]) continue;
        const auto v = value_at_index(i);
        const auto median_equivalent = (v + highest_equivalent(v)) / 2;
        sum += static_cast<double>(median_equivalent) * static_cast<double>(counts_[i]);
    }
    return sum / static_cast<double>(total_);
}

double histogram::stddev() const noexcept {
    if (!total_) return 0;
    const double m = mean();
    double sq = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        if (!counts_[i]) continue;
        const auto v = value_at_index(i);
        const double d = static_cast<double>((v + highest_equivalent(v)) / 2) - m;
        sq += d * d * static_cast<double>(counts_[i]);
    }
    return std::sqrt(sq / static_cast<double>(total_));
}

std::int64_t histogram::value_at_percentile(double p) const noexcept {
    if (!total_) return 0;
    p = std::clamp(p, 0.0, percent);
    // Nearest rank: the smallest value with at least ceil(p% of count) values at or below it.
    // The small allowance keeps 99.9% of 1000 at rank 999 despite binary fractions.
    auto rank =
        static_cast<std::uint64_t>(std::ceil(p / percent * static_cast<double>(total_) - 1e-9));
    rank = std::clamp<std::uint64_t>(rank, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::min(highest_equivalent(value_at_index(i)), max_);
    }
    return max_;
}

std::vector<histogram::percentile_row> histogram::distribution(int ticks_per_half) const {
    std::vector<percentile_row> rows;
    if (!total_) return rows;
    ticks_per_half = std::max(ticks_per_half, 1);
    auto count_at_or_below = [this](std::int64_t v) {
        std::uint64_t n = 0;
        const auto last = index_of(std::clamp<std::int64_t>(v, 0, highest_));
        for (std::size_t i = 0; i <= last; ++i)
            n += counts_[i];
        return n;
    };
    double p = 0;
    while (true) {
        const auto v = value_at_percentile(p);
        const auto n = count_at_or_below(v);
        rows.push_back({p, v, n});
        if (n >= total_ || p >= percent) break;
        // HdrHistogram's percentile iteration: ticks_per_half steps in each halving of the
        // distance to 100%.
        const double halvings = std::floor(std::log2(percent / (percent - p)));
        const double step = percent / (ticks_per_half * std::pow(2.0, halvings + 1));
        // Counts above max_ (a results file's "max" below its counts) never reach total_:
        // stop once p is as close to 100% as a double gets instead of looping forever.
        if (p + step <= p) break;
        p += step;
    }
    if (rows.back().percentile < percent) rows.push_back({percent, max_, total_});
    return rows;
}

nlohmann::json histogram::to_json() const {
    nlohmann::json counts = nlohmann::json::array();
    for (std::size_t i = 0; i < counts_.size(); ++i)
        if (counts_[i]) counts.push_back({i, counts_[i]});
    return {{"lowest", lowest_}, {"highest", highest_},        {"digits", digits_},
            {"count", total_},   {"clamped", clamped_},        {"min", min()},
            {"max", max_},       {"counts", std::move(counts)}};
}

std::optional<histogram> histogram::from_json(const nlohmann::json& j, std::string* why) {
    auto fail = [why](const std::string& reason) -> std::optional<histogram> {
        if (why) *why = reason;
        return std::nullopt;
    };
    if (!j.is_object()) return fail("a histogram must be an object");
    for (const char* k : {"lowest", "highest", "digits", "counts"})
        if (!j.contains(k)) return fail(std::string("a histogram needs '") + k + "'");
    // get<integer>() of a floating-point number out of the type's range is undefined.
    for (const char* k : {"lowest", "highest", "digits", "count", "clamped", "min", "max"})
        if (j.contains(k) && !j[k].is_number_integer())
            return fail(std::string("'") + k + "' must be an integer");
    try {
        histogram h(j.at("lowest").get<std::int64_t>(), j.at("highest").get<std::int64_t>(),
                    j.at("digits").get<int>());
        for (const auto& row : j.at("counts")) {
            if (!row.is_array() || row.size() != 2 || !row[0].is_number_integer() ||
                !row[1].is_number_integer())
                return fail("'counts' holds [index, count]");
            const auto i = row[0].get<std::size_t>();
            const auto c = row[1].get<std::uint64_t>();
            if (i >= h.counts_.size()) return fail("a bucket index is out of range");
            h.counts_[i] += c;
            h.total_ += c;
        }
        if (h.total_) {
            h.min_ = j.value("min", std::int64_t{0});
            h.max_ = j.value("max", std::int64_t{0});
        }
        h.clamped_ = j.value("clamped", std::uint64_t{0});
        if (j.contains("count") && j["count"].get<std::uint64_t>() != h.total_)
            return fail("'count' is not the sum of 'counts'");
        return h;
    } catch (const std::exception& e) {
        return fail(std::string("a histogram field has the wrong type: ") + e.what());
    }
}

} // namespace agentcheck::load
