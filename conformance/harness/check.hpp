#pragma once
// The check API: what a conformance check is and what it can do. Suites (conformance/
// suites/sNN_*.cpp) only use this header and conformance/client/*.hpp.

#include <chrono>
#include <functional>
#include <initializer_list>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/client/http.hpp"

namespace agentcheck {

class managed_process;

/// RFC 2119 level of a requirement; --level must|should|may selects "this level and stricter".
enum class level { must, should, may };
/// The test-pyramid layer a check belongs to.
enum class layer { unit, integration, e2e, property, robustness, lifecycle };
/// The outcome of one check.
/// `blocked`: a precondition the check needs (a fixture, another rule of the spec) does not
/// hold, so its own rule could not be tested; it names the requirement that blocked it.
enum class verdict { pass, fail, error, skip, flaky, blocked };

const char* to_string(level v) noexcept;
const char* to_string(layer v) noexcept;
const char* to_string(verdict v) noexcept;
std::optional<level> parse_level(std::string_view s) noexcept;
std::optional<layer> parse_layer(std::string_view s) noexcept;

/// One rule of the spec, as in conformance/catalogue.json.
struct requirement {
    std::string id;      ///< "REG-012": PREFIX-NNN, stable forever
    std::string section; ///< protocol section, "0".."9"
    std::string title;   ///< short name ("Duplicate name is 409")
    level lvl = level::must;
    std::string feature; ///< "" for core; else the discovery feature ("events", ...)
    std::string text;    ///< the normative sentence, quoted in failures
};

/// Thrown by context::fail and the expect helpers: the check failed.
struct check_failed : std::runtime_error {
    check_failed(std::string message, std::string expected_value, std::string actual_value)
        : std::runtime_error(std::move(message)), expected(std::move(expected_value)),
          actual(std::move(actual_value)) {}
    std::string expected;
    std::string actual;
    /// The one requirement the failure is about, when the check names several ("" = all).
    std::string requirement;
};

/// Thrown by context::skip: the check does not apply (with the reason).
struct check_skipped : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Thrown by context::block: the check could not test its rule because a precondition failed
/// ("POST /agents answered 200, not 201"); `blocked_by` is the requirement that precondition
/// is ("REG-020").
struct check_blocked : std::runtime_error {
    check_blocked(std::string requirement, std::string reason)
        : std::runtime_error(std::move(reason)), blocked_by(std::move(requirement)) {}
    std::string blocked_by;
};

/// The requirement a fixture agent depends on: a valid POST /agents answers 201.
inline constexpr std::string_view create_requirement = "REG-020";

/// Why a check that needed a created agent is blocked, the same words for every check so
/// that they group: "POST /agents answered 200, not 201, to a valid agent".
inline std::string create_blocked_reason(int status) {
    return "POST /agents answered " + std::to_string(status) + ", not 201, to a valid agent";
}

/// Identities the harness mints tokens for (all HS256 with the given secret, valid now,
/// `exp` in 1 hour, with the target's declared `iss`/`aud` when it declares them).
///  - "viewer", "operator", "operator2", "admin": sub "agentcheck-<name>-<run id>",
///    roles ["viewer"] / ["operator"] / ["operator"] / ["admin"]
///  - "noroles": a valid token with no roles claim.
inline constexpr std::string_view identities[] = {"viewer", "operator", "operator2", "admin",
                                                  "noroles"};

/// What a running check can do. Every exchange made through it is recorded as evidence
/// (tokens redacted) and the last one is shown with a curl reproduction on failure.
/// One context per check run; not shared between threads.
class context {
public:
    virtual ~context() = default;

    // --- the target ---------------------------------------------------------------------
    [[nodiscard]] virtual const client::target_url& target() const = 0;
    /// The discovery document fetched at the start of the run.
    [[nodiscard]] virtual const nlohmann::json& discovery() const = 0;
    /// True when discovery's "features" lists name.
    [[nodiscard]] virtual bool has_feature(std::string_view name) const = 0;
    /// A limit from discovery "limits", or fallback when absent.
    [[nodiscard]] virtual long long limit(std::string_view name, long long fallback) const = 0;

    // --- HTTP ---------------------------------------------------------------------------
    /// Sends on this check's kept-alive connection; records the exchange. Throws
    /// client::transport_exception (the runner turns it into `error`, or the check may
    /// catch it when a closed connection is the expected outcome).
    virtual client::response send(const client::request& req) = 0;
    /// A fresh raw connection for byte-level checks (pipelining, partial heads, …).
    virtual client::connection open_connection() = 0;
    /// Records an exchange made on a raw connection (resp may be null: none received).
    virtual void record(const client::request& req, const client::response* resp,
                        std::string note = {}) = 0;
    /// Records bytes written on a raw connection as they were (a request curl cannot send:
    /// no Host, a chunked body, a head left open `hold` seconds); `shown` is how reports
    /// display it. The reproduction sends the same bytes with printf | nc.
    virtual void record_raw(const client::request& shown, std::string_view bytes,
                            const client::response* resp, std::string note,
                            std::chrono::seconds hold = std::chrono::seconds(0)) = 0;
    /// Says that the requests recorded so far were sent at the same time (from several
    /// connections): `agentcheck replay` sends them one after another, so their answers may
    /// differ, and it says so.
    virtual void mark_concurrent() = 0;
    /// Says that the agent's answers depend on something the check ran beside it (the
    /// downstream stub): `agentcheck replay` cannot bring it back, and says so.
    virtual void mark_depends_on(std::string what) = 0;
    /// Free-text evidence shown with the check's result.
    virtual void note(std::string text) = 0;
    /// A line of progress shown while a long check runs ("crash cycle 12/200: …"); not part
    /// of the result.
    virtual void progress(const std::string& line) = 0;

    // --- identities ---------------------------------------------------------------------
    /// The token of one of `identities`. Throws std::invalid_argument on another name.
    virtual std::string token(std::string_view identity) = 0;
    /// The `sub` of an identity.
    virtual std::string subject(std::string_view identity) = 0;
    /// The claims an identity's token carries (sub, roles, iat, exp, iss?, aud?), to be
    /// altered and re-signed with mint() for bad-token checks.
    virtual nlohmann::json claims(std::string_view identity) = 0;
    /// Signs claims with the run's HS256 secret (or header["alg"] as given:
    /// "none" → unsigned). `header` defaults to {"alg":"HS256","typ":"JWT"}.
    virtual std::string mint(const nlohmann::json& claims, const nlohmann::json& header = {}) = 0;
    /// A named bad or edge-case token (`agentcheck token --variant` lists them: "expired",
    /// "alg-none", "wrong-iss", …) made from `identity`'s claims; its reproduction mints it
    /// again by name. Throws std::invalid_argument for an unknown variant, or check_skipped
    /// when the target does not declare what the variant needs (auth.issuer for wrong-iss).
    virtual std::string variant_token(std::string_view variant,
                                      std::string_view identity = "admin") = 0;
    /// The HS256 secret (for HS/RS confusion checks that sign with a public key).
    [[nodiscard]] virtual const std::string& hs256_secret() const = 0;
    /// Seconds since the epoch, from the harness's clock.
    [[nodiscard]] virtual long long now_s() const = 0;

    // --- fixtures -----------------------------------------------------------------------
    /// A valid agent name for this check ("ac-<hint>-<8 hex>", <= 64 chars): distinct within
    /// the check, the same for the same --seed (so that a re-run sends the same bytes).
    virtual std::string unique_name(std::string_view hint = "agent") = 0;
    /// A valid agent body with a unique name; `overrides` are merged over it (null values
    /// remove a field).
    virtual nlohmann::json
    agent_body(const nlohmann::json& overrides = nlohmann::json::object()) = 0;
    /// POSTs agent_body(overrides) as `identity`; fails the check unless 201 with a JSON
    /// body; returns the created agent. The runner deletes it (as admin) after the check.
    virtual nlohmann::json
    create_agent(std::string_view identity = "operator",
                 const nlohmann::json& overrides = nlohmann::json::object()) = 0;

    // --- randomness and time -------------------------------------------------------------
    /// Seeded from --seed and the check id: the same seed replays the same choices.
    virtual std::mt19937_64& rng() = 0;
    /// d multiplied by --timeout-scale.
    [[nodiscard]] virtual std::chrono::milliseconds scaled(std::chrono::milliseconds d) const = 0;

    /// How many generated cases a property check runs (--property-runs).
    [[nodiscard]] virtual std::size_t property_runs() const = 0;
    /// A figure shown with the check's result in the HTML report: `svg` is a complete <svg>
    /// element the check made (its text already escaped), `title` its caption.
    virtual void figure(std::string title, std::string svg) = 0;

    // --- the agent's process (agentcheck run --launch) ---------------------------------
    /// The agent's process when the harness started it (null otherwise: checks with
    /// needs_process are then not applicable and never run).
    virtual managed_process* process() = 0;
    /// Kill-and-restart cycles the crash check runs (--crash-cycles).
    [[nodiscard]] virtual unsigned crash_cycles() const = 0;

    /// True when the running check names `requirement` among those it checks.
    [[nodiscard]] virtual bool names(std::string_view requirement) const = 0;

    // --- verdicts (throw check_failed / check_skipped) -----------------------------------
    [[noreturn]] virtual void fail(std::string message, std::string expected = {},
                                   std::string actual = {}) = 0;
    [[noreturn]] virtual void skip(std::string reason) = 0;
    /// Ends the check as blocked: `requirement` (another rule) does not hold, so this check's
    /// rule cannot be tested. When the check itself names `requirement`, it fails instead.
    [[noreturn]] virtual void block(std::string requirement, std::string reason) = 0;

    /// Fails with `what` unless ok.
    void expect(bool ok, std::string_view what, std::string_view expected = {},
                std::string_view actual = {});
    /// Fails unless r.status == status (shows the body on mismatch).
    void expect_status(const client::response& r, int status);
    /// Fails unless r.status is one of statuses.
    void expect_status_in(const client::response& r, std::initializer_list<int> statuses);
    /// Fails unless header `name` is present and equals `value` exactly.
    void expect_header(const client::response& r, std::string_view name, std::string_view value);
    /// Fails unless header `name` is present; returns its value.
    std::string expect_header_present(const client::response& r, std::string_view name);
    /// Fails unless the body is JSON; returns it.
    nlohmann::json expect_json(const client::response& r);
    /// Fails unless r.status == status. The problem document (media type
    /// application/problem+json, type (URI), title, status == status, detail, instance,
    /// request_id == X-Request-ID header) must be right too when the check names HTTP-012 or
    /// HTTP-013; other checks only note a bad shape. Returns the body ({} when not JSON).
    nlohmann::json expect_problem(const client::response& r, int status);
};

/// True when s is a non-empty RFC 3986 URI reference (absolute like "about:blank" or
/// relative like "/problems/x"): only allowed characters, valid %-escapes, a valid scheme.
bool is_uri_reference(std::string_view s);

/// A check: one executable test of one or more requirements.
struct check {
    std::string id;                        ///< stable, unique: "REG-012.duplicate-name"
    std::vector<std::string> requirements; ///< catalogue IDs it checks (at least one)
    layer lyr = layer::unit;
    std::string title; ///< what it does, one line
    std::function<void(context&)> run;
    /// Runs alone, after the others: it fills something every check shares (the task queue).
    bool alone = false;
    /// Needs to own the agent's process (kill, restart): not applicable without --launch.
    bool needs_process = false;
};

/// Where suites put their checks.
class check_registry {
public:
    /// Adds a check. Throws std::logic_error on a duplicate id or no requirements.
    void add(check c);
    [[nodiscard]] const std::vector<check>& all() const noexcept { return checks_; }

private:
    std::vector<check> checks_;
};

/// Registers every suite's checks (conformance/suites/all.cpp).
void register_all_suites(check_registry& registry);

} // namespace agentcheck
