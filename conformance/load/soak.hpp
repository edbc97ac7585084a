#pragma once
// What `agentcheck soak` decides from the agent's resources sampled once a second under a
// steady load: an ordinary least-squares line through its RSS after the warm-up (a leak is a
// slope), its open descriptors against their warm-up level and their own slope; and the two
// reports, soak.json and soak.html.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentcheck::soak {

inline constexpr const char* schema = "agentcheck-soak/1";

/// Default tolerances (stated in --help and in the reports).
inline constexpr double default_rss_slope_max_kib_per_min = 1024;
inline constexpr int default_fd_growth_max = 16;
inline constexpr double default_fd_slope_max_per_min = 1;
/// A fitted descriptor line that rises by fewer descriptors than this over the whole measured
/// window is noise (one connection more at the end of a short run), whatever its slope.
inline constexpr double fd_rise_floor = 2;

/// One sample of the agent's process.
struct sample {
    double t_s = 0;        ///< seconds from the start of the load
    long long rss_kib = 0; ///< resident set (VmRSS), KiB
    int fds = 0;           ///< open descriptors
};

/// y = intercept + slope · x by ordinary least squares.
struct line_fit {
    double slope = 0;
    double intercept = 0;
    std::size_t points = 0;
    bool defined = false; ///< at least two points with distinct x
    [[nodiscard]] double at(double x) const { return intercept + slope * x; }
};
line_fit least_squares(const std::vector<std::pair<double, double>>& points);

/// The warm-up without --warmup: 20% of the duration, at least 10 s when that leaves at least
/// half of the run to measure (a duration of 20 s or more).
double default_warmup_s(double duration_s);

struct limits {
    double warmup_s = 0;
    double rss_slope_max_kib_per_min = default_rss_slope_max_kib_per_min;
    int fd_growth_max = default_fd_growth_max;
    double fd_slope_max_per_min = default_fd_slope_max_per_min;
};

/// What the samples say.
struct verdict {
    bool pass = true;
    std::vector<std::string> reasons; ///< one line per breach (empty when it passes)
    std::size_t warmup_samples = 0;   ///< samples before limits::warmup_s (not fitted)
    std::size_t measured_samples = 0; ///< samples fitted
    line_fit rss;                     ///< KiB against seconds, over the measured samples
    double rss_slope_kib_per_min = 0;
    long long rss_min_kib = 0, rss_max_kib = 0; ///< over the measured samples
    line_fit fds;                               ///< descriptors against seconds
    double fd_slope_per_min = 0;
    /// The descriptor slope that fails: the larger of limits::fd_slope_max_per_min and
    /// fd_rise_floor over the measured window.
    double fd_slope_tolerance_per_min = 0;
    int fd_max_warmup = 0; ///< the baseline: the warm-up's maximum (the first sample without one)
    int fd_max_after = 0;  ///< the maximum after the warm-up
};

/// Judges the samples: fails when the RSS slope after the warm-up is above the limit, when the
/// descriptors after it exceed the warm-up's maximum by more than fd_growth_max or rise beyond
/// the slope tolerance, or when fewer than three samples are left to fit. Samples with an
/// unknown value (negative) are left out.
verdict judge(const std::vector<sample>& samples, const limits& l);

/// Everything a soak report holds.
struct report {
    std::string command;       ///< agentcheck's command line
    std::string agent_command; ///< the agent's, as started
    std::string target;
    std::string scenario;
    double duration_s = 0;
    double rate = 0;
    limits lim;
    std::vector<sample> samples;
    verdict v;
    /// The load's summary (requests, errors, latency, thresholds, generator).
    nlohmann::json load = nlohmann::json::object();
    bool load_ok = true;
    bool agent_died = false;           ///< the agent ended during the soak
    std::string agent_exit;            ///< how it ended ("exit 0", "killed by SIGSEGV")
    bool agent_killed = false;         ///< it outlived SIGTERM's grace and was killed
    std::string agent_log;             ///< the log file's path
    std::string agent_log_tail;        ///< when it died
    bool interrupted = false;          ///< SIGINT/SIGTERM stopped the soak
    std::vector<std::string> failures; ///< every reason the soak fails (samples, load, agent)
    std::vector<std::string> notes;
    [[nodiscard]] bool passed() const { return failures.empty() && !interrupted; }
};

/// soak.json.
nlohmann::json to_json(const report& r);
/// soak.html: the verdict, the figures, RSS over time with the least-squares line and the
/// warm-up boundary, descriptors over time with their limit.
std::string to_html(const report& r);

} // namespace agentcheck::soak
