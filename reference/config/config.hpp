#pragma once
// Every limit, timeout and default of agentd in one place. Values come from (lowest to
// highest precedence) the defaults below, a --config file, environment variables, flags.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace agent {

/// SQLite `PRAGMA synchronous` level for the write-ahead log.
enum class sync_mode { off, normal, full, extra };

/// The complete configuration of one agentd process. A plain value; copy freely.
struct config {
    // --- network
    std::string bind = "127.0.0.1";
    std::uint16_t port = 8080; ///< 0 = ephemeral (the bound port is logged)
    unsigned threads = 0;      ///< I/O threads; 0 = hardware threads
    std::string port_file;     ///< when set, the bound port is written here

    // --- storage
    std::string data_dir = "agentd-data";
    sync_mode synchronous = sync_mode::full;
    std::size_t commit_batch_max = 512; ///< most writes grouped into one commit
    std::chrono::seconds idempotency_ttl{86400};
    /// How often the idle storage writer probes the database and purges expired
    /// idempotency records. The writer sleeps in between: an idle agentd uses no CPU.
    std::chrono::milliseconds maintenance_interval{5000};

    // --- auth
    std::string jwt_secret; ///< HS256 secret (from file or AGENT_JWT_SECRET)
    std::string jwt_secret_file;
    std::string jwt_rs256_public_key_file; ///< PEM; enables RS256
    std::string jwt_es256_public_key_file; ///< PEM; enables ES256
    std::string jwt_rs256_public_key_pem;  ///< contents of jwt_rs256_public_key_file
    std::string jwt_es256_public_key_pem;  ///< contents of jwt_es256_public_key_file
    std::optional<std::string> jwt_issuer;
    std::optional<std::string> jwt_audience;
    std::chrono::seconds jwt_leeway{30};
    std::size_t max_token_bytes = 8192;

    // --- protocol limits (declared in discovery)
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::milliseconds idle_timeout{60000}; ///< keep-alive connection with no request
    std::chrono::milliseconds write_timeout{10000};
    std::chrono::milliseconds drain_timeout{10000}; ///< SIGTERM: most time to finish in-flight work
    std::size_t page_limit_default = 50;
    std::size_t page_limit_max = 500;
    std::size_t max_connections = 10000;
    /// Bytes of WebSocket messages queued for one client; past it the client is closed with
    /// 1008 (a consumer that does not read never makes memory grow).
    std::size_t ws_buffer_bytes = 256 * 1024;

    // --- tasks (§6) and outbound calls
    std::size_t task_workers = 2;
    std::size_t task_queue_depth = 1000;
    std::chrono::milliseconds task_retry_base{100};
    std::chrono::milliseconds task_retry_cap{5000};
    std::chrono::milliseconds health_check_timeout{2000};
    /// host:port / host:* the agent may call (agent_health_check, invoke).
    std::vector<std::string> endpoint_allowlist{"127.0.0.1:*"};
    std::chrono::milliseconds invoke_timeout{2000};
    int invoke_max_attempts = 3;
    int breaker_failure_threshold = 5;
    std::chrono::milliseconds breaker_recovery{5000};

    // --- rate limits (§8): a token bucket per principal; off while rate_limit_rps is 0
    long long rate_limit_rps = 0;               ///< tokens added per second (0: no limit)
    long long rate_limit_burst = 0;             ///< bucket size (0: twice the rate)
    std::size_t rate_limit_principals = 100000; ///< buckets kept at most

    // --- TLS (§8): with a certificate and key, HTTPS and WSS only, TLS 1.2 or newer
    std::string tls_cert_file; ///< PEM chain, the server's certificate first ("": plain HTTP)
    std::string tls_key_file;  ///< PEM private key
    std::string tls_cert_pem;  ///< contents of tls_cert_file
    std::string tls_key_pem;   ///< contents of tls_key_file
    [[nodiscard]] bool tls() const noexcept { return !tls_cert_pem.empty(); }

    // --- logging
    bool log_requests = true; ///< one JSON line per request on stderr
};

/// A bad option or value. what() names the option. agentd exits 2 on it.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The outcome of parsing the command line.
struct parse_outcome {
    config cfg;
    bool exit_now = false; ///< --help or --version was printed
    std::string output;    ///< what --help / --version printed
};

/// Parses argv (flags, --config FILE, environment: AGENT_JWT_SECRET and AGENT_<OPTION>),
/// reads the key files, and validates every value. Throws config_error naming the option.
/// Not thread-safe (reads the environment).
parse_outcome parse_config(int argc, const char* const* argv);

/// Checks cross-field rules (e.g. some JWT key configured). Throws config_error.
void validate(const config& cfg);

/// "off" / "normal" / "full" / "extra".
const char* to_string(sync_mode m) noexcept;

} // namespace agent
