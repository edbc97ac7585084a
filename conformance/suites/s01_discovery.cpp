// §1 Discovery and health: the discovery document, /health, /livez, /readyz (no auth).

#include <set>
#include <string>

#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;

/// GET /.well-known/agent-service without a token; fails unless 200 with a JSON object.
json fetch_discovery(context& ctx) {
    auto r = ctx.send(make("GET", "/.well-known/agent-service"));
    ctx.expect_status(r, 200);
    auto j = ctx.expect_json(r);
    if (!j.is_object())
        ctx.fail("the discovery document is not a JSON object", "{...}", describe(r));
    return j;
}

/// GET /health without a token; fails unless 200 healthy or 503 unhealthy with a JSON object.
json fetch_health(context& ctx) {
    auto r = ctx.send(make("GET", "/health"));
    ctx.expect_status_in(r, {200, 503});
    auto j = ctx.expect_json(r);
    if (!j.is_object()) ctx.fail("the health document is not a JSON object", "{...}", describe(r));
    const std::string want = r.status == 200 ? "healthy" : "unhealthy";
    if (!j.contains("status") || j["status"] != want)
        ctx.fail("GET /health " + std::to_string(r.status) + " does not say \"status\": \"" + want +
                     "\"",
                 want, j.contains("status") ? j["status"].dump() : "absent");
    return j;
}

bool is_positive_integer(const json& v) {
    return (v.is_number_unsigned() || v.is_number_integer()) && v.get<long long>() > 0;
}

void add_discovery_checks(check_registry& reg) {
    reg.add({"DISC-001.document",
             {"DISC-001", "AUTH-027"},
             layer::unit,
             "GET /.well-known/agent-service without a token is 200 with a JSON object",
             [](context& ctx) { (void)fetch_discovery(ctx); }});
    reg.add({"DISC-002.protocol",
             {"DISC-002"},
             layer::unit,
             "The discovery document says \"protocol\": \"agent-service/1\"",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 ctx.expect(d.contains("protocol") && d["protocol"] == "agent-service/1",
                            "wrong protocol", "\"agent-service/1\"",
                            d.contains("protocol") ? d["protocol"].dump() : "absent");
             }});
    reg.add({"DISC-003.implementation",
             {"DISC-003"},
             layer::unit,
             "The discovery document's implementation has string name and version",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 const auto& i = d.contains("implementation") ? d["implementation"] : json();
                 ctx.expect(i.is_object() && i.contains("name") && i["name"].is_string() &&
                                i.contains("version") && i["version"].is_string(),
                            "implementation is not {name, version}",
                            "{\"name\": string, \"version\": string}", i.dump());
             }});
    reg.add({"DISC-004.features",
             {"DISC-004"},
             layer::unit,
             "The discovery document's features is an array of distinct strings",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 if (!d.contains("features") || !d["features"].is_array())
                     ctx.fail("features is not an array", "[...]",
                              d.contains("features") ? d["features"].dump() : "absent");
                 std::set<std::string> seen;
                 static const std::set<std::string> known{"events",  "websocket", "tasks",
                                                          "invoke",  "audit",     "rate_limit",
                                                          "metrics", "tracing",   "tls"};
                 std::string unknown;
                 for (auto& f : d["features"]) {
                     if (!f.is_string()) ctx.fail("a feature is not a string", "string", f.dump());
                     if (!seen.insert(f.get<std::string>()).second)
                         ctx.fail("a feature is listed twice", "distinct names",
                                  f.get<std::string>());
                     if (!known.count(f.get<std::string>())) unknown += f.get<std::string>() + " ";
                 }
                 if (!unknown.empty())
                     ctx.note("features the protocol does not define: " + unknown);
             }});
    reg.add({"DISC-005.auth-type",
             {"DISC-005"},
             layer::unit,
             "The discovery document's auth.type is \"bearer-jwt\"",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 bool ok = d.contains("auth") && d["auth"].is_object() &&
                           d["auth"].contains("type") && d["auth"]["type"] == "bearer-jwt";
                 ctx.expect(ok, "auth.type is not bearer-jwt", "\"bearer-jwt\"",
                            d.contains("auth") ? d["auth"].dump() : "absent");
             }});
    reg.add({"DISC-006.auth-algorithms",
             {"DISC-006"},
             layer::unit,
             "The discovery document's auth.algorithms is an array of strings including HS256",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 const json a =
                     d.contains("auth") && d["auth"].is_object() && d["auth"].contains("algorithms")
                         ? d["auth"]["algorithms"]
                         : json();
                 if (!a.is_array())
                     ctx.fail("auth.algorithms is not an array", "[\"HS256\", ...]", a.dump());
                 bool hs = false;
                 for (auto& x : a) {
                     if (!x.is_string())
                         ctx.fail("an algorithm is not a string", "string", x.dump());
                     hs = hs || x == "HS256";
                 }
                 ctx.expect(hs, "auth.algorithms does not include HS256", "HS256 listed", a.dump());
             }});
    reg.add({"DISC-007.auth-leeway",
             {"DISC-007"},
             layer::unit,
             "The discovery document's auth.leeway_s is a non-negative integer",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 const json l =
                     d.contains("auth") && d["auth"].is_object() && d["auth"].contains("leeway_s")
                         ? d["auth"]["leeway_s"]
                         : json();
                 ctx.expect((l.is_number_unsigned() || l.is_number_integer()) &&
                                l.get<long long>() >= 0,
                            "auth.leeway_s is not a non-negative integer", "e.g. 30", l.dump());
             }});
    reg.add({"DISC-008.auth-issuer-audience",
             {"DISC-008"},
             layer::unit,
             "The discovery document's auth.issuer and auth.audience are strings when present",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 if (!d.contains("auth") || !d["auth"].is_object())
                     ctx.fail("no auth object", "{...}", d.dump());
                 for (const char* k : {"issuer", "audience"})
                     if (d["auth"].contains(k) && !d["auth"][k].is_string())
                         ctx.fail(std::string("auth.") + k + " is not a string", "string",
                                  d["auth"][k].dump());
             }});
    reg.add({"DISC-009.limits",
             {"DISC-009"},
             layer::unit,
             "The discovery document's limits declares max_body_bytes, max_header_bytes and "
             "header_timeout_ms",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 if (!d.contains("limits") || !d["limits"].is_object())
                     ctx.fail("limits is not an object", "{...}",
                              d.contains("limits") ? d["limits"].dump() : "absent");
                 for (const char* k : {"max_body_bytes", "max_header_bytes", "header_timeout_ms"})
                     if (!d["limits"].contains(k) || !is_positive_integer(d["limits"][k]))
                         ctx.fail(std::string("limits.") + k + " is not a positive integer",
                                  "a positive integer",
                                  d["limits"].contains(k) ? d["limits"][k].dump() : "absent");
             }});
    reg.add({"DISC-010.other-sections",
             {"DISC-010"},
             layer::unit,
             "The discovery document's resilience, tasks and rate_limit members are objects",
             [](context& ctx) {
                 auto d = fetch_discovery(ctx);
                 for (const char* k : {"resilience", "tasks", "rate_limit"})
                     if (!d.contains(k) || !d[k].is_object())
                         ctx.fail(std::string(k) + " is not an object", "{...}",
                                  d.contains(k) ? d[k].dump() : "absent");
             }});
    reg.add({"DISC-001.content-type",
             {"DISC-001", "HTTP-005"},
             layer::unit,
             "The discovery document is served as application/json",
             [](context& ctx) {
                 auto r = ctx.send(make("GET", "/.well-known/agent-service"));
                 ctx.expect_status(r, 200);
                 ctx.expect(r.media_type() == "application/json",
                            "discovery is not application/json", "application/json",
                            r.header("Content-Type").value_or("absent"));
             }});
}

void add_health_checks(check_registry& reg) {
    reg.add({"HLTH-001.health",
             {"HLTH-001", "AUTH-027"},
             layer::unit,
             "GET /health without a token is 200 healthy or 503 unhealthy",
             [](context& ctx) { (void)fetch_health(ctx); }});
    reg.add({"HLTH-002.checks-shape",
             {"HLTH-002"},
             layer::unit,
             "The health document's checks map names to {status: pass|fail}",
             [](context& ctx) {
                 auto h = fetch_health(ctx);
                 if (!h.contains("checks") || !h["checks"].is_object())
                     ctx.fail("checks is not an object", "{NAME: {\"status\": ...}}", h.dump());
                 for (auto& [name, c] : h["checks"].items()) {
                     if (!c.is_object() || !c.contains("status") ||
                         !(c["status"] == "pass" || c["status"] == "fail"))
                         ctx.fail("check " + name + " has no status pass|fail",
                                  "{\"status\": \"pass\"|\"fail\"}", c.dump());
                 }
             }});
    reg.add({"HLTH-003.storage",
             {"HLTH-003"},
             layer::unit,
             "The health document's checks names storage, passing when the agent says healthy",
             [](context& ctx) {
                 auto h = fetch_health(ctx);
                 if (!h.contains("checks") || !h["checks"].is_object() ||
                     !h["checks"].contains("storage"))
                     ctx.fail("checks does not name storage", "checks.storage", h.dump());
                 const auto& s = h["checks"]["storage"];
                 if (h["status"] == "healthy" &&
                     !(s.is_object() && s.value("status", std::string()) == "pass"))
                     ctx.fail("healthy, yet the storage check does not pass",
                              "\"status\": \"pass\"", s.dump());
             }});
    reg.add({"HLTH-004.dependencies",
             {"HLTH-004"},
             layer::unit,
             "With invoke declared, the health document's checks names dependencies",
             [](context& ctx) {
                 if (!ctx.has_feature("invoke")) ctx.skip("invoke is not declared");
                 auto h = fetch_health(ctx);
                 if (!h.contains("checks") || !h["checks"].is_object() ||
                     !h["checks"].contains("dependencies"))
                     ctx.fail("checks does not name dependencies", "checks.dependencies", h.dump());
             }});
    reg.add({"HLTH-005.livez",
             {"HLTH-005", "AUTH-027"},
             layer::unit,
             "GET /livez without a token is 200",
             [](context& ctx) { ctx.expect_status(ctx.send(make("GET", "/livez")), 200); }});
    reg.add({"HLTH-006.readyz",
             {"HLTH-006", "AUTH-027"},
             layer::unit,
             "GET /readyz without a token is 200 while the agent serves",
             [](context& ctx) { ctx.expect_status(ctx.send(make("GET", "/readyz")), 200); }});
    reg.add(
        {"AUTH-027.open-with-foreign-auth",
         {"AUTH-027"},
         layer::unit,
         "Discovery, /health, /livez and /readyz answer without asking for a token even when sent "
         "a Basic credential",
         [](context& ctx) {
             for (const char* p : {"/.well-known/agent-service", "/health", "/livez", "/readyz"}) {
                 auto r = ctx.send(make("GET", p).with("Authorization", "Basic YWdlbnRjaGVjazp4"));
                 if (r.status == 401 || r.status == 403)
                     ctx.fail(std::string(p) + " asked for credentials", "no auth", describe(r));
                 // Health and readiness may report 503; anything else is not an answer.
                 const bool may_be_503 =
                     std::string_view(p) == "/health" || std::string_view(p) == "/readyz";
                 if (r.status != 200 && !(may_be_503 && r.status == 503))
                     ctx.fail(std::string(p) + " did not answer a request carrying a Basic "
                                               "credential",
                              may_be_503 ? "200 or 503" : "200", describe(r));
             }
         }});
}

} // namespace

void register_s01_discovery(check_registry& registry) {
    add_discovery_checks(registry);
    add_health_checks(registry);
}

} // namespace agentcheck
