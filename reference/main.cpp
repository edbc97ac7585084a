// agentd: the reference agent service.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string_view>

#include "reference/config/config.hpp"
#include "reference/handlers/app.hpp"
#include "reference/server/outbound.hpp"
#include "reference/server/server.hpp"
#include "reference/storage/sqlite_store.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/util/time.hpp"

namespace {

constexpr int exit_usage = 2;
constexpr int exit_failure = 1;

void log_event(agent::log_sink& log, const agent::clock& clk, std::string_view msg,
               const nlohmann::json& extra) {
    nlohmann::json line = {
        {"ts", agent::util::format_rfc3339_ms(clk.now())}, {"level", "info"}, {"msg", msg}};
    line.update(extra);
    log.write(line.dump());
}

#ifdef AGENT_FAILPOINTS
/// Takes --failpoint NAME (or --failpoint=NAME) and --list-failpoints out of argv, before the
/// configuration sees it. Returns an exit code when agentd must stop now.
std::optional<int> take_failpoint_flags(int& argc, char** argv) {
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--list-failpoints") {
            std::cout << agent::failpoint::table_json();
            return 0;
        }
        std::string_view name;
        if (arg == "--failpoint") {
            if (i + 1 >= argc) {
                std::cerr
                    << "agentd: --failpoint: needs a name (agentd --list-failpoints lists them)\n";
                return exit_usage;
            }
            name = argv[++i];
        } else if (arg.starts_with("--failpoint=")) {
            name = arg.substr(std::string_view("--failpoint=").size());
        } else {
            argv[kept++] = argv[i];
            continue;
        }
        if (!agent::failpoint::enable(name)) {
            std::cerr << "agentd: --failpoint: no failpoint is named '" << name
                      << "' (agentd --list-failpoints lists them)\n";
            return exit_usage;
        }
    }
    argc = kept;
    return std::nullopt;
}
#endif

} // namespace

int main(int argc, char** argv) {
#ifdef AGENT_FAILPOINTS
    if (auto code = take_failpoint_flags(argc, argv)) return *code;
#endif
    agent::parse_outcome parsed;
    try {
        parsed = agent::parse_config(argc, argv);
        if (parsed.exit_now) {
            std::cout << parsed.output;
            return 0;
        }
        agent::validate(parsed.cfg);
    } catch (const agent::config_error& e) {
        std::cerr << "agentd: " << e.what() << "\n(see agentd --help)\n";
        return exit_usage;
    }
    const agent::config& cfg = parsed.cfg;
    agent::system_clock_source clk;
    agent::log_sink log(2, true);
    try {
        std::filesystem::create_directories(cfg.data_dir);
        agent::sqlite_settings db{(std::filesystem::path(cfg.data_dir) / "agentd.db").string(),
                                  agent::to_string(cfg.synchronous), cfg.commit_batch_max,
                                  cfg.idempotency_ttl, cfg.maintenance_interval};
        agent::sqlite_store store(db, clk);
        agent::event_log events(store, clk);
        agent::registry agents(store, clk, events);
        agent::seeded_random rnd;
        const agent::endpoint_allowlist allow(cfg.endpoint_allowlist);
        agent::task_queue tasks(
            store, clk, rnd, events, agents,
            {cfg.task_workers, cfg.task_queue_depth, cfg.task_retry_base, cfg.task_retry_cap,
             cfg.health_check_timeout},
            [&allow, timeout = cfg.health_check_timeout](const std::string& endpoint) {
                return agent::probe_health(endpoint, allow, timeout);
            });
        agent::invoke_service invoker(agents, events, store, clk, rnd, allow,
                                      {cfg.invoke_timeout, cfg.invoke_max_attempts,
                                       cfg.task_retry_base, cfg.task_retry_cap,
                                       cfg.breaker_failure_threshold, cfg.breaker_recovery});
        agents.load();
        agent::auth_settings auth{cfg.jwt_secret,
                                  cfg.jwt_rs256_public_key_pem,
                                  cfg.jwt_es256_public_key_pem,
                                  cfg.jwt_issuer,
                                  cfg.jwt_audience,
                                  cfg.jwt_leeway,
                                  cfg.max_token_bytes};
        agent::jwt_verifier verifier(auth, clk);
        agent::lifecycle_state life;
        agent::log_sink request_log(2, cfg.log_requests);
        agent::metrics stats;
        stats.set_sources(
            {[&agents] { return agents.size(); }, [&tasks] { return tasks.depth(); }});
        events.subscribe([&stats](const agent::models::event& e) {
            if (e.type == "task_succeeded") stats.count_task("succeeded");
            if (e.type == "task_dead_lettered") stats.count_task("dead_lettered");
        });
        std::unique_ptr<agent::rate_limiter> limiter;
        if (cfg.rate_limit_rps > 0)
            limiter = std::make_unique<agent::rate_limiter>(
                agent::rate_limit_settings{static_cast<double>(cfg.rate_limit_rps),
                                           cfg.rate_limit_burst, cfg.rate_limit_principals},
                clk);
        agent::handlers::app app({cfg, clk, agents, events, tasks, invoker, store, verifier, life,
                                  request_log, &stats, limiter.get()});
        agent::server::http_server server(cfg, app, life);
        agent::server::beast_outbound outbound(server.io());
        invoker.set_transport(&outbound);
        if (!cfg.port_file.empty()) {
            auto tmp = cfg.port_file + ".tmp";
            std::ofstream(tmp) << server.port() << "\n";
            std::filesystem::rename(tmp, cfg.port_file);
        }
        nlohmann::json listening = {{"bind", cfg.bind},
                                    {"port", server.port()},
                                    {"data_dir", cfg.data_dir},
                                    {"agents", agents.size()},
                                    {"synchronous", agent::to_string(cfg.synchronous)}};
        if (!agent::failpoint::active().empty())
            listening["failpoint"] = agent::failpoint::active(); // a deliberate defect is on
        log_event(log, clk, "listening", listening);
        tasks.start();
        server.run();
        tasks.stop();
        store.stop();
        request_log.flush();
        log_event(log, clk, "stopped",
                  {{"commits", store.commits()}, {"committed_ops", store.committed_ops()}});
        log.flush();
        // LIFE-004: a drained SIGTERM exits 0. With the failpoint the signal is raised again
        // once drained, "to tell the parent how the process ended": it ends by SIGTERM.
        if (AGENT_FAILPOINT("LIFE-004.exit-by-signal")) {
            std::signal(SIGTERM, SIG_DFL);
            std::raise(SIGTERM);
        }
        return 0;
    } catch (const std::exception& e) {
        log_event(log, clk, "start-up failed", {{"level", "error"}, {"error", e.what()}});
        log.flush();
        return exit_failure;
    }
}
