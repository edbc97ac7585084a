#include "conformance/harness/cli.hpp"

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <random>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "conformance/client/http.hpp"
#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/catalogue.hpp"
#include "conformance/harness/console.hpp"
#include "conformance/harness/identities.hpp"
#include "conformance/harness/known_failures.hpp"
#include "conformance/harness/report.hpp"
#include "conformance/harness/runner.hpp"
#include "conformance/harness/selection.hpp"
#include "conformance/harness/spec.hpp"
#include "conformance/harness/text.hpp"

#ifndef AGENTCHECK_VERSION
#define AGENTCHECK_VERSION "0.0.0"
#endif

namespace agentcheck {

namespace {

/// Seeds drawn at random stay below 2^53 so that JSON readers keep them exact.
constexpr std::uint64_t max_random_seed = (1ULL << 53U) - 1;
/// How long discovery may take before the target counts as unreachable.
constexpr std::chrono::milliseconds discovery_timeout{5000};
constexpr std::string_view secret_env = "AGENTCHECK_JWT_SECRET";
constexpr int id_column = 44;
constexpr int level_column = 8;
constexpr int layer_column = 13;

/// A usage or configuration problem: reported as "agentcheck: <message>", exit 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

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
                       "only checks of a layer (unit, integration, e2e, property, robustness, "
                       "lifecycle); repeatable");
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

std::string read_file(const std::string& path, std::string_view flag) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw usage_error(std::string(flag) + ": cannot read \"" + path + "\"");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// The HS256 secret: the file's bytes without trailing newlines, else $AGENTCHECK_JWT_SECRET.
std::string load_secret(const std::string& file) {
    std::string secret;
    if (!file.empty()) {
        secret = read_file(file, "--jwt-secret-file");
    } else if (const char* env = std::getenv(secret_env.data()); env != nullptr) {
        secret = env;
    } else {
        throw usage_error("--jwt-secret-file: required (or set AGENTCHECK_JWT_SECRET)");
    }
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
        secret.pop_back();
    if (secret.empty()) throw usage_error("--jwt-secret-file: the secret is empty");
    return secret;
}

client::target_url parse_target(const std::string& url, bool allow_non_loopback) {
    auto target = client::target_url::parse(url);
    if (!target)
        throw usage_error("--target: \"" + url + "\" is not of the form http://host[:port]");
    if (!allow_non_loopback && !target->is_loopback()) {
        throw usage_error(
            "--target: " + target->host +
            " is not a loopback address; pass --allow-non-loopback to test a remote agent");
    }
    return *target;
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
    filter_options filters;
    std::string target;
    std::string secret_file;
    std::uint64_t seed = 0;
    bool seed_given = false;
    double timeout_scale = 1.0;
    unsigned jobs = std::max(1U, std::thread::hardware_concurrency());
    unsigned retries = 0;
    std::string known_failures;
    std::string report_dir = "reports/latest";
    bool allow_non_loopback = false;
    bool dry_run = false;
};

int do_run(const run_options& o, const catalogue& cat, const check_registry& registry,
           const cli_io& io) {
    const auto sel = o.filters.to_selection();
    if (o.dry_run) {
        print_listing(select_checks(registry, cat, sel), cat, io.out);
        return exit_ok;
    }
    if (select_checks(registry, cat, sel).empty()) {
        throw usage_error("--only/--exclude/--layer/--level: the selection matches no check "
                          "(see `agentcheck list`)");
    }
    if (!(o.timeout_scale > 0.0)) throw usage_error("--timeout-scale: must be greater than 0");
    if (o.jobs == 0) throw usage_error("--jobs: must be at least 1");
    if (o.target.empty()) throw usage_error("--target: required");
    run_settings s;
    s.target = parse_target(o.target, o.allow_non_loopback);
    s.secret = load_secret(o.secret_file);
    s.sel = sel;
    s.seed = o.seed_given ? o.seed : random_seed();
    s.timeout_scale = o.timeout_scale;
    s.jobs = o.jobs;
    s.retries = o.retries;
    if (!o.known_failures.empty()) {
        try {
            s.known_failures =
                parse_known_failures(read_file(o.known_failures, "--known-failures"), cat);
        } catch (const config_error& e) {
            throw usage_error(std::string("--known-failures: ") + e.what());
        }
        s.known_failures_file = o.known_failures;
    }
    const auto discovered = fetch_discovery(
        s.target, std::chrono::milliseconds(static_cast<long long>(
                      static_cast<double>(discovery_timeout.count()) * s.timeout_scale)));
    if (!discovered.document) {
        io.err << "agentcheck: " << discovered.error << "\n";
        return exit_unreachable;
    }
    const auto& doc = *discovered.document;
    io.out << "agentcheck " << tool_version() << " → " << s.target.base();
    if (doc.contains("implementation") && doc["implementation"].is_object()) {
        io.out << " (" << doc["implementation"].value("name", "?") << " "
               << doc["implementation"].value("version", "?") << ")";
    }
    io.out << ", level " << to_string(s.sel.lvl) << ", seed " << s.seed << ", " << s.jobs
           << " jobs\n";
    console_reporter console(io.out, io.color, io.tty);
    auto report = run_checks(cat, registry, s, doc, &console);
    report.tool_version = std::string(tool_version());
    console.summary(report);
    try {
        write_reports(report, o.report_dir);
        io.out << "reports: " << o.report_dir
               << "/{report.json,junit.xml,summary.md,report.html}\n";
    } catch (const std::exception& e) {
        throw usage_error(std::string("--report-dir: ") + e.what());
    }
    return report.exit_code;
}

int do_token(const std::string& identity, const std::string& secret_file,
             const std::string& target_text, bool allow_non_loopback, const cli_io& io) {
    if (std::find(std::begin(identities), std::end(identities), identity) == std::end(identities)) {
        throw usage_error("--identity: \"" + identity +
                          "\" is not one of viewer, operator, operator2, admin, noroles");
    }
    const auto secret = load_secret(secret_file);
    nlohmann::json discovery = nlohmann::json::object();
    if (!target_text.empty()) {
        const auto target = parse_target(target_text, allow_non_loopback);
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
    io.out << ids.token(identity) << "\n";
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

    run_options ro;
    auto* run = app.add_subcommand("run", "run the checks against a live agent");
    run->add_option("--target", ro.target, "the agent's base URL, http://127.0.0.1:PORT");
    run->add_option("--jwt-secret-file", ro.secret_file,
                    "file holding the agent's HS256 secret (or set AGENTCHECK_JWT_SECRET)");
    ro.filters.attach(*run);
    run->add_option("--seed", ro.seed, "seed for the checks' random choices (default: random)");
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

    filter_options lo;
    auto* list = app.add_subcommand("list", "list the checks (nothing is sent)");
    lo.attach(*list);

    app.add_subcommand("coverage", "which requirements have checks, per level and section");
    app.add_subcommand("spec",
                       "print conformance/SPEC.md generated from the catalogue and the checks");

    std::string identity;
    std::string token_secret;
    std::string token_target;
    bool token_remote = false;
    auto* token =
        app.add_subcommand("token", "print a token for an identity (for the curl reproductions)");
    token->add_option("--identity", identity, "viewer, operator, operator2, admin or noroles")
        ->required();
    token->add_option("--jwt-secret-file", token_secret,
                      "file holding the HS256 secret (or AGENTCHECK_JWT_SECRET)");
    token->add_option("--target", token_target,
                      "take iss/aud from this agent's discovery document");
    token->add_flag("--allow-non-loopback", token_remote, "allow a target that is not loopback");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e, io.out, io.err);
        return code == 0 ? exit_ok : exit_usage;
    }
    ro.seed_given = run->count("--seed") > 0;
    try {
        const auto cat = parse_catalogue(catalogue_json);
        if (run->parsed()) return do_run(ro, cat, registry, io);
        if (list->parsed()) {
            print_listing(select_checks(registry, cat, lo.to_selection()), cat, io.out);
            return exit_ok;
        }
        if (app.got_subcommand("coverage")) return write_coverage(cat, registry, io.out);
        if (app.got_subcommand("spec")) {
            io.out << generate_spec(cat, registry);
            return exit_ok;
        }
        return do_token(identity, token_secret, token_target, token_remote, io);
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
