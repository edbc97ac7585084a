#pragma once
// Invoke (PROTOCOL.md §7): POST to another agent's endpoint + /invoke with a per-attempt
// timeout, retries on 5xx, timeouts and connection errors (the task backoff), a circuit
// breaker per target agent, X-Request-ID and traceparent passed on.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "reference/interfaces/clock.hpp"
#include "reference/interfaces/outbound.hpp"
#include "reference/interfaces/random.hpp"
#include "reference/services/events.hpp"
#include "reference/services/registry.hpp"
#include "reference/util/allowlist.hpp"

namespace agent {

struct invoke_settings {
    std::chrono::milliseconds timeout{2000}; ///< per attempt
    int max_attempts = 3;
    std::chrono::milliseconds retry_base{100};
    std::chrono::milliseconds retry_cap{5000};
    int breaker_threshold = 5; ///< consecutive failed attempts that open the circuit
    std::chrono::milliseconds breaker_recovery{5000};
};

enum class circuit_state { closed, open, half_open };
const char* to_string(circuit_state s) noexcept;

/// One target's circuit breaker, in the time of the clock it is given. Not thread-safe.
class circuit_breaker {
public:
    circuit_breaker(int threshold, std::chrono::milliseconds recovery)
        : threshold_(threshold), recovery_(recovery) {}
    /// May an attempt go out now? Open → half-open once the recovery time has passed, and
    /// then exactly one trial is let through until its outcome is known.
    bool allow(std::chrono::steady_clock::time_point now);
    /// An attempt succeeded; true when that closed the circuit.
    bool on_success();
    /// An attempt failed; true when that opened the circuit.
    bool on_failure(std::chrono::steady_clock::time_point now);
    [[nodiscard]] circuit_state state(std::chrono::steady_clock::time_point now) const;
    /// Seconds until a trial may go out (at least 1) while open.
    [[nodiscard]] long long retry_after_s(std::chrono::steady_clock::time_point now) const;

private:
    int threshold_;
    std::chrono::milliseconds recovery_;
    circuit_state state_ = circuit_state::closed;
    int failures_ = 0;
    std::chrono::steady_clock::time_point opened_at_{};
    bool trial_in_flight_ = false;
};

/// The result of a successful invoke: the target's JSON body and how many attempts it took.
struct invoke_output {
    nlohmann::json output;
    int attempts = 0;
};
using invoke_callback = std::function<void(util::expected<invoke_output, error>)>;

class invoke_service {
public:
    invoke_service(registry& agents, event_log& events, store& st, const clock& clk,
                   random_source& rnd, endpoint_allowlist allow, invoke_settings settings);

    /// The transport (set once the I/O threads exist).
    void set_transport(outbound_http* t) { transport_ = t; }

    /// POST /agents/{id}/invoke with body {"capability", "input"}.
    void invoke(const std::string& agent_id, const nlohmann::json& body,
                const std::string& request_id, const std::string& traceparent, invoke_callback cb);

    /// The circuit of a target that has been invoked (nullopt: never).
    [[nodiscard]] std::optional<circuit_state> circuit(const std::string& agent_id) const;
    [[nodiscard]] std::size_t open_circuits() const;
    [[nodiscard]] const invoke_settings& settings() const noexcept { return settings_; }
    [[nodiscard]] const endpoint_allowlist& allowlist() const noexcept { return allow_; }

    /// traceparent for the outbound call: the same trace id as `incoming` when it is a valid
    /// W3C traceparent, else a new one; always a new span id.
    static std::string child_traceparent(std::string_view incoming);

private:
    struct call;
    void attempt(const std::shared_ptr<call>& c);
    /// What an attempt's outcome means: the answer, or the next attempt.
    void settle(const std::shared_ptr<call>& c, const outbound_result& r);
    /// Appends a circuit event, then calls `then` (after the commit, or at once on failure).
    void emit(const std::string& type, const std::string& agent_id, std::function<void()> then);
    bool breaker_allows(const std::string& id);
    /// Records an attempt's outcome; the event type when the circuit opened or closed.
    std::optional<std::string> breaker_result(const std::string& id, bool ok);

    registry& agents_;
    event_log& events_;
    store& store_;
    const clock& clock_;
    random_source& random_;
    endpoint_allowlist allow_;
    invoke_settings settings_;
    outbound_http* transport_ = nullptr;
    mutable std::mutex mutex_;
    std::map<std::string, circuit_breaker> breakers_;
};

} // namespace agent
