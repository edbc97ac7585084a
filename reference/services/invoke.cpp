#include "reference/services/invoke.hpp"

#include "reference/util/trace.hpp"

#include <algorithm>

#include "reference/services/backoff.hpp"
#include "reference/services/http_probe.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/util/uuid.hpp"

namespace agent {

const char* to_string(circuit_state s) noexcept {
    switch (s) {
    case circuit_state::closed:
        return "closed";
    case circuit_state::open:
        return "open";
    case circuit_state::half_open:
        return "half_open";
    }
    return "closed";
}

// --- circuit_breaker ------------------------------------------------------------------------

bool circuit_breaker::allow(std::chrono::steady_clock::time_point now) {
    if (state_ == circuit_state::open && now - opened_at_ >= recovery_) {
        state_ = circuit_state::half_open;
        trial_in_flight_ = false;
    }
    if (state_ == circuit_state::closed) return true;
    // INV-009: half-open lets one trial through, the others are refused while it runs.
    if (state_ == circuit_state::half_open &&
        (!trial_in_flight_ || AGENT_FAILPOINT("INV-009.half-open-lets-all-through"))) {
        trial_in_flight_ = true;
        return true;
    }
    return false;
}

bool circuit_breaker::on_success() {
    failures_ = 0;
    trial_in_flight_ = false;
    if (state_ == circuit_state::closed) return false;
    state_ = circuit_state::closed;
    return true;
}

bool circuit_breaker::on_failure(std::chrono::steady_clock::time_point now) {
    trial_in_flight_ = false;
    if (state_ == circuit_state::half_open) { // the trial failed: open again
        state_ = circuit_state::open;
        opened_at_ = now;
        return true;
    }
    if (state_ == circuit_state::open) return false;
    // INV-008: breaker_failure_threshold consecutive failures open the circuit.
    if (++failures_ >= threshold_ && !AGENT_FAILPOINT("INV-008.breaker-never-opens")) {
        state_ = circuit_state::open;
        opened_at_ = now;
        return true;
    }
    return false;
}

circuit_state circuit_breaker::state(std::chrono::steady_clock::time_point now) const {
    if (state_ == circuit_state::open && now - opened_at_ >= recovery_)
        return circuit_state::half_open;
    return state_;
}

long long circuit_breaker::retry_after_s(std::chrono::steady_clock::time_point now) const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(recovery_ - (now - opened_at_));
    return std::max<long long>(1, (left.count() + 999) / 1000);
}

// --- invoke_service -------------------------------------------------------------------------

struct invoke_service::call {
    std::string agent_id;
    http_url url;
    std::string body;
    std::string request_id;
    std::string traceparent;
    int attempts = 0;
    invoke_callback cb;
};

invoke_service::invoke_service(registry& agents, event_log& events, store& st, const clock& clk,
                               random_source& rnd, endpoint_allowlist allow,
                               invoke_settings settings)
    : agents_(agents), events_(events), store_(st), clock_(clk), random_(rnd),
      allow_(std::move(allow)), settings_(settings) {}

std::string invoke_service::child_traceparent(std::string_view in) {
    // INV-002: the call continues the request's trace (a new span of the same trace id).
    if (AGENT_FAILPOINT("INV-002.fresh-trace-to-target")) return util::new_span({}).header();
    return util::new_span(in).header();
}

std::optional<circuit_state> invoke_service::circuit(const std::string& agent_id) const {
    std::lock_guard lock(mutex_);
    auto it = breakers_.find(agent_id);
    if (it == breakers_.end()) return std::nullopt;
    return it->second.state(clock_.steady_now());
}

std::size_t invoke_service::open_circuits() const {
    std::lock_guard lock(mutex_);
    const auto now = clock_.steady_now();
    return static_cast<std::size_t>(
        std::count_if(breakers_.begin(), breakers_.end(),
                      [&](const auto& b) { return b.second.state(now) != circuit_state::closed; }));
}

void invoke_service::emit(const std::string& type, const std::string& agent_id,
                          std::function<void()> then) {
    auto ev =
        std::make_shared<models::event>(events_.make(type, agent_id, nlohmann::json::object()));
    write_op op;
    op.apply = [ev](store_txn& tx) { return tx.append_event(*ev); };
    op.done = [this, ev, then](const std::optional<error>& err) {
        if (!err) events_.committed(*ev);
        then();
    };
    if (store_.submit(std::move(op))) then(); // the store is stopping: answer anyway
}

bool invoke_service::breaker_allows(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it =
        breakers_.try_emplace(id, settings_.breaker_threshold, settings_.breaker_recovery).first;
    return it->second.allow(clock_.steady_now());
}

std::optional<std::string> invoke_service::breaker_result(const std::string& id, bool ok) {
    bool opened = false;
    bool closed = false;
    {
        std::lock_guard lock(mutex_);
        auto it = breakers_.try_emplace(id, settings_.breaker_threshold, settings_.breaker_recovery)
                      .first;
        if (ok)
            closed = it->second.on_success();
        else
            opened = it->second.on_failure(clock_.steady_now());
    }
    if (opened) return std::string("circuit_opened");
    if (closed) return std::string("circuit_closed");
    return std::nullopt;
}

void invoke_service::invoke(const std::string& agent_id, const nlohmann::json& body,
                            const std::string& request_id, const std::string& traceparent,
                            invoke_callback cb) {
    auto e = agents_.get(agent_id);
    if (!e) return cb(util::unexpected(error{errc::not_found, "no agent with id " + agent_id, {}}));
    std::vector<field_error> errs;
    if (!body.is_object()) {
        errs.push_back({"", "must be an object"});
    } else {
        for (const auto& [k, v] : body.items())
            if (k != "capability" && k != "input") errs.push_back({"/" + k, "unknown field"});
        if (!body.contains("capability") || !body["capability"].is_string())
            errs.push_back({"/capability", "required: a capability name"});
        if (!body.contains("input")) errs.push_back({"/input", "required: any JSON value"});
    }
    if (!errs.empty())
        return cb(util::unexpected(
            error{errc::validation_failed, "the request body breaks the invoke schema", errs}));
    const auto capability = body["capability"].get<std::string>();
    const auto& a = e->agent;
    if (!a.fields.endpoint)
        return cb(util::unexpected(error{errc::validation_failed,
                                         "the agent has no endpoint to invoke",
                                         {{"", "the agent has no endpoint"}}}));
    if (std::none_of(a.fields.capabilities.begin(), a.fields.capabilities.end(),
                     [&](const models::capability& c) { return c.name == capability; }))
        return cb(util::unexpected(error{errc::validation_failed,
                                         "the agent does not list capability " + capability,
                                         {{"/capability", "not a capability of the agent"}}}));
    auto url = parse_http_url(*a.fields.endpoint);
    if (!url)
        return cb(util::unexpected(error{errc::validation_failed,
                                         "the agent's endpoint is not an http:// URL this agent "
                                         "can call",
                                         {{"", "endpoint not callable"}}}));
    // INV-004: an endpoint outside the allowlist is 403, and no connection is made.
    if (!allow_.allows(url->host, url->port) && !AGENT_FAILPOINT("INV-004.allowlist-bypassed"))
        return cb(
            util::unexpected(error{errc::forbidden,
                                   "the endpoint " + url->host + ":" + std::to_string(url->port) +
                                       " is not in this agent's allowlist",
                                   {}}));
    if (transport_ == nullptr)
        return cb(util::unexpected(error{errc::unavailable, "outbound calls are not ready", {}}));
    auto c = std::make_shared<call>();
    c->agent_id = agent_id;
    c->url = *url;
    c->body = nlohmann::json{{"capability", capability}, {"input", body["input"]}}.dump();
    c->request_id = request_id;
    c->traceparent = child_traceparent(traceparent);
    c->cb = std::move(cb);
    attempt(c);
}

void invoke_service::attempt(const std::shared_ptr<call>& c) {
    if (!breaker_allows(c->agent_id)) {
        long long retry_after = 1;
        {
            std::lock_guard lock(mutex_);
            retry_after = breakers_.at(c->agent_id).retry_after_s(clock_.steady_now());
        }
        error err{errc::circuit_open,
                  "the circuit to agent " + c->agent_id + " is open: it was not contacted",
                  {}};
        err.members.emplace_back("attempts", c->attempts);
        err.retry_after_s = retry_after;
        return c->cb(util::unexpected(err));
    }
    ++c->attempts;
    outbound_request req;
    req.host = c->url.host;
    req.port = c->url.port;
    req.target = c->url.path + "/invoke";
    req.body = c->body;
    req.timeout = settings_.timeout;
    req.headers = {{"X-Request-ID", c->request_id}, {"traceparent", c->traceparent}};
    transport_->post(std::move(req), [this, c](outbound_result r) {
        const bool server_side = r.why != outbound_result::failure::none || r.status >= 500;
        // The circuit's event commits before the answer that changed it is given.
        if (auto type = breaker_result(c->agent_id, !server_side))
            return emit(*type, c->agent_id, [this, c, r] { settle(c, r); });
        settle(c, r);
    });
}

void invoke_service::settle(const std::shared_ptr<call>& c, const outbound_result& r) {
    const bool server_side = r.why != outbound_result::failure::none || r.status >= 500;
    {
        if (!server_side) {
            if (r.status >= 400) {
                // INV-006: a 4xx is the target's answer, not retried.
                if (AGENT_FAILPOINT("INV-006.retries-4xx") && c->attempts < settings_.max_attempts)
                    return transport_->after(backoff_delay(c->attempts, settings_.retry_base,
                                                           settings_.retry_cap, random_),
                                             [this, c] { attempt(c); });
                error err{errc::bad_gateway,
                          "the target answered " + std::to_string(r.status) + " (not retried)",
                          {}};
                err.members.emplace_back("attempts", c->attempts);
                err.members.emplace_back("target_status", r.status);
                return c->cb(util::unexpected(err));
            }
            auto out = nlohmann::json::parse(r.body, nullptr, false);
            if (out.is_discarded()) {
                error err{errc::bad_gateway, "the target's answer is not JSON", {}};
                err.members.emplace_back("attempts", c->attempts);
                return c->cb(util::unexpected(err));
            }
            return c->cb(invoke_output{std::move(out), c->attempts});
        }
        const bool timed_out = r.why == outbound_result::failure::timeout;
        if (c->attempts < settings_.max_attempts) {
            const auto wait =
                backoff_delay(c->attempts, settings_.retry_base, settings_.retry_cap, random_);
            return transport_->after(wait, [this, c] { attempt(c); });
        }
        error err{timed_out ? errc::gateway_timeout : errc::bad_gateway,
                  std::to_string(c->attempts) + " attempts failed; the last: " +
                      (r.why == outbound_result::failure::none
                           ? "the target answered " + std::to_string(r.status)
                           : r.detail),
                  {}};
        err.members.emplace_back("attempts", c->attempts);
        c->cb(util::unexpected(err));
    }
}

} // namespace agent
