#include "conformance/harness/cli.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "conformance/client/jwt.hpp"
#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/cli_support.hpp"
#include "conformance/tests/fake_server.hpp"
#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck {
namespace {

/// Runs the CLI with the small catalogue and a registry, capturing its output.
struct cli_run {
    int code = -1;
    std::string out;
    std::string err;
};

check_registry sample_registry() {
    check_registry reg;
    reg.add({"HTTP-001.discovery", {"HTTP-001"}, layer::unit, "GET discovery", [](context& ctx) {
                 ctx.expect_status(ctx.send(client::request("GET", "/.well-known/agent-service")),
                                   200);
             }});
    reg.add(
        {"REG-001.create", {"REG-001"}, layer::integration, "create an agent", [](context& ctx) {
             ctx.create_agent();
         }});
    reg.add({"REG-002.location", {"REG-002"}, layer::unit, "a SHOULD", [](context& ctx) {
                 ctx.expect_status(ctx.send(client::request("GET", "/echo-status/500")), 200);
             }});
    reg.add({"EVT-001.events", {"EVT-001"}, layer::e2e, "needs events", [](context&) {}});
    return reg;
}

cli_run run(std::vector<std::string> args, const check_registry& reg = sample_registry(),
            std::string_view catalogue = testing::small_catalogue_json) {
    args.insert(args.begin(), "agentcheck");
    std::vector<const char*> argv;
    for (const auto& a : args)
        argv.push_back(a.c_str());
    std::ostringstream out;
    std::ostringstream err;
    cli_run r;
    r.code = run_cli(static_cast<int>(argv.size()), argv.data(), catalogue, reg,
                     cli_io{out, err, false, false});
    r.out = out.str();
    r.err = err.str();
    return r;
}

/// A temporary directory with a secret file, removed at the end.
struct temp_dir {
    temp_dir() {
        path =
            std::filesystem::temp_directory_path() /
            ("agentcheck-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path);
        std::ofstream(path / "secret") << "cli-test-secret-0123456789abcdef-0123\n";
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    [[nodiscard]] std::string file(const char* name) const { return (path / name).string(); }
    std::filesystem::path path;
    static inline int counter = 0;
};

std::uint16_t dead_port() {
    testing::fake_server gone([](const testing::beast_request&) { return testing::reply{}; });
    return gone.port(); // closed when this returns: nothing listens there
}

TEST(cli, usage_errors_exit_2_naming_the_flag) {
    temp_dir dir;
    const auto secret = dir.file("secret");
    const auto bogus = run({"run", "--bogus"});
    EXPECT_EQ(bogus.code, exit_usage);
    EXPECT_NE(bogus.err.find("--bogus"), std::string::npos);
    EXPECT_EQ(run({}).code, exit_usage); // a subcommand is required

    const auto level = run(
        {"run", "--target", "http://127.0.0.1:1", "--jwt-secret-file", secret, "--level", "often"});
    EXPECT_EQ(level.code, exit_usage);
    EXPECT_NE(level.err.find("--level"), std::string::npos);
    const auto layer = run({"list", "--layer", "system"});
    EXPECT_EQ(layer.code, exit_usage);
    EXPECT_NE(layer.err.find("--layer"), std::string::npos);
    const auto target = run({"run", "--target", "ftp://x", "--jwt-secret-file", secret});
    EXPECT_EQ(target.code, exit_usage);
    EXPECT_NE(target.err.find("--target"), std::string::npos);
    const auto remote =
        run({"run", "--target", "http://192.0.2.1:80", "--jwt-secret-file", secret});
    EXPECT_EQ(remote.code, exit_usage);
    EXPECT_NE(remote.err.find("--allow-non-loopback"), std::string::npos);
    const auto no_target = run({"run", "--jwt-secret-file", secret});
    EXPECT_EQ(no_target.code, exit_usage);
    EXPECT_NE(no_target.err.find("--target"), std::string::npos);
    const auto jobs =
        run({"run", "--target", "http://127.0.0.1:1", "--jwt-secret-file", secret, "--jobs", "0"});
    EXPECT_EQ(jobs.code, exit_usage);
    EXPECT_NE(jobs.err.find("--jobs"), std::string::npos);
    const auto scale = run({"run", "--target", "http://127.0.0.1:1", "--jwt-secret-file", secret,
                            "--timeout-scale", "0"});
    EXPECT_EQ(scale.code, exit_usage);
    EXPECT_NE(scale.err.find("--timeout-scale"), std::string::npos);
    const auto missing =
        run({"run", "--target", "http://127.0.0.1:1", "--jwt-secret-file", dir.file("nope")});
    EXPECT_EQ(missing.code, exit_usage);
    EXPECT_NE(missing.err.find("--jwt-secret-file"), std::string::npos);
    std::ofstream(dir.file("empty")) << "\n";
    const auto empty =
        run({"run", "--target", "http://127.0.0.1:1", "--jwt-secret-file", dir.file("empty")});
    EXPECT_EQ(empty.code, exit_usage);
    EXPECT_NE(empty.err.find("empty"), std::string::npos);
    ::unsetenv("AGENTCHECK_JWT_SECRET");
    const auto no_secret = run({"run", "--target", "http://127.0.0.1:1"});
    EXPECT_EQ(no_secret.code, exit_usage);
    EXPECT_NE(no_secret.err.find("AGENTCHECK_JWT_SECRET"), std::string::npos);
    std::ofstream(dir.file("kf.json")) << R"([{"id": "NOPE-001", "reason": "r"}])";
    const auto kf = run({"run", "--target", "http://127.0.0.1:1", "--jwt-secret-file", secret,
                         "--known-failures", dir.file("kf.json")});
    EXPECT_EQ(kf.code, exit_usage);
    EXPECT_NE(kf.err.find("--known-failures"), std::string::npos);
    EXPECT_NE(kf.err.find("NOPE-001"), std::string::npos);
    const auto nothing = run(
        {"run", "--target", "http://127.0.0.1:1", "--jwt-secret-file", secret, "--only", "NOPE-*"});
    EXPECT_EQ(nothing.code, exit_usage);
    EXPECT_NE(nothing.err.find("--only"), std::string::npos);
    const auto bad_catalogue = run({"list"}, sample_registry(), "{}");
    EXPECT_EQ(bad_catalogue.code, exit_usage);
    EXPECT_NE(bad_catalogue.err.find("catalogue"), std::string::npos);
}

TEST(cli, help_and_version_exit_0) {
    const auto help = run({"--help"});
    EXPECT_EQ(help.code, exit_ok);
    EXPECT_NE(help.out.find("coverage"), std::string::npos);
    const auto run_help = run({"run", "--help"});
    EXPECT_EQ(run_help.code, exit_ok);
    EXPECT_NE(run_help.out.find("--known-failures"), std::string::npos);
    const auto version = run({"--version"});
    EXPECT_EQ(version.code, exit_ok);
    EXPECT_NE(version.out.find(std::string(tool_version())), std::string::npos);
}

TEST(cli, unreachable_target_exits_3) {
    temp_dir dir;
    const auto port = dead_port();
    const auto r =
        run({"run", "--target", "http://127.0.0.1:" + std::to_string(port), "--jwt-secret-file",
             dir.file("secret"), "--report-dir", dir.file("reports")});
    EXPECT_EQ(r.code, exit_unreachable);
    EXPECT_NE(r.err.find("cannot reach"), std::string::npos);
    // A run that ended early still leaves reports that say what happened.
    std::ifstream in(dir.path / "reports" / "report.json");
    const auto doc = nlohmann::json::parse(in);
    EXPECT_EQ(doc["stopped_early"]["kind"], "unreachable");
    EXPECT_NE(doc["summary"].get<std::string>().find("ERROR — cannot reach"), std::string::npos);
    EXPECT_EQ(doc["exit_code"], exit_unreachable);
    std::ifstream junit(dir.path / "reports" / "junit.xml");
    const std::string xml((std::istreambuf_iterator<char>(junit)),
                          std::istreambuf_iterator<char>());
    EXPECT_NE(xml.find("<error"), std::string::npos) << xml;
}

TEST(cli, not_an_agent_exits_3) {
    temp_dir dir;
    testing::fake_server web([](const testing::beast_request&) {
        testing::reply r;
        r.body = "<html>hello</html>";
        return r;
    });
    const auto r =
        run({"run", "--target", web.url().base(), "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(r.code, exit_unreachable);
    EXPECT_NE(r.err.find("JSON object"), std::string::npos);
}

TEST(cli, list_and_dry_run_apply_the_filters) {
    const auto all = run({"list"});
    EXPECT_EQ(all.code, exit_ok);
    EXPECT_NE(all.out.find("HTTP-001.discovery"), std::string::npos);
    EXPECT_NE(all.out.find("REG-001.create"), std::string::npos);
    EXPECT_EQ(all.out.find("REG-002.location"), std::string::npos)
        << "SHOULD is not listed at --level must";
    EXPECT_NE(all.out.find("3 checks"), std::string::npos);
    const auto should = run({"list", "--level", "should", "--only", "s2"});
    EXPECT_NE(should.out.find("REG-002.location"), std::string::npos);
    EXPECT_EQ(should.out.find("HTTP-001.discovery"), std::string::npos);
    EXPECT_NE(should.out.find("2 checks"), std::string::npos);
    const auto dry = run({"run", "--dry-run", "--exclude", "REG-*", "--layer", "unit"});
    EXPECT_EQ(dry.code, exit_ok);
    EXPECT_NE(dry.out.find("HTTP-001.discovery"), std::string::npos);
    EXPECT_NE(dry.out.find("1 checks"), std::string::npos);
}

TEST(cli, run_against_a_fake_agent_writes_reports_and_exits_by_verdict) {
    temp_dir dir;
    testing::fake_agent agent;
    const auto base = agent.url().base();
    const auto reports = dir.file("reports");
    const auto pass = run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"),
                           "--report-dir", reports, "--seed", "99", "--jobs", "2"});
    EXPECT_EQ(pass.code, exit_ok) << pass.out << pass.err;
    EXPECT_NE(pass.out.find("seed 99"), std::string::npos);
    EXPECT_NE(pass.out.find("PASS"), std::string::npos);
    for (const char* f : {"report.json", "junit.xml", "summary.md", "report.html"}) {
        EXPECT_TRUE(std::filesystem::exists(dir.path / "reports" / f)) << f;
    }
    std::ifstream in(dir.path / "reports" / "report.json");
    const auto doc = nlohmann::json::parse(in);
    EXPECT_EQ(doc["options"]["seed"], 99);
    EXPECT_EQ(doc["tool"]["version"], std::string(tool_version()));
    EXPECT_EQ(doc["checks"].size(), 3U);

    // At --level should the failing SHOULD check fails the run.
    const auto fail = run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"),
                           "--report-dir", reports, "--level", "should"});
    EXPECT_EQ(fail.code, exit_failures);
    EXPECT_NE(fail.out.find("REG-002.location"), std::string::npos);

    // ... unless it is a known failure; and a stale waiver fails the run.
    std::ofstream(dir.file("kf.json"))
        << R"([{"id": "REG-002", "reason": "tracked", "expires": "2999-01-01"}])";
    const auto waived =
        run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"), "--report-dir",
             reports, "--level", "should", "--known-failures", dir.file("kf.json")});
    EXPECT_EQ(waived.code, exit_ok) << waived.out;
    std::ofstream(dir.file("stale.json")) << R"([{"id": "REG-001", "reason": "was broken"}])";
    const auto stale = run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"),
                            "--report-dir", reports, "--known-failures", dir.file("stale.json")});
    EXPECT_EQ(stale.code, exit_failures);
    EXPECT_NE(stale.out.find("stale waiver"), std::string::npos);
    std::ofstream(dir.file("expired.json"))
        << R"([{"id": "REG-002", "reason": "old", "expires": "2020-01-01"}])";
    const auto expired =
        run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"), "--report-dir",
             reports, "--known-failures", dir.file("expired.json")});
    EXPECT_EQ(expired.code, exit_failures);
    EXPECT_NE(expired.out.find("expired"), std::string::npos);

    // The secret may come from the environment.
    ::setenv("AGENTCHECK_JWT_SECRET", "env-secret-0123456789abcdef-0123456789", 1);
    const auto env =
        run({"run", "--target", base, "--report-dir", reports, "--only", "HTTP-001.*"});
    ::unsetenv("AGENTCHECK_JWT_SECRET");
    EXPECT_EQ(env.code, exit_ok) << env.err;

    // An unwritable report directory is a usage error naming --report-dir.
    std::ofstream(dir.file("file")) << "x";
    const auto unwritable =
        run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"), "--report-dir",
             dir.file("file") + "/sub", "--only", "HTTP-001.*"});
    EXPECT_EQ(unwritable.code, exit_usage);
    EXPECT_NE(unwritable.err.find("--report-dir"), std::string::npos);
    EXPECT_EQ(unwritable.out.find("PASS"), std::string::npos) << "checked before the run";
}

// An agent that answers discovery and then hangs: the run stops as "target stalled" after a
// few timeouts, with exit 3 and reports that say so, instead of waiting out every check.
TEST(cli, a_stalled_target_stops_the_run) {
    temp_dir dir;
    std::atomic<int> seen{0};
    testing::fake_server hanging([&](const testing::beast_request& req) {
        if (++seen <= 2) { // discovery, then the token check before the run
            if (req.target() == "/.well-known/agent-service")
                return testing::reply::json(200, {{"protocol", "agent-service/1"}});
            return testing::reply::json(200, {{"items", nlohmann::json::array()}});
        }
        testing::reply slow = testing::reply::json(200, nlohmann::json::object());
        slow.delay = std::chrono::milliseconds(1500);
        return slow;
    });
    const auto started = std::chrono::steady_clock::now();
    const auto r = run({"run", "--target", hanging.url().base(), "--jwt-secret-file",
                        dir.file("secret"), "--report-dir", dir.file("reports"), "--level",
                        "should", "--timeout-scale", "0.02", "--jobs", "1"});
    EXPECT_EQ(r.code, exit_unreachable) << r.out << r.err;
    EXPECT_NE(r.err.find("target stalled: 3 checks in a row timed out"), std::string::npos)
        << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
    std::ifstream in(dir.path / "reports" / "report.json");
    const auto doc = nlohmann::json::parse(in);
    EXPECT_EQ(doc["stopped_early"]["kind"], "stalled");
}

// --last-failed re-runs what failed last time; -x stops at the first failure.
TEST(cli, last_failed_and_exitfirst) {
    temp_dir dir;
    testing::fake_agent agent;
    const auto base = agent.url().base();
    const auto reports = dir.file("reports");
    const auto first = run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"),
                            "--report-dir", reports, "--level", "should", "--jobs", "1"});
    ASSERT_EQ(first.code, exit_failures);
    const auto again = run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"),
                            "--report-dir", reports, "--level", "should", "--last-failed"});
    EXPECT_EQ(again.code, exit_failures);
    EXPECT_NE(again.out.find("re-running 1 checks"), std::string::npos) << again.out;
    std::ifstream in(dir.path / "reports" / "report.json");
    const auto doc = nlohmann::json::parse(in);
    ASSERT_EQ(doc["checks"].size(), 1U);
    EXPECT_EQ(doc["checks"][0]["id"], "REG-002.location");
    const auto none = run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"),
                           "--report-dir", dir.file("empty"), "--last-failed"});
    EXPECT_EQ(none.code, exit_usage);
    EXPECT_NE(none.err.find("--last-failed: no previous report"), std::string::npos);
    const auto x = run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"),
                        "--report-dir", reports, "--level", "should", "-x", "--jobs", "1", "--only",
                        "REG-002.location", "--only", "HTTP-001.discovery"});
    EXPECT_EQ(x.code, exit_failures);
    std::ifstream xin(dir.path / "reports" / "report.json");
    const auto xdoc = nlohmann::json::parse(xin);
    EXPECT_EQ(xdoc["stopped_early"]["kind"], "max_failures") << xdoc.dump();
}

TEST(cli, bad_setups_are_named_in_one_line) {
    temp_dir dir;
    testing::fake_agent agent;
    const auto base = agent.url().base();
    // A secret too short for HS256.
    std::ofstream(dir.file("short")) << "12345";
    const auto short_secret =
        run({"run", "--target", base, "--jwt-secret-file", dir.file("short")});
    EXPECT_EQ(short_secret.code, exit_usage);
    EXPECT_NE(short_secret.err.find("the secret is 5 bytes"), std::string::npos)
        << short_secret.err;
    // Typos are named with the nearest real name.
    const auto bogus = run({"bogus"});
    EXPECT_EQ(bogus.code, exit_usage);
    EXPECT_NE(bogus.err.find("unknown command \"bogus\""), std::string::npos) << bogus.err;
    const auto rn = run({"rn"});
    EXPECT_NE(rn.err.find("did you mean run?"), std::string::npos) << rn.err;
    const auto targt = run({"run", "--targt", base});
    EXPECT_EQ(targt.code, exit_usage);
    EXPECT_NE(targt.err.find("unknown option --targt (did you mean --target?)"), std::string::npos)
        << targt.err;
    const auto only = run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"),
                           "--only", "REG-001.create", "--only", "REG-0O1"});
    EXPECT_EQ(only.code, exit_usage);
    EXPECT_NE(only.err.find("\"REG-0O1\" is not a check ID, requirement ID or section (did you "
                            "mean REG-001?)"),
              std::string::npos)
        << only.err;
    const auto header =
        run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"), "-H", "no colon"});
    EXPECT_EQ(header.code, exit_usage);
    EXPECT_NE(header.err.find("-H/--header"), std::string::npos);
    const auto both =
        run({"run", "--target", base, "--jwt-secret-file", dir.file("secret"), "-q", "-v"});
    EXPECT_EQ(both.code, exit_usage);
    // --help lists only layers that have checks.
    const auto help = run({"run", "--help"});
    EXPECT_EQ(help.out.find("robustness"), std::string::npos) << help.out;
}

TEST(cli, coverage_spec_and_token) {
    const auto cov = run({"coverage"});
    EXPECT_EQ(cov.code, exit_ok) << cov.out; // EVT-001 has a check; REG-099 is planned
    EXPECT_NE(cov.out.find("MUST"), std::string::npos);
    EXPECT_NE(cov.out.find("coverage: ok"), std::string::npos);
    check_registry partial;
    partial.add({"HTTP-001.only", {"HTTP-001"}, layer::unit, "t", [](context&) {}});
    const auto gaps = run({"coverage"}, partial);
    EXPECT_EQ(gaps.code, exit_failures);
    EXPECT_NE(gaps.out.find("REG-001 has no check"), std::string::npos);

    const auto spec = run({"spec"});
    EXPECT_EQ(spec.code, exit_ok);
    EXPECT_NE(spec.out.find("HTTP-001 | MUST | core |"), std::string::npos);

    temp_dir dir;
    const auto tok =
        run({"token", "--identity", "operator", "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(tok.code, exit_ok) << tok.err;
    EXPECT_EQ(std::count(tok.out.begin(), tok.out.end(), '.'), 2);
    EXPECT_EQ(tok.out.back(), '\n');
    const auto bad_identity =
        run({"token", "--identity", "root", "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(bad_identity.code, exit_usage);
    EXPECT_NE(bad_identity.err.find("--identity"), std::string::npos);
    testing::fake_agent agent;
    const auto with_target = run({"token", "--identity", "admin", "--jwt-secret-file",
                                  dir.file("secret"), "--target", agent.url().base()});
    EXPECT_EQ(with_target.code, exit_ok) << with_target.err;
    const auto unreachable =
        run({"token", "--identity", "admin", "--jwt-secret-file", dir.file("secret"), "--target",
             "http://127.0.0.1:" + std::to_string(dead_port())});
    EXPECT_EQ(unreachable.code, exit_unreachable);

    // Any token a check minted, from the claims and header its reproduction prints.
    const auto minted =
        run({"token", "--claims", R"({"sub":"x","exp":"now-90","roles":["admin"]})", "--header",
             R"({"alg":"none"})", "--jwt-secret-file", dir.file("secret")});
    ASSERT_EQ(minted.code, exit_ok) << minted.err;
    const auto first_dot = minted.out.find('.');
    const auto second_dot = minted.out.find('.', first_dot + 1);
    ASSERT_NE(second_dot, std::string::npos);
    const auto header = client::b64url_decode(minted.out.substr(0, first_dot));
    const auto payload =
        client::b64url_decode(minted.out.substr(first_dot + 1, second_dot - first_dot - 1));
    ASSERT_TRUE(header && payload);
    EXPECT_EQ(nlohmann::json::parse(*header)["alg"], "none");
    const auto claims = nlohmann::json::parse(*payload);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_NEAR(claims["exp"].get<double>(), static_cast<double>(now - 90), 5.0);
    EXPECT_EQ(claims["sub"], "x");
    const auto bad_time =
        run({"token", "--claims", R"({"exp":"soon"})", "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(bad_time.code, exit_ok) << "a string that is not now±N stays as it is";
    const auto bad_now =
        run({"token", "--claims", R"({"exp":"now*2"})", "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(bad_now.code, exit_usage);
    EXPECT_NE(bad_now.err.find("--claims"), std::string::npos);
    const auto neither = run({"token", "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(neither.code, exit_usage);

    // Every token variant the checks send, by name.
    const auto expired =
        run({"token", "--variant", "expired", "--jwt-secret-file", dir.file("secret")});
    ASSERT_EQ(expired.code, exit_ok) << expired.err;
    const auto token = expired.out.substr(0, expired.out.find('\n'));
    const auto body = client::b64url_decode(
        token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
    ASSERT_TRUE(body);
    const auto variant_claims = nlohmann::json::parse(*body);
    EXPECT_LT(variant_claims["exp"].get<long long>(), now - 30);
    EXPECT_EQ(variant_claims["roles"], nlohmann::json::array({"admin"}));
    const auto typo =
        run({"token", "--variant", "expird", "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(typo.code, exit_usage);
    EXPECT_NE(typo.err.find("--variant: unknown token variant \"expird\" (did you mean "
                            "expired?)"),
              std::string::npos)
        << typo.err;
    const auto both = run({"token", "--variant", "expired", "--claims", "{}", "--jwt-secret-file",
                           dir.file("secret")});
    EXPECT_EQ(both.code, exit_usage);
    const auto needs_issuer =
        run({"token", "--variant", "wrong-iss", "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(needs_issuer.code, exit_usage);
    EXPECT_NE(needs_issuer.err.find("auth.issuer"), std::string::npos);
}

// A failing check that sent several requests: its requests are saved beside the report, its
// reproduction names `agentcheck replay`, and the replay sends them again and compares.
TEST(cli, a_failing_sequence_is_saved_for_replay) {
    temp_dir dir;
    testing::fake_agent agent;
    check_registry reg;
    reg.add({"REG-002.sequence", {"REG-002"}, layer::unit, "two requests", [](context& ctx) {
                 (void)ctx.send(client::request("GET", "/echo-status/404"));
                 ctx.expect_status(ctx.send(client::request("GET", "/echo-status/500")), 200);
             }});
    reg.add({"HTTP-001.one", {"HTTP-001"}, layer::unit, "passes", [](context& ctx) {
                 ctx.expect_status(ctx.send(client::request("GET", "/echo-status/200")), 200);
             }});
    const auto reports = dir.file("reports");
    const auto failed = run({"run", "--target", agent.url().base(), "--jwt-secret-file",
                             dir.file("secret"), "--report-dir", reports, "--level", "should"},
                            reg);
    EXPECT_EQ(failed.code, exit_failures);
    const auto saved = dir.path / "reports" / "replay" / "REG-002.sequence.json";
    ASSERT_TRUE(std::filesystem::exists(saved)) << failed.out;
    EXPECT_FALSE(std::filesystem::exists(dir.path / "reports" / "replay" / "HTTP-001.one.json"))
        << "only failing checks are saved by default";
    EXPECT_NE(failed.out.find("agentcheck replay " + saved.string()), std::string::npos)
        << failed.out;
    const auto again = run({"replay", saved.string(), "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(again.code, exit_ok) << again.out << again.err;
    EXPECT_NE(again.out.find("2. GET /echo-status/500 → 500  (as recorded)"), std::string::npos)
        << again.out;
    // --save-replays all keeps the passing ones too; none keeps nothing.
    (void)run({"run", "--target", agent.url().base(), "--jwt-secret-file", dir.file("secret"),
               "--report-dir", reports, "--save-replays", "all"},
              reg);
    EXPECT_TRUE(std::filesystem::exists(dir.path / "reports" / "replay" / "HTTP-001.one.json"));
    (void)run({"run", "--target", agent.url().base(), "--jwt-secret-file", dir.file("secret"),
               "--report-dir", reports, "--save-replays", "none"},
              reg);
    EXPECT_TRUE(std::filesystem::exists(dir.path / "reports" / "replay" / "HTTP-001.one.json"))
        << "none leaves the directory alone";
    const auto missing =
        run({"replay", dir.file("nope.json"), "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(missing.code, exit_usage);
    std::ofstream(dir.file("bad.json")) << "{\"format\": \"x\"}";
    const auto bad = run({"replay", dir.file("bad.json"), "--jwt-secret-file", dir.file("secret")});
    EXPECT_EQ(bad.code, exit_usage);
    EXPECT_NE(bad.err.find("not an agentcheck-replay/1 document"), std::string::npos) << bad.err;
}

TEST(cli, selftest_usage_errors_name_the_flag) {
    temp_dir dir;
    const auto no_port = run({"selftest", "--agent-cmd", "agentd --port 8080"});
    EXPECT_EQ(no_port.code, exit_usage);
    EXPECT_NE(no_port.err.find("{port}"), std::string::npos);
    const auto scope = run({"selftest", "--agent-cmd", "x {port}", "--scope", "everything"});
    EXPECT_EQ(scope.code, exit_usage);
    EXPECT_NE(scope.err.find("--scope"), std::string::npos);
    const auto timeout = run({"selftest", "--agent-cmd", "x {port}", "--run-timeout", "soon"});
    EXPECT_EQ(timeout.code, exit_usage);
    EXPECT_NE(timeout.err.find("--run-timeout"), std::string::npos);
    // An agent without failpoints: what it said is quoted, with how to build one that has them.
    const auto none = run({"selftest", "--agent-cmd", "echo no such option; exit 2; {port}",
                           "--report-dir", dir.file("st")});
    EXPECT_EQ(none.code, exit_usage);
    EXPECT_NE(none.err.find("--agent-cmd"), std::string::npos);
    EXPECT_NE(none.err.find("no such option"), std::string::npos);
    EXPECT_NE(none.err.find("AGENT_FAILPOINTS"), std::string::npos);
    const auto empty =
        run({"selftest", "--agent-cmd", "echo [] #{port}", "--report-dir", dir.file("st")});
    EXPECT_EQ(empty.code, exit_usage);
    EXPECT_NE(empty.err.find("listed no failpoint"), std::string::npos);
    std::ofstream(dir.file("bad.json")) << R"({"schema": "other"})";
    const auto cov = run({"coverage", "--selftest", dir.file("bad.json")});
    EXPECT_EQ(cov.code, exit_usage);
    EXPECT_NE(cov.err.find("--selftest"), std::string::npos);
}

TEST(cli, interrupt_scope_sets_the_innermost_flag_and_restores_what_was_there) {
    std::atomic<bool> outer{true};
    std::atomic<bool> inner{false};
    std::atomic<bool> also{false};
    const auto before = std::signal(SIGINT, SIG_IGN);
    {
        const interrupt_scope a(outer);
        EXPECT_FALSE(outer.load()) << "a scope starts uninterrupted";
        {
            const interrupt_scope b(inner, &also);
            std::raise(SIGTERM);
            EXPECT_TRUE(inner.load());
            EXPECT_TRUE(also.load());
            EXPECT_FALSE(outer.load()) << "only the innermost scope hears the signal";
        }
        std::raise(SIGINT);
        EXPECT_TRUE(outer.load()) << "the outer scope is served again once the inner one ends";
    }
    EXPECT_EQ(std::signal(SIGINT, before), SIG_IGN) << "the handler from before is back";
}

} // namespace
} // namespace agentcheck
