#include "reference/config/config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "reference/util/allowlist.hpp"
#include "reference/util/text.hpp"
#include "reference/version.hpp"

namespace agent {
namespace {

// ---- limits (what validate() accepts) -------------------------------------------------

constexpr long long kib = 1024;
constexpr long long mib = kib * kib;
constexpr long long gib = mib * kib;
constexpr long long max_port = 65535;
constexpr long long max_threads = 256;
constexpr long long max_commit_batch = 100000;
constexpr long long seconds_per_day = 86400;
constexpr long long days_per_year = 365;
constexpr long long max_idempotency_ttl_s = days_per_year * seconds_per_day;
constexpr long long max_leeway_s = 3600;
constexpr long long min_token_bytes = 256;
constexpr long long max_token_bytes_limit = 64 * kib;
constexpr long long max_body_limit = gib;
constexpr long long min_header_limit = kib;
constexpr long long max_header_limit = mib;
constexpr long long min_timeout_ms = 1;
constexpr long long ms_per_second = 1000;
constexpr long long max_timeout_ms = seconds_per_day * ms_per_second; // one day
constexpr long long max_page_limit = 10000;
constexpr long long min_maintenance_ms = 10; // below this the idle writer would busy-wait
constexpr long long max_connections_limit = 1000000;
constexpr long long ws_buffer_min = 4096;
constexpr long long ws_buffer_max = 64LL << 20;
constexpr std::size_t min_hs256_secret_bytes = 32; // RFC 7518 §3.2: at least the hash size
constexpr std::size_t max_key_file_bytes = mib;
constexpr std::size_t read_chunk = 4096;

constexpr std::string_view env_prefix = "AGENT_";
constexpr const char* secret_env = "AGENT_JWT_SECRET";
constexpr const char* secret_source = "--jwt-secret-file / AGENT_JWT_SECRET";
constexpr const char* no_key_message =
    "no JWT key configured: pass --jwt-secret-file, set AGENT_JWT_SECRET, or pass "
    "--jwt-rs256-public-key-file / --jwt-es256-public-key-file";

// ---- the options, as text until validated ---------------------------------------------

/// Every option's value as text: CLI11 fills these from flags, environment and the config
/// file; convert() turns them into a config. Initialised from config's defaults so that
/// --help shows them.
struct raw_options {
    std::string bind, port, threads, port_file, data_dir, synchronous, commit_batch_max,
        idempotency_ttl_s, maintenance_interval_ms, jwt_secret_file, jwt_rs256_public_key_file,
        jwt_es256_public_key_file, jwt_issuer, jwt_audience, jwt_leeway_s, max_token_bytes,
        max_body_bytes, max_header_bytes, header_timeout_ms, idle_timeout_ms, write_timeout_ms,
        drain_timeout_ms, page_limit_default, page_limit_max, max_connections, ws_buffer_bytes,
        task_workers, task_queue_depth, task_retry_base_ms, task_retry_cap_ms,
        health_check_timeout_ms, endpoint_allowlist, invoke_timeout_ms, invoke_max_attempts,
        breaker_failure_threshold, breaker_recovery_ms, rate_limit_rps, rate_limit_burst,
        rate_limit_principals, tls_cert, tls_key, log_requests, config_file;
};

/// One command-line option: its long name (without "--"), where its text goes, its help.
struct option_spec {
    const char* name;
    std::string raw_options::*field;
    const char* type; ///< shown in --help
    const char* help;
};

const std::array option_specs{
    option_spec{"bind", &raw_options::bind, "ADDRESS", "IPv4 or IPv6 address to listen on"},
    option_spec{"port", &raw_options::port, "INT", "TCP port, 0-65535 (0 = ephemeral)"},
    option_spec{"threads", &raw_options::threads, "INT",
                "I/O threads, 0-256 (0 = hardware threads)"},
    option_spec{"port-file", &raw_options::port_file, "FILE", "write the bound port to this file"},
    option_spec{"data-dir", &raw_options::data_dir, "DIR", "directory of the SQLite database"},
    option_spec{"synchronous", &raw_options::synchronous, "MODE",
                "SQLite synchronous: off|normal|full|extra"},
    option_spec{"commit-batch-max", &raw_options::commit_batch_max, "INT",
                "most writes grouped into one commit, 1-100000"},
    option_spec{"idempotency-ttl-s", &raw_options::idempotency_ttl_s, "INT",
                "seconds an Idempotency-Key is remembered, 1-31536000"},
    option_spec{"maintenance-interval-ms", &raw_options::maintenance_interval_ms, "INT",
                "idle storage upkeep (health probe, idempotency purge) every N ms, 10-86400000"},
    option_spec{"jwt-secret-file", &raw_options::jwt_secret_file, "FILE",
                "file holding the HS256 secret (>= 32 bytes; trailing newline stripped)"},
    option_spec{"jwt-rs256-public-key-file", &raw_options::jwt_rs256_public_key_file, "FILE",
                "PEM RSA public key; enables RS256"},
    option_spec{"jwt-es256-public-key-file", &raw_options::jwt_es256_public_key_file, "FILE",
                "PEM P-256 public key; enables ES256"},
    option_spec{"jwt-issuer", &raw_options::jwt_issuer, "TEXT",
                "required `iss` claim (unset: not checked)"},
    option_spec{"jwt-audience", &raw_options::jwt_audience, "TEXT",
                "required `aud` member (unset: not checked)"},
    option_spec{"jwt-leeway-s", &raw_options::jwt_leeway_s, "INT",
                "clock leeway for exp/nbf/iat, 0-3600 s"},
    option_spec{"max-token-bytes", &raw_options::max_token_bytes, "INT",
                "longest bearer token, 256-65536"},
    option_spec{"max-body-bytes", &raw_options::max_body_bytes, "INT",
                "largest request body, 1-1073741824"},
    option_spec{"max-header-bytes", &raw_options::max_header_bytes, "INT",
                "largest request head, 1024-1048576"},
    option_spec{"header-timeout-ms", &raw_options::header_timeout_ms, "INT",
                "time allowed for a complete request head (ms)"},
    option_spec{"idle-timeout-ms", &raw_options::idle_timeout_ms, "INT",
                "keep-alive connection idle time (ms)"},
    option_spec{"write-timeout-ms", &raw_options::write_timeout_ms, "INT",
                "time allowed to write a response (ms)"},
    option_spec{"drain-timeout-ms", &raw_options::drain_timeout_ms, "INT",
                "SIGTERM: most time to finish in-flight work (ms)"},
    option_spec{"page-limit-default", &raw_options::page_limit_default, "INT",
                "page size when `limit` is absent, 1-page-limit-max"},
    option_spec{"page-limit-max", &raw_options::page_limit_max, "INT",
                "largest page size, 1-10000"},
    option_spec{"max-connections", &raw_options::max_connections, "INT",
                "most simultaneous connections, 1-1000000"},
    option_spec{"ws-buffer-bytes", &raw_options::ws_buffer_bytes, "INT",
                "WebSocket messages queued for one client before it is closed (1008) as too "
                "slow, 4096-67108864"},
    option_spec{"task-workers", &raw_options::task_workers, "INT", "threads that run tasks, 1-64"},
    option_spec{"task-queue-depth", &raw_options::task_queue_depth, "INT",
                "tasks queued or running before POST /tasks answers 503, 1-1000000"},
    option_spec{"task-retry-base-ms", &raw_options::task_retry_base_ms, "INT",
                "backoff after the first failed attempt (doubling, jittered), 1-600000"},
    option_spec{"task-retry-cap-ms", &raw_options::task_retry_cap_ms, "INT",
                "longest backoff, >= task-retry-base-ms, <= 3600000"},
    option_spec{"health-check-timeout-ms", &raw_options::health_check_timeout_ms, "INT",
                "agent_health_check: time for GET endpoint/health, 10-600000"},
    option_spec{"endpoint-allowlist", &raw_options::endpoint_allowlist, "LIST",
                "host:port or host:* entries the agent may call (health checks, invoke), "
                "comma-separated"},
    option_spec{"invoke-timeout-ms", &raw_options::invoke_timeout_ms, "INT",
                "invoke: time for one attempt, 10-600000"},
    option_spec{"invoke-max-attempts", &raw_options::invoke_max_attempts, "INT",
                "invoke: attempts before 502/504, 1-10"},
    option_spec{"breaker-failure-threshold", &raw_options::breaker_failure_threshold, "INT",
                "invoke: consecutive failed attempts that open a target's circuit, 1-1000"},
    option_spec{"breaker-recovery-ms", &raw_options::breaker_recovery_ms, "INT",
                "invoke: how long a circuit stays open before one trial, 10-3600000"},
    option_spec{"rate-limit-rps", &raw_options::rate_limit_rps, "INT",
                "requests per second per principal (token sub, else client address), "
                "0-1000000; 0 turns rate limiting off"},
    option_spec{"rate-limit-burst", &raw_options::rate_limit_burst, "INT",
                "requests a principal may make at once, 0-10000000 (0: twice the rate)"},
    option_spec{"rate-limit-principals", &raw_options::rate_limit_principals, "INT",
                "principals whose buckets are kept at most (least recently used dropped), "
                "64-100000000"},
    option_spec{"tls-cert", &raw_options::tls_cert, "FILE",
                "PEM certificate chain (the server's first): serve HTTPS and WSS only, TLS 1.2 "
                "or newer; needs --tls-key"},
    option_spec{"tls-key", &raw_options::tls_key, "FILE",
                "PEM private key of --tls-cert's certificate"},
    option_spec{"log-requests", &raw_options::log_requests, "BOOL",
                "one JSON line per request: true|false"},
};

/// Options whose value, when given, must not be empty.
constexpr std::array non_empty_when_given{"bind",
                                          "data-dir",
                                          "port-file",
                                          "jwt-secret-file",
                                          "jwt-rs256-public-key-file",
                                          "jwt-es256-public-key-file",
                                          "jwt-issuer",
                                          "jwt-audience",
                                          "tls-cert",
                                          "tls-key"};

raw_options defaults_as_text() {
    const config d;
    raw_options r;
    r.bind = d.bind;
    r.port = std::to_string(d.port);
    r.threads = std::to_string(d.threads);
    r.port_file = d.port_file;
    r.data_dir = d.data_dir;
    r.synchronous = to_string(d.synchronous);
    r.commit_batch_max = std::to_string(d.commit_batch_max);
    r.idempotency_ttl_s = std::to_string(d.idempotency_ttl.count());
    r.maintenance_interval_ms = std::to_string(d.maintenance_interval.count());
    r.jwt_secret_file = d.jwt_secret_file;
    r.jwt_rs256_public_key_file = d.jwt_rs256_public_key_file;
    r.jwt_es256_public_key_file = d.jwt_es256_public_key_file;
    r.jwt_issuer = d.jwt_issuer.value_or("");
    r.jwt_audience = d.jwt_audience.value_or("");
    r.jwt_leeway_s = std::to_string(d.jwt_leeway.count());
    r.max_token_bytes = std::to_string(d.max_token_bytes);
    r.max_body_bytes = std::to_string(d.max_body_bytes);
    r.max_header_bytes = std::to_string(d.max_header_bytes);
    r.header_timeout_ms = std::to_string(d.header_timeout.count());
    r.idle_timeout_ms = std::to_string(d.idle_timeout.count());
    r.write_timeout_ms = std::to_string(d.write_timeout.count());
    r.drain_timeout_ms = std::to_string(d.drain_timeout.count());
    r.page_limit_default = std::to_string(d.page_limit_default);
    r.page_limit_max = std::to_string(d.page_limit_max);
    r.max_connections = std::to_string(d.max_connections);
    r.ws_buffer_bytes = std::to_string(d.ws_buffer_bytes);
    r.task_workers = std::to_string(d.task_workers);
    r.task_queue_depth = std::to_string(d.task_queue_depth);
    r.task_retry_base_ms = std::to_string(d.task_retry_base.count());
    r.task_retry_cap_ms = std::to_string(d.task_retry_cap.count());
    r.health_check_timeout_ms = std::to_string(d.health_check_timeout.count());
    r.invoke_timeout_ms = std::to_string(d.invoke_timeout.count());
    r.invoke_max_attempts = std::to_string(d.invoke_max_attempts);
    r.breaker_failure_threshold = std::to_string(d.breaker_failure_threshold);
    r.breaker_recovery_ms = std::to_string(d.breaker_recovery.count());
    {
        std::string list;
        for (const auto& e : d.endpoint_allowlist)
            list += (list.empty() ? "" : ",") + e;
        r.endpoint_allowlist = list;
    }
    r.rate_limit_rps = std::to_string(d.rate_limit_rps);
    r.rate_limit_burst = std::to_string(d.rate_limit_burst);
    r.rate_limit_principals = std::to_string(d.rate_limit_principals);
    r.log_requests = d.log_requests ? "true" : "false";
    return r;
}

/// "max-body-bytes" -> "AGENT_MAX_BODY_BYTES".
std::string env_name(std::string_view option) {
    std::string out(env_prefix);
    for (char c : option) {
        if (c == '-')
            out.push_back('_');
        else if (c >= 'a' && c <= 'z')
            out.push_back(static_cast<char>(c - 'a' + 'A'));
        else
            out.push_back(c);
    }
    return out;
}

std::string flag(std::string_view name) {
    return "--" + std::string(name);
}

/// Builds the CLI11 app. `discovery` (pass 1) only learns which options the command line
/// gives; the full app (pass 2) also reads the config file.
void build_app(CLI::App& app, raw_options& raw, bool discovery) {
    app.set_version_flag("--version", std::string("agentd ") + agentd_version,
                         "print the version and exit");
    for (const auto& spec : option_specs) {
        auto* opt = app.add_option(flag(spec.name), raw.*spec.field, spec.help)
                        ->capture_default_str()
                        ->type_name(spec.type);
        if (!discovery) opt->envname(env_name(spec.name)); // pass 1 must see flags alone
    }
    const char* config_help =
        "read options from a TOML/INI file of `long-option-name = value` lines";
    CLI::Option* config_opt = discovery ? app.add_option("--config", raw.config_file, config_help)
                                        : app.set_config("--config", "", config_help);
    config_opt->type_name("FILE");
    if (!discovery) config_opt->envname(env_name("config"));
    app.allow_config_extras(CLI::config_extras_mode::error); // unknown keys in the file are errors
    app.footer(
        "Every option can also be set with the environment variable AGENT_<NAME> (e.g. "
        "AGENT_MAX_BODY_BYTES) or in the --config file. Precedence: flag > environment > config "
        "file > default. The HS256 secret may also come from AGENT_JWT_SECRET (the file wins).");
}

/// argv as owned strings (CLI11 consumes what it parses).
std::vector<std::string> args_of(int argc, const char* const* argv) {
    std::vector<std::string> out;
    for (int i = 1; i < argc; ++i)
        out.emplace_back(argv[i]);
    return out;
}

void parse_args(CLI::App& app, const char* program, const std::vector<std::string>& args) {
    std::vector<const char*> argv{program};
    for (const auto& a : args)
        argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
}

// ---- conversions ----------------------------------------------------------------------

[[noreturn]] void fail(std::string_view option, const std::string& what) {
    throw config_error(std::string(option) + ": " + what);
}

void check_range(std::string_view option, long long v, long long lo, long long hi) {
    if (v < lo || v > hi)
        fail(option, std::to_string(v) + " is out of range " + std::to_string(lo) + ".." +
                         std::to_string(hi));
}

long long number(std::string_view option, const std::string& text, long long lo, long long hi) {
    const auto v = util::parse_int(text);
    if (!v) fail(option, "'" + text + "' is not a whole non-negative number");
    check_range(option, *v, lo, hi);
    return *v;
}

bool boolean(std::string_view option, const std::string& text) {
    if (util::iequals(text, "true")) return true;
    if (util::iequals(text, "false")) return false;
    fail(option, "'" + text + "' is not true or false");
}

sync_mode sync_from(const std::string& text) {
    for (auto m : {sync_mode::off, sync_mode::normal, sync_mode::full, sync_mode::extra})
        if (util::iequals(text, to_string(m))) return m;
    fail("--synchronous", "'" + text + "' is not one of off, normal, full, extra");
}

struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

[[noreturn]] void cannot_read(std::string_view option, const std::string& path, int err) {
    fail(option, "cannot read '" + path + "': " + std::strerror(err));
}

/// Reads a whole (small) file; errors name the option, the path and the OS reason.
std::string read_file(std::string_view option, const std::string& path) {
    errno = 0;
    std::unique_ptr<std::FILE, file_closer> f(std::fopen(path.c_str(), "rb"));
    if (!f) cannot_read(option, path, errno);
    std::string out;
    std::array<char, read_chunk> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
        out.append(buf.data(), n);
        if (out.size() > max_key_file_bytes)
            fail(option,
                 "'" + path + "' is larger than " + std::to_string(max_key_file_bytes) + " bytes");
    }
    if (std::ferror(f.get()) != 0) cannot_read(option, path, errno != 0 ? errno : EIO);
    return out;
}

void strip_trailing_newlines(std::string& s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
}

/// Refuses a file that is not a PEM public key of the given type (so that a bad key is a
/// usage error naming the option, not a start-up failure).
void check_public_key(std::string_view option, const std::string& path, const std::string& pem,
                      int type, const char* type_name) {
    struct bio_free {
        void operator()(BIO* b) const noexcept { BIO_free(b); }
    };
    struct pkey_free {
        void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
    };
    std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::unique_ptr<EVP_PKEY, pkey_free> key(
        bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!key || EVP_PKEY_get_base_id(key.get()) != type)
        fail(option, "'" + path + "' is not a PEM " + type_name + " public key (BEGIN PUBLIC KEY)");
}

/// Reads --tls-cert and --tls-key, and checks that they are PEM, that the chain starts with a
/// certificate and that the key is that certificate's.
void load_tls(config& c) {
    if (c.tls_cert_file.empty() != c.tls_key_file.empty())
        fail(c.tls_cert_file.empty() ? "--tls-cert" : "--tls-key",
             c.tls_cert_file.empty() ? "is needed with --tls-key" : "is needed with --tls-cert");
    if (c.tls_cert_file.empty()) return;
    c.tls_cert_pem = read_file("--tls-cert", c.tls_cert_file);
    c.tls_key_pem = read_file("--tls-key", c.tls_key_file);
    auto read_bio = [](const std::string& pem) {
        return std::unique_ptr<BIO, decltype(&BIO_free)>(
            BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    };
    auto cert_bio = read_bio(c.tls_cert_pem);
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
    ERR_clear_error();
    if (!cert) fail("--tls-cert", "'" + c.tls_cert_file + "' holds no PEM certificate");
    auto key_bio = read_bio(c.tls_key_pem);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    ERR_clear_error();
    if (!key)
        fail("--tls-key", "'" + c.tls_key_file + "' holds no PEM private key (or it is encrypted)");
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        fail("--tls-key", "'" + c.tls_key_file + "' is not the key of the certificate in '" +
                              c.tls_cert_file + "'");
    }
}

std::string pem_from(std::string_view option, const std::string& path, int type,
                     const char* type_name) {
    std::string pem = read_file(option, path);
    check_public_key(option, path, pem, type, type_name);
    return pem;
}

/// Turns the option texts into a config, checking each value.
config convert(const raw_options& raw, const CLI::App& app) {
    for (const char* name : non_empty_when_given) {
        const auto* opt = app.get_option(flag(name));
        const auto& spec =
            *std::find_if(option_specs.begin(), option_specs.end(),
                          [&](const option_spec& s) { return std::strcmp(s.name, name) == 0; });
        if (opt->count() > 0 && (raw.*spec.field).empty()) fail(flag(name), "must not be empty");
    }

    config c;
    c.bind = raw.bind;
    c.port = static_cast<std::uint16_t>(number("--port", raw.port, 0, max_port));
    c.threads = static_cast<unsigned>(number("--threads", raw.threads, 0, max_threads));
    c.port_file = raw.port_file;
    c.data_dir = raw.data_dir;
    c.synchronous = sync_from(raw.synchronous);
    c.commit_batch_max = static_cast<std::size_t>(
        number("--commit-batch-max", raw.commit_batch_max, 1, max_commit_batch));
    c.idempotency_ttl = std::chrono::seconds{
        number("--idempotency-ttl-s", raw.idempotency_ttl_s, 1, max_idempotency_ttl_s)};
    c.maintenance_interval =
        std::chrono::milliseconds{number("--maintenance-interval-ms", raw.maintenance_interval_ms,
                                         min_maintenance_ms, max_timeout_ms)};
    c.jwt_secret_file = raw.jwt_secret_file;
    c.jwt_rs256_public_key_file = raw.jwt_rs256_public_key_file;
    c.jwt_es256_public_key_file = raw.jwt_es256_public_key_file;
    if (!raw.jwt_issuer.empty()) c.jwt_issuer = raw.jwt_issuer;
    if (!raw.jwt_audience.empty()) c.jwt_audience = raw.jwt_audience;
    c.jwt_leeway =
        std::chrono::seconds{number("--jwt-leeway-s", raw.jwt_leeway_s, 0, max_leeway_s)};
    c.max_token_bytes = static_cast<std::size_t>(
        number("--max-token-bytes", raw.max_token_bytes, min_token_bytes, max_token_bytes_limit));
    c.max_body_bytes =
        static_cast<std::size_t>(number("--max-body-bytes", raw.max_body_bytes, 1, max_body_limit));
    c.max_header_bytes = static_cast<std::size_t>(
        number("--max-header-bytes", raw.max_header_bytes, min_header_limit, max_header_limit));
    c.header_timeout = std::chrono::milliseconds{
        number("--header-timeout-ms", raw.header_timeout_ms, min_timeout_ms, max_timeout_ms)};
    c.idle_timeout = std::chrono::milliseconds{
        number("--idle-timeout-ms", raw.idle_timeout_ms, min_timeout_ms, max_timeout_ms)};
    c.write_timeout = std::chrono::milliseconds{
        number("--write-timeout-ms", raw.write_timeout_ms, min_timeout_ms, max_timeout_ms)};
    c.drain_timeout = std::chrono::milliseconds{
        number("--drain-timeout-ms", raw.drain_timeout_ms, min_timeout_ms, max_timeout_ms)};
    c.page_limit_max =
        static_cast<std::size_t>(number("--page-limit-max", raw.page_limit_max, 1, max_page_limit));
    c.page_limit_default =
        static_cast<std::size_t>(number("--page-limit-default", raw.page_limit_default, 1,
                                        static_cast<long long>(c.page_limit_max)));
    c.max_connections = static_cast<std::size_t>(
        number("--max-connections", raw.max_connections, 1, max_connections_limit));
    c.ws_buffer_bytes = static_cast<std::size_t>(
        number("--ws-buffer-bytes", raw.ws_buffer_bytes, ws_buffer_min, ws_buffer_max));
    c.task_workers = static_cast<std::size_t>(number("--task-workers", raw.task_workers, 1, 64));
    c.task_queue_depth =
        static_cast<std::size_t>(number("--task-queue-depth", raw.task_queue_depth, 1, 1000000));
    c.task_retry_base = std::chrono::milliseconds{
        number("--task-retry-base-ms", raw.task_retry_base_ms, 1, 600000)};
    c.task_retry_cap = std::chrono::milliseconds{
        number("--task-retry-cap-ms", raw.task_retry_cap_ms, c.task_retry_base.count(), 3600000)};
    c.health_check_timeout = std::chrono::milliseconds{
        number("--health-check-timeout-ms", raw.health_check_timeout_ms, 10, 600000)};
    c.invoke_timeout =
        std::chrono::milliseconds{number("--invoke-timeout-ms", raw.invoke_timeout_ms, 10, 600000)};
    c.invoke_max_attempts =
        static_cast<int>(number("--invoke-max-attempts", raw.invoke_max_attempts, 1, 10));
    c.breaker_failure_threshold = static_cast<int>(
        number("--breaker-failure-threshold", raw.breaker_failure_threshold, 1, 1000));
    c.breaker_recovery = std::chrono::milliseconds{
        number("--breaker-recovery-ms", raw.breaker_recovery_ms, 10, 3600000)};
    try {
        c.endpoint_allowlist = endpoint_allowlist::parse(raw.endpoint_allowlist).entries();
    } catch (const std::invalid_argument& e) {
        fail("--endpoint-allowlist", e.what());
    }
    c.rate_limit_rps = number("--rate-limit-rps", raw.rate_limit_rps, 0, 1000000);
    c.rate_limit_burst = number("--rate-limit-burst", raw.rate_limit_burst, 0, 10000000);
    if (c.rate_limit_burst == 0) c.rate_limit_burst = 2 * c.rate_limit_rps;
    c.rate_limit_principals = static_cast<std::size_t>(
        number("--rate-limit-principals", raw.rate_limit_principals, 64, 100000000));
    c.log_requests = boolean("--log-requests", raw.log_requests);
    c.tls_cert_file = raw.tls_cert;
    c.tls_key_file = raw.tls_key;
    load_tls(c);

    // Secrets and keys: files are read here; the HS256 file wins over AGENT_JWT_SECRET.
    if (!c.jwt_secret_file.empty()) {
        c.jwt_secret = read_file("--jwt-secret-file", c.jwt_secret_file);
        strip_trailing_newlines(c.jwt_secret);
        if (c.jwt_secret.empty()) fail("--jwt-secret-file", "'" + c.jwt_secret_file + "' is empty");
    } else if (const char* env = std::getenv(secret_env); env != nullptr) {
        c.jwt_secret = env;
        if (c.jwt_secret.empty()) fail(secret_env, "is set but empty");
    }
    if (!c.jwt_rs256_public_key_file.empty())
        c.jwt_rs256_public_key_pem = pem_from("--jwt-rs256-public-key-file",
                                              c.jwt_rs256_public_key_file, EVP_PKEY_RSA, "RSA");
    if (!c.jwt_es256_public_key_file.empty())
        c.jwt_es256_public_key_pem =
            pem_from("--jwt-es256-public-key-file", c.jwt_es256_public_key_file, EVP_PKEY_EC, "EC");
    return c;
}

/// The per-value rules, on a config however it was built.
void check_values(const config& c) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(c.bind, ec);
    if (ec) fail("--bind", "'" + c.bind + "' is not an IPv4 or IPv6 address");
    if (c.data_dir.empty()) fail("--data-dir", "must not be empty");
    check_range("--threads", c.threads, 0, max_threads);
    check_range("--commit-batch-max", static_cast<long long>(c.commit_batch_max), 1,
                max_commit_batch);
    check_range("--idempotency-ttl-s", c.idempotency_ttl.count(), 1, max_idempotency_ttl_s);
    check_range("--maintenance-interval-ms", c.maintenance_interval.count(), min_maintenance_ms,
                max_timeout_ms);
    check_range("--jwt-leeway-s", c.jwt_leeway.count(), 0, max_leeway_s);
    check_range("--max-token-bytes", static_cast<long long>(c.max_token_bytes), min_token_bytes,
                max_token_bytes_limit);
    check_range("--max-body-bytes", static_cast<long long>(c.max_body_bytes), 1, max_body_limit);
    check_range("--max-header-bytes", static_cast<long long>(c.max_header_bytes), min_header_limit,
                max_header_limit);
    check_range("--header-timeout-ms", c.header_timeout.count(), min_timeout_ms, max_timeout_ms);
    check_range("--idle-timeout-ms", c.idle_timeout.count(), min_timeout_ms, max_timeout_ms);
    check_range("--write-timeout-ms", c.write_timeout.count(), min_timeout_ms, max_timeout_ms);
    check_range("--drain-timeout-ms", c.drain_timeout.count(), min_timeout_ms, max_timeout_ms);
    check_range("--page-limit-max", static_cast<long long>(c.page_limit_max), 1, max_page_limit);
    check_range("--page-limit-default", static_cast<long long>(c.page_limit_default), 1,
                static_cast<long long>(c.page_limit_max));
    check_range("--max-connections", static_cast<long long>(c.max_connections), 1,
                max_connections_limit);
    check_range("--ws-buffer-bytes", static_cast<long long>(c.ws_buffer_bytes), ws_buffer_min,
                ws_buffer_max);
    if (c.jwt_issuer && c.jwt_issuer->empty()) fail("--jwt-issuer", "must not be empty");
    if (c.jwt_audience && c.jwt_audience->empty()) fail("--jwt-audience", "must not be empty");
}

} // namespace

const char* to_string(sync_mode m) noexcept {
    switch (m) {
    case sync_mode::off:
        return "off";
    case sync_mode::normal:
        return "normal";
    case sync_mode::full:
        return "full";
    case sync_mode::extra:
        return "extra";
    }
    return "full";
}

parse_outcome parse_config(int argc, const char* const* argv) {
    const char* program = argc > 0 ? argv[0] : "agentd";
    const std::vector<std::string> args = args_of(argc, argv);
    const std::string description =
        "agentd: the reference Agent Service (protocol agent-service/1)";
    parse_outcome out;
    try {
        // Pass 1: which options does the command line itself give? (Also --help/--version
        // and unknown options.) CLI11 applies a config file before the environment, so the
        // precedence flag > environment > file needs this extra look.
        raw_options discovered = defaults_as_text();
        CLI::App discovery(description, "agentd");
        build_app(discovery, discovered, true);
        try {
            parse_args(discovery, program, args);
        } catch (const CLI::CallForHelp&) {
            raw_options shown = defaults_as_text();
            CLI::App full(description, "agentd");
            build_app(full, shown, false);
            out.exit_now = true;
            out.output = full.help();
            return out;
        } catch (const CLI::CallForVersion& e) {
            out.exit_now = true;
            out.output = std::string(e.what()) + "\n";
            return out;
        }

        // Pass 2: the command line, then AGENT_* for options it did not give (as flags, so
        // that they beat the config file), then the config file, then the defaults. The
        // environment's flags go first so that a "--" on the command line cannot swallow them.
        std::vector<std::string> full_args;
        std::vector<std::string> names{"config"};
        for (const auto& spec : option_specs)
            names.emplace_back(spec.name);
        for (const auto& name : names) {
            if (discovery.get_option(flag(name))->count() > 0) continue;
            const char* value = std::getenv(env_name(name).c_str());
            if (value != nullptr && *value != '\0') full_args.push_back(flag(name) + "=" + value);
        }
        full_args.insert(full_args.end(), args.begin(), args.end());
        raw_options raw = defaults_as_text();
        CLI::App app(description, "agentd");
        build_app(app, raw, false);
        try {
            parse_args(app, program, full_args);
        } catch (const CLI::FileError& e) {
            throw config_error(std::string("--config: ") + e.what());
        } catch (const CLI::ConfigError& e) {
            throw config_error(std::string("--config: ") + e.what());
        }
        out.cfg = convert(raw, app);
    } catch (const CLI::ParseError& e) {
        throw config_error(e.what());
    }
    check_values(out.cfg);
    return out;
}

void validate(const config& cfg) {
    check_values(cfg);
    if (cfg.jwt_secret.empty() && cfg.jwt_rs256_public_key_pem.empty() &&
        cfg.jwt_es256_public_key_pem.empty())
        throw config_error(no_key_message);
    if (!cfg.jwt_secret.empty() && cfg.jwt_secret.size() < min_hs256_secret_bytes)
        fail(secret_source, "the HS256 secret is " + std::to_string(cfg.jwt_secret.size()) +
                                " bytes; at least " + std::to_string(min_hs256_secret_bytes) +
                                " are required (RFC 7518 section 3.2)");
}

} // namespace agent
