#pragma once
// The context a check runs in: the target, its discovery document, the identities, a
// kept-alive connection, fixtures it cleans up, and the evidence it records.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "conformance/harness/check.hpp"
#include "conformance/harness/identities.hpp"
#include "conformance/harness/results.hpp"

namespace agentcheck {

/// Largest body (request or response) kept in a recorded exchange.
inline constexpr std::size_t recorded_body_bytes = 4096;
/// How many exchanges a check keeps (the most recent ones).
inline constexpr std::size_t recorded_exchanges_max = 64;
/// Largest request body a curl reproduction carries in full.
inline constexpr std::size_t curl_body_bytes = 16384;
/// Largest request (in bytes) kept for `agentcheck replay`.
inline constexpr std::size_t replay_bytes_max = std::size_t{8} << 20;
/// Stands for the credential in a replay step's bytes.
inline constexpr std::string_view replay_token_placeholder = "$AGENTCHECK_TOKEN";

/// Longest agent name the protocol allows.
inline constexpr std::size_t agent_name_max = 64;

/// Fixtures that could not be made in this run, so that the checks that need them are
/// blocked without sending the same failing request again. Thread-safe.
class fixture_registry {
public:
    /// A failure recorded for `fixture`: why, and the check that met it first.
    struct failure {
        std::string reason;
        std::string first_check;
    };
    /// The recorded failure of `fixture`, if any.
    [[nodiscard]] std::optional<failure> find(const std::string& fixture) const;
    /// Records the first failure of `fixture` (later ones are ignored).
    void record(const std::string& fixture, std::string reason, std::string check_id);

private:
    mutable std::mutex mutex_;
    std::map<std::string, failure> failures_;
};

/// What every check of a run shares. Read-only while checks run; thread-safe to read.
struct run_environment {
    client::target_url target;
    nlohmann::json discovery = nlohmann::json::object();
    identity_set identities;
    std::string secret;
    std::uint64_t seed = 0;
    double timeout_scale = 1.0;
    std::chrono::milliseconds request_timeout{10000};
    /// Shared by the run's checks (null: every check makes its own fixtures regardless).
    std::shared_ptr<fixture_registry> fixtures;
    /// The --jwt-secret-file path, for reproductions ("" when the secret came from
    /// AGENTCHECK_JWT_SECRET).
    std::string secret_file;
    /// Generated cases per property check (--property-runs).
    std::size_t property_runs = 100;
    /// The agent's process when the harness owns it (--launch), else null.
    managed_process* process = nullptr;
    /// Kill-and-restart cycles of the crash check (--crash-cycles).
    unsigned crash_cycles = 3;
    /// Where a long check's progress lines go (null: nowhere).
    std::function<void(const std::string&)> progress;
};

/// Records an exchange: request redacted, bodies truncated, curl reproduction attached.
/// The reproduction is curl when curl can send the request as it is, else printf | nc with
/// the exact bytes; with hide_tokens the credential is "$AGENTCHECK_TOKEN".
exchange make_exchange(const client::target_url& target, const client::request& req,
                       const client::response* resp, std::string note, bool hide_tokens = true);

/// The context implementation used by the runner. One per check attempt; not thread-safe.
class run_context final : public context {
public:
    /// `deadline`: send() and open_connection() never wait past it, and throw
    /// transport_exception(timeout) once it has passed.
    run_context(const run_environment& env, const check& c,
                std::chrono::steady_clock::time_point deadline);
    ~run_context() override;
    run_context(const run_context&) = delete;
    run_context& operator=(const run_context&) = delete;

    [[nodiscard]] const client::target_url& target() const override;
    [[nodiscard]] const nlohmann::json& discovery() const override;
    [[nodiscard]] bool has_feature(std::string_view name) const override;
    [[nodiscard]] long long limit(std::string_view name, long long fallback) const override;
    client::response send(const client::request& req) override;
    client::connection open_connection() override;
    void record(const client::request& req, const client::response* resp,
                std::string note = {}) override;
    void record_raw(const client::request& shown, std::string_view bytes,
                    const client::response* resp, std::string note,
                    std::chrono::seconds hold) override;
    void note(std::string text) override;
    void progress(const std::string& line) override {
        if (env_.progress) env_.progress(check_.id + ": " + line);
    }
    std::string token(std::string_view identity) override;
    std::string subject(std::string_view identity) override;
    nlohmann::json claims(std::string_view identity) override;
    std::string mint(const nlohmann::json& claims, const nlohmann::json& header = {}) override;
    std::string variant_token(std::string_view variant, std::string_view identity) override;
    void mark_concurrent() override { concurrent_ = true; }
    void mark_depends_on(std::string what) override { depends_on_ = std::move(what); }
    /// What the check said the agent's answers depend on ("" = nothing).
    [[nodiscard]] const std::string& depends_on() const noexcept { return depends_on_; }
    /// True when the check said its requests were sent at the same time.
    [[nodiscard]] bool concurrent() const noexcept { return concurrent_; }
    [[nodiscard]] const std::string& hs256_secret() const override;
    [[nodiscard]] long long now_s() const override;
    std::string unique_name(std::string_view hint = "agent") override;
    nlohmann::json agent_body(const nlohmann::json& overrides = nlohmann::json::object()) override;
    nlohmann::json
    create_agent(std::string_view identity = "operator",
                 const nlohmann::json& overrides = nlohmann::json::object()) override;
    std::mt19937_64& rng() override;
    [[nodiscard]] std::chrono::milliseconds scaled(std::chrono::milliseconds d) const override;
    [[noreturn]] void fail(std::string message, std::string expected = {},
                           std::string actual = {}) override;
    [[noreturn]] void skip(std::string reason) override;
    [[noreturn]] void block(std::string requirement, std::string reason) override;
    [[nodiscard]] bool names(std::string_view requirement) const override;
    [[nodiscard]] std::size_t property_runs() const override { return env_.property_runs; }
    managed_process* process() override { return env_.process; }
    [[nodiscard]] unsigned crash_cycles() const override { return env_.crash_cycles; }
    void figure(std::string title, std::string svg) override {
        figures_.emplace_back(std::move(title), std::move(svg));
    }
    /// The figures, in order (title, svg).
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& figures() const noexcept {
        return figures_;
    }

    /// Deletes the agents create_agent made (as admin); problems become notes. Idempotent.
    void cleanup();
    /// The recorded exchanges, oldest first (at most recorded_exchanges_max).
    [[nodiscard]] std::vector<exchange> exchanges() const;
    /// How many exchanges were dropped to respect recorded_exchanges_max.
    [[nodiscard]] std::size_t dropped_exchanges() const noexcept { return dropped_; }
    /// The notes, in order.
    [[nodiscard]] const std::vector<std::string>& notes() const noexcept { return notes_; }
    /// The curl reproduction of the last exchange ("" when none).
    [[nodiscard]] std::string last_curl() const;

private:
    /// The per-operation timeout: the run's, cut to what is left before the deadline.
    /// Throws transport_exception(timeout) once the deadline has passed.
    [[nodiscard]] std::chrono::milliseconds operation_timeout() const;
    /// Bytes recorded by record_raw.
    struct raw_bytes {
        std::string bytes;
        std::chrono::seconds hold{0};
    };
    void keep(exchange ex, const client::request& original, const raw_bytes* raw = nullptr);
    /// True when the check names a RATE requirement (it must see the agent's 429s).
    [[nodiscard]] bool checks_rate_limits() const;
    static constexpr int rate_limit_retries_max = 5;
    static constexpr long long rate_limit_wait_max_s = 10;
    bool rate_limited_noted_ = false;

    const run_environment& env_;
    const check& check_;
    std::chrono::steady_clock::time_point deadline_;
    client::http_client http_;
    std::mt19937_64 rng_;
    std::mt19937_64 names_;
    std::deque<exchange> exchanges_;
    std::optional<std::chrono::steady_clock::time_point> first_sent_; ///< replay steps' origin
    std::size_t dropped_ = 0;
    std::vector<std::string> notes_;
    std::vector<std::string> created_;
    /// Tokens this check minted: token → (claims, header, when), to say how to mint them again.
    struct minted_token {
        nlohmann::json claims;
        nlohmann::json header;
        long long at = 0;
        std::string variant;  ///< set when minted by variant_token
        std::string identity; ///< the identity the variant was made from
    };
    std::map<std::string, minted_token> minted_;
    bool concurrent_ = false;
    std::string depends_on_;
    std::vector<std::pair<std::string, std::string>> figures_;
};

} // namespace agentcheck
