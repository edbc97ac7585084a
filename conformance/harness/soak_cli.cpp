#include "conformance/harness/soak_cli.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "conformance/harness/cli_support.hpp"
#include "conformance/harness/process.hpp"
#include "conformance/load/soak.hpp"
#include "conformance/load/svg_chart.hpp"

namespace agentcheck {
namespace {

using steady = std::chrono::steady_clock;

constexpr double sample_interval_s = 1;
constexpr double half_interval_s = 0.5;
constexpr int progress_every = 5; ///< samples between progress lines
constexpr auto sigterm_grace = std::chrono::seconds(30);
constexpr double kib_per_mib = 1024;
constexpr std::size_t log_tail_bytes = 4000;
/// The soak's load gates by default: a correct agent answers every request of the scenario as
/// it expects, so errors are a failure well before they reach this.
constexpr const char* default_threshold = "errors<1%";
/// The generator's schedule lag allowed by default: the soak watches memory, not latency, and
/// shares the machine with the agent for minutes (agentcheck load's default is 5 ms).
constexpr const char* default_max_lag = "50ms";
constexpr double min_measured_s = 3;

std::atomic<bool> soak_interrupted{false};

/// v with `digits` decimals.
std::string fixed(double v, int digits) {
    return load::svg::num(v, digits);
}

/// A temporary data directory, removed when the soak ends.
class temporary_dir {
public:
    temporary_dir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern =
            std::string(base && *base ? base : "/tmp") + "/agentcheck-soak.XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr)
            throw usage_error("--data-dir: cannot make a temporary directory under " +
                              pattern.substr(0, pattern.rfind('/')) + " (set --data-dir)");
        path_ = pattern;
    }
    ~temporary_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temporary_dir(const temporary_dir&) = delete;
    temporary_dir& operator=(const temporary_dir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};


/// The sampler: from the load's start, once a second until the duration has passed, the
/// agent's RSS and descriptors; a line every 5 s unless quiet; stops the load when the agent
/// has died.
class sampler {
public:
    sampler(managed_process& proc, double duration_s, bool quiet, std::ostream& out)
        : proc_(proc), duration_s_(duration_s), quiet_(quiet), out_(out) {}
    ~sampler() { finish(); }
    sampler(const sampler&) = delete;
    sampler& operator=(const sampler&) = delete;

    /// The load starts now.
    void start() {
        std::lock_guard lock(mutex_);
        t0_ = steady::now();
        thread_ = std::thread([this] { loop(); });
    }
    /// A second of the load ended (the engine's thread).
    void count(const load::second_stats& s) {
        requests_.fetch_add(s.requests);
        seconds_.store(s.second + 1);
    }
    /// Stops sampling (idempotent).
    void finish() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }
    [[nodiscard]] const std::vector<soak::sample>& samples() const { return samples_; }
    [[nodiscard]] bool died() const { return died_; }

private:
    void loop() {
        std::uint64_t last_requests = 0;
        std::uint32_t last_seconds = 0;
        // Mid-second, from 0.5 s to the duration's last half second: every sample falls within
        // the load (its connections open, none closed yet).
        const auto n = static_cast<int>(std::floor(duration_s_ - half_interval_s)) + 1;
        for (int k = 0; k < n; ++k) {
            const auto at =
                t0_ + std::chrono::duration_cast<steady::duration>(
                          std::chrono::duration<double>(k + half_interval_s) * sample_interval_s);
            {
                std::unique_lock lock(mutex_);
                if (cv_.wait_until(lock, at, [this] { return stop_; })) return;
            }
            const auto s = proc_.sample();
            const double t = std::chrono::duration<double>(steady::now() - t0_).count();
            if (s.rss_kib < 0 || s.fds < 0) {
                if (!proc_.running()) {
                    died_ = true;
                    stop_load(); // the rest of the load would only count refused connections
                }
                continue;
            }
            samples_.push_back({t, s.rss_kib, s.fds});
            // Not at the last sample: the load prints its summary about then.
            if (quiet_ || (k + 1) % progress_every != 0 || k + 1 >= n) continue;
            const auto seconds = seconds_.load();
            const auto requests = requests_.load();
            const double rps = seconds > last_seconds
                                   ? static_cast<double>(requests - last_requests) /
                                         static_cast<double>(seconds - last_seconds)
                                   : 0;
            last_requests = requests;
            last_seconds = seconds;
            out_ << std::setw(6) << (std::to_string(std::llround(t)) + "s") << "  " << std::setw(7)
                 << fixed(rps, 0) << " req/s  RSS " << std::setw(8)
                 << fixed(static_cast<double>(s.rss_kib) / kib_per_mib, 1) << " MiB  fds " << s.fds
                 << "\n"
                 << std::flush;
        }
    }

    managed_process& proc_;
    double duration_s_;
    bool quiet_;
    std::ostream& out_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    steady::time_point t0_;
    std::thread thread_;
    std::atomic<std::uint64_t> requests_{0}; ///< answered in the seconds reported so far
    std::atomic<std::uint32_t> seconds_{0};  ///< seconds of the load reported so far
    std::vector<soak::sample> samples_;      ///< the sampler's own until finish()
    std::atomic<bool> died_{false};
};

/// The load's figures for soak.json: its summary, thresholds and generator, and where its own
/// results are.
nlohmann::json load_summary(const load_run& run) {
    if (!run.ran) return {{"ran", false}};
    auto full = load::to_json(run.data, run.thresholds);
    auto j = full["summary"];
    j.erase("statuses");
    j["ran"] = true;
    j["verdict"] = full["verdict"];
    j["thresholds"] = full["thresholds"];
    j["generator"] = full["generator"];
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : full["operations"])
        ops.push_back({{"name", op["name"]},
                       {"requests", op["requests"]},
                       {"errors", op["errors"]},
                       {"statuses", op["statuses"]}});
    j["operations"] = ops;
    j["results"] = "results.json";
    return j;
}

/// Why the load fails the soak (nothing when it passes).
std::vector<std::string> load_failures(const load_run& run) {
    std::vector<std::string> out;
    if (!run.ran) {
        out.emplace_back("load: it could not start (see above)");
        return out;
    }
    for (const auto& t : run.thresholds)
        if (!t.ok)
            out.push_back("load: threshold " + t.t.expression + " breached (actual " +
                          fixed(t.actual, 4) + ")");
    const auto g = load::health(run.data);
    if (!g.keeping_up) out.push_back("load: " + g.reason);
    if (out.empty() && run.exit_code != exit_ok && run.exit_code != exit_interrupted)
        out.emplace_back("load: exit " + std::to_string(run.exit_code));
    return out;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream file(path, std::ios::trunc);
    file << text;
    if (!file.flush()) throw usage_error("--report-dir: cannot write \"" + path + "\"");
}

/// The flags checked before the agent is started.
struct soak_plan {
    load_cli_options load;
    load_settings settings;
    soak::limits lim;
    double duration_s = 0;
    std::chrono::milliseconds ready_timeout{0};
};

soak_plan plan(const soak_cli_options& so) {
    soak_plan p;
    p.load = so.load;
    p.load.default_scenario_json = std::string(embedded_soak_scenario_json());
    if (so.launch.empty())
        throw usage_error("--launch: required: the command that starts the agent, e.g. "
                          "'agentd --port 8080 --data-dir {data_dir} --jwt-secret-file secret'");
    if (!(p.load.rate > 0))
        throw usage_error("--rate: required, a positive number of requests per second (the soak's "
                          "load is an open model)");
    if (p.load.thresholds.empty()) p.load.thresholds.emplace_back(default_threshold);
    p.settings = check_load_options(p.load);
    p.duration_s = std::chrono::duration<double>(p.settings.duration).count();
    try {
        p.lim.warmup_s =
            so.warmup.empty()
                ? soak::default_warmup_s(p.duration_s)
                : std::chrono::duration<double>(load::parse_duration(so.warmup, "--warmup"))
                      .count();
        p.ready_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
            load::parse_duration(so.ready_timeout, "--ready-timeout"));
    } catch (const load::spec_error& e) {
        throw usage_error(e.what());
    }
    if (p.lim.warmup_s < 0) throw usage_error("--warmup: must not be negative");
    if (p.duration_s - p.lim.warmup_s < min_measured_s)
        throw usage_error("--warmup: " + fixed(p.lim.warmup_s, 1) + " s leaves less than " +
                          fixed(min_measured_s, 0) + " s of the " + fixed(p.duration_s, 1) +
                          " s --duration to measure");
    if (p.ready_timeout.count() <= 0) throw usage_error("--ready-timeout: must be positive");
    if (!(so.rss_slope_max > 0))
        throw usage_error("--rss-slope-max: must be a positive number of KiB per minute");
    if (so.fd_growth_max < 0) throw usage_error("--fd-growth-max: must not be negative");
    if (so.fd_slope_max < 0) throw usage_error("--fd-slope-max: must not be negative");
    p.lim.rss_slope_max_kib_per_min = so.rss_slope_max;
    p.lim.fd_growth_max = so.fd_growth_max;
    p.lim.fd_slope_max_per_min = so.fd_slope_max;
    return p;
}

} // namespace

void attach_soak(CLI::App& app, soak_cli_options& o) {
    o.rss_slope_max = soak::default_rss_slope_max_kib_per_min;
    o.fd_growth_max = soak::default_fd_growth_max;
    o.fd_slope_max = soak::default_fd_slope_max_per_min;
    o.load.report_dir = "reports/soak";
    o.load.connections = 16;
    o.load.max_lag = default_max_lag;
    auto* soak = app.add_subcommand(
        "soak", "start the agent, hold a steady load on it for a long time, sample its memory "
                "and descriptors once a second: exit 1 when they grow after the warm-up, when "
                "the load fails or when the agent dies");
    o.soak = soak;
    soak->add_option("--launch", o.launch,
                     "the command that starts the agent (run by /bin/sh; {data_dir} is replaced); "
                     "it must listen where --target points")
        ->required();
    soak->add_option("--target", o.load.target, "the agent's base URL (http://127.0.0.1:8080)")
        ->required();
    soak->add_option("--jwt-secret-file", o.load.secret_file,
                     "file holding the agent's HS256 secret (or AGENTCHECK_JWT_SECRET)");
    soak->add_option("--duration", o.load.duration, "how long to hold the load (90s, 10m, 1h)")
        ->required();
    soak->add_option("--rate", o.load.rate, "requests per second, at constant arrival")->required();
    soak->add_option("--scenario", o.load.scenario,
                     "a scenario file (default: fixtures/load/soak.json, built in: reads, status "
                     "moves, task enqueues and custom events on 3000 agents; nothing created)");
    soak->add_option("--warmup", o.warmup,
                     "the start left out of the verdict (default: 20% of --duration, at least "
                     "10 s when --duration is 20 s or more)");
    soak->add_option("--rss-slope-max", o.rss_slope_max,
                     "fail when RSS grows faster than this after the warm-up, in KiB per minute "
                     "(an ordinary least-squares line through the samples)")
        ->capture_default_str();
    soak->add_option("--fd-growth-max", o.fd_growth_max,
                     "fail when open descriptors after the warm-up exceed the warm-up's maximum "
                     "by more than this")
        ->capture_default_str();
    soak->add_option("--fd-slope-max", o.fd_slope_max,
                     "fail when open descriptors grow faster than this per minute after the "
                     "warm-up (least squares; a rise of fewer than 2 over the whole window is "
                     "never a failure)")
        ->capture_default_str();
    soak->add_option("--threshold", o.load.thresholds,
                     "a gate on the load, as agentcheck load takes it (default 'errors<1%'); "
                     "repeatable");
    soak->add_option("--connections", o.load.connections, "the load's connection pool")
        ->capture_default_str();
    soak->add_option("--timeout", o.load.timeout, "a request not answered within this fails")
        ->capture_default_str();
    soak->add_option("--max-lag", o.load.max_lag,
                     "the generator fails the load when its schedule lag p99 is above this")
        ->capture_default_str();
    soak->add_option("--seed", o.load.seed, "reproduces the arrival schedule and the mix");
    soak->add_option("--data-dir", o.data_dir,
                     "the agent's data directory (default: a fresh temporary one, removed "
                     "afterwards)");
    soak->add_option("--ready-timeout", o.ready_timeout,
                     "how long the agent may take to answer GET /readyz with 200")
        ->capture_default_str();
    soak->add_option("--report-dir", o.load.report_dir,
                     "where soak.json, soak.html, agent.log and the load's results go")
        ->capture_default_str();
    soak->add_flag("-q,--quiet", o.load.quiet, "no progress line every 5 s");
}

int run_soak(const soak_cli_options& so, const std::string& command, const cli_io& io) {
    auto p = plan(so);
    auto& lo = p.load;
    lo.seed_given = so.soak != nullptr && so.soak->count("--seed") > 0;
    const bool quiet = lo.quiet;
    lo.quiet = true; // the soak prints its own progress

    const std::string dir = lo.report_dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string log_path = dir + "/agent.log";
    {
        std::ofstream probe(log_path, std::ios::trunc);
        if (ec || !probe)
            throw usage_error("--report-dir: cannot write to \"" + dir + "\"" +
                              (ec ? ": " + ec.message() : std::string()));
    }
    std::optional<temporary_dir> temp;
    if (so.data_dir.empty()) temp.emplace();
    const std::string data_dir = temp ? temp->path() : so.data_dir;

    const interrupt_scope signals(soak_interrupted);
    managed_process proc({so.launch, data_dir, log_path});
    soak::report r;
    r.command = command;
    r.agent_command = proc.command();
    r.target = p.settings.target.base();
    r.scenario = p.settings.sc.name;
    r.duration_s = p.duration_s;
    r.rate = lo.rate;
    r.lim = p.lim;
    r.agent_log = log_path;
    io.out << "agentcheck soak " << r.target << ": " << fixed(r.duration_s, 0) << " s at "
           << fixed(r.rate, 0) << " req/s, scenario " << r.scenario << ", warm-up "
           << fixed(r.lim.warmup_s, 1) << " s; RSS slope tolerance "
           << fixed(r.lim.rss_slope_max_kib_per_min, 0) << " KiB/min, descriptors +"
           << r.lim.fd_growth_max << "\n  agent: " << r.agent_command << "\n";

    int code = exit_ok;
    bool started = false;
    try {
        proc.start();
        const auto ready = proc.wait_ready(p.settings.target, p.ready_timeout);
        started = ready.ready;
        if (!ready.ready) r.failures.push_back("the agent did not start: " + ready.why);
    } catch (const std::runtime_error& e) {
        r.failures.push_back(std::string("the agent did not start: ") + e.what());
    }

    load_run run;
    sampler smp(proc, p.duration_s, quiet, io.out);
    if (started && !soak_interrupted.load()) {
        load_hooks hooks;
        hooks.on_start = [&smp] {
            if (soak_interrupted.load()) stop_load();
            smp.start();
        };
        hooks.on_second = [&smp](const load::second_stats& s) { smp.count(s); };
        run = drive_load(lo, command, io, hooks);
        smp.finish();
        r.samples = smp.samples();
        r.load = load_summary(run);
        if (run.ran) write_load_results(dir, run, io.out);
    }
    r.interrupted = soak_interrupted.load() || run.exit_code == exit_interrupted;

    // The agent: dead already, or asked to stop.
    if (smp.died() || (started && !proc.running())) {
        r.agent_died = true;
        const auto e = proc.wait_exit(std::chrono::milliseconds(0));
        r.agent_exit = e ? e->describe() : "ended";
        r.agent_log_tail = proc.log_tail(log_tail_bytes);
        r.failures.insert(r.failures.begin(), "the agent died during the soak (" + r.agent_exit +
                                                  "); the end of " + log_path + " follows");
    } else {
        if (!started) r.agent_log_tail = proc.log_tail(log_tail_bytes);
        std::optional<exit_info> e;
        if (proc.running()) {
            proc.signal(SIGTERM);
            e = proc.wait_exit(sigterm_grace);
            if (!e) {
                e = proc.kill_now();
                r.agent_killed = true;
                r.notes.push_back(
                    "the agent did not exit within 30 s of SIGTERM: killed (SIGKILL)");
            }
        } else {
            e = proc.wait_exit(std::chrono::milliseconds(0));
        }
        r.agent_exit = e ? e->describe() : "not started";
    }

    if (started) {
        r.v = soak::judge(r.samples, r.lim);
        if (!r.agent_died || r.v.measured_samples >= 3)
            r.failures.insert(r.failures.end(), r.v.reasons.begin(), r.v.reasons.end());
        if (!r.interrupted)
            for (auto& f : load_failures(run))
                r.failures.push_back(std::move(f));
        r.load_ok = run.ran && run.exit_code == exit_ok;
    }

    write_text(dir + "/soak.json", soak::to_json(r).dump(1) + "\n");
    write_text(dir + "/soak.html", soak::to_html(r));

    const auto& v = r.v;
    if (started && v.rss.defined)
        io.out << "  RSS: " << (v.rss_slope_kib_per_min >= 0 ? "+" : "")
               << fixed(v.rss_slope_kib_per_min, 1)
               << " KiB/min after the warm-up (least squares over " << v.measured_samples
               << " samples; tolerance " << fixed(r.lim.rss_slope_max_kib_per_min, 0)
               << " KiB/min), " << fixed(static_cast<double>(v.rss_min_kib) / kib_per_mib, 1) << "-"
               << fixed(static_cast<double>(v.rss_max_kib) / kib_per_mib, 1)
               << " MiB\n  descriptors: max " << v.fd_max_after << " after the warm-up (its own "
               << v.fd_max_warmup << " + " << r.lim.fd_growth_max << " allowed), slope "
               << fixed(v.fd_slope_per_min, 2) << "/min (tolerance "
               << fixed(v.fd_slope_tolerance_per_min, 2) << "/min)\n";
    io.out << "  agent: "
           << (r.agent_died ? "died: "
               : started    ? "after SIGTERM: "
                            : "")
           << r.agent_exit << (r.agent_killed ? " (did not exit within 30 s: killed)" : "") << "\n";
    if (!r.agent_log_tail.empty())
        io.err << r.agent_log_tail << (r.agent_log_tail.back() == '\n' ? "" : "\n");
    io.out << "  reports: " << dir << "/soak.json and " << dir
           << "/soak.html (agent output: " << log_path << ")\n";
    for (const auto& f : r.failures)
        io.out << "FAIL: " << f << "\n";
    if (r.interrupted) {
        io.out << "soak: interrupted\n";
        code = exit_interrupted;
    } else if (!started) {
        io.out << "soak: fail (the agent did not start)\n";
        code = exit_unreachable;
    } else {
        io.out << "soak: " << (r.passed() ? "pass" : "fail") << "\n";
        code = r.passed() ? exit_ok : exit_failures;
    }
    return code;
}

} // namespace agentcheck
