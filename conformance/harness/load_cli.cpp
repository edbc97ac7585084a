#include "conformance/harness/load_cli.hpp"

#include <sys/resource.h>
#include <sys/utsname.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <boost/version.hpp>

#include "conformance/client/jwt.hpp"
#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/cli_support.hpp"
#include "conformance/harness/identities.hpp"
#include "conformance/harness/runner.hpp"
#include "conformance/load/engine.hpp"
#include "conformance/load/results.hpp"
#include "conformance/load/subscribers.hpp"
#include "conformance/properties/agent_model.hpp"
#include "conformance/properties/linearizability.hpp"

namespace agentcheck {
namespace {

constexpr std::chrono::milliseconds discovery_wait{5000};
constexpr long long token_margin_s = 600;
constexpr int status_created = 201;

/// Ends the engine's run early: set by SIGINT/SIGTERM and by stop_load().
std::atomic<bool> load_stop{false};
/// Set by SIGINT/SIGTERM only: the run was interrupted (exit 130).
std::atomic<bool> load_interrupted{false};

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

nlohmann::json environment() {
    nlohmann::json env;
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0) {
            env["cpu_model"] = line.substr(line.find(':') + 2);
            break;
        }
    }
    env["cores"] = std::thread::hardware_concurrency();
    utsname u{};
    if (uname(&u) == 0) env["kernel"] = std::string(u.sysname) + " " + u.release;
#ifdef NDEBUG
    env["build_type"] = "optimised (NDEBUG)";
#else
    env["build_type"] = "debug (assertions on: slower than a release build)";
#endif
    env["compiler"] = __VERSION__;
    env["boost"] = BOOST_LIB_VERSION;
    env["agentcheck"] = std::string(tool_version());
    return env;
}

std::pair<std::uint32_t, std::uint32_t> parse_shard(const std::string& text) {
    static const std::regex grammar(R"(^([0-9]{1,4})/([0-9]{1,4})$)");
    std::smatch m;
    if (!std::regex_match(text, m, grammar))
        throw usage_error("--shard: \"" + text + "\" is not i/N (0/4 is the first of four)");
    const auto i = static_cast<std::uint32_t>(std::stoul(m[1].str()));
    const auto n = static_cast<std::uint32_t>(std::stoul(m[2].str()));
    if (n == 0 || i >= n) throw usage_error("--shard: \"" + text + "\": i must be from 0 to N-1");
    return {i, n};
}

double parse_tolerance(const std::string& text) {
    static const std::regex grammar(R"(^([0-9]*\.?[0-9]+)(%?)$)");
    std::smatch m;
    if (!std::regex_match(text, m, grammar))
        throw usage_error("--tolerance: \"" + text + "\" is not a ratio (10% or 0.1)");
    double v = std::stod(m[1].str());
    if (!m[2].str().empty()) v /= 100;
    return v;
}

bool declares(const nlohmann::json& discovery, const std::string& feature) {
    const auto it = discovery.find("features");
    if (it == discovery.end()) return false;
    if (it->is_array())
        for (const auto& f : *it)
            if (f.is_string() && f.get<std::string>() == feature) return true;
    if (it->is_object()) return it->contains(feature) && (*it)[feature] != false;
    return false;
}

load::run_data read_results(const std::string& path) {
    const auto doc = nlohmann::json::parse(read_file(path, "results"), nullptr, false);
    if (doc.is_discarded()) throw usage_error(path + ": not JSON");
    try {
        return load::from_json(doc);
    } catch (const load::spec_error& e) {
        throw usage_error(path + ": " + e.what());
    }
}

/// The page with `section` put before its end ("" leaves it as it is).
std::string with_section(std::string page, const std::string& section) {
    if (section.empty()) return page;
    const auto end = page.rfind("</body>");
    page.insert(end == std::string::npos ? page.size() : end, section);
    return page;
}

/// What --record-history found: the history of each sampled agent checked against the
/// protocol's model. Adds a note to `d`; returns the HTML section and whether it holds.
struct history_verdict {
    bool ok = true;
    std::string html;
};
history_verdict check_history(const std::vector<load::history_entry>& entries, load::run_data& d,
                              std::ostream& out) {
    std::vector<lin::operation> ops;
    std::set<std::string> agents;
    for (const auto& e : entries) {
        const auto at = e.path.find("/agents/");
        if (at == std::string::npos) continue;
        auto rest = e.path.substr(at + 8 + e.agent.size());
        if (const auto q = rest.find('?'); q != std::string::npos) rest = rest.substr(0, q);
        auto in = lin::agent_input(e.agent, e.method, rest, e.request_body, -1);
        if (in.is_null()) continue;
        lin::operation op;
        op.client = e.client;
        op.call = e.call_ns / 1000;
        op.input = std::move(in);
        op.unknown = !e.answered || e.status >= 500 || e.status == 429;
        if (!op.unknown) {
            op.ret = e.ret_ns / 1000;
            op.output = lin::agent_output(e.status, e.response_body);
        }
        agents.insert(e.agent);
        ops.push_back(std::move(op));
    }
    const auto model = lin::agent_model("");
    const auto r = lin::check(model, ops);
    std::ostringstream line;
    line << "linearizability: " << ops.size() << " operations on " << agents.size()
         << " agents (--record-history): " << lin::to_string(r.overall);
    out << "  " << line.str() << "\n";
    d.notes.push_back(line.str());
    history_verdict v;
    for (const auto& k : r.keys) {
        if (k.result != lin::outcome::not_linearizable) continue;
        v.ok = false;
        const auto text = lin::render_witness(model, ops, k);
        out << text;
        d.notes.push_back(text);
        v.html += "<h2>Not linearizable: " + k.key + "</h2>" + lin::witness_svg(model, ops, k);
    }
    return v;
}

void write_results(const std::string& dir, const load::run_data& d,
                   const std::vector<load::threshold_result>& ts, std::ostream& out,
                   const std::string& extra_html = {}) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw usage_error("--report-dir: cannot create \"" + dir + "\": " + ec.message());
    const auto json_path = dir + "/results.json";
    const auto html_path = dir + "/results.html";
    for (const auto& [path, text] :
         {std::pair{json_path, load::to_json(d, ts).dump(1) + "\n"},
          std::pair{html_path, with_section(load::to_html(d, ts), extra_html)}}) {
        std::ofstream file(path);
        file << text;
        if (!file.flush()) throw usage_error("--report-dir: cannot write \"" + path + "\"");
    }
    out << "  results: " << json_path << " and " << html_path << "\n";
}

int exit_for(const load::run_data& d, const std::vector<load::threshold_result>& ts) {
    for (const auto& r : ts)
        if (!r.ok) return exit_failures;
    return load::health(d).keeping_up ? exit_ok : exit_failures;
}

int do_compare(const load_cli_options& o, const cli_io& io) {
    if (o.compare_files.size() != 2) throw usage_error("load compare: give BASE.json NEW.json");
    const auto tolerance = parse_tolerance(o.tolerance);
    const auto base = read_results(o.compare_files[0]);
    const auto now = read_results(o.compare_files[1]);
    const auto rows = load::compare(base, now, tolerance);
    int worse = 0;
    io.out << std::left << std::setw(24) << "figure" << std::right << std::setw(12) << "base"
           << std::setw(12) << "new" << std::setw(10) << "change"
           << "  verdict\n";
    for (const auto& r : rows) {
        std::ostringstream change;
        change << std::showpos << std::fixed << std::setprecision(1) << r.change * 100 << "%";
        io.out << std::left << std::setw(24) << r.figure << std::right << std::fixed
               << std::setprecision(3) << std::setw(12) << r.base << std::setw(12) << r.now
               << std::setw(10) << change.str() << "  " << r.verdict << "\n";
        worse += r.verdict == "worse";
    }
    io.out << (worse
                   ? std::to_string(worse) + " figure(s) worse than the base beyond " + o.tolerance
                   : "no figure worse than the base beyond " + o.tolerance)
           << "\n";
    return worse ? exit_failures : exit_ok;
}

int do_merge(const load_cli_options& o, const std::string& command, const cli_io& io) {
    if (o.merge_files.empty()) throw usage_error("load merge: give the shards' results.json files");
    std::vector<load::run_data> runs;
    for (const auto& f : o.merge_files)
        runs.push_back(read_results(f));
    load::run_data merged;
    try {
        merged = load::merge(runs);
    } catch (const load::spec_error& e) {
        throw usage_error(e.what());
    }
    merged.command = command;
    io.out << "merged " << runs.size() << " results\n" << load::summary_text(merged, {});
    write_results(o.report_dir, merged, {}, io.out);
    return exit_ok;
}

/// Creates `count` agents for the run; their ids.
std::vector<std::string> set_up_agents(client::http_client& http, const std::string& token,
                                       std::size_t count, const std::string& prefix,
                                       const cli_io& io) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < count; ++i) {
        client::request req("POST", "/agents");
        req.bearer(token).json({{"name", prefix + std::to_string(i)},
                                {"version", "1.0.0"},
                                {"capabilities", {{{"name", "load"}}}}});
        const auto res = http.send(req);
        if (res.status != status_created) {
            throw usage_error("setup: POST /agents answered " + std::to_string(res.status) +
                              " (want 201) for agent " + std::to_string(i) + ": " +
                              res.body.substr(0, 200));
        }
        const auto body = res.json();
        if (!body || !body->contains("id") || !(*body)["id"].is_string())
            throw usage_error("setup: POST /agents answered 201 without an id");
        ids.push_back((*body)["id"].get<std::string>());
    }
    if (count && !io.tty) io.out << "  setup: " << count << " agents created\n";
    return ids;
}

void tear_down(client::http_client& http, const std::string& token,
               const std::vector<std::string>& ids, const cli_io& io) {
    std::size_t failed = 0;
    for (const auto& id : ids) {
        try {
            client::request req("DELETE", "/agents/" + id);
            req.bearer(token);
            const auto res = http.send(req);
            if (res.status != 204 && res.status != 200 && res.status != 404) ++failed;
        } catch (const client::transport_exception&) {
            ++failed;
        }
    }
    if (!ids.empty())
        io.out << "  teardown: " << ids.size() - failed << " of " << ids.size()
               << " agents deleted\n";
}

} // namespace

load_run drive_load(const load_cli_options& o, const std::string& command, const cli_io& io,
                    const load_hooks& hooks) {
    const auto settings = check_load_options(o);
    const auto& target = settings.target;
    const auto& sc = settings.sc;
    const auto& thresholds = settings.thresholds;
    const auto duration = settings.duration;
    const auto ramp = settings.ramp;
    const auto timeout = settings.timeout;
    const auto max_lag = settings.max_lag;
    const auto shard_index = settings.shard_index;
    const auto shard_count = settings.shard_count;
    const auto& secret = settings.secret;
    const bool needs_secret = settings.needs_secret;
    load_run run;

    // Any HTTP server can be driven (nginx, to calibrate against); an agent's discovery
    // document is needed only for tokens and for operations that require a feature.
    bool needs_discovery = needs_secret || sc.event_subscribers > 0;
    for (const auto& op : sc.operations)
        needs_discovery = needs_discovery || !op.requires_feature.empty();
    auto discovered = fetch_discovery(target, discovery_wait);
    std::vector<std::string> notes;
    if (!discovered.document) {
        if (needs_discovery || discovered.unreachable) {
            io.err << "agentcheck: " << discovered.error << "\n";
            run.exit_code = exit_unreachable;
            return run;
        }
        notes.push_back("not an agent (" + discovered.error + "): plain HTTP load");
    }
    const nlohmann::json discovery =
        discovered.document ? *discovered.document : nlohmann::json::object();

    std::uint64_t seed = o.seed;
    if (!o.seed_given) seed = std::random_device{}() & ((1ULL << 31) - 1);
    const auto run_nonce = static_cast<std::uint32_t>(std::random_device{}() & 0xffff);
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const auto run_id = random_run_id();
    auto token_for = [&](const std::string& who) -> std::string {
        if (who.empty()) return {};
        auto claims = identity_claims(who, run_id, discovery, now_s);
        claims["exp"] = now_s + std::chrono::duration_cast<std::chrono::seconds>(duration).count() +
                        token_margin_s;
        return client::mint_hs256(claims, secret);
    };

    load::engine_options eo;
    eo.target = target;
    eo.mdl = o.rate > 0 ? load::model::open : load::model::closed;
    eo.rate = o.rate / shard_count;
    eo.ramp = std::chrono::duration_cast<std::chrono::milliseconds>(ramp);
    eo.connections = o.connections;
    eo.duration = std::chrono::duration_cast<std::chrono::milliseconds>(duration);
    eo.requests =
        o.requests ? o.requests / shard_count + (shard_index < o.requests % shard_count) : 0;
    eo.threads = o.threads;
    eo.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    eo.seed = seed;
    eo.shard_index = shard_index;
    eo.shard_count = shard_count;
    eo.run_nonce = run_nonce;
    for (const auto& op : sc.operations) {
        if (!op.requires_feature.empty() && !declares(discovery, op.requires_feature)) {
            notes.push_back("operation " + op.name + " left out: the agent does not declare \"" +
                            op.requires_feature + "\"");
            continue;
        }
        eo.operations.push_back(op);
        eo.compiled.push_back(
            std::make_shared<const load::compiled_request>(target, op, token_for(op.identity)));
    }
    if (eo.operations.empty())
        throw usage_error("--scenario: no operation is left: " + notes.front());

    client::http_client http(target, std::chrono::milliseconds(timeout.count() / 1000));
    std::size_t setup =
        sc.setup_agents / shard_count + (shard_index < sc.setup_agents % shard_count);
    std::ostringstream prefix;
    prefix << "load-" << std::hex << run_nonce << std::dec << "-s" << shard_index << "-";
    const auto admin = needs_secret ? token_for("admin") : std::string();
    const auto operator_token = needs_secret ? token_for("operator") : std::string();
    try {
        eo.agents = set_up_agents(http, operator_token, setup, prefix.str(), io);
        eo.history_agents = std::min(o.record_history, eo.agents.size());
    } catch (const client::transport_exception& e) {
        io.err << "agentcheck: setup: " << e.what() << "\n";
        run.exit_code = exit_unreachable;
        return run;
    }

    // WebSocket subscribers on the event stream, held open for the whole run.
    std::unique_ptr<load::subscriber_pool> subscribers;
    if (sc.event_subscribers > 0) {
        if (!declares(discovery, "websocket") || !declares(discovery, "events")) {
            notes.push_back("subscribers left out: the agent does not declare \"websocket\" and "
                            "\"events\"");
        } else {
            subscribers = std::make_unique<load::subscriber_pool>(
                target, "/events/stream", token_for("viewer"), sc.event_subscribers);
            try {
                subscribers->start();
            } catch (const std::exception& e) {
                io.err << "agentcheck: setup: " << e.what() << "\n";
                run.exit_code = exit_unreachable;
                return run;
            }
        }
    }

    io.out << "agentcheck load " << target.base() << ": "
           << (eo.mdl == load::model::open
                   ? "open model, " + std::to_string(static_cast<long long>(eo.rate)) + " req/s"
                   : "closed model")
           << ", " << o.connections << " connections, " << o.threads << " thread(s), "
           << (o.requests ? std::to_string(eo.requests) + " requests" : o.duration) << ", scenario "
           << sc.name << ", seed " << seed << (shard_count > 1 ? ", shard " + o.shard : "") << "\n";
    const bool live = !o.quiet;
    const bool tty = io.tty;
    const double intended_rate = eo.mdl == load::model::open ? eo.rate : 0;
    eo.on_second = [&io, &hooks, live, tty, intended_rate](const load::second_stats& s) {
        if (hooks.on_second) return hooks.on_second(s);
        if (!live) return;
        if (tty)
            io.out << "\r" << load::second_line(s, intended_rate) << "   " << std::flush;
        else
            io.out << load::second_line(s, intended_rate) << "\n" << std::flush;
    };

    load_stop.store(false);
    load::engine_result er;
    double cpu_used = 0;
    {
        const interrupt_scope scope(load_interrupted, &load_stop);
        if (hooks.on_start) hooks.on_start();
        const double cpu_before = cpu_seconds();
        try {
            er = load::run_engine(eo, &load_stop);
        } catch (const load::spec_error& e) {
            throw usage_error(e.what());
        }
        cpu_used = cpu_seconds() - cpu_before;
    }
    if (live && tty && !hooks.on_second) io.out << "\n";
    std::optional<load::subscriber_stats> seen;
    if (subscribers) seen = subscribers->stop(std::chrono::milliseconds(1000)); // the last events

    if (!o.keep_agents && sc.delete_created) {
        auto ids = eo.agents;
        ids.insert(ids.end(), er.created_ids.begin(), er.created_ids.end());
        tear_down(http, admin, ids, io);
    }

    load::run_options ro;
    ro.target = target.base();
    ro.scenario = sc.name;
    ro.mdl = eo.mdl;
    ro.rate = eo.rate;
    ro.ramp_s = std::chrono::duration<double>(ramp).count();
    ro.connections = o.connections;
    ro.duration_s = std::chrono::duration<double>(duration).count();
    ro.requests = eo.requests;
    ro.threads = o.threads;
    ro.timeout_s = std::chrono::duration<double>(timeout).count();
    ro.seed = seed;
    ro.shard_index = shard_index;
    ro.shard_count = shard_count;
    ro.max_lag_ms = std::chrono::duration<double, std::milli>(max_lag).count();
    auto d = load::from_engine(er, ro);
    d.generator_cpu_s = cpu_used;
    d.subscribers = seen;
    d.environment = environment();
    d.command = command;
    d.notes = notes;
    if (load_interrupted.load()) d.notes.push_back("interrupted: the run stopped early");
    history_verdict history;
    if (o.record_history > 0) history = check_history(er.history, d, io.out);
    run.thresholds = load::evaluate(d, thresholds);
    io.out << load::summary_text(d, run.thresholds);
    run.ran = true;
    run.extra_html = history.html;
    if (load_interrupted.load())
        run.exit_code = exit_interrupted;
    else if (!history.ok)
        run.exit_code = exit_failures;
    else
        run.exit_code = exit_for(d, run.thresholds);
    run.data = std::move(d);
    return run;
}

namespace {

int do_load(const load_cli_options& o, const std::string& command, const cli_io& io) {
    const auto run = drive_load(o, command, io);
    if (run.ran) write_load_results(o.report_dir, run, io.out);
    return run.exit_code;
}

} // namespace

void attach_load(CLI::App& app, load_cli_options& o) {
    auto* load = app.add_subcommand(
        "load", "drive an agent with load: an open model (--rate, latency from each request's "
                "intended start) or a closed one (--connections); thresholds gate CI");
    o.load = load;
    load->require_subcommand(0, 1);
    load->add_option("--target", o.target, "the agent's base URL (http://127.0.0.1:8080)");
    load->add_option("--jwt-secret-file", o.secret_file,
                     "file holding the HS256 secret (or AGENTCHECK_JWT_SECRET); needed when the "
                     "scenario authenticates");
    load->add_option("--scenario", o.scenario,
                     "a scenario file (fixtures/load/*.json); default: GET /health");
    load->add_option("--rate", o.rate,
                     "requests per second, at constant arrival (the open model); without it, "
                     "each connection sends its next request as soon as it has an answer");
    load->add_option("--ramp", o.ramp, "open model: grow the rate from 0 over this long (10s)")
        ->capture_default_str();
    load->add_option("--connections", o.connections,
                     "connections (closed model: each keeps one request in flight; open model: "
                     "the pool requests are sent on)")
        ->capture_default_str();
    load->add_option("--duration", o.duration, "how long to send (250ms, 10s, 2m)")
        ->capture_default_str();
    load->add_option("--requests", o.requests, "stop after this many requests (0 = no bound)");
    load->add_option("--threads", o.threads, "generator threads (each runs many connections)")
        ->capture_default_str();
    load->add_option("--timeout", o.timeout, "a request not answered within this fails")
        ->capture_default_str();
    load->add_option("--seed", o.seed, "reproduces the arrival schedule and the operation mix");
    load->add_option("--shard", o.shard,
                     "i/N: this process's share of the rate, the requests and the agents, for "
                     "N generators side by side (merge their results with load merge)")
        ->capture_default_str();
    load->add_option("--threshold", o.thresholds,
                     "a gate, e.g. 'p99<20ms', 'errors<0.1%', 'rps>=0.95*rate', "
                     "'get_agent.p99<5ms'; exit 1 naming each breach; repeatable");
    load->add_option("--report-dir", o.report_dir, "where results.json and results.html go")
        ->capture_default_str();
    load->add_option("--max-lag", o.max_lag,
                     "open model: the generator fails the run when its schedule lag p99 is "
                     "above this")
        ->capture_default_str();
    load->add_flag("--allow-non-loopback", o.allow_non_loopback,
                   "allow a target that is not loopback");
    load->add_flag("-q,--quiet", o.quiet, "no line per second");
    load->add_option("--record-history", o.record_history,
                     "record every operation on N of the setup agents and check the history for "
                     "linearizability after the run (exit 1 when it has no valid order)");
    load->add_flag("--keep-agents", o.keep_agents,
                   "do not delete the agents set up or created by the run");

    o.compare = load->add_subcommand("compare", "compare two results.json, figure by figure "
                                                "(exit 1 when a figure is worse beyond "
                                                "--tolerance)");
    o.compare->add_option("files", o.compare_files, "BASE.json NEW.json")->expected(2);
    o.compare->add_option("--tolerance", o.tolerance, "a change within this is 'same' (10%)")
        ->capture_default_str();
    o.merge = load->add_subcommand(
        "merge", "merge the results of shards (histograms added, never percentiles averaged)");
    o.merge->add_option("files", o.merge_files, "results.json files")->expected(1, 1000);
    o.merge->add_option("--report-dir", o.report_dir, "where the merged results go")
        ->capture_default_str();
}

load_settings check_load_options(const load_cli_options& o) {
    load_settings s;
    if (o.target.empty()) throw usage_error("--target: required (the agent's base URL)");
    s.target = parse_target(o.target, o.allow_non_loopback);
    if (s.target.tls())
        throw usage_error("--target: agentcheck load sends plain HTTP only (its connections "
                          "are its own, without TLS); https:// targets are for run and replay");
    try {
        if (!o.scenario.empty()) {
            s.sc = load::load_scenario_file(o.scenario);
        } else if (!o.default_scenario_json.empty()) {
            s.sc = load::parse_scenario(nlohmann::json::parse(o.default_scenario_json));
        } else {
            s.sc = load::default_scenario();
        }
        s.duration = load::parse_duration(o.duration, "--duration");
        s.ramp = load::parse_duration(o.ramp, "--ramp");
        s.timeout = load::parse_duration(o.timeout, "--timeout");
        s.max_lag = load::parse_duration(o.max_lag, "--max-lag");
    } catch (const load::spec_error& e) {
        throw usage_error(e.what());
    }
    if (s.duration.count() <= 0) throw usage_error("--duration: must be positive");
    if (s.timeout.count() <= 0) throw usage_error("--timeout: must be positive");
    if (o.rate < 0) throw usage_error("--rate: must be positive");
    if (o.threads < 1 || o.threads > 256) throw usage_error("--threads: from 1 to 256");
    if (o.connections < o.threads || o.connections > 100000)
        throw usage_error("--connections: from --threads (" + std::to_string(o.threads) +
                          ") to 100000");
    if (s.ramp > s.duration) throw usage_error("--ramp: longer than --duration");
    std::tie(s.shard_index, s.shard_count) = parse_shard(o.shard);
    std::vector<std::string> op_names;
    for (const auto& op : s.sc.operations)
        op_names.push_back(op.name);
    try {
        for (const auto& t : o.thresholds)
            s.thresholds.push_back(load::parse_threshold(t, o.rate, op_names));
    } catch (const load::spec_error& e) {
        throw usage_error(e.what());
    }
    s.needs_secret = s.sc.setup_agents > 0 || s.sc.event_subscribers > 0;
    for (const auto& op : s.sc.operations)
        s.needs_secret = s.needs_secret || !op.identity.empty();
    if (s.needs_secret || !o.secret_file.empty()) s.secret = load_secret(o.secret_file);
    return s;
}

void write_load_results(const std::string& dir, const load_run& run, std::ostream& out) {
    write_results(dir, run.data, run.thresholds, out, run.extra_html);
}

void stop_load() noexcept {
    load_stop.store(true);
}

int run_load(const load_cli_options& o, const std::string& command, const cli_io& io) {
    if (o.compare && o.compare->parsed()) return do_compare(o, io);
    if (o.merge && o.merge->parsed()) return do_merge(o, command, io);
    return do_load(o, command, io);
}

} // namespace agentcheck
