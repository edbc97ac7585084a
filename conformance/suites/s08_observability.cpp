// §8 Audit, rate limits, headers, observability. Tracing (W3C Trace Context): a
// `traceresponse` on every response, the request's trace continued when its `traceparent` is
// valid (whatever `tracestate` says), a fresh trace when it is absent or invalid.

#include <cctype>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

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
    if (!lower_hex(f.trace_id) || !lower_hex(f.span_id) || !lower_hex(f.flags))
        return std::nullopt;
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
        ctx.fail(what + " answered with " + std::to_string(count) + " traceresponse headers",
                 "one", describe(r));
    const auto value = r.header("traceresponse").value_or("");
    auto f = parse_trace_header(value);
    if (!f)
        ctx.fail(what + ": the traceresponse is not 00-<32 hex>-<16 hex>-<2 hex> (lower case, "
                        "ids not all zero)",
                 "00-<trace-id>-<span-id>-<flags>", value);
    return *f;
}

std::string random_hex(std::mt19937_64& rng, std::size_t digits) {
    static const char* const hex = "0123456789abcdef";
    std::string out;
    while (out.size() < digits)
        out.push_back(hex[rng() % 16]);
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
    out.emplace_back("GET of an unknown route", make("GET", "/" + ctx.unique_name("no-such-route")));
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
                     const auto trace = random_hex(ctx.rng(), 32);
                     const auto parent = random_hex(ctx.rng(), 16);
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
    reg.add({"TRC-003.fresh-when-invalid",
             {"TRC-003"},
             layer::unit,
             "An invalid traceparent (version ff, all-zero ids, upper case, non-hex, wrong "
             "lengths, anything after version 00's flags, two headers) starts a fresh trace",
             [](context& ctx) {
                 const auto trace = random_hex(ctx.rng(), 32);
                 const auto parent = random_hex(ctx.rng(), 16);
                 std::string upper = trace;
                 for (auto& c : upper)
                     c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                 if (upper == trace) upper[0] = 'A'; // all digits: make one upper-case letter
                 const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
                     {"version ff", {"ff-" + trace + "-" + parent + "-01"}},
                     {"an all-zero trace id",
                      {"00-" + std::string(32, '0') + "-" + parent + "-01"}},
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

} // namespace

void register_s08_observability(check_registry& registry) { add_tracing_checks(registry); }

} // namespace agentcheck
