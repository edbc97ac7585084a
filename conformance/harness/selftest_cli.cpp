#include "conformance/harness/selftest_cli.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/cli_support.hpp"
#include "conformance/harness/process.hpp"
#include "conformance/harness/selection.hpp"
#include "conformance/harness/selftest.hpp"
#include "conformance/harness/text.hpp"
#include "conformance/load/results.hpp"
#include "conformance/load/svg_chart.hpp"

namespace agentcheck {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// A port picked free may be taken before the agent binds it: the run is tried again on
/// another port this many times.
constexpr int port_attempts = 3;
/// After SIGTERM, how long a run that is stopped (timeout, interrupt) has to stop its agent.
constexpr auto stop_grace = 40s;

std::atomic<bool> selftest_interrupted{false};


std::string replace_all(std::string s, std::string_view what, std::string_view with) {
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
    return s;
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket: cannot pick a free port");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("bind: cannot pick a free port on 127.0.0.1");
    return ntohs(a.sin_port);
}

std::string self_path() {
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw std::runtime_error("cannot find agentcheck's own executable (/proc/self/exe)");
    return p.string();
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Runs `CMD --list-failpoints` (placeholders filled with harmless values) and parses it.
std::vector<selftest::failpoint> list_failpoints(const std::string& agent_cmd) {
    const std::string cmd =
        replace_all(replace_all(agent_cmd, "{port}", "0"), "{data_dir}",
                    (fs::temp_directory_path() / "agentcheck-unused").string()) +
        " --list-failpoints 2>&1";
    std::string out;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) throw usage_error("--agent-cmd: cannot run it");
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;)
        out.append(buf, n);
    const int status = ::pclose(pipe);
    const auto fail = [&](const std::string& why) {
        return usage_error("--agent-cmd: `… --list-failpoints` " + why +
                           ". The agent must be built with its failpoints (agentd: the CMake "
                           "option AGENT_FAILPOINTS, on in the dev and coverage presets). It "
                           "said: " +
                           text::truncate(text::first_line(out), 300));
    };
    if (status != 0) throw fail("failed (exit status " + std::to_string(status) + ")");
    try {
        auto table = selftest::parse_table(out);
        if (table.empty()) throw fail("listed no failpoint");
        return table;
    } catch (const std::invalid_argument& e) {
        throw fail(std::string("printed something else than the failpoint table: ") + e.what());
    }
}

/// One `agentcheck run` to make.
struct job {
    std::string label;     ///< failpoint name or "clean…"
    std::string dir_name;  ///< under runs/
    std::string failpoint; ///< "" for a clean run
    std::string args;
    std::vector<std::string> only;
    bool every_layer = false; ///< also the robustness layer (not run unless named)
    std::string intended;
};

struct settings {
    std::string self;
    std::string agent_cmd;
    std::string secret_file;
    std::string level;
    int crash_cycles = 2;
    unsigned retries = 0;
    double timeout_scale = 1;
    std::chrono::milliseconds run_timeout{0};
    std::uint64_t seed = 0;
    fs::path report_dir;
};

selftest::run_result execute(const job& j, const settings& s) {
    selftest::run_result r;
    r.label = j.label;
    r.args = j.args;
    r.selection = j.only;
    r.report_dir = "runs/" + j.dir_name;
    const fs::path dir = s.report_dir / "runs" / j.dir_name;
    const auto started = std::chrono::steady_clock::now();
    for (int attempt = 1; attempt <= port_attempts; ++attempt) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        fs::create_directories(dir, ec);
        const int port = free_port();
        std::string agent = replace_all(s.agent_cmd, "{port}", std::to_string(port));
        if (!j.failpoint.empty()) agent += " --failpoint " + j.failpoint;
        if (!j.args.empty()) agent += " " + j.args;
        std::string cmd = text::shell_quote(s.self) +
                          " run --target http://127.0.0.1:" + std::to_string(port) + " --launch " +
                          text::shell_quote(agent) + " --level " + s.level + " --crash-cycles " +
                          std::to_string(s.crash_cycles) + " --timeout-scale " +
                          load::svg::num(s.timeout_scale, 3) + " --seed " + std::to_string(s.seed) +
                          " --retries " + std::to_string(s.retries) + " --report-dir " +
                          text::shell_quote(dir.string()) + " --save-replays none -q";
        if (!s.secret_file.empty()) cmd += " --jwt-secret-file " + text::shell_quote(s.secret_file);
        for (const auto& o : j.only)
            cmd += " --only " + text::shell_quote(o);
        if (j.every_layer)
            for (const char* l :
                 {"unit", "integration", "e2e", "property", "robustness", "lifecycle"})
                cmd += std::string(" --layer ") + l;
        managed_process p({cmd, "", (dir / "agentcheck.log").string()});
        try {
            p.start();
        } catch (const std::exception& e) {
            r.problem = e.what();
            return r;
        }
        const auto deadline = std::chrono::steady_clock::now() + s.run_timeout;
        std::optional<exit_info> ended;
        while (!ended) {
            ended = p.wait_exit(250ms);
            if (ended) break;
            const bool late = std::chrono::steady_clock::now() > deadline;
            if (!late && !selftest_interrupted.load()) continue;
            r.timed_out = late;
            p.signal(SIGTERM); // it stops its agent, then exits
            ended = p.wait_exit(stop_grace);
            if (!ended) ended = p.kill_now();
            break;
        }
        r.exit_code = ended && ended->exited ? ended->code : -1;
        const std::string agent_log = read_text(dir / "agent.log");
        if (r.exit_code == exit_unreachable &&
            agent_log.find("ddress already in use") != std::string::npos && attempt < port_attempts)
            continue; // the port was taken meanwhile: another one
        break;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (selftest_interrupted.load()) {
        r.problem = "interrupted";
        return r;
    }
    if (r.timed_out) {
        r.problem = "the run took longer than --run-timeout";
        return r;
    }
    if (r.exit_code != exit_ok && r.exit_code != exit_failures) {
        const std::string log = read_text(dir / "agentcheck.log");
        r.problem = "agentcheck run exited " + std::to_string(r.exit_code) + ": " +
                    text::truncate(text::first_line(log), 300);
        if (r.exit_code == exit_unreachable)
            r.problem += " (the agent did not start; see " + r.report_dir + "/agent.log)";
        return r;
    }
    const auto doc = nlohmann::json::parse(read_text(dir / "report.json"), nullptr, false);
    try {
        selftest::read_report(doc, j.intended, r);
    } catch (const std::invalid_argument& e) {
        r.problem = r.report_dir + "/report.json: " + e.what();
    }
    return r;
}

/// Each failpoint's --only patterns for the scope.
std::vector<std::string> selection_for(const std::string& scope, const std::string& requirement,
                                       const catalogue& cat) {
    if (scope == "all") return {};
    if (scope == "requirement") return {requirement};
    const auto* r = cat.find(requirement);
    if (r == nullptr) return {requirement}; // not in the catalogue: its own checks, if any
    return {"section:" + r->section};
}

std::string dir_name_of(const std::string& label) {
    std::string out;
    for (char c : label)
        out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c
                                                                                          : '_');
    return out;
}

} // namespace

void attach_selftest(CLI::App& app, selftest_cli_options& o) {
    auto* s = app.add_subcommand(
        "selftest",
        "prove the checks catch defects: run them against the agent clean (must pass) and with "
        "each of its failpoints on (each must fail on its requirement), write the kill matrix "
        "and the mutation score");
    o.selftest = s;
    s->add_option("--agent-cmd", o.agent_cmd,
                  "the agent's command line; {port} and {data_dir} are replaced for each run, "
                  "and `--failpoint NAME` (plus the failpoint's own flags) is appended. It must "
                  "print its failpoints for `--list-failpoints` (agentd built with "
                  "AGENT_FAILPOINTS)")
        ->required();
    s->add_option("--jwt-secret-file", o.secret_file,
                  "file holding the agent's HS256 secret (or set AGENTCHECK_JWT_SECRET)");
    s->add_option("--scope", o.scope,
                  "the checks run against each failpoint: requirement (those of the requirement "
                  "it breaks: quick), section (its section's), all (every check: the full kill "
                  "matrix)")
        ->check(CLI::IsMember({"requirement", "section", "all"}))
        ->capture_default_str();
    s->add_option("--only", o.only,
                  "only failpoints whose name matches (* and ? glob); repeatable");
    s->add_option("--level", o.level, "must | should | may: the checks' level and stricter")
        ->check(CLI::IsMember({"must", "should", "may"}))
        ->capture_default_str();
    s->add_option("--jobs", o.jobs, "runs at a time (default: the machine's hardware threads)");
    s->add_option("--crash-cycles", o.crash_cycles,
                  "SIGKILL cycles of the crash durability check in each run")
        ->capture_default_str();
    s->add_option("--retries", o.retries,
                  "passed to every run: re-run a failing check up to N times (a defect fails "
                  "every time; a check that fails, then passes, is reported flaky and kills "
                  "nothing)")
        ->capture_default_str();
    s->add_option("--timeout-scale", o.timeout_scale, "multiply every check's timeout by this")
        ->capture_default_str();
    s->add_option("--run-timeout", o.run_timeout,
                  "longest one run may take before it is stopped and counted as an error")
        ->capture_default_str();
    s->add_option("--seed", o.seed, "seed passed to every run (default: random)");
    s->add_option("--report-dir", o.report_dir,
                  "where selftest.json, selftest.html, summary.md and runs/ go")
        ->capture_default_str();
    s->add_flag("-q,--quiet", o.quiet, "no line per run; the verdict only");
}

int run_selftest(const selftest_cli_options& o, const catalogue& cat,
                 const check_registry& registry, const cli_io& io) {
    if (o.agent_cmd.find("{port}") == std::string::npos)
        throw usage_error("--agent-cmd: must contain {port} (each run gets a port of its own, "
                          "e.g. `agentd --port {port} --data-dir {data_dir} …`)");
    if (o.crash_cycles < 1 || o.crash_cycles > 10000)
        throw usage_error("--crash-cycles: must be from 1 to 10000 (got " +
                          std::to_string(o.crash_cycles) + ")");
    if (!(o.timeout_scale > 0) || o.timeout_scale > 1000)
        throw usage_error("--timeout-scale: must be above 0 and at most 1000");
    settings s;
    try {
        s.run_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
            load::parse_duration(o.run_timeout, "--run-timeout"));
    } catch (const std::exception& e) {
        throw usage_error(e.what());
    }
    if (s.run_timeout < 1s) throw usage_error("--run-timeout: must be at least 1s");
    if (!o.secret_file.empty()) (void)load_secret(o.secret_file); // names the flag when bad
    s.self = self_path();
    s.agent_cmd = o.agent_cmd;
    s.secret_file = o.secret_file.empty() ? "" : fs::absolute(o.secret_file).string();
    s.level = o.level;
    s.crash_cycles = o.crash_cycles;
    s.retries = o.retries;
    s.timeout_scale = o.timeout_scale;
    s.seed = o.seed_given ? o.seed : std::random_device{}() & ((1ULL << 52) - 1);
    s.report_dir = fs::absolute(o.report_dir);

    auto table = list_failpoints(o.agent_cmd);
    if (!o.only.empty()) {
        std::vector<selftest::failpoint> kept;
        for (auto& f : table)
            if (std::any_of(o.only.begin(), o.only.end(),
                            [&](const std::string& p) { return glob_match(p, f.name); }))
                kept.push_back(std::move(f));
        if (kept.empty())
            throw usage_error("--only: no failpoint matches (agent's: " + table.front().name +
                              ", …)");
        table = std::move(kept);
    }

    // The robustness layer runs only when named (its cases wait out the agent's header
    // timeout): with the requirement scope always, else for a failpoint whose requirement has
    // robustness checks (request smuggling, say).
    std::set<std::string> robust;
    for (const auto& c : registry.all())
        if (c.lyr == layer::robustness) robust.insert(c.requirements.begin(), c.requirements.end());
    const auto every_layer = [&](const selftest::failpoint& f) {
        return o.scope == "requirement" || robust.count(f.requirement) > 0;
    };

    // The clean runs: one per distinct set of extra flags, over the union of the selections.
    std::vector<job> jobs;
    std::map<std::string, std::vector<std::string>> clean_selection; // args → --only
    std::map<std::string, bool> clean_everything;
    std::map<std::string, bool> clean_every_layer;
    for (const auto& f : table) {
        auto sel = selection_for(o.scope, f.requirement, cat);
        if (every_layer(f)) clean_every_layer[f.args] = true;
        if (sel.empty()) clean_everything[f.args] = true;
        auto& u = clean_selection[f.args];
        for (auto& p : sel)
            if (std::find(u.begin(), u.end(), p) == u.end()) u.push_back(p);
    }
    int clean_index = 0;
    for (auto& [args, sel] : clean_selection) {
        job j;
        j.label = "clean";
        j.dir_name =
            "clean" + (clean_index++ == 0 ? std::string() : "-" + std::to_string(clean_index));
        j.args = args;
        if (!clean_everything[args]) j.only = sel;
        j.every_layer = clean_every_layer[args];
        jobs.push_back(std::move(j));
    }
    const std::size_t clean_count = jobs.size();
    for (const auto& f : table) {
        job j;
        j.label = f.name;
        j.dir_name = dir_name_of(f.name);
        j.failpoint = f.name;
        j.args = f.args;
        j.only = selection_for(o.scope, f.requirement, cat);
        j.every_layer = every_layer(f);
        j.intended = f.requirement;
        jobs.push_back(std::move(j));
    }

    std::error_code ec;
    fs::remove_all(s.report_dir / "runs", ec);
    fs::create_directories(s.report_dir / "runs", ec);
    if (ec)
        throw usage_error("--report-dir: cannot create " + s.report_dir.string() + ": " +
                          ec.message());

    const unsigned parallel =
        std::max(1U, std::min<unsigned>(o.jobs > 0 ? o.jobs : std::thread::hardware_concurrency(),
                                        static_cast<unsigned>(jobs.size())));
    if (!o.quiet)
        io.out << "selftest: " << table.size() << " failpoints and " << clean_count << " clean run"
               << (clean_count == 1 ? "" : "s") << ", scope " << o.scope << ", " << parallel
               << " at a time (seed " << s.seed << ")\n"
               << std::flush;

    const interrupt_scope signals(selftest_interrupted);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string started_at = text::rfc3339(std::chrono::system_clock::now());
    std::vector<selftest::run_result> results(jobs.size());
    std::atomic<std::size_t> next{0};
    std::mutex print_mutex;
    std::size_t done = 0;
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < jobs.size();) {
            if (selftest_interrupted.load()) {
                results[i].label = jobs[i].label;
                results[i].problem = "interrupted";
                continue;
            }
            results[i] = execute(jobs[i], s);
            std::lock_guard lock(print_mutex);
            ++done;
            if (o.quiet) continue;
            std::string what;
            if (i < clean_count) {
                what = results[i].problem.empty()
                           ? (results[i].exit_code == 0 ? "pass    " : "FAIL    ")
                           : "ERROR   ";
            } else {
                selftest::failpoint fp{jobs[i].failpoint, jobs[i].intended, "", jobs[i].args};
                const auto v = selftest::judge(fp, results[i]);
                what = v == selftest::verdict::killed
                           ? "killed  "
                           : (v == selftest::verdict::survived ? "SURVIVED" : "ERROR   ");
            }
            io.out << "[" << std::setw(3) << done << "/" << jobs.size() << "] " << what << " "
                   << std::left << std::setw(44) << jobs[i].label << std::right << " "
                   << load::svg::num(results[i].seconds, 1) << " s";
            if (!results[i].problem.empty())
                io.out << "  " << results[i].problem;
            else if (i >= clean_count && !results[i].failed_requirements.empty()) {
                io.out << "  failed:";
                for (std::size_t k = 0; k < results[i].failed_requirements.size() && k < 6; ++k)
                    io.out << " " << results[i].failed_requirements[k];
                if (results[i].failed_requirements.size() > 6) io.out << " …";
            } else if (i < clean_count && results[i].exit_code != 0)
                io.out << "  " << results[i].cause;
            io.out << "\n" << std::flush;
        }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < parallel; ++t)
        threads.emplace_back(worker);
    for (auto& t : threads)
        t.join();

    selftest::outcome out;
    out.agent_command = o.agent_cmd;
    out.scope = o.scope;
    out.level = o.level;
    out.started_at = started_at;
    out.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.jobs = static_cast<int>(parallel);
    out.seed = s.seed;
    out.interrupted = selftest_interrupted.load();
    for (std::size_t i = 0; i < clean_count; ++i)
        out.clean.push_back(results[i]);
    for (std::size_t i = clean_count; i < jobs.size(); ++i) {
        selftest::failpoint_result f;
        f.fp = table[i - clean_count];
        f.run = results[i];
        f.v = selftest::judge(f.fp, f.run);
        out.failpoints.push_back(std::move(f));
    }

    std::ofstream(s.report_dir / "selftest.json") << selftest::to_json(out, cat).dump(2) << "\n";
    std::ofstream(s.report_dir / "selftest.html") << selftest::to_html(out, cat);
    std::ofstream(s.report_dir / "summary.md") << selftest::to_markdown(out, cat);

    const auto missing = selftest::unproven(out, cat);
    io.out << "selftest: mutation score " << out.killed() << "/" << out.failpoints.size()
           << " killed; clean agent " << (out.clean_passed() ? "passes" : "DOES NOT PASS") << "; "
           << missing.size() << " MUST requirements unproven\n";
    for (const auto& f : out.failpoints)
        if (f.v != selftest::verdict::killed)
            io.out << "  not killed: " << f.fp.name << " (" << selftest::to_string(f.v)
                   << (f.run.problem.empty() ? "" : ": " + f.run.problem) << ")\n";
    io.out << "reports: " << s.report_dir.string() << "/{selftest.json,selftest.html,summary.md}\n"
           << (out.passed() ? "PASS" : "FAIL") << "\n";
    if (out.interrupted) return exit_interrupted;
    return out.passed() ? exit_ok : exit_failures;
}

} // namespace agentcheck
