#include "reference/handlers/app.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "reference/handlers/problem.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/util/text.hpp"
#include "reference/util/time.hpp"
#include "reference/util/uuid.hpp"

namespace agent::handlers {
namespace {

constexpr std::size_t request_id_max = 128;
constexpr std::size_t max_json_depth = 64;
constexpr std::size_t request_id_random_bytes = 16;

// Date header value, recomputed at most once a second per thread.
const std::string& http_date(const clock& clk) {
    thread_local std::string cached;
    thread_local std::int64_t cached_s = -1;
    auto now = clk.now();
    auto s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (s != cached_s) {
        cached = util::format_http_date(now);
        cached_s = s;
    }
    return cached;
}

bool is_json_media_type(std::string_view ct) {
    auto semi = ct.find(';');
    return util::iequals(util::trim(ct.substr(0, semi)), "application/json");
}

// Deepest nesting of arrays/objects outside strings (bounded scan; the parser would
// otherwise accept megabytes of '[').
std::size_t json_depth(std::string_view s) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > max_json_depth) return deepest;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

void json_escape_into(std::string& out, std::string_view s) {
    if (util::is_valid_utf8(s)) return util::append_json_string(out, s);
    // Not UTF-8 (never from the parsers that feed the log, but the line must stay JSON).
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// The request's traceparent when it has exactly one (W3C: several make it invalid).
std::optional<std::string_view> traceparent_of(const request& req) {
    if (req.count("traceparent") != 1) return std::nullopt;
    const auto v = req["traceparent"];
    return std::string_view(v.data(), v.size());
}

/// A write that appends only an audit record (a refusal's, or an answer the store did not
/// audit with its change).
write_op audit_only(audit_record record) {
    write_op op;
    op.audit = std::make_shared<audit_draft>();
    op.audit->record = std::move(record);
    op.apply = [](store_txn&) -> std::optional<error> { return std::nullopt; };
    return op;
}

} // namespace

bool is_valid_request_id(std::string_view id) noexcept {
    // HTTP-026: ^[A-Za-z0-9._-]{1,128}$ (the failpoint checks the characters, not the length).
    if (id.empty() || (id.size() > request_id_max && !AGENT_FAILPOINT("HTTP-026.length-unchecked")))
        return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

app::app(services s) : svc_(s) {
    // Every error type's series exists from the start, at 0.
    if (svc_.stats != nullptr)
        for (int e = static_cast<int>(errc::bad_request); e <= static_cast<int>(errc::internal);
             ++e) {
            const auto type = problem_type(static_cast<errc>(e));
            svc_.stats->declare_error_type(std::string_view(type).substr(type.rfind(':') + 1));
        }
}

std::optional<error> app::media_type_refusal(const exchange& x) {
    if (!x.rule || !x.rule->takes_body) return std::nullopt;
    auto ct = x.req[http::field::content_type];
    if (is_json_media_type(ct)) return std::nullopt;
    // HTTP-009: a body without Content-Type is 415 (the failpoint assumes JSON).
    if (ct.empty() && AGENT_FAILPOINT("HTTP-009.missing-type-assumed-json")) return std::nullopt;
    // The defect: only a missing Content-Type is refused; any declared one is taken as JSON.
    if (AGENT_FAILPOINT("HTTP-008.any-content-type") && !ct.empty()) return std::nullopt;
    return error{errc::unsupported_media_type,
                 ct.empty() ? "Content-Type: application/json is required"
                            : "Content-Type " + std::string(ct) +
                                  " is not supported; use application/json",
                 {}};
}

std::optional<error> app::admit(exchange& x) const {
    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
    if (x.req.version() >= 11 && x.req.find(http::field::host) == x.req.end() &&
        !AGENT_FAILPOINT("HTTP-034.missing-host-accepted"))
        return error{errc::bad_request, "an HTTP/1.1 request needs a Host header", {}};
    x.route = match_route(x.req.target());
    // The defect: authentication runs first, as a middleware in front of the router, so an
    // unknown path or method without a valid token is 401 instead of 404/405.
    if (AGENT_FAILPOINT("AUTH-040.auth-before-routing") && x.req.method() != http::verb::options &&
        x.route.id != route_id::discovery && x.route.id != route_id::health &&
        x.route.id != route_id::livez && x.route.id != route_id::readyz &&
        x.route.id != route_id::metrics) {
        auto early = svc_.verifier.verify(x.req[http::field::authorization]);
        if (!early)
            return early.error() == token_error::missing
                       ? error{errc::unauthenticated, "a bearer token is required", {}}
                       : error{errc::invalid_token,
                               std::string("the bearer token was refused: ") +
                                   to_string(early.error()),
                               {}};
    }
    if (x.route.id == route_id::none)
        return error{errc::not_found, "no resource at " + std::string(path_of(x.req.target())), {}};
    if (x.req.method() == http::verb::options) return std::nullopt;
    x.rule = find_method(x.route.id, x.req.method());
    if (!x.rule)
        return error{errc::method_not_allowed,
                     std::string(x.req.method_string()) + " is not allowed on " +
                         std::string(x.route.route_template),
                     {}};
    // Rate limits (§8) come after 404/405 and before authentication (§3's order of refusals).
    // The principal is the token's sub when the token is valid, else the client's address:
    // a forged or expired token cannot buy a fresh bucket. Health endpoints are exempt.
    auto auth = x.req[http::field::authorization];
    std::optional<decltype(svc_.verifier.verify(auth))> checked;
    // RATE-004: health endpoints are exempt.
    const bool health = x.route.id == route_id::health || x.route.id == route_id::livez ||
                        x.route.id == route_id::readyz;
    if (svc_.limiter != nullptr && (!health || AGENT_FAILPOINT("RATE-004.health-limited"))) {
        std::string principal;
        if (!auth.empty()) {
            checked.emplace(svc_.verifier.verify(auth));
            if (*checked) principal = "sub " + (**checked).sub;
        }
        if (principal.empty()) principal = "addr " + x.remote_addr;
        // RATE-003: a bucket per principal, so that one's excess never limits another.
        if (AGENT_FAILPOINT("RATE-003.one-bucket")) principal = "everyone";
        x.rate = svc_.limiter->take(principal);
        // RATE-002: a 429 carries Retry-After (and the RateLimit-* headers, see decorate).
        if (!x.rate->allowed)
            return error{errc::rate_limited,
                         "more than " + std::to_string(x.rate->limit) +
                             " requests at once from this principal: retry after " +
                             std::to_string(x.rate->retry_after_s) + " s",
                         {},
                         {},
                         AGENT_FAILPOINT("RATE-002.no-retry-after") ? 0 : x.rate->retry_after_s};
    }
    if (x.rule->needs == role::none) return std::nullopt;
    if (!checked) checked.emplace(svc_.verifier.verify(auth));
    auto& verified = *checked;
    if (!verified) {
        auto why = verified.error();
        if (why == token_error::missing)
            return error{errc::unauthenticated, "a bearer token is required", {}};
        return error{errc::invalid_token,
                     std::string("the bearer token was refused: ") + to_string(why),
                     {}};
    }
    x.who = std::move(*verified);
    // The defect for AUTH-021: any recognised role passes the role check (a viewer may write).
    if (AGENT_FAILPOINT("AUTH-021.any-role-writes") ? x.who->highest == role::none
                                                    : x.who->highest < x.rule->needs)
        return error{errc::insufficient_scope,
                     std::string("this needs the ") + to_string(x.rule->needs) + " role",
                     {}};
    return std::nullopt;
}

void app::handle(request req, std::string remote_addr, responder respond) {
    handle(std::move(req), std::move(remote_addr), std::move(respond), nullptr);
}

void app::handle(request req, std::string remote_addr, responder respond,
                 std::function<void(stream_plan)> upgrade) {
    auto x = std::make_shared<exchange>();
    x->upgrade = std::move(upgrade);
    x->started = svc_.clk.steady_now();
    x->req = std::move(req);
    x->remote_addr = std::move(remote_addr);
    x->respond = std::move(respond);
    auto rid = x->req["X-Request-ID"];
    x->request_id = (is_valid_request_id(rid) && !AGENT_FAILPOINT("HTTP-025.request-id-not-echoed"))
                        ? std::string(rid)
                        : util::random_hex(request_id_random_bytes);
    // HTTP-027: a fresh id per request. The failpoint's defect generates one at start-up and
    // gives it to every request that comes without one.
    if (rid.empty() && AGENT_FAILPOINT("HTTP-027.one-generated-id")) {
        static const std::string once = util::random_hex(request_id_random_bytes);
        x->request_id = once;
    }
    x->trace = util::new_span(traceparent_of(x->req));

    if (auto refusal = admit(*x)) return fail(x, *refusal);
    if (x->req.method() == http::verb::options) {
        response res{http::status::no_content, x->req.version()};
        res.set(http::field::allow, allow_header(x->route.id));
        return reply(x, std::move(res));
    }
    if (auto refusal = media_type_refusal(*x)) return fail(x, *refusal);
    if (x->rule->takes_body) {
        const auto& b = x->req.body();
        if (json_depth(b) > max_json_depth)
            return fail(x, {errc::bad_request, "the JSON body nests deeper than 64 levels", {}});
        x->body = nlohmann::json::parse(b, nullptr, false);
        if (x->body.is_discarded())
            return fail(x, {errc::bad_request,
                            util::is_valid_utf8(b) ? "the body is not valid JSON"
                                                   : "the body is not valid UTF-8",
                            {}});
    }
    switch (x->route.id) {
    case route_id::discovery:
        return handle_discovery(*this, x);
    case route_id::health:
        return handle_health(*this, x);
    case route_id::livez:
        return handle_livez(*this, x);
    case route_id::readyz:
        return handle_readyz(*this, x);
    case route_id::metrics:
        return handle_metrics(*this, x);
    case route_id::agent_status:
        if (x->req.method() == http::verb::get || x->req.method() == http::verb::head)
            return handle_stream(*this, x);
        return handle_agents(*this, x);
    case route_id::agents:
    case route_id::agent:
    case route_id::agent_capabilities:
        return handle_agents(*this, x);
    case route_id::events:
        return handle_events(*this, x);
    case route_id::events_stream:
        return handle_stream(*this, x);
    case route_id::tasks:
    case route_id::task:
    case route_id::task_retry:
        return handle_tasks(*this, x);
    case route_id::agent_invoke:
        return handle_invoke(*this, x);
    case route_id::audit:
        return handle_audit(*this, x);
    case route_id::none:
        break;
    }
    fail(x, {errc::internal, "unrouted request", {}});
}

response app::reject(const request& head, errc why, std::string detail,
                     std::string_view remote_addr) {
    exchange x;
    x.started = svc_.clk.steady_now();
    if (!head.method_string().empty()) x.req.method_string(head.method_string());
    x.req.target(head.target());
    x.req.version(head.version());
    for (const auto& f : head)
        x.req.insert(f.name_string(), f.value());
    x.remote_addr = std::string(remote_addr);
    auto rid = head["X-Request-ID"];
    x.request_id =
        is_valid_request_id(rid) ? std::string(rid) : util::random_hex(request_id_random_bytes);
    x.trace = util::new_span(traceparent_of(head));
    error err{why, std::move(detail), {}};
    // 404/405/401/403 come before 413 (the order of refusals); a broken head cannot be routed.
    if (why == errc::payload_too_large) {
        if (auto refusal = admit(x))
            err = *refusal;
        else if (auto media = media_type_refusal(x))
            err = *media; // 415 comes before 413
    }
    x.failure = err.code;
    auto res = make_problem(err, head.version() ? head.version() : 11, path_of(head.target()),
                            x.request_id, allow_header(x.route.id));
    res.keep_alive(false);
    decorate(x, res);
    log(x, res);
    count(x, res);
    // The connection answers at once (its head or body broke a limit): the record follows.
    if (const int st = res.result_int(); must_audit(x, st)) {
        (void)svc_.storage.submit(audit_only(audit_record_of(x, st, {})));
    }
    return res;
}

response app::json_response(const exchange& x, http::status st, std::string body) const {
    response res{st, x.req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    return res;
}

void app::decorate(const exchange& x, response& res) const {
    res.set("X-Request-ID", x.request_id);
    // TRC-001: every response carries traceresponse; TRC-002: the request's trace id in it.
    if (!AGENT_FAILPOINT("TRC-001.none-on-problems") || res.result_int() < 400)
        res.set("traceresponse", AGENT_FAILPOINT("TRC-002.fresh-trace-id")
                                     ? util::new_span(std::nullopt).header()
                                     : x.trace.header());
    if (x.rate) {
        // draft-ietf-httpapi-ratelimit-headers: the policy's size, what is left, when it is full.
        res.set("RateLimit-Limit", std::to_string(x.rate->limit));
        res.set("RateLimit-Remaining", std::to_string(x.rate->remaining));
        res.set("RateLimit-Reset", std::to_string(x.rate->reset_s));
    }
    // The defect for HTTP-029: nosniff only on successful answers.
    if (!AGENT_FAILPOINT("HTTP-029.nosniff-on-success-only") || res.result_int() < 400)
        res.set("X-Content-Type-Options", "nosniff");
    if (res.find(http::field::cache_control) == res.end() &&
        !AGENT_FAILPOINT("HTTP-030.no-store-missing"))
        res.set(http::field::cache_control, "no-store");
    res.set(http::field::date, http_date(svc_.clk));
    res.set(http::field::server, "agentd");
    if (x.req.method() == http::verb::head) {
        auto len = res.body().size();
        res.body().clear();
        res.content_length(len);
    } else {
        res.prepare_payload();
    }
}

void app::log(const exchange& x, const response& res) const {
    if (!svc_.log.enabled()) return;
    auto elapsed =
        std::chrono::duration<double, std::milli>(svc_.clk.steady_now() - x.started).count();
    std::string line;
    line.reserve(256);
    line += "{\"ts\":\"";
    line += util::format_rfc3339_ms(svc_.clk.now());
    line += "\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":\"";
    line += x.request_id; // validated or generated: no escaping needed
    line += "\",\"trace_id\":\"";
    line += x.trace.trace_id; // hex digits
    line += "\",\"method\":";
    json_escape_into(line, x.req.method_string());
    line += ",\"route\":";
    json_escape_into(line, x.route.id == route_id::none ? std::string_view("unmatched")
                                                        : x.route.route_template);
    line += ",\"status\":";
    line += std::to_string(res.result_int());
    line += ",\"duration_ms\":";
    std::array<char, 32> ms{};
    const auto written =
        std::to_chars(ms.data(), ms.data() + ms.size(), elapsed, std::chars_format::fixed, 3);
    line.append(ms.data(), written.ptr);
    line += ",\"sub\":";
    if (x.who)
        json_escape_into(line, x.who->sub);
    else
        line += "null";
    line += ",\"remote\":";
    json_escape_into(line, x.remote_addr);
    line += "}";
    svc_.log.write(line);
}

void app::count(const exchange& x, const response& res) const {
    auto* stats = svc_.stats;
    if (stats == nullptr) return;
    const auto elapsed = std::chrono::duration<double>(svc_.clk.steady_now() - x.started).count();
    // MET-004: the route label is the route's template, never the path with its ids.
    std::string_view route =
        x.route.id == route_id::none ? std::string_view("unmatched") : x.route.route_template;
    if (AGENT_FAILPOINT("MET-004.raw-path-label") && res.result_int() == 404)
        route = path_of(x.req.target());
    stats->observe_request(x.req.method_string(), route, static_cast<int>(res.result_int()),
                           elapsed);
    if (x.failure != errc::ok) {
        // The problem type's slug: "urn:agent-service:problem:validation-failed" → its end.
        const auto type = problem_type(x.failure);
        stats->count_error(std::string_view(type).substr(type.rfind(':') + 1));
    }
}

bool app::must_audit(const exchange& x, int status) noexcept {
    // AUD-002: every 401 and 403 is audited.
    if ((status == 401 || status == 403) && !AGENT_FAILPOINT("AUD-002.refusals-not-audited"))
        return true;
    if (x.rule == nullptr || status == 429) return false; // no such route or method; OPTIONS
    const auto m = x.req.method();
    return m == http::verb::post || m == http::verb::put || m == http::verb::patch ||
           m == http::verb::delete_;
}

audit_record app::audit_record_of(const exchange& x, int status, std::string resource) const {
    audit_record r;
    r.at = util::format_rfc3339_ms(svc_.clk.now());
    if (x.who) r.actor = x.who->sub;
    // AUD-004: no token in the record (with the failpoint a refused one is kept as the actor).
    else if (AGENT_FAILPOINT("AUD-004.token-as-actor"))
        r.actor = std::string(x.req[http::field::authorization]);
    r.action = std::string(x.req.method_string()) + ' ' +
               std::string(x.route.id == route_id::none ? path_of(x.req.target())
                                                        : x.route.route_template);
    r.resource = resource.empty() ? std::string(path_of(x.req.target())) : std::move(resource);
    r.status = status;
    // AUD-005: the record's request_id is the request's X-Request-ID.
    r.request_id = AGENT_FAILPOINT("AUD-005.request-id-regenerated")
                       ? util::random_hex(request_id_random_bytes)
                       : x.request_id;
    r.remote_addr = x.remote_addr;
    return r;
}

std::shared_ptr<audit_draft> app::audit_write(const exchange_ptr& x, int ok_status,
                                              std::string resource) const {
    x->audit = std::make_shared<audit_draft>();
    x->audit->record = audit_record_of(*x, ok_status, std::move(resource));
    x->audit->failed_status = [](errc code) { return static_cast<int>(status_of(code)); };
    return x->audit;
}

void app::reply(const exchange_ptr& x, response res) const {
    // The defect for HTTP-003: the request's Connection: close is not looked at.
    const bool close_ignored =
        x->req.version() >= 11 && AGENT_FAILPOINT("HTTP-003.connection-close-ignored");
    res.keep_alive((x->req.keep_alive() || close_ignored) && !svc_.lifecycle.draining.load());
    decorate(*x, res);
    log(*x, res);
    count(*x, res);
    auto respond = std::move(x->respond);
    const int st = res.result_int();
    if (!must_audit(*x, st) || (x->audit && x->audit->committed && x->audit->record.status == st))
        return respond(std::move(res));
    // An answer the store has not audited (a refusal before the write, or a write that
    // answered otherwise): its record is committed before the answer leaves, so that a
    // client reading /audit after its answer finds it.
    auto op = audit_only(audit_record_of(*x, st, std::string(res[http::field::location])));
    auto pending = std::make_shared<response>(std::move(res));
    op.done = [respond, pending](const std::optional<error>&) { respond(std::move(*pending)); };
    if (svc_.storage.submit(std::move(op))) respond(std::move(*pending)); // stopping: answer
}

void app::fail(const exchange_ptr& x, const error& err) const {
    x->failure = err.code;
    reply(x, make_problem(err, x->req.version(), path_of(x->req.target()), x->request_id,
                          allow_header(x->route.id)));
}

} // namespace agent::handlers
