#pragma once
// The request pipeline: request id, routing (404/405), authentication (401/403), media
// type (415), JSON (400), then the resource handler; every response is decorated with the
// protocol's common headers and logged as one JSON line.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "reference/config/config.hpp"
#include "reference/errors/errors.hpp"
#include "reference/handlers/http.hpp"
#include "reference/handlers/router.hpp"
#include "reference/interfaces/clock.hpp"
#include "reference/interfaces/store.hpp"
#include "reference/services/auth.hpp"
#include "reference/services/events.hpp"
#include "reference/services/invoke.hpp"
#include "reference/services/lifecycle.hpp"
#include "reference/services/log_sink.hpp"
#include "reference/services/metrics.hpp"
#include "reference/services/rate_limiter.hpp"
#include "reference/services/registry.hpp"
#include "reference/services/task_queue.hpp"
#include "reference/util/trace.hpp"

namespace agent::handlers {

/// The services a request can reach.
struct services {
    const config& cfg;
    const clock& clk;
    registry& agents;
    event_log& events;
    task_queue& tasks;
    invoke_service& invoker;
    store& storage;
    const jwt_verifier& verifier;
    lifecycle_state& lifecycle;
    log_sink& log;
    metrics* stats = nullptr;        ///< GET /metrics and what it counts (null: not kept)
    rate_limiter* limiter = nullptr; ///< token buckets per principal (null: no limits)
};

/// The state of one request while it is handled.
struct exchange {
    request req;
    std::string request_id;
    util::trace_span trace; ///< the server's span (W3C Trace Context): traceresponse, logs, invoke
    route_match route;
    const method_rule* rule = nullptr;
    errc failure = errc::ok; ///< the error a problem answer reports (for agent_errors_total)
    std::optional<rate_decision> rate; ///< the rate limit's decision (when limits are on)
    std::optional<principal> who;
    std::string remote_addr;
    /// The audit record a write carries into its transaction (see app::audit_write).
    std::shared_ptr<audit_draft> audit;
    std::chrono::steady_clock::time_point started;
    nlohmann::json body; ///< the parsed body when the route takes one
    responder respond;
    /// Takes the connection over for a WebSocket stream (null: this transport cannot).
    std::function<void(struct stream_plan)> upgrade;
};
using exchange_ptr = std::shared_ptr<exchange>;

/// An admitted WebSocket upgrade: what to stream to whom. The handler's result when it is
/// not a response.
struct stream_plan {
    enum class kind { agent_status, events };
    kind what = kind::events;
    request req;               ///< the upgrade request (for the handshake)
    std::string request_id;    ///< its X-Request-ID
    std::string traceresponse; ///< its traceresponse (the 101 carries it too)
    std::string agent_id;      ///< agent_status: the agent
    entry_ptr snapshot;        ///< agent_status: the agent when admitted
    std::optional<std::int64_t>
        after;                      ///< events: replay the events after this seq (none: live only)
    std::vector<std::string> types; ///< events: only these types (empty: all)
};

/// The HTTP application. Thread-safe: handle() runs on any I/O thread.
class app {
public:
    explicit app(services s);

    /// Handles a complete request; `respond` receives the response exactly once, possibly
    /// on another thread (after a durable commit).
    void handle(request req, std::string remote_addr, responder respond);
    /// As handle(); a WebSocket route that admits the request calls `upgrade` (on the
    /// calling thread) instead of `respond`.
    void handle(request req, std::string remote_addr, responder respond,
                std::function<void(stream_plan)> upgrade);

    /// Answers a request whose body or head broke a limit (413/431/408/400): the route,
    /// method and authentication checks come first, as the order of refusals requires.
    /// The response always closes the connection.
    response reject(const request& head, errc why, std::string detail,
                    std::string_view remote_addr);

    /// Sends a response for x (decorates, logs, hands it to x's responder).
    void reply(const exchange_ptr& x, response res) const;
    /// Sends the problem document for err.
    void fail(const exchange_ptr& x, const error& err) const;
    /// The audit record of x's write, for the store to commit with it: `ok_status` is the
    /// answer when the write succeeds, `resource` the path acted on ("" = the request's).
    /// reply() writes the record itself for an answer the store did not audit.
    std::shared_ptr<audit_draft> audit_write(const exchange_ptr& x, int ok_status,
                                             std::string resource = {}) const;
    /// A 200-style JSON response skeleton for x.
    [[nodiscard]] response json_response(const exchange& x, http::status st,
                                         std::string body) const;

    [[nodiscard]] const services& svc() const noexcept { return svc_; }

private:
    /// 415 when the route takes a body and Content-Type is not application/json.
    static std::optional<error> media_type_refusal(const exchange& x);
    /// Runs routing and auth; returns the refusal, if any.
    std::optional<error> admit(exchange& x) const;
    void decorate(const exchange& x, response& res) const;
    void log(const exchange& x, const response& res) const;
    /// Counts the answer in the metrics (when kept).
    void count(const exchange& x, const response& res) const;
    /// True when the answer `status` to x belongs in the audit log: every 401 and 403, and
    /// every answer to a mutating request on a route that exists (429s and 405s excepted).
    static bool must_audit(const exchange& x, int status) noexcept;
    /// x's audit record with the answer `status`.
    [[nodiscard]] audit_record audit_record_of(const exchange& x, int status,
                                               std::string resource) const;

    services svc_;
};

// Resource handlers (one file each).
void handle_discovery(const app& a, const exchange_ptr& x);
void handle_health(const app& a, const exchange_ptr& x);
void handle_livez(const app& a, const exchange_ptr& x);
void handle_readyz(const app& a, const exchange_ptr& x);
void handle_metrics(const app& a, const exchange_ptr& x);
void handle_agents(const app& a, const exchange_ptr& x);
void handle_events(const app& a, const exchange_ptr& x);
void handle_stream(const app& a, const exchange_ptr& x);
void handle_tasks(const app& a, const exchange_ptr& x);
void handle_invoke(const app& a, const exchange_ptr& x);
void handle_audit(const app& a, const exchange_ptr& x);

/// One name=value pair of a query string, percent-decoded.
struct query_param {
    std::string name;
    std::string value;
};
/// The query string of a request target; errc::bad_request on a bad percent-escape.
util::expected<std::vector<query_param>, error> parse_query(std::string_view target);

/// An opaque page cursor: base64url of "<kind>:<seq>" ("a1" for agents, "t1" for tasks).
std::string encode_cursor(std::string_view kind, std::int64_t seq);
/// The seq of a cursor of `kind`; nullopt for anything this agent did not issue.
std::optional<std::int64_t> decode_cursor(std::string_view kind, std::string_view cursor);

/// The `limit` query parameter: an integer from 1 to `max`; errc::bad_request otherwise.
util::expected<std::size_t, error> parse_page_limit(std::string_view value, std::size_t max);

/// Where a cursor-paged list starts and how long its page is.
struct page_position {
    std::size_t limit = 0;
    std::int64_t after_seq = 0;
};
/// Applies `limit` or `cursor` (of `cursor_kind`) to pos: false when p is neither (the list's
/// own filter), errc::bad_request when its value is bad.
util::expected<bool, error> apply_page_param(const query_param& p, std::string_view cursor_kind,
                                             std::size_t limit_max, page_position& pos);

/// The request's Idempotency-Key, fingerprinted with `route` and the canonical body: nullopt
/// when there is none; errc::bad_request when it is not 1-255 visible ASCII characters.
util::expected<std::optional<idempotency_request>, error> idempotency_of(const exchange& x,
                                                                         std::string_view route);

/// The stored answer to an earlier request with the same Idempotency-Key, replayed.
response replayed(const app& a, const exchange& x, const idempotency_record& rec);

/// X-Request-ID: the client's value when it matches ^[A-Za-z0-9._-]{1,128}$.
bool is_valid_request_id(std::string_view id) noexcept;

} // namespace agent::handlers
