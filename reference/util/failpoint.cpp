#include "reference/util/failpoint.hpp"

#include <string>

namespace agent::failpoint {

namespace {

#ifdef AGENT_FAILPOINTS
// The table. A unit test (failpoint_test.cpp) requires each name to appear exactly once in
// an AGENT_FAILPOINT("…") call under reference/, and each such call to be listed here.
constexpr info table[] = {
    // ---- sections 0-3: HTTP, discovery and health, registry, errors, auth and roles
    {"HTTP-003.connection-close-ignored",
     "a request's Connection: close is not honoured: the connection stays open", ""},
    {"HTTP-008.any-content-type",
     "a body with any declared Content-Type (text/plain, XML, ...) is read as JSON, not 415", ""},
    {"HTTP-009.missing-type-assumed-json", "a body without Content-Type is read as JSON, not 415",
     ""},
    {"HTTP-012.text-plain-errors",
     "problem documents are sent as text/plain, not application/problem+json", ""},
    {"HTTP-018.no-allow-header", "405 answers carry no Allow header", ""},
    {"HTTP-019.no-body-limit", "a body over max_body_bytes is read and handled, never 413", ""},
    {"HTTP-020.limit-off-by-one",
     "a body of exactly max_body_bytes is refused (413), as if over the limit", ""},
    {"HTTP-021.fixed-64k-head-limit",
     "the head limit is a fixed 64 KiB, not max_header_bytes: a longer head is served, not "
     "431",
     ""},
    {"HTTP-023.times-without-ms",
     "an agent's created_at and updated_at have whole seconds, no milliseconds", ""},
    {"HTTP-025.request-id-not-echoed",
     "a valid X-Request-ID is replaced by a generated one instead of being echoed", ""},
    {"HTTP-026.length-unchecked",
     "an X-Request-ID over 128 characters is echoed (only its characters are checked)", ""},
    {"HTTP-027.one-generated-id",
     "every request without X-Request-ID gets the same generated id, not a fresh one", ""},
    {"HTTP-029.nosniff-on-success-only",
     "X-Content-Type-Options: nosniff is sent on successful answers only, not on errors", ""},
    {"HTTP-030.no-store-missing", "authenticated answers carry no Cache-Control: no-store", ""},
    {"HTTP-032.304-without-etag", "a 304 carries no ETag", ""},
    {"HTTP-034.missing-host-accepted", "an HTTP/1.1 request without Host is served, not 400", ""},
    {"HTTP-036.te-not-final-chunked",
     "a Transfer-Encoding whose final coding is not chunked is ignored: the body is left on "
     "the connection and read as the next request",
     ""},
    {"DISC-005.auth-type-bearer", "discovery's auth.type is \"bearer\", not \"bearer-jwt\"", ""},
    {"DISC-009.no-header-timeout", "discovery's limits has no header_timeout_ms", ""},
    {"DISC-010.rate-limit-null",
     "discovery's rate_limit is null (not an object) when no rate limit is configured", ""},
    {"HLTH-001.status-ok", "GET /health says \"status\": \"ok\" instead of \"healthy\"", ""},
    {"HLTH-002.check-status-up", "the health storage check's status is \"up\", not pass|fail", ""},
    {"HLTH-003.storage-check-renamed", "the health storage check is named database, not storage",
     ""},
    {"REG-002.lax-name-pattern",
     "agent names may have upper case, underscores and a leading digit or hyphen", ""},
    {"REG-003.name-65-accepted",
     "an agent name of 65 characters is accepted (the bound is off by one)", ""},
    {"REG-007.version-65-accepted",
     "a version of 65 characters is accepted (the bound is off by one)", ""},
    {"REG-008.capabilities-65-accepted", "65 capabilities are accepted (the bound is off by one)",
     ""},
    {"REG-009.duplicate-capabilities-accepted", "two capabilities with the same name are accepted",
     ""},
    {"REG-011.description-bytes",
     "a capability description is measured in bytes: 256 two-byte characters are 422", ""},
    {"REG-012.names-unique-per-owner",
     "names are unique per owner only: another owner may register a taken name", ""},
    {"REG-013.any-scheme",
     "an endpoint of any scheme (ftp://, ...) is accepted, not only http and https", ""},
    {"REG-017.values-stringified",
     "metadata values that are not strings are stored as their JSON text, not 422", ""},
    {"REG-018.unknown-fields-ignored", "unknown fields in an agent body are ignored, not 422", ""},
    {"REG-019.read-only-ignored",
     "read-only fields (id, status, owner, ...) in a body are silently dropped, not 422", ""},
    {"REG-020.no-location", "POST /agents answers 201 without Location", ""},
    {"REG-026.if-none-match-ignored", "GET /agents/{id} ignores If-None-Match: never 304", ""},
    {"REG-028.if-match-optional",
     "PUT /agents/{id} without If-Match overwrites unconditionally, not 428", ""},
    {"REG-029.if-match-not-compared",
     "PUT /agents/{id} accepts any If-Match: a stale ETag overwrites (lost update)", ""},
    {"REG-037.default-limit-100", "GET /agents without limit returns up to 100 items, not 50", ""},
    {"REG-038.limit-max-unchecked", "GET /agents accepts a limit over 500", ""},
    {"REG-039.bad-cursor-restarts",
     "GET /agents with a cursor it did not issue lists from the beginning instead of 400", ""},
    {"REG-040.status-filter-ignored", "GET /agents ignores ?status=", ""},
    {"REG-041.capability-filter-ignored", "GET /agents ignores ?capability= (after validating it)",
     ""},
    {"REG-042.cursor-skips-one",
     "next_cursor points at the first agent not returned, so each next page skips one", ""},
    {"REG-044.capabilities-never-304",
     "GET /agents/{id}/capabilities ignores If-None-Match: never 304", ""},
    {"REG-045.cache-control-public",
     "capabilities carry Cache-Control: public, max-age=300, not private", ""},
    {"REG-047.any-status-move", "any status move is allowed (registered to draining, ...)", ""},
    {"REG-051.idempotency-key-ignored",
     "POST /agents ignores Idempotency-Key: a repeat creates again (or 409s) instead of "
     "replaying",
     ""},
    {"AUTH-002.no-challenge", "a request without a token is 401 with no WWW-Authenticate", ""},
    {"AUTH-004.alg-none-accepted", "an unsigned token (alg none, any case) is accepted", ""},
    {"AUTH-007.exp-ignored", "an expired token is accepted", ""},
    {"AUTH-008.no-exp-leeway",
     "exp is compared without the leeway: a token expired a moment ago is refused", ""},
    {"AUTH-009.nbf-ignored", "a token not valid yet (nbf in the future) is accepted", ""},
    {"AUTH-011.missing-iss-accepted",
     "with an issuer configured, a token without iss is accepted (only a present iss is "
     "compared)",
     "--jwt-issuer https://issuer.agentcheck.test"},
    {"AUTH-012.audience-unchecked",
     "with an audience configured, a token of another or no aud is accepted",
     "--jwt-audience agentcheck-audience"},
    {"AUTH-016.limit-counts-scheme",
     "the token limit counts the whole Authorization value: a token just under 8 KiB is "
     "refused",
     ""},
    {"AUTH-017.challenge-without-error",
     "a bad token's 401 challenges Bearer realm=\"agent\" without error=\"invalid_token\"", ""},
    {"AUTH-019.roleless-is-viewer",
     "a valid token without a recognised role is taken as a viewer's: it reads", ""},
    {"AUTH-021.any-role-writes",
     "any recognised role passes the role check: a viewer may create agents (and its other "
     "writes are refused by ownership, without insufficient_scope)",
     ""},
    {"AUTH-024.operator-any-agent",
     "an operator may update, set the status of and delete another owner's agent", ""},
    {"AUTH-040.auth-before-routing",
     "authentication runs before routing: an unknown path or method without a valid token is "
     "401, not 404/405",
     ""},
    {"AUTH-048.move-before-schema",
     "PUT /agents/{id}/status checks the move (409) before validating the body (422)", ""},
    // ---- end of sections 0-3

    // ---- sections 4-9: events, WebSocket, tasks, invoke, audit, rate limits, metrics,
    // tracing, lifecycle
    {"EVT-002.seq-gap", "each event's seq is 2 more than the one before (1, 3, 5, ...)", ""},
    {"EVT-006.type-filter-ignored", "GET /events ignores ?type= and lists events of every type",
     ""},
    {"EVT-007.builtin-type-accepted",
     "POST /events accepts a built-in type (agent_registered, ...) as well as x_ ones", ""},
    {"EVT-008.no-deleted-event", "deleting an agent emits no agent_deleted event", ""},
    {"EVT-010.viewer-may-publish", "a viewer may publish events (POST /events)", ""},
    {"EVT-011.bad-query-ignored",
     "GET /events ignores a bad limit or after (limit=0, after=-1, ...) instead of 400", ""},
    {"WS-002.unknown-agent-upgraded",
     "the status stream of an unknown agent is upgraded (then closed), not 404", ""},
    {"WS-003.no-snapshot", "the status stream sends no snapshot first", ""},
    {"WS-004.every-third-dropped", "the status stream drops every third status_changed message",
     ""},
    {"WS-005.deleted-not-closed", "the status stream stays open after its deleted message", ""},
    {"WS-006.after-ignored", "/events/stream ignores after= and sends live events only", ""},
    {"WS-007.pings-unanswered", "streams never read from the client, so pings get no pong", ""},
    {"WS-008.unbounded-buffer",
     "a stream client that does not read is never closed: its queue grows without bound", ""},
    {"TASK-002.eleven-attempts-accepted",
     "a task with max_attempts 11 is accepted (the bound is off by one)", ""},
    {"TASK-003.unknown-type-accepted", "a task of unknown type is accepted (202), not 422", ""},
    {"TASK-004.queue-never-full", "POST /tasks never answers 503: the queue has no bound", ""},
    {"TASK-008.no-backoff", "a failed attempt is retried at once, without the backoff", ""},
    {"TASK-009.one-attempt-too-many",
     "a failing task is dead-lettered after max_attempts + 1 attempts", ""},
    {"TASK-011.retry-any-status", "POST /tasks/{id}/retry requeues a task of any status, not 409",
     ""},
    {"TASK-014.any-operator-retries", "any operator may retry another operator's task", ""},
    {"INV-002.fresh-trace-to-target",
     "invoke sends the target a traceparent of a new trace, not the request's trace id", ""},
    {"INV-004.allowlist-bypassed", "invoke calls endpoints outside the allowlist", ""},
    {"INV-006.retries-4xx", "invoke retries a target's 4xx answers like 5xx", ""},
    {"INV-008.breaker-never-opens", "the circuit breaker never opens, however many failures", ""},
    {"INV-009.half-open-lets-all-through",
     "a half-open circuit lets every call through, not one trial", ""},
    {"INV-011.viewer-may-invoke", "a viewer may invoke an agent", ""},
    {"AUD-002.refusals-not-audited", "401 and 403 answers to reads leave no audit record", ""},
    {"AUD-003.operator-reads-audit", "an operator may read the audit log (GET /audit)", ""},
    {"AUD-004.token-as-actor",
     "a refused request's audit record holds its bearer token as the actor", ""},
    {"AUD-005.request-id-regenerated",
     "audit records carry a request_id of their own, not the request's X-Request-ID", ""},
    {"RATE-002.no-retry-after", "429 answers carry no Retry-After",
     "--rate-limit-rps 200 --rate-limit-burst 400"},
    {"RATE-003.one-bucket", "one token bucket for every principal: one's excess limits all",
     "--rate-limit-rps 200 --rate-limit-burst 400"},
    {"RATE-004.health-limited", "/health, /livez and /readyz are rate limited too",
     "--rate-limit-rps 200 --rate-limit-burst 400"},
    {"MET-003.queue-depth-misnamed",
     "the queue depth is exported as agent_task_queue_depth, not agent_queue_depth", ""},
    {"MET-004.raw-path-label", "404 answers are labelled with their raw path (ids and all)", ""},
    {"TRC-001.none-on-problems", "error answers (4xx, 5xx) carry no traceresponse", ""},
    {"TRC-002.fresh-trace-id",
     "traceresponse always carries a fresh trace id, even with a valid traceparent", ""},
    {"LIFE-002.ready-while-draining",
     "on SIGTERM /readyz stays 200 and new connections are served until the drain timeout", ""},
    {"LIFE-003.no-drain",
     "SIGTERM stops the I/O at once: requests in flight and WebSocket streams are cut", ""},
    {"LIFE-004.exit-by-signal",
     "after draining, SIGTERM ends the process by the signal, not exit 0", ""},
    {"LIFE-006.ack-before-commit",
     "writes are answered before they are committed (committed every 250 ms): SIGKILL loses "
     "acknowledged changes",
     ""},
    // ---- end of sections 4-9
};
std::string_view active_name; // set once at start-up, before any thread
#endif

} // namespace

std::span<const info> all() noexcept {
#ifdef AGENT_FAILPOINTS
    return table;
#else
    return {};
#endif
}

std::string_view requirement_of(std::string_view name) noexcept {
    return name.substr(0, name.find('.'));
}

bool enable(std::string_view name) noexcept {
#ifdef AGENT_FAILPOINTS
    for (const auto& fp : table)
        if (fp.name == name) {
            active_name = fp.name;
            return true;
        }
#else
    (void)name;
#endif
    return false;
}

std::string_view active() noexcept {
#ifdef AGENT_FAILPOINTS
    return active_name;
#else
    return {};
#endif
}

bool on(std::string_view name) noexcept {
#ifdef AGENT_FAILPOINTS
    return !active_name.empty() && active_name == name;
#else
    (void)name;
    return false;
#endif
}

std::string table_json() {
    auto quoted = [](std::string_view s) {
        std::string out = "\"";
        for (char c : s) {
            if (c == '"' || c == '\\') out.push_back('\\');
            out.push_back(c);
        }
        return out + "\"";
    };
    std::string out = "[";
    for (const auto& fp : all()) {
        if (out.size() > 1) out += ",";
        out += "\n  {\"name\": " + quoted(fp.name) +
               ", \"requirement\": " + quoted(requirement_of(fp.name)) +
               ", \"breaks\": " + quoted(fp.breaks) + ", \"args\": " + quoted(fp.extra_args) + "}";
    }
    return out + "\n]\n";
}

} // namespace agent::failpoint
