#include "conformance/harness/cli_support.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

namespace agentcheck {
namespace {
constexpr std::string_view secret_env = "AGENTCHECK_JWT_SECRET";
/// RFC 7518 §3.2: an HS256 key is at least as long as the hash (32 bytes).
constexpr std::size_t min_secret_bytes = 32;

/// The flags of the interrupt_scope alive now. Lock-free atomics: safe in a signal handler.
std::atomic<std::atomic<bool>*> interrupt_flag{nullptr};
std::atomic<std::atomic<bool>*> interrupt_also{nullptr};
static_assert(std::atomic<std::atomic<bool>*>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);

void on_interrupt(int /*signal*/) {
    if (auto* flag = interrupt_flag.load()) flag->store(true);
    if (auto* also = interrupt_also.load()) also->store(true);
}
} // namespace

interrupt_scope::interrupt_scope(std::atomic<bool>& flag, std::atomic<bool>* also) {
    flag.store(false);
    old_also_ = interrupt_also.exchange(also);
    old_flag_ = interrupt_flag.exchange(&flag);
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
}

interrupt_scope::~interrupt_scope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    interrupt_flag.store(old_flag_);
    interrupt_also.store(old_also_);
}

std::string read_file(const std::string& path, std::string_view flag) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw usage_error(std::string(flag) + ": cannot read \"" + path + "\"");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

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
    if (secret.size() < min_secret_bytes) {
        throw usage_error("--jwt-secret-file: the secret is " + std::to_string(secret.size()) +
                          " bytes; HS256 needs at least " + std::to_string(min_secret_bytes) +
                          " (RFC 7518 §3.2). Make one with: head -c 32 /dev/urandom | base64 > "
                          "secret, and start the agent with the same file");
    }
    return secret;
}

void tls_flags::attach(CLI::App& cmd) {
    cmd.add_option("--ca-file", ca_file,
                   "https targets: PEM file of the CAs to trust (default: the system's)");
    cmd.add_flag("--insecure", insecure,
                 "https targets: do not check the certificate at all (its name, dates, issuer)");
}

void tls_flags::apply(client::target_url& target) const {
    if (ca_file.empty() && !insecure) return;
    const char* flag = ca_file.empty() ? "--insecure" : "--ca-file";
    if (!target.tls())
        throw usage_error(std::string(flag) + ": the target is " + target.base() +
                          "; it applies to https:// targets only");
    if (!ca_file.empty() && insecure) throw usage_error("--ca-file and --insecure: choose one");
    if (!ca_file.empty()) (void)read_file(ca_file, "--ca-file");
    target.ca_file = ca_file;
    target.insecure = insecure;
}

client::target_url parse_target(const std::string& url, bool allow_non_loopback) {
    auto target = client::target_url::parse(url);
    if (!target)
        throw usage_error("--target: \"" + url +
                          "\" is not of the form http[s]://host[:port][/path-prefix]");
    if (!allow_non_loopback && !target->is_loopback()) {
        throw usage_error(
            "--target: " + target->host +
            " is not a loopback address; pass --allow-non-loopback to test a remote agent");
    }
    return *target;
}

} // namespace agentcheck
