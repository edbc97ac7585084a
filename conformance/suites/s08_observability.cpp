// §8 Audit, rate limits, headers, observability.
// - Tracing (W3C Trace Context): a `traceresponse` on every response, the request's trace
//   continued when its `traceparent` is valid (whatever `tracestate` says), a fresh trace
//   when it is absent or invalid.
// - Metrics: /metrics read by agentcheck's own strict reader of the text format 0.0.4
//   (conformance/client/prometheus.hpp): the families §8 names with their types and labels,
//   histograms consistent, counters that never go down, label values that are never ids.

#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "conformance/client/prometheus.hpp"
#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;

/// The fields of a `traceresponse` (or `traceparent`) in the form §8 gives:
/// `00-<trace-id>-<span-id>-<flags>`, lower-case hex, ids not all zero.
struct trace_fields {
    std::string trace_id;
    std::string span_id;
    std::string flags;
};

bool lower_hex(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::optional<trace_fields> parse_trace_header(std::string_view v) {
    if (v.size() != 55 || v.substr(0, 3) != "00-" || v[35] != '-' || v[52] != '-')
        return std::nullopt;
    trace_fields f{std::string(v.substr(3, 32)), std::string(v.substr(36, 16)),
                   std::string(v.substr(53, 2))};
    if (!lower_hex(f.trace_id) || !lower_hex(f.span_id) || !lower_hex(f.flags)) return std::nullopt;
    if (f.trace_id == std::string(32, '0') || f.span_id == std::string(16, '0'))
        return std::nullopt;
    return f;
}

/// The response's traceresponse, read (fails TRC-001 when it is missing or malformed).
trace_fields traceresponse_of(context& ctx, const response& r, const std::string& what) {
    const auto count = r.header_count("traceresponse");
    if (count == 0)
        ctx.fail(what + " answered " + std::to_string(r.status) + " without a traceresponse",
                 "traceresponse: 00-<trace-id>-<span-id>-<flags>", describe(r));
    if (count > 1)
        ctx.fail(what + " answered with " + std::to_string(count) + " traceresponse headers", "one",
                 describe(r));
    const auto value = r.header("traceresponse").value_or("");
    auto f = parse_trace_header(value);
    if (!f)
        ctx.fail(what + ": the traceresponse is not 00-<32 hex>-<16 hex>-<2 hex> (lower case, "
                        "ids not all zero)",
                 "00-<trace-id>-<span-id>-<flags>", value);
    return *f;
}

/// A trace or span id: random hex digits, never all zero (W3C: all-zero ids are invalid).
std::string random_id(context& ctx, std::size_t digits) {
    auto out = random_hex(ctx, digits);
    if (out == std::string(digits, '0')) out.back() = '1';
    return out;
}

/// Requests of every kind of answer: discovery and health, a list (200), a create (201),
/// OPTIONS (204), HEAD, an unknown route (404), a wrong method (405), no token (401), a bad
/// body (400 or 422).
std::vector<std::pair<std::string, request>> assorted_requests(context& ctx) {
    std::vector<std::pair<std::string, request>> out;
    out.emplace_back("GET /.well-known/agent-service", make("GET", "/.well-known/agent-service"));
    out.emplace_back("GET /health", make("GET", "/health"));
    out.emplace_back("HEAD /health", make("HEAD", "/health"));
    out.emplace_back("GET /agents", authed(ctx, "viewer", "GET", "/agents?limit=1"));
    out.emplace_back("OPTIONS /agents", make("OPTIONS", "/agents"));
    out.emplace_back("GET of an unknown route",
                     make("GET", "/" + ctx.unique_name("no-such-route")));
    out.emplace_back("DELETE /health (a method not allowed)", make("DELETE", "/health"));
    out.emplace_back("GET /agents without a token", make("GET", "/agents"));
    auto bad = authed(ctx, "operator", "POST", "/agents");
    bad.json({{"name", "Not A Valid Name"}});
    out.emplace_back("POST /agents with an invalid body", bad);
    auto good = authed(ctx, "operator", "POST", "/agents");
    good.json({{"name", ctx.unique_name("trc")},
               {"version", "1.0.0"},
               {"capabilities", json::array({{{"name", "trace"}}})}});
    out.emplace_back("POST /agents", good);
    return out;
}

void created_cleanup(context& ctx, const response& r) {
    if (r.status != 201) return;
    if (auto j = r.json(); j && j->is_object() && j->contains("id") && (*j)["id"].is_string())
        ctx.send(authed(ctx, "admin", "DELETE", "/agents/" + (*j)["id"].get<std::string>()));
}

void add_tracing_checks(check_registry& reg) {
    reg.add({"TRC-001.every-response",
             {"TRC-001"},
             layer::unit,
             "Answers of every kind (200, 201, 204, HEAD, 400/422, 401, 404, 405) carry one "
             "traceresponse 00-<trace-id>-<span-id>-<flags>",
             [](context& ctx) {
                 for (auto& [what, req] : assorted_requests(ctx)) {
                     auto r = ctx.send(req);
                     created_cleanup(ctx, r);
                     (void)traceresponse_of(ctx, r, what);
                 }
             }});
    reg.add({"TRC-002.continued",
             {"TRC-002"},
             layer::unit,
             "With a valid traceparent, answers of every kind carry its trace id in "
             "traceresponse; a malformed tracestate beside it changes nothing",
             [](context& ctx) {
                 int n = 0;
                 for (auto& [what, req] : assorted_requests(ctx)) {
                     const auto trace = random_id(ctx, 32);
                     const auto parent = random_id(ctx, 16);
                     req.with("traceparent", "00-" + trace + "-" + parent + "-01");
                     // Every other request also carries a tracestate no parser accepts.
                     if (++n % 2 == 0) req.with("tracestate", "=,,bad key=;;");
                     auto r = ctx.send(req);
                     created_cleanup(ctx, r);
                     auto f = traceresponse_of(ctx, r, what);
                     if (f.trace_id != trace)
                         ctx.fail(what + " with a valid traceparent" +
                                      (n % 2 == 0 ? " and a malformed tracestate" : "") +
                                      ": the traceresponse does not carry its trace id",
                                  trace, f.trace_id);
                 }
             }});
    reg.add({"TRC-003.fresh-when-absent",
             {"TRC-003"},
             layer::unit,
             "Without a traceparent each answer's traceresponse carries a trace id of its own",
             [](context& ctx) {
                 std::set<std::string> seen;
                 for (int i = 0; i < 5; ++i) {
                     auto f = traceresponse_of(ctx, ctx.send(make("GET", "/health")),
                                               "GET /health without a traceparent");
                     if (!seen.insert(f.trace_id).second)
                         ctx.fail("two requests without a traceparent got the same trace id",
                                  "a fresh trace id for each", f.trace_id);
                 }
             }});
    reg.add(
        {"TRC-003.fresh-when-invalid",
         {"TRC-003"},
         layer::unit,
         "An invalid traceparent (version ff, all-zero ids, upper case, non-hex, wrong "
         "lengths, anything after version 00's flags, two headers) starts a fresh trace",
         [](context& ctx) {
             const auto trace = random_id(ctx, 32);
             const auto parent = random_id(ctx, 16);
             std::string upper = trace;
             for (auto& c : upper)
                 c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
             if (upper == trace) upper[0] = 'A'; // all digits: make one upper-case letter
             const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
                 {"version ff", {"ff-" + trace + "-" + parent + "-01"}},
                 {"an all-zero trace id", {"00-" + std::string(32, '0') + "-" + parent + "-01"}},
                 {"an all-zero parent id", {"00-" + trace + "-" + std::string(16, '0') + "-01"}},
                 {"an upper-case trace id", {"00-" + upper + "-" + parent + "-01"}},
                 {"a non-hex trace id", {"00-" + trace.substr(0, 31) + "g-" + parent + "-01"}},
                 {"a short trace id", {"00-" + trace.substr(0, 30) + "-" + parent + "-01"}},
                 {"a short parent id", {"00-" + trace + "-" + parent.substr(0, 15) + "-01"}},
                 {"text after version 00's flags", {"00-" + trace + "-" + parent + "-01-x"}},
                 {"two traceparent headers",
                  {"00-" + trace + "-" + parent + "-01", "00-" + trace + "-" + parent + "-01"}},
             };
             for (const auto& [what, values] : cases) {
                 auto req = make("GET", "/health");
                 for (const auto& v : values)
                     req.with("traceparent", v);
                 auto f = traceresponse_of(ctx, ctx.send(req),
                                           "GET /health with " + what + " in traceparent");
                 if (f.trace_id == trace)
                     ctx.fail("GET /health with " + what +
                                  " in traceparent: the traceresponse continues its trace id "
                                  "(an invalid traceparent must start a fresh trace)",
                              "a fresh trace id", f.trace_id);
             }
         }});
}

// ---- metrics -------------------------------------------------------------------------------

namespace prom = prometheus_text;

/// GET /metrics (without a token; with the admin's when the agent asks for one), parsed.
/// Fails MET-001 unless 200, text/plain, and valid text format 0.0.4.
prom::exposition scrape(context& ctx) {
    auto r = ctx.send(make("GET", "/metrics"));
    if (r.status == 401 || r.status == 403) r = ctx.send(authed(ctx, "admin", "GET", "/metrics"));
    if (r.status != 200)
        ctx.fail("GET /metrics answered " + std::to_string(r.status), "200", describe(r));
    if (r.media_type() != "text/plain")
        ctx.fail("GET /metrics is not text/plain", "text/plain; version=0.0.4",
                 r.header("Content-Type").value_or("(none)"));
    auto e = prom::parse(r.body);
    if (!e.valid()) {
        std::string all;
        for (const auto& p : e.problems)
            all += p + "\n";
        ctx.fail("GET /metrics is not valid Prometheus text format 0.0.4", "no problems", all);
    }
    return e;
}

/// The family `name`, of `type`, or a MET-003/MET-002 failure naming what is missing.
const prom::family& need_family(context& ctx, const prom::exposition& e, const std::string& name,
                                const std::string& type) {
    auto it = e.families.find(name);
    if (it == e.families.end())
        ctx.fail("/metrics has no family " + name, name + " (" + type + ")", "absent");
    if (it->second.type != type)
        ctx.fail("/metrics: " + name + " is a " + it->second.type, type, it->second.type);
    return it->second;
}

/// Requests whose route has an id in its path: a created agent read and a task read, and an
/// unknown id; returns the ids used (none may appear as a label value).
std::vector<std::string> requests_with_ids(context& ctx) {
    std::vector<std::string> ids;
    auto a = ctx.create_agent("operator");
    const std::string id = a["id"];
    ids.push_back(id);
    ids.push_back(a["name"]);
    ctx.send(authed(ctx, "viewer", "GET", "/agents/" + id));
    ctx.send(authed(ctx, "viewer", "GET", "/agents/" + id + "/capabilities"));
    const std::string unknown = "00000000-0000-4000-8000-" + random_hex(ctx, 12);
    ids.push_back(unknown);
    ctx.send(authed(ctx, "viewer", "GET", "/agents/" + unknown));
    if (ctx.has_feature("tasks")) {
        auto t = authed(ctx, "operator", "POST", "/tasks");
        t.json({{"type", "noop"}, {"payload", json::object()}});
        auto r = ctx.send(t);
        if (auto j = r.json();
            r.status == 202 && j && j->is_object() && j->contains("id") && (*j)["id"].is_string()) {
            ids.push_back((*j)["id"]);
            ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + (*j)["id"].get<std::string>()));
        }
    }
    return ids;
}

void add_metrics_checks(check_registry& reg) {
    reg.add({"MET-001.text-format",
             {"MET-001"},
             layer::unit,
             "GET /metrics is text/plain in Prometheus text format 0.0.4: names, labels, "
             "escapes and values well formed, each TYPE before its samples and given once, "
             "histograms with le buckets that never go down, +Inf equal to _count, and _sum",
             [](context& ctx) {
                 auto e = scrape(ctx);
                 ctx.note(std::to_string(e.families.size()) + " families");
             }});
    reg.add({"MET-001.counters-never-decrease",
             {"MET-001"},
             layer::integration,
             "Between two scrapes with requests in between, no counter, histogram bucket, "
             "_count or _sum goes down, and the request histogram counts the requests",
             [](context& ctx) {
                 auto before = scrape(ctx);
                 constexpr int n = 5;
                 for (int i = 0; i < n; ++i)
                     ctx.send(make("GET", "/health"));
                 auto after = scrape(ctx);
                 std::map<std::string, double> was;
                 for (const auto& [name, f] : before.families)
                     if (f.type == "counter" || f.type == "histogram")
                         for (const auto& s : f.samples)
                             was[prom::series_key(s)] = s.value;
                 for (const auto& [name, f] : after.families) {
                     if (f.type != "counter" && f.type != "histogram") continue;
                     for (const auto& s : f.samples) {
                         auto it = was.find(prom::series_key(s));
                         if (it != was.end() && s.value < it->second)
                             ctx.fail("a " + f.type +
                                          " went down between two scrapes: " + prom::series_key(s),
                                      ">= " + std::to_string(it->second), std::to_string(s.value));
                     }
                 }
                 auto count_of = [](const prom::exposition& e) {
                     double total = 0;
                     if (const auto* f = e.find("agent_request_duration_seconds"))
                         for (const auto& s : f->samples)
                             if (s.name == "agent_request_duration_seconds_count" &&
                                 s.labels.count("route") && s.labels.at("route") == "/health" &&
                                 s.labels.count("method") && s.labels.at("method") == "GET")
                                 total += s.value;
                     return total;
                 };
                 const double health_before = count_of(before);
                 const double health_after = count_of(after);
                 if (health_after - health_before < n)
                     ctx.fail(
                         "agent_request_duration_seconds_count{method=\"GET\",route=\"/health\"} "
                         "did not count the " +
                             std::to_string(n) +
                             " requests made between "
                             "two scrapes",
                         ">= " + std::to_string(health_before + n), std::to_string(health_after));
             }});
    reg.add({"MET-002.request-histogram",
             {"MET-002"},
             layer::unit,
             "agent_request_duration_seconds is a histogram whose series carry method, route "
             "(the route template: /agents/{id} for a read of an agent) and code",
             [](context& ctx) {
                 auto a = ctx.create_agent("operator");
                 ctx.send(authed(ctx, "viewer", "GET", "/agents/" + a["id"].get<std::string>()));
                 auto e = scrape(ctx);
                 const auto& f = need_family(ctx, e, "agent_request_duration_seconds", "histogram");
                 bool templated = false;
                 for (const auto& s : f.samples) {
                     for (const char* label : {"method", "route", "code"})
                         if (!s.labels.count(label))
                             ctx.fail(s.name + " (line " + std::to_string(s.line) +
                                          ") has no label " + label,
                                      "method, route and code", prom::series_key(s));
                     const auto& code = s.labels.at("code");
                     if (code.size() != 3 ||
                         code.find_first_not_of("0123456789") != std::string::npos)
                         ctx.fail(s.name + ": code=\"" + code + "\" is not a status code",
                                  "3 digits", code);
                     // A template's placeholder: {id} as §2 writes it, or :id, <id>, * as
                     // routers write theirs.
                     const auto& route = s.labels.at("route");
                     if (route.rfind("/agents/", 0) == 0 &&
                         route.find_first_of("{:<*") != std::string::npos &&
                         s.labels.at("method") == "GET")
                         templated = true;
                 }
                 if (!templated)
                     ctx.fail("after GET /agents/{id}, no GET series of "
                              "agent_request_duration_seconds has an /agents/ route template "
                              "({id}, :id, <id> or *)",
                              "route=\"/agents/{id}\"", "no templated route");
             }});
    reg.add({"MET-003.required-families",
             {"MET-003"},
             layer::unit,
             "agent_active_connections (gauge), agent_errors_total (counter, error_type), "
             "agent_registered_agents (gauge), agent_tasks_total (counter) and "
             "agent_queue_depth (gauge) are exported",
             [](context& ctx) {
                 ctx.send(make("GET", "/" + ctx.unique_name("no-such-route"))); // one error
                 auto e = scrape(ctx);
                 const auto& conns = need_family(ctx, e, "agent_active_connections", "gauge");
                 need_family(ctx, e, "agent_registered_agents", "gauge");
                 need_family(ctx, e, "agent_tasks_total", "counter");
                 need_family(ctx, e, "agent_queue_depth", "gauge");
                 const auto& errors = need_family(ctx, e, "agent_errors_total", "counter");
                 if (errors.samples.empty())
                     ctx.fail("agent_errors_total has no series after a 404", "a series", "none");
                 for (const auto& s : errors.samples)
                     if (!s.labels.count("error_type"))
                         ctx.fail("agent_errors_total has a series without error_type",
                                  "error_type", prom::series_key(s));
                 // This scrape's own connection is open while it is answered.
                 if (!conns.samples.empty() && conns.samples.front().value < 1)
                     ctx.fail("agent_active_connections is below 1 while a connection asks", ">= 1",
                              std::to_string(conns.samples.front().value));
             }});
    reg.add({"MET-004.no-raw-ids",
             {"MET-004"},
             layer::unit,
             "After requests to an agent's, a task's and an unknown id's URLs, no label value "
             "of /metrics holds any of those ids or names",
             [](context& ctx) {
                 const auto ids = requests_with_ids(ctx);
                 auto e = scrape(ctx);
                 for (const auto& [name, f] : e.families)
                     for (const auto& s : f.samples)
                         for (const auto& [label, value] : s.labels)
                             for (const auto& id : ids)
                                 if (value.find(id) != std::string::npos)
                                     ctx.fail("a label value of /metrics holds an id: " +
                                                  prom::series_key(s),
                                              "route templates and bounded values",
                                              label + "=\"" + value + "\"");
             }});
    check bounded{
        "MET-004.series-bounded",
        {"MET-004"},
        layer::integration,
        "500 requests to 500 distinct unknown agent ids add at most a few series to "
        "/metrics (a label per id would add hundreds)",
        [](context& ctx) {
            constexpr int requests = 500;
            constexpr std::size_t most_new_series = 25;
            auto series = [](const prom::exposition& e) {
                std::size_t n = 0;
                for (const auto& [name, f] : e.families)
                    n += f.samples.size();
                return n;
            };
            // One request and one scrape first, so that the 404's and /metrics' own series
            // exist before counting.
            (void)ctx.send(authed(ctx, "viewer", "GET", "/agents/" + random_uuid(ctx)));
            (void)scrape(ctx);
            const auto before = series(scrape(ctx));
            // Sent on a client of their own: 500 exchanges are not evidence worth keeping
            // (nor replaying); the two scrapes are.
            client::http_client quiet(ctx.target(), ctx.scaled(std::chrono::milliseconds(10000)));
            for (int i = 0; i < requests; ++i)
                (void)client::send_honouring_rate_limits(
                    quiet, authed(ctx, "viewer", "GET", "/agents/" + random_uuid(ctx)));
            const auto after = series(scrape(ctx));
            if (after > before + most_new_series)
                ctx.fail("/metrics grew by " + std::to_string(after - before) + " series after " +
                             std::to_string(requests) + " requests to distinct unknown ids",
                         "at most " + std::to_string(most_new_series) + " new series",
                         std::to_string(before) + " → " + std::to_string(after));
            ctx.note(std::to_string(before) + " series before, " + std::to_string(after) +
                     " after " + std::to_string(requests) + " requests to distinct ids");
        }};
    // It counts every series of /metrics: a check running beside it that answers a route or a
    // status for the first time would add series of its own.
    bounded.alone = true;
    reg.add(std::move(bounded));
}

// ---- rate limits -----------------------------------------------------------------------------

/// The declared policy (rate_limit.requests_per_second and burst), or a skip.
std::pair<double, long long> declared_policy(context& ctx) {
    const auto& d = ctx.discovery();
    const auto& rl =
        d.contains("rate_limit") && d["rate_limit"].is_object() ? d["rate_limit"] : json::object();
    if (!rl.contains("requests_per_second") || !rl["requests_per_second"].is_number() ||
        !rl.contains("burst") || !rl["burst"].is_number_integer())
        ctx.skip("rate_limit.requests_per_second and burst are not declared");
    const double rps = rl["requests_per_second"].get<double>();
    const long long burst = rl["burst"].get<long long>();
    if (rps <= 0 || burst < 1) ctx.skip("the declared rate limit is not positive");
    if (burst > 20000)
        ctx.skip("rate_limit.burst is " + std::to_string(burst) +
                 ": too many requests to exhaust in bounded time (run the agent with 20000 or "
                 "fewer)");
    return {rps, burst};
}

/// A token of the operator's roles for a principal of this check alone (its own bucket).
std::string fresh_principal(context& ctx, const std::string& hint) {
    auto claims = ctx.claims("operator");
    claims["sub"] = ctx.unique_name(hint);
    return ctx.mint(claims);
}

/// GET /agents?limit=1 with `token`: the request every RATE check spends tokens with.
request limited_get(const std::string& token) {
    auto req = make("GET", "/agents?limit=1");
    req.bearer(token);
    return req;
}

/// Sends GET /agents?limit=1 as `token` until the first 429 (or nullopt when the agent let
/// through more than its burst plus what it refilled, plus `slack`).
struct exhausted {
    long long passed = 0;
    std::optional<response> refused;
    double elapsed_s = 0;
};
exhausted exhaust(context& ctx, const std::string& token, double rps, long long burst,
                  long long slack = 10) {
    exhausted out;
    const auto start = std::chrono::steady_clock::now();
    const auto give_up = start + ctx.scaled(std::chrono::milliseconds(30000));
    auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    while (true) {
        auto r = ctx.send(limited_get(token));
        if (r.status == 429) {
            out.refused = r;
            break;
        }
        ++out.passed;
        if (static_cast<double>(out.passed) >
            static_cast<double>(burst) + rps * seconds() + static_cast<double>(slack))
            break;
        if (std::chrono::steady_clock::now() > give_up)
            ctx.skip("in 30 s agentcheck could not send requests faster than the declared " +
                     std::to_string(rps) + " per second refill them");
    }
    out.elapsed_s = seconds();
    return out;
}

/// A principal of its own whose bucket is empty (its last request refused 429), with the
/// declared policy; blocked on RATE-001 when no 429 came.
struct exhausted_principal {
    std::string token;
    exhausted spent;
    double rps = 0;
    long long burst = 0;
};
exhausted_principal exhaust_fresh_principal(context& ctx, const std::string& hint) {
    const auto [rps, burst] = declared_policy(ctx);
    exhausted_principal out{fresh_principal(ctx, hint), {}, rps, burst};
    out.spent = exhaust(ctx, out.token, rps, burst);
    if (!out.spent.refused) ctx.block("RATE-001", "no 429 after the burst");
    return out;
}

long long integer_header(context& ctx, const response& r, const std::string& name,
                         const std::string& req) {
    const auto v = r.header(name);
    if (!v || v->empty() || v->size() > 12 ||
        v->find_first_not_of("0123456789") != std::string::npos)
        ctx.fail("a 429 without an integer " + name + " (" + req + ")",
                 name + ": <non-negative integer>", v.value_or("(none)"));
    return std::stoll(*v);
}

void add_rate_limit_checks(check_registry& reg) {
    reg.add({"RATE-001.burst-then-429",
             {"RATE-001", "RATE-002"},
             layer::integration,
             "A principal of its own gets its declared burst (give or take one, plus what "
             "refills meanwhile) and then 429 with an integer Retry-After >= 1 and "
             "RateLimit-Limit, -Remaining and -Reset",
             [](context& ctx) {
                 const auto [rps, burst] = declared_policy(ctx);
                 const auto token = fresh_principal(ctx, "rate");
                 const auto e = exhaust(ctx, token, rps, burst);
                 const double refilled = rps * e.elapsed_s;
                 if (!e.refused)
                     ctx.fail(std::to_string(e.passed) + " requests passed in " +
                                  std::to_string(e.elapsed_s) + " s without a 429",
                              "429 after about " + std::to_string(burst) + " (+" +
                                  std::to_string(static_cast<long long>(refilled)) + " refilled)",
                              std::to_string(e.passed) + " passed");
                 if (e.passed < burst - 1)
                     ctx.fail("429 after only " + std::to_string(e.passed) +
                                  " requests of a declared burst of " + std::to_string(burst),
                              ">= " + std::to_string(burst - 1), std::to_string(e.passed));
                 expect_refused(ctx, *e.refused, 429, "the request past the burst");
                 const auto retry = integer_header(ctx, *e.refused, "Retry-After", "RATE-002");
                 if (retry < 1)
                     ctx.fail("Retry-After on a 429 is below 1", ">= 1", std::to_string(retry));
                 const auto limit = integer_header(ctx, *e.refused, "RateLimit-Limit", "RATE-002");
                 const auto remaining =
                     integer_header(ctx, *e.refused, "RateLimit-Remaining", "RATE-002");
                 (void)integer_header(ctx, *e.refused, "RateLimit-Reset", "RATE-002");
                 if (remaining > limit)
                     ctx.fail("RateLimit-Remaining is above RateLimit-Limit",
                              "<= " + std::to_string(limit), std::to_string(remaining));
                 if (remaining != 0)
                     ctx.fail("a 429 says RateLimit-Remaining " + std::to_string(remaining), "0",
                              std::to_string(remaining));
                 ctx.note(std::to_string(e.passed) + " passed in " + std::to_string(e.elapsed_s) +
                          " s, then 429 (Retry-After " + std::to_string(retry) + ")");
             }});
    reg.add({"RATE-001.passes-after-retry-after",
             {"RATE-001"},
             layer::integration,
             "After waiting the 429's Retry-After, the principal's next request passes",
             [](context& ctx) {
                 const auto p = exhaust_fresh_principal(ctx, "rate");
                 const auto ra = p.spent.refused->header("Retry-After").value_or("");
                 if (ra.empty() || ra.size() > 4 ||
                     ra.find_first_not_of("0123456789") != std::string::npos)
                     ctx.block("RATE-002", "the 429 has no integer Retry-After");
                 const auto wait = client::retry_after_seconds(*p.spent.refused, 30);
                 if (wait < std::stoll(ra))
                     ctx.skip("Retry-After is " + ra + " s: too long to wait");
                 std::this_thread::sleep_for(std::chrono::seconds(wait));
                 auto r = ctx.send(limited_get(p.token));
                 if (r.status == 429)
                     ctx.fail("still 429 after waiting Retry-After (" + ra + " s)",
                              "the request passes", describe(r));
             }});
    reg.add({"RATE-003.principals-isolated",
             {"RATE-003"},
             layer::integration,
             "While one principal is refused with 429, another principal's requests pass",
             [](context& ctx) {
                 const auto modest = fresh_principal(ctx, "modest");
                 (void)exhaust_fresh_principal(ctx, "greedy");
                 for (int i = 0; i < 3; ++i) {
                     auto r = ctx.send(limited_get(modest));
                     if (r.status == 429)
                         ctx.fail("another principal was refused while the first was limited",
                                  "200", describe(r));
                 }
             }});
    check health{
        "RATE-004.health-exempt",
        {"RATE-004"},
        layer::integration,
        "With this client's address refused 429 (requests without a token) and a "
        "principal refused, /health, /livez and /readyz still answer",
        [](context& ctx) {
            const auto p = exhaust_fresh_principal(ctx, "rate");
            const auto& token = p.token;
            const auto rps = p.rps;
            const auto burst = p.burst;
            // Without a token the principal is the client's address: exhaust it too.
            long long sent = 0;
            bool limited = false;
            const auto start = std::chrono::steady_clock::now();
            while (!limited && sent < burst + 10 +
                                          static_cast<long long>(
                                              rps * std::chrono::duration<double>(
                                                        std::chrono::steady_clock::now() - start)
                                                        .count())) {
                limited = ctx.send(make("GET", "/agents?limit=1")).status == 429;
                ++sent;
            }
            // Then more health requests than the address's bucket could allow in
            // the time they take (burst + rate × elapsed + 10): an agent that counted
            // them against it would refuse one, however fast it refills.
            const char* const health_paths[] = {"/health", "/livez", "/readyz"};
            const auto health_start = std::chrono::steady_clock::now();
            const auto give_up = health_start + ctx.scaled(std::chrono::seconds(20));
            long long health_sent = 0;
            while (health_sent < burst + 10 +
                                     static_cast<long long>(
                                         rps * std::chrono::duration<double>(
                                                   std::chrono::steady_clock::now() - health_start)
                                                   .count()) &&
                   std::chrono::steady_clock::now() < give_up) {
                const char* path = health_paths[health_sent % 3];
                auto r = ctx.send(make("GET", path));
                if (r.status == 429)
                    ctx.fail(std::string("GET ") + path + " was rate limited (after " +
                                 std::to_string(health_sent) +
                                 " health requests from a refused address)",
                             "not 429", describe(r));
                ++health_sent;
            }
            ctx.note(std::to_string(health_sent) +
                     " health requests from the refused address, none refused");
            for (const char* path : health_paths) {
                auto authed_req = make("GET", path);
                authed_req.bearer(token);
                const auto r = ctx.send(authed_req);
                if (r.status == 429)
                    ctx.fail(std::string("GET ") + path +
                                 " with a limited principal's token was rate limited",
                             "not 429", describe(r));
            }
            ctx.note(limited ? "the client's address was refused too"
                             : "the client's address was not limited within its burst");
        }};
    // It exhausts the bucket of this client's address, which every check's requests without a
    // token share.
    health.alone = true;
    reg.add(std::move(health));
}

} // namespace

void register_s08_observability(check_registry& registry) {
    add_tracing_checks(registry);
    add_metrics_checks(registry);
    add_rate_limit_checks(registry);
    register_s08_audit(registry);
    register_s08_tls(registry);
}

} // namespace agentcheck
