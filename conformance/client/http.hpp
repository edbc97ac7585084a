#pragma once
// A blocking HTTP/1.1 client over plain TCP (Boost.Beast), with raw access to the socket
// for checks that must send malformed, partial or pipelined bytes. Shared by the
// conformance checks, properties, workflows and (later) the load generator's verifier.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentcheck::client {

/// One header field, as sent or received (order and duplicates preserved).
struct header {
    std::string name;
    std::string value;
};
using header_list = std::vector<header>;

/// Where the target listens: http:// or https:// (TLS 1.2 or newer, the certificate checked
/// against the system's CAs or ca_file, and against host, unless insecure).
struct target_url {
    std::string scheme = "http";
    std::string host = "127.0.0.1";
    std::uint16_t port = 80;
    /// A path the agent is mounted under ("/api"; "" for the root), prefixed to every
    /// request target; no trailing slash.
    std::string path_prefix;
    /// Headers sent with every request unless the request has its own (-H "X-Tenant: a").
    std::vector<std::pair<std::string, std::string>> extra_headers;
    /// https: PEM file of the CAs to trust instead of the system's ("" = the system's).
    std::string ca_file;
    /// https: no certificate check at all (--insecure).
    bool insecure = false;
    /// True for https://.
    [[nodiscard]] bool tls() const noexcept { return scheme == "https"; }
    /// Parses "http[s]://host[:port][/prefix][/]". nullopt when the URL is not of that form
    /// (no query, fragment, user info or spaces).
    static std::optional<target_url> parse(std::string_view url);
    /// "http://host:port/prefix" — no trailing slash.
    [[nodiscard]] std::string base() const;
    /// "http://host:port" (without the prefix).
    [[nodiscard]] std::string origin() const;
    /// True when host is a loopback address (127.0.0.0/8, ::1, localhost).
    [[nodiscard]] bool is_loopback() const;
};

/// What one TLS handshake with the target gave (probe_tls).
struct tls_probe {
    bool established = false;
    std::string version; ///< "TLSv1.3", when established
    std::string error;   ///< why not, when not
};
/// Opens a TCP connection to target and tries a TLS handshake offering only the versions
/// from `min_version` to `max_version` (OpenSSL's TLS1_VERSION … TLS1_3_VERSION), with
/// OpenSSL's security level 0 so that old versions can be offered at all; no certificate
/// check. Throws transport_exception when the TCP connection fails.
tls_probe probe_tls(const target_url& target, int min_version, int max_version,
                    std::chrono::milliseconds timeout);

/// A request to send. The client adds Host and Content-Length unless already present.
struct request {
    std::string method = "GET";
    std::string target = "/";
    header_list headers;
    std::string body;

    request() = default;
    request(std::string m, std::string t) : method(std::move(m)), target(std::move(t)) {}

    /// Sets the body to j.dump() and Content-Type: application/json.
    request& json(const nlohmann::json& j);
    /// Adds Authorization: Bearer <token>.
    request& bearer(std::string_view token);
    /// Appends a header.
    request& with(std::string name, std::string value);
    /// First value of a header (case-insensitive name), if present.
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

/// A response received.
struct response {
    int status = 0;
    std::string reason;
    header_list headers;
    std::string body;
    std::chrono::microseconds elapsed{0};

    /// First value of a header (case-insensitive name), if present.
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
    /// How many times a header appears.
    [[nodiscard]] std::size_t header_count(std::string_view name) const;
    /// The body parsed as JSON; nullopt when it is not JSON.
    [[nodiscard]] std::optional<nlohmann::json> json() const;
    /// Content-Type without parameters, lowercased ("application/problem+json").
    [[nodiscard]] std::string media_type() const;
};

/// How a transport operation failed (wrk's breakdown).
enum class transport_error { connect, write, read, timeout, closed, parse };
const char* to_string(transport_error e) noexcept;

/// Thrown by the client when the transport fails (not for HTTP error statuses).
class transport_exception : public std::runtime_error {
public:
    transport_exception(transport_error kind, const std::string& what)
        : std::runtime_error(what), kind_(kind) {}
    [[nodiscard]] transport_error kind() const noexcept { return kind_; }

private:
    transport_error kind_;
};

/// One TCP connection, kept alive across requests. Not thread-safe.
class connection {
public:
    /// Connects; throws transport_exception(connect|timeout).
    connection(const target_url& target, std::chrono::milliseconds timeout);
    ~connection();
    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;

    /// Sends one request and reads its response. Throws transport_exception.
    response send(const request& req);
    /// Serialises a request exactly as send() would (for pipelining by write_raw).
    [[nodiscard]] std::string serialize(const request& req) const;
    /// Writes bytes as they are. Throws transport_exception(write).
    void write_raw(std::string_view bytes);
    /// Reads one response (e.g. after write_raw). `head_request` when the request was
    /// HEAD (no body follows). Throws transport_exception(read|timeout|closed|parse).
    response read_response(bool head_request = false);
    /// Waits up to `wait` for the peer to close; true when it did (EOF or reset), false
    /// when still open. Bytes that arrive meanwhile are returned through `received`.
    bool wait_closed(std::chrono::milliseconds wait, std::string* received = nullptr);
    /// Changes the per-operation timeout.
    void set_timeout(std::chrono::milliseconds timeout);
    /// True when the last read ended because the peer closed (or reset) the connection
    /// before any byte of a response arrived — a stale kept-alive connection.
    [[nodiscard]] bool closed_before_response() const noexcept;

    struct impl;

private:
    friend tls_probe probe_tls(const target_url&, int, int, std::chrono::milliseconds);
    std::unique_ptr<impl> impl_;
};

/// Sends requests on a kept-alive connection that it reopens when the server closed it.
/// Not thread-safe; use one per thread.
class http_client {
public:
    http_client(target_url target, std::chrono::milliseconds timeout);
    ~http_client();
    /// Sends; retries once on a fresh connection if a kept-alive one turned out closed
    /// before any response byte. Throws transport_exception.
    response send(const request& req);
    /// Changes the per-operation timeout (also of the open connection).
    void set_timeout(std::chrono::milliseconds timeout);
    [[nodiscard]] const target_url& target() const noexcept { return target_; }

private:
    target_url target_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<connection> conn_;
};

/// Seconds a 429's Retry-After asks for: its integer value clamped to [1, max_s] (1 when it is
/// absent or not an integer).
long long retry_after_seconds(const response& r, long long max_s = 10);

/// Sends as a polite client does: a 429 (the agent's rate limit) is sent again after its
/// Retry-After, at most `retries` times and never past `deadline`. For checks whose subject
/// is not the rate limit: an agent's limits slow them down but cannot fail them. `Sender` is
/// an http_client or a connection.
template <class Sender>
response send_honouring_rate_limits(
    Sender& sender, const request& req, int retries = 5,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max()) {
    auto r = sender.send(req);
    for (int again = 0; r.status == 429 && again < retries; ++again) {
        const auto wait = std::chrono::seconds(retry_after_seconds(r));
        if (std::chrono::steady_clock::now() + wait >= deadline) break;
        std::this_thread::sleep_for(wait);
        r = sender.send(req);
    }
    return r;
}

/// The bytes connection::send writes for req: request line (with the target's path prefix),
/// Host (unless the request has one), the request's headers, the target's extra headers,
/// Content-Length when needed, and the body.
std::string serialize_request(const target_url& target, const request& req);

/// A copy-pasteable curl command line for a request. With hide_tokens, the Authorization
/// credential becomes "$AGENTCHECK_TOKEN" (its scheme word kept exactly as sent); without,
/// the header is printed as it is (for values that are no credential: made-up test tokens).
std::string to_curl(const target_url& target, const request& req, bool hide_tokens = true);

/// True when curl sends this request as it is: it has a Host header (curl always adds one)
/// and no Transfer-Encoding (curl would encode the body again).
bool curl_can_send(const request& req);

/// A shell line that sends exactly these bytes to the target with nc (printf + netcat),
/// keeping the connection open `hold` seconds after them (for partial heads); a bearer
/// credential in them is sent as "$AGENTCHECK_TOKEN".
std::string to_raw_repro(const target_url& target, std::string_view bytes,
                         std::chrono::seconds hold = std::chrono::seconds(0),
                         bool hide_tokens = true);

/// The request with Authorization values redacted ("Bearer <redacted>").
request redacted(request req);

} // namespace agentcheck::client
