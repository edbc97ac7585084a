#include "conformance/harness/cli.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <random>
#include <signal.h>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "conformance/client/http.hpp"
#include "conformance/client/jwt.hpp"
#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/cli_support.hpp"
#include "conformance/harness/console.hpp"
#include "conformance/harness/identities.hpp"
#include "conformance/harness/known_failures.hpp"
#include "conformance/harness/load_cli.hpp"
#include "conformance/harness/process.hpp"
#include "conformance/harness/replay.hpp"
#include "conformance/harness/report.hpp"
#include "conformance/harness/runner.hpp"
#include "conformance/harness/selection.hpp"
#include "conformance/harness/selftest.hpp"
#include "conformance/harness/selftest_cli.hpp"
#include "conformance/harness/soak_cli.hpp"
#include "conformance/harness/spec.hpp"
#include "conformance/harness/text.hpp"
#include "conformance/harness/token_variants.hpp"

#ifndef AGENTCHECK_VERSION
#define AGENTCHECK_VERSION "0.0.0"
#endif

namespace agentcheck {

namespace {

/// Seeds drawn at random stay below 2^53 so that JSON readers keep them exact.
constexpr std::uint64_t max_random_seed = (1ULL << 53U) - 1;
/// How long discovery may take before the target counts as unreachable.
constexpr std::chrono::milliseconds discovery_timeout{5000};
/// Set by SIGINT/SIGTERM during a run: no further check starts.
std::atomic<bool> interrupted{false};
constexpr int id_column = 44;
constexpr int level_column = 8;
constexpr int layer_column = 13;

/// The filter options shared by run and list.
struct filter_options {
    std::string level = "must";
    std::vector<std::string> only;
    std::vector<std::string> exclude;
    std::vector<std::string> layers;

    void attach(CLI::App& app) {
        app.add_option("--level", level, "must | should | may: run this level and stricter")
            ->capture_default_str();
        app.add_option("--only", only,
                       "only checks matching a check ID, requirement ID or section "
                       "(\"2\", \"s2\", \"section:2\"); * and ? glob; repeatable");
        app.add_option("--exclude", exclude, "skip checks matching a pattern; repeatable");
        app.add_option("--layer", layers,
                       "only checks of a layer (" + layers_with_checks + "); repeatable");
    }
    /// The layers that have checks, for --help ("unit, integration").
    std::string layers_with_checks = "unit, integration";

    /// Remembers which layers have checks (before attach(), for --help).
    void known_layers(const check_registry& registry) {
        layers_with_checks.clear();
        for (const auto l : {layer::unit, layer::integration, layer::e2e, layer::property,
                             layer::robustness, layer::lifecycle}) {
            const bool any = std::any_of(registry.all().begin(), registry.all().end(),
                                         [&](const check& c) { return c.lyr == l; });
            if (any)
                layers_with_checks +=
                    (layers_with_checks.empty() ? "" : ", ") + std::string(to_string(l));
        }
    }

    [[nodiscard]] selection to_selection() const {
        selection sel;
        const auto lvl = parse_level(level);
        if (!lvl) throw usage_error("--level: \"" + level + "\" is not must, should or may");
        sel.lvl = *lvl;
        sel.only = only;
        sel.exclude = exclude;
        for (const auto& l : layers) {
            const auto parsed = parse_layer(l);
            if (!parsed) {
                throw usage_error(
                    "--layer: \"" + l +
                    "\" is not unit, integration, e2e, property, robustness or lifecycle");
            }
            sel.layers.push_back(*parsed);
        }
        return sel;
    }
};

/// The command as typed, each argument quoted for a POSIX shell where it needs it.
std::string command_line(int argc, const char* const* argv) {
    std::string out;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (i == 0) a = std::filesystem::path(a).filename().string();
        const bool plain =
            !a.empty() &&
            a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
                                "mnopqrstuvwxyz0123456789-_./:=@%+,") == std::string::npos;
        if (!plain) {
            std::string q = "'";
            for (char c : a)
                q += c == '\'' ? std::string("'\\''") : std::string(1, c);
            a = q + "'";
        }
        out += (out.empty() ? "" : " ") + a;
    }
    return out;
}

void print_listing(const std::vector<const check*>& checks, const catalogue& cat,
                   std::ostream& out) {
    for (const auto* c : checks) {
        std::string reqs;
        for (const auto& id : c->requirements)
            reqs += (reqs.empty() ? "" : ",") + id;
        out << std::left << std::setw(id_column) << c->id << " " << std::setw(level_column)
            << to_string(check_level(*c, cat)) << std::setw(layer_column) << to_string(c->lyr)
            << reqs << "  " << c->title << "\n";
    }
    out << checks.size() << " checks\n";
}

std::uint64_t random_seed() {
    std::random_device rd;
    const std::uint64_t high = rd();
    constexpr unsigned half = 32;
    return ((high << half) | rd()) & max_random_seed;
}

struct run_options {
    tls_flags tls; ///< --ca-file, --insecure
    filter_options filters;
    std::string target;
    std::string secret_file;
    std::uint64_t seed = 0;
    bool seed_given = false;
    double timeout_scale = 1.0;
    long long property_runs = static_cast<long long>(default_property_runs);
    unsigned jobs = std::max(1U, std::thread::hardware_concurrency());
    unsigned retries = 0;
    std::string known_failures;
    std::string report_dir = "reports/latest";
    bool allow_non_loopback = false;
    bool dry_run = false;
    bool quiet = false;
    bool verbose = false;
    std::size_t max_failures = 0;
    bool exit_first = false;
    bool last_failed = false;
    std::vector<std::string> headers;
    std::string save_replays = "failed";
    std::string launch;   ///< --launch: the harness starts (and may kill) the agent
    std::string data_dir; ///< --data-dir: the launched agent's data directory
    long long crash_cycles = default_crash_cycles;
};

/// Time a launched agent has to become ready (before --timeout-scale).
constexpr std::chrono::milliseconds launch_ready_timeout{30000};
/// Time a launched agent has to exit after SIGTERM at the end of a run.
constexpr std::chrono::milliseconds launch_stop_timeout{30000};

/// The agent a run launched (--launch): started before discovery, stopped (SIGTERM, then
/// SIGKILL) at the end; its data directory removed when the harness made it.
class launched_agent {
public:
    launched_agent(const run_options& o, const client::target_url& target) {
        if (!target.is_loopback())
            throw usage_error("--launch: the target must be a loopback address (the agent is "
                              "started on this machine), not " +
                              target.host);
        if (o.crash_cycles < 1 || o.crash_cycles > 10000)
            throw usage_error("--crash-cycles: must be from 1 to 10000 (got " +
                              std::to_string(o.crash_cycles) + ")");
        launch_spec spec;
        spec.command = o.launch;
        if (o.data_dir.empty()) {
            std::string tmpl =
                (std::filesystem::temp_directory_path() / "agentcheck-data-XXXXXX").string();
            if (::mkdtemp(tmpl.data()) == nullptr)
                throw usage_error("--data-dir: cannot make a temporary data directory");
            spec.data_dir = tmpl;
            temporary_ = true;
        } else {
            spec.data_dir = o.data_dir;
        }
        data_dir_ = spec.data_dir;
        spec.log_file = (std::filesystem::path(o.report_dir) / "agent.log").string();
        std::error_code ec;
        std::filesystem::remove(spec.log_file, ec);
        process_ = std::make_unique<managed_process>(std::move(spec));
    }
    ~launched_agent() {
        process_.reset();
        if (temporary_) {
            std::error_code ec;
            std::filesystem::remove_all(data_dir_, ec);
        }
    }
    launched_agent(const launched_agent&) = delete;
    launched_agent& operator=(const launched_agent&) = delete;

    /// Starts the agent and waits for /readyz; "" when ready, else why not (with its log).
    std::string start(const client::target_url& target, double timeout_scale) {
        try {
            process_->start();
        } catch (const std::exception& e) {
            return std::string("--launch: ") + e.what();
        }
        const auto wait = std::chrono::milliseconds(static_cast<long long>(
            static_cast<double>(launch_ready_timeout.count()) * timeout_scale));
        ready_ = process_->wait_ready(target, wait);
        if (ready_.ready) return {};
        const auto tail = process_->log_tail(1500);
        return "--launch: the agent did not become ready: " + ready_.why +
               (tail.empty() ? std::string() : "; the end of its log:\n" + tail);
    }
    /// SIGTERM, then SIGKILL if it does not exit in time; a line saying how it ended.
    std::string stop() {
        if (!process_->running()) return "the launched agent had already ended";
        process_->signal(SIGTERM);
        if (auto e = process_->wait_exit(launch_stop_timeout))
            return "the launched agent stopped on SIGTERM (" + e->describe() + ")";
        process_->kill_now();
        return "the launched agent did not exit within " +
               std::to_string(launch_stop_timeout.count() / 1000) + " s of SIGTERM and was killed";
    }
    managed_process& process() { return *process_; }
    [[nodiscard]] const ready_outcome& ready() const noexcept { return ready_; }

private:
    std::unique_ptr<managed_process> process_;
    bool temporary_ = false;
    std::string data_dir_;
    ready_outcome ready_;
};

/// Writes the replay documents of the checks `which` selects ("failed": fail, error and
/// flaky; "all"; "none") under DIR/replay/, and adds to the reproduction of each check whose
/// reproduction is more than one curl line the command that sends it all again.
void save_replays(run_report& report, const client::target_url& target, const std::string& dir,
                  const std::string& which, const std::string& secret_file, const cli_io& io) {
    if (which == "none") return;
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir) / "replay", ec);
    std::size_t written = 0;
    for (auto& c : report.checks) {
        const bool bad = c.outcome == verdict::fail || c.outcome == verdict::error ||
                         c.outcome == verdict::flaky;
        if (c.exchanges.empty() || (which != "all" && !bad)) continue;
        const auto path = replay_path(dir, c.id);
        try {
            std::filesystem::create_directories(path.parent_path());
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            // Notes may quote an agent's bytes as they came (not always UTF-8).
            out << replay_document(c, target, report.settings.seed)
                       .dump(1, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
            if (!out) throw std::runtime_error("cannot write " + path.string());
        } catch (const std::exception& e) {
            io.err << "agentcheck: --report-dir: " << e.what() << "\n";
            return;
        }
        ++written;
        const bool one_curl = c.exchanges.size() == 1 && c.curl.find("| nc") == std::string::npos;
        if (bad && !one_curl) {
            c.curl += "\n# all of it again, with the ids this agent gives: agentcheck replay " +
                      path.string() +
                      (secret_file.empty() ? std::string() : " --jwt-secret-file " + secret_file);
        }
    }
    (void)written;
}

/// Every --only/--exclude pattern without wildcards must name a check, a requirement or a
/// section; otherwise a typo would silently select nothing (or everything).
void check_patterns(const std::vector<std::string>& patterns, std::string_view flag,
                    const catalogue& cat, const check_registry& registry) {
    std::vector<std::string> names;
    for (const auto& c : registry.all())
        names.push_back(c.id);
    for (const auto& r : cat.requirements)
        names.push_back(r.id);
    for (const auto& p : patterns) {
        if (p.find_first_of("*?") != std::string::npos) {
            const bool any =
                std::any_of(registry.all().begin(), registry.all().end(),
                            [&](const check& c) { return pattern_matches(p, c, cat); });
            if (!any) throw usage_error(std::string(flag) + ": \"" + p + "\" matches no check");
            continue;
        }
        const bool known =
            std::any_of(registry.all().begin(), registry.all().end(),
                        [&](const check& c) { return pattern_matches(p, c, cat); }) ||
            cat.find(p) != nullptr;
        if (known) continue;
        const auto near = text::nearest(p, names);
        throw usage_error(std::string(flag) + ": \"" + p +
                          "\" is not a check ID, requirement ID or section" +
                          (near.empty() ? std::string(" (see `agentcheck list`)")
                                        : " (did you mean " + near + "?)"));
    }
}

/// "Name: value" → a header; a usage error naming -H otherwise.
std::pair<std::string, std::string> parse_header(const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0)
        throw usage_error("-H/--header: \"" + text + "\" is not of the form \"Name: value\"");
    std::string name = text.substr(0, colon);
    std::string value = text.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.erase(value.begin());
    const auto bad_name = std::any_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) == 0 &&
               std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos;
    });
    if (bad_name || value.find_first_of("\r\n") != std::string::npos)
        throw usage_error("-H/--header: \"" + text + "\" has an invalid name or value");
    return {name, value};
}

/// The IDs of the checks that failed, errored or were blocked in a report.json.
std::vector<std::string> last_failed_ids(const std::string& report_dir) {
    const auto path = std::filesystem::path(report_dir) / "report.json";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw usage_error("--last-failed: no previous report at " + path.string());
    const auto doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.contains("checks") || !doc["checks"].is_array())
        throw usage_error("--last-failed: " + path.string() + " is not an agentcheck report");
    std::vector<std::string> ids;
    for (const auto& c : doc["checks"]) {
        const auto v = c.value("verdict", std::string());
        if ((v == "fail" || v == "error" || v == "blocked") && c.contains("id"))
            ids.push_back(c.value("id", std::string()));
    }
    return ids;
}

/// Fails early, before any check runs, when reports could not be written at the end.
void check_report_dir(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto probe = std::filesystem::path(dir) / ".agentcheck-write-test";
    std::ofstream out(probe);
    out << "x";
    out.flush();
    if (ec || !out) {
        throw usage_error("--report-dir: cannot write to \"" + dir + "\"" +
                          (ec ? ": " + ec.message() : std::string()));
    }
    out.close();
    std::filesystem::remove(probe, ec);
}

/// Writes the reports and says where; a failure here is reported, not thrown.
void write_all(const run_report& report, const std::string& dir, const cli_io& io) {
    try {
        write_reports(report, dir);
        io.out << "reports: " << dir << "/{report.json,junit.xml,summary.md,report.html}\n";
    } catch (const std::exception& e) {
        io.err << "agentcheck: --report-dir: " << e.what() << "\n";
    }
}

/// After discovery, before any check: does the agent accept a token minted with the secret?
/// nullopt when it does (or cannot tell); else the one line to stop with.
std::optional<std::string> token_refused(const run_settings& s, const nlohmann::json& discovery,
                                         std::chrono::milliseconds timeout) {
    try {
        const identity_set ids(s.secret, "preflight", discovery,
                               std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
        client::http_client http(s.target, timeout);
        client::request req("GET", "/agents?limit=1");
        req.bearer(ids.token("viewer"));
        const auto resp = http.send(req);
        if (resp.status != 401) return std::nullopt;
        return std::string("the agent refuses tokens signed with --jwt-secret-file (GET "
                           "/agents as a viewer answered 401): check that the agent was "
                           "started with the same secret") +
               (resp.header("WWW-Authenticate")
                    ? " (it said: WWW-Authenticate: " + *resp.header("WWW-Authenticate") + ")"
                    : std::string());
    } catch (const client::transport_exception&) {
        return std::nullopt; // the checks will say what is wrong with the transport
    }
}

int do_run(const run_options& o, const catalogue& cat, const check_registry& registry,
           const cli_io& io) {
    auto sel = o.filters.to_selection();
    check_patterns(sel.only, "--only", cat, registry);
    check_patterns(sel.exclude, "--exclude", cat, registry);
    if (o.last_failed) {
        const auto ids = last_failed_ids(o.report_dir);
        if (ids.empty()) {
            io.out << "agentcheck: --last-failed: nothing failed in the last run; running the "
                      "whole selection\n";
        } else {
            sel.only = ids;
            io.out << "agentcheck: --last-failed: re-running " << ids.size()
                   << " checks that failed, errored or were blocked\n";
        }
    }
    if (o.dry_run) {
        print_listing(select_checks(registry, cat, sel), cat, io.out);
        return exit_ok;
    }
    if (select_checks(registry, cat, sel).empty()) {
        throw usage_error("--only/--exclude/--layer/--level: the selection matches no check "
                          "(see `agentcheck list`)");
    }
    if (!(o.timeout_scale > 0.0)) throw usage_error("--timeout-scale: must be greater than 0");
    if (o.property_runs < 1 || o.property_runs > 1000000)
        throw usage_error("--property-runs: must be from 1 to 1000000 (got " +
                          std::to_string(o.property_runs) + ")");
    if (o.jobs == 0) throw usage_error("--jobs: must be at least 1");
    if (o.quiet && o.verbose) throw usage_error("-q/--quiet and -v/--verbose: choose one");
    if (o.target.empty()) throw usage_error("--target: required");
    run_settings s;
    s.target = parse_target(o.target, o.allow_non_loopback);
    o.tls.apply(s.target);
    for (const auto& h : o.headers)
        s.target.extra_headers.push_back(parse_header(h));
    s.secret = load_secret(o.secret_file);
    if (!o.secret_file.empty()) {
        std::error_code ec;
        const auto absolute = std::filesystem::absolute(o.secret_file, ec);
        s.secret_file = ec ? o.secret_file : absolute.string();
    }
    s.sel = sel;
    s.seed = o.seed_given ? o.seed : random_seed();
    s.timeout_scale = o.timeout_scale;
    s.property_runs = static_cast<std::size_t>(o.property_runs);
    s.jobs = o.jobs;
    s.retries = o.retries;
    s.max_failures = o.exit_first ? 1 : o.max_failures;
    s.interrupted = &interrupted;
    if (!o.known_failures.empty()) {
        try {
            s.known_failures =
                parse_known_failures(read_file(o.known_failures, "--known-failures"), cat);
        } catch (const config_error& e) {
            throw usage_error(std::string("--known-failures: ") + e.what());
        }
        s.known_failures_file = o.known_failures;
    }
    check_report_dir(o.report_dir);
    if (o.launch.empty() && !o.data_dir.empty())
        throw usage_error("--data-dir: only with --launch (the data directory of the agent the "
                          "harness starts)");
    std::unique_ptr<launched_agent> launched;
    if (!o.launch.empty()) {
        launched = std::make_unique<launched_agent>(o, s.target);
        if (auto why = launched->start(s.target, s.timeout_scale); !why.empty()) {
            io.err << "agentcheck: " << why << "\n";
            auto report = stopped_report(cat, registry, s, nlohmann::json::object(),
                                         stop_kind::unreachable, why);
            report.tool_version = std::string(tool_version());
            write_all(report, o.report_dir, io);
            return report.exit_code;
        }
        s.process = &launched->process();
        s.crash_cycles = static_cast<unsigned>(o.crash_cycles);
    } else if (o.crash_cycles != default_crash_cycles) {
        throw usage_error("--crash-cycles: only with --launch (the harness must own the agent's "
                          "process to kill it)");
    }
    const auto scaled_timeout = std::chrono::milliseconds(
        static_cast<long long>(static_cast<double>(discovery_timeout.count()) * s.timeout_scale));
    const auto discovered = fetch_discovery(s.target, scaled_timeout);
    if (!discovered.document) {
        io.err << "agentcheck: " << discovered.error << "\n";
        auto report = stopped_report(cat, registry, s, nlohmann::json::object(),
                                     stop_kind::unreachable, discovered.error);
        report.tool_version = std::string(tool_version());
        write_all(report, o.report_dir, io);
        return report.exit_code;
    }
    const auto& doc = *discovered.document;
    if (auto refused = token_refused(s, doc, scaled_timeout)) {
        io.err << "agentcheck: " << *refused << "\n";
        auto report = stopped_report(cat, registry, s, doc, stop_kind::token_refused, *refused);
        report.tool_version = std::string(tool_version());
        write_all(report, o.report_dir, io);
        return report.exit_code;
    }
    const auto level =
        o.quiet ? verbosity::quiet : (o.verbose ? verbosity::verbose : verbosity::normal);
    if (level != verbosity::quiet) {
        io.out << "agentcheck " << tool_version() << " → " << s.target.base();
        if (doc.contains("implementation") && doc["implementation"].is_object()) {
            io.out << " (" << doc["implementation"].value("name", "?") << " "
                   << doc["implementation"].value("version", "?") << ")";
        }
        io.out << ", level " << to_string(s.sel.lvl) << ", seed " << s.seed << ", " << s.jobs
               << " jobs\n";
        if (launched)
            io.out << "launched: " << launched->process().command() << " (pid "
                   << launched->process().pid() << ", ready in "
                   << launched->ready().since_start.count() / 1000 << " ms)\n";
    }
    console_reporter console(io.out, io.color, io.tty, level);
    std::mutex progress_mutex;
    if (level != verbosity::quiet)
        s.progress = [&](const std::string& line) {
            const std::lock_guard<std::mutex> lock(progress_mutex);
            io.out << "  " << line << "\n" << std::flush;
        };
    // Ctrl-C: the checks running finish (bounded by their deadlines), the rest do not start,
    // and the reports say so.
    auto report = [&] {
        const interrupt_scope scope(interrupted);
        return run_checks(cat, registry, s, doc, &console);
    }();
    report.tool_version = std::string(tool_version());
    save_replays(report, s.target, o.report_dir, o.save_replays, s.secret_file, io);
    if (launched) {
        const auto how = launched->stop();
        if (level != verbosity::quiet) io.out << how << "\n";
    }
    console.summary(report);
    if (report.stop != stop_kind::none) io.err << "agentcheck: " << report.stopped_early << "\n";
    write_all(report, o.report_dir, io);
    return report.exit_code;
}

/// "now+3600" / "now-60" / "now" in a time claim → seconds since the epoch at `now`.
nlohmann::json resolve_times(nlohmann::json claims, long long now) {
    for (const char* k : {"exp", "nbf", "iat"}) {
        if (!claims.contains(k) || !claims[k].is_string()) continue;
        const auto text = claims[k].get<std::string>();
        if (text.rfind("now", 0) != 0) continue;
        long long delta = 0;
        if (text.size() > 3) {
            std::size_t used = 0;
            try {
                delta = std::stoll(text.substr(3), &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != text.size() - 3 || (text[3] != '+' && text[3] != '-'))
                throw usage_error("--claims: \"" + std::string(k) + "\": \"" + text +
                                  "\" is not now, now+N or now-N");
        }
        claims[k] = now + delta;
    }
    return claims;
}

int do_token(const std::string& identity, const std::string& secret_file,
             const std::string& target_text, bool allow_non_loopback, const cli_io& io,
             const std::string& claims_text = {}, const std::string& header_text = {},
             const std::string& variant = {}, const tls_flags& tls = {}) {
    if (!variant.empty() && !claims_text.empty())
        throw usage_error("--variant and --claims: choose one");
    if (!claims_text.empty()) {
        // Any token a check minted: its claims (times relative to now) and header.
        if (!identity.empty()) throw usage_error("--identity and --claims: choose one");
        const auto claims = nlohmann::json::parse(claims_text, nullptr, false);
        if (claims.is_discarded() || !claims.is_object())
            throw usage_error("--claims: not a JSON object");
        auto header = nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}};
        if (!header_text.empty()) {
            header = nlohmann::json::parse(header_text, nullptr, false);
            if (header.is_discarded() || !header.is_object())
                throw usage_error("--header: not a JSON object");
        }
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        io.out << client::mint(header, resolve_times(claims, now), load_secret(secret_file))
               << "\n";
        return exit_ok;
    }
    if (!header_text.empty()) throw usage_error("--header: only with --claims");
    const std::string who = identity.empty() && !variant.empty() ? "admin" : identity;
    if (who.empty()) throw usage_error("--identity, --variant or --claims: one is required");
    if (std::find(std::begin(identities), std::end(identities), who) == std::end(identities)) {
        throw usage_error("--identity: \"" + who +
                          "\" is not one of viewer, operator, operator2, admin, noroles");
    }
    const auto secret = load_secret(secret_file);
    nlohmann::json discovery = nlohmann::json::object();
    if (!target_text.empty()) {
        auto target = parse_target(target_text, allow_non_loopback);
        tls.apply(target);
        auto discovered = fetch_discovery(target, discovery_timeout);
        if (!discovered.document) {
            io.err << "agentcheck: " << discovered.error << "\n";
            return exit_unreachable;
        }
        discovery = std::move(*discovered.document);
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const identity_set ids(secret, random_run_id(), discovery, now);
    if (!variant.empty()) {
        try {
            io.out << mint_token_variant(variant, ids.claims(who), discovery, now, secret).token
                   << "\n";
        } catch (const std::invalid_argument& e) {
            throw usage_error(std::string("--variant: ") + e.what());
        }
        return exit_ok;
    }
    io.out << ids.token(who) << "\n";
    return exit_ok;
}

} // namespace

std::string_view tool_version() noexcept {
    return AGENTCHECK_VERSION;
}

int run_cli(int argc, const char* const* argv, std::string_view catalogue_json,
            const check_registry& registry, const cli_io& io) {
    CLI::App app{"agentcheck — black-box conformance harness for agent-service/1", "agentcheck"};
    app.set_version_flag("--version", std::string(tool_version()));
    app.require_subcommand(1);

    // A command that does not exist is named, with the nearest one.
    const std::vector<std::string> commands = {"run",    "list", "coverage", "spec",    "token",
                                               "replay", "load", "soak",     "selftest"};
    if (argc > 1 && argv[1][0] != '-' &&
        std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
        const auto near = text::nearest(argv[1], commands);
        io.err << "agentcheck: unknown command \"" << argv[1] << "\""
               << (near.empty() ? "" : " (did you mean " + near + "?)")
               << "; commands: run, list, coverage, spec, token, replay, load, soak, selftest "
                  "(agentcheck "
                  "--help)\n";
        return exit_usage;
    }

    run_options ro;
    ro.filters.known_layers(registry);
    auto* run = app.add_subcommand("run", "run the checks against a live agent");
    run->add_option("--target", ro.target,
                    "the agent's base URL, http://127.0.0.1:PORT or https://…");
    ro.tls.attach(*run);
    run->add_option("--jwt-secret-file", ro.secret_file,
                    "file holding the agent's HS256 secret (or set AGENTCHECK_JWT_SECRET)");
    ro.filters.attach(*run);
    run->add_option("--seed", ro.seed, "seed for the checks' random choices (default: random)");
    run->add_option("--property-runs", ro.property_runs,
                    "generated cases per property check (the property layer)")
        ->capture_default_str();
    run->add_option("--timeout-scale", ro.timeout_scale, "multiply every timeout by this factor")
        ->capture_default_str();
    run->add_option("--jobs", ro.jobs, "checks run in parallel")->capture_default_str();
    run->add_option("--retries", ro.retries,
                    "re-run a failing check up to N times (pass after fail = flaky)")
        ->capture_default_str();
    run->add_option("--known-failures", ro.known_failures,
                    "JSON list of waived requirements: [{\"id\", \"reason\", \"expires\"}]");
    run->add_option("--report-dir", ro.report_dir,
                    "where report.json, junit.xml, summary.md and report.html go")
        ->capture_default_str();
    run->add_flag("--allow-non-loopback", ro.allow_non_loopback,
                  "allow a target that is not on 127.0.0.0/8 or ::1");
    run->add_flag("--dry-run", ro.dry_run, "list the selected checks; send nothing");
    run->add_option("-H,--header", ro.headers,
                    "extra header for every request, \"Name: value\" (as curl's -H); repeatable");
    run->add_option("--launch", ro.launch,
                    "start the agent with this shell command ({data_dir} is replaced), wait for "
                    "/readyz, and run the lifecycle checks that kill and restart it");
    run->add_option("--data-dir", ro.data_dir,
                    "with --launch: the agent's data directory, kept across restarts (default: "
                    "a temporary one, removed after the run)");
    run->add_option("--crash-cycles", ro.crash_cycles,
                    "with --launch: SIGKILL-and-restart cycles of the crash durability check")
        ->capture_default_str();
    run->add_flag("-q,--quiet", ro.quiet, "no progress; one line per root cause, then the verdict");
    run->add_flag("-v,--verbose", ro.verbose,
                  "a line per check; the detail of every failing check");
    run->add_option("--max-failures", ro.max_failures,
                    "stop after N failed checks (the reports say what ran)");
    run->add_flag("-x,--exitfirst", ro.exit_first, "stop at the first failed check");
    run->add_option("--save-replays", ro.save_replays,
                    "save the requests of failed|all|none checks under REPORT_DIR/replay/ for "
                    "`agentcheck replay`")
        ->check(CLI::IsMember({"failed", "all", "none"}))
        ->capture_default_str();
    run->add_flag("--last-failed", ro.last_failed,
                  "re-run only the checks that failed, errored or were blocked in the previous "
                  "report.json of --report-dir");

    filter_options lo;
    lo.known_layers(registry);
    auto* list = app.add_subcommand("list", "list the checks (nothing is sent)");
    lo.attach(*list);

    std::string coverage_selftest;
    auto* coverage =
        app.add_subcommand("coverage", "which requirements have checks, per level and section");
    coverage->add_option("--selftest", coverage_selftest,
                         "a selftest.json (agentcheck selftest): also how many requirements a "
                         "killed failpoint proves, and list the unproven MUSTs");
    app.add_subcommand("spec",
                       "print conformance/SPEC.md generated from the catalogue and the checks");

    std::string identity;
    std::string token_secret;
    std::string token_target;
    bool token_remote = false;
    tls_flags token_tls;
    auto* token =
        app.add_subcommand("token", "print a token for an identity (for the curl reproductions)");
    std::string token_claims;
    std::string token_header;
    std::string token_variant_name;
    token->add_option("--identity", identity, "viewer, operator, operator2, admin or noroles");
    token->add_option("--claims", token_claims,
                      "instead of an identity: these claims (JSON; exp/nbf/iat may be \"now\", "
                      "\"now+N\" or \"now-N\"), as the reproductions of bad-token checks print");
    token->add_option("--header", token_header,
                      "with --claims: the JOSE header (JSON; {\"alg\":\"none\"} gives an "
                      "unsigned token); default {\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    std::string variant_help = "a bad or edge-case token made from --identity's claims (default "
                               "admin), as the auth checks send it; give --target so that "
                               "leeway, issuer and audience are the target's:";
    for (const auto& v : token_variants())
        variant_help += "\n  " + std::string(v.name) + ": " + std::string(v.summary);
    token->add_option("--variant", token_variant_name, variant_help);
    token->add_option("--jwt-secret-file", token_secret,
                      "file holding the HS256 secret (or AGENTCHECK_JWT_SECRET)");
    token->add_option("--target", token_target,
                      "take iss/aud from this agent's discovery document");
    token->add_flag("--allow-non-loopback", token_remote, "allow a target that is not loopback");
    token_tls.attach(*token);

    std::string replay_file;
    std::string replay_target;
    std::string replay_secret;
    bool replay_remote = false;
    bool replay_keep = false;
    tls_flags replay_tls;
    auto* replay_cmd = app.add_subcommand(
        "replay", "send a saved check's requests again, in order, and compare the answers "
                  "(REPORT_DIR/replay/ID.json; exit 0 when every answer is as recorded)");
    replay_cmd->add_option("file", replay_file, "a replay document")->required();
    replay_cmd->add_option("--target", replay_target,
                           "send to this agent instead of the one it was recorded against");
    replay_cmd->add_option("--jwt-secret-file", replay_secret,
                           "file holding the HS256 secret (or AGENTCHECK_JWT_SECRET)");
    replay_cmd->add_flag("--keep-agents", replay_keep,
                         "do not delete the agents the replay created");
    replay_cmd->add_flag("--allow-non-loopback", replay_remote,
                         "allow a target that is not loopback");
    replay_tls.attach(*replay_cmd);

    load_cli_options load_opts;
    attach_load(app, load_opts);
    soak_cli_options soak_opts;
    attach_soak(app, soak_opts);
    selftest_cli_options selftest_opts;
    attach_selftest(app, selftest_opts);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ExtrasError& e) {
        // Name each unknown option with the nearest one the command has.
        CLI::App* sub = app.get_subcommands().empty() ? &app : app.get_subcommands().front();
        std::vector<std::string> names;
        for (const auto* opt : sub->get_options()) {
            for (const auto& n : opt->get_lnames())
                names.push_back("--" + n);
            for (const auto& n : opt->get_snames())
                names.push_back("-" + n);
        }
        std::string message;
        for (const auto& extra : sub->remaining()) {
            const auto near = extra.rfind('-', 0) == 0 ? text::nearest(extra, names) : "";
            message += (message.empty() ? "" : "; ") + std::string("unknown ") +
                       (extra.rfind('-', 0) == 0 ? "option " : "argument ") + extra +
                       (near.empty() ? "" : " (did you mean " + near + "?)");
        }
        if (message.empty()) message = e.what();
        io.err << "agentcheck" << (sub == &app ? "" : " " + sub->get_name()) << ": " << message
               << " (see agentcheck " << (sub == &app ? "" : sub->get_name() + " ") << "--help)\n";
        return exit_usage;
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e, io.out, io.err);
        return code == 0 ? exit_ok : exit_usage;
    }
    ro.seed_given = run->count("--seed") > 0;
    try {
        const auto cat = parse_catalogue(catalogue_json);
        if (run->parsed()) return do_run(ro, cat, registry, io);
        if (load_opts.load->parsed()) {
            load_opts.seed_given = load_opts.load->count("--seed") > 0;
            return run_load(load_opts, command_line(argc, argv), io);
        }
        if (soak_opts.soak->parsed()) return run_soak(soak_opts, command_line(argc, argv), io);
        if (selftest_opts.selftest->parsed()) {
            selftest_opts.seed_given = selftest_opts.selftest->count("--seed") > 0;
            return run_selftest(selftest_opts, cat, registry, io);
        }
        if (list->parsed()) {
            print_listing(select_checks(registry, cat, lo.to_selection()), cat, io.out);
            return exit_ok;
        }
        if (coverage->parsed()) {
            if (coverage_selftest.empty()) return write_coverage(cat, registry, io.out);
            const auto doc =
                nlohmann::json::parse(read_file(coverage_selftest, "--selftest"), nullptr, false);
            try {
                const auto kills = selftest::strength_from_json(doc);
                return write_coverage(cat, registry, io.out, &kills);
            } catch (const std::invalid_argument& e) {
                throw usage_error("--selftest: " + coverage_selftest + ": " + e.what());
            }
        }
        if (app.got_subcommand("spec")) {
            io.out << generate_spec(cat, registry);
            return exit_ok;
        }
        if (replay_cmd->parsed()) {
            replay_options ropt;
            if (!replay_target.empty()) ropt.target = parse_target(replay_target, replay_remote);
            ropt.ca_file = replay_tls.ca_file;
            ropt.insecure = replay_tls.insecure;
            ropt.allow_non_loopback = replay_remote;
            ropt.secret = load_secret(replay_secret);
            const auto doc = nlohmann::json::parse(read_file(replay_file, "file"), nullptr, false);
            try {
                const auto outcome = replay(doc, ropt, io.out);
                return outcome.different == 0 ? exit_ok : exit_failures;
            } catch (const std::invalid_argument& e) {
                throw usage_error(replay_file + ": " + e.what());
            } catch (const client::transport_exception& e) {
                io.err << "agentcheck: " << e.what() << "\n";
                return exit_unreachable;
            }
        }
        return do_token(identity, token_secret, token_target, token_remote, io, token_claims,
                        token_header, token_variant_name, token_tls);
    } catch (const usage_error& e) {
        io.err << "agentcheck: " << e.what() << "\n";
        return exit_usage;
    } catch (const config_error& e) {
        io.err << "agentcheck: " << e.what() << "\n";
        return exit_usage;
    } catch (const std::exception& e) {
        io.err << "agentcheck: " << e.what() << "\n";
        return exit_usage;
    }
}

} // namespace agentcheck
