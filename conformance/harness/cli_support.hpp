#pragma once
// What every agentcheck command shares on its command line: usage errors, the secret, the
// target.

#include <atomic>
#include <csignal>
#include <stdexcept>
#include <string>
#include <string_view>

#include "conformance/client/http.hpp"

namespace CLI {
class App;
}

namespace agentcheck {

/// A usage or configuration problem: reported as "agentcheck: <message>", exit 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A file's bytes; usage_error naming `flag` when it cannot be read.
std::string read_file(const std::string& path, std::string_view flag);

/// The HS256 secret: the file's bytes without trailing newlines, else $AGENTCHECK_JWT_SECRET;
/// usage_error when missing, empty or shorter than RFC 7518 allows.
std::string load_secret(const std::string& file);

/// --target parsed; usage_error when malformed, or not loopback without allow_non_loopback.
client::target_url parse_target(const std::string& url, bool allow_non_loopback);

/// --ca-file and --insecure, for commands that take an https:// --target.
struct tls_flags {
    std::string ca_file;
    bool insecure = false;
    /// Adds the two options to cmd.
    void attach(CLI::App& cmd);
    /// Puts them on target; usage_error when they are given for an http:// target, together,
    /// or when --ca-file cannot be read.
    void apply(client::target_url& target) const;
};

/// While it lives, SIGINT and SIGTERM set `flag` (cleared on entry), and `also` when given,
/// instead of ending the process, so that a command can stop its work and still write its
/// reports. Scopes nest (soak runs load): the innermost one is served, and when it ends the
/// flags and handlers that were there before come back.
class interrupt_scope {
public:
    explicit interrupt_scope(std::atomic<bool>& flag, std::atomic<bool>* also = nullptr);
    ~interrupt_scope();
    interrupt_scope(const interrupt_scope&) = delete;
    interrupt_scope& operator=(const interrupt_scope&) = delete;

private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
    std::atomic<bool>* old_flag_ = nullptr;
    std::atomic<bool>* old_also_ = nullptr;
};

} // namespace agentcheck
