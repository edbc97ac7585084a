// GET /.well-known/agent-service, /health, /livez, /readyz (PROTOCOL.md §1).
#include "reference/handlers/app.hpp"
#include "reference/handlers/problem.hpp"
#include "reference/models/agent.hpp"
#include "reference/models/task.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/version.hpp"

namespace agent::handlers {
namespace {

constexpr int discovery_max_age_s = 60;

nlohmann::json task_type_names() {
    auto out = nlohmann::json::array();
    for (auto t : models::task_types)
        out.push_back(std::string(t));
    return out;
}

/// The optional features this agentd serves (§0): some depend on how it was started.
nlohmann::json features_of(const services& s) {
    auto f = nlohmann::json::array({"events", "websocket", "tasks", "invoke", "audit"});
    if (s.limiter != nullptr) f.push_back("rate_limit");
    if (s.stats != nullptr) f.push_back("metrics");
    f.push_back("tracing");
    if (s.cfg.tls()) f.push_back("tls");
    return f;
}

nlohmann::json discovery_document(const services& s) {
    const auto& c = s.cfg;
    using L = models::agent_limits;
    // DISC-005: auth.type is "bearer-jwt" (the failpoint names only the scheme).
    nlohmann::json auth = {
        {"type", AGENT_FAILPOINT("DISC-005.auth-type-bearer") ? "bearer" : "bearer-jwt"},
        {"algorithms", s.verifier.algorithms()},
        {"leeway_s", c.jwt_leeway.count()},
        {"max_token_bytes", c.max_token_bytes},
        {"roles", {"viewer", "operator", "admin"}}};
    if (c.jwt_issuer) auth["issuer"] = *c.jwt_issuer;
    if (c.jwt_audience) auth["audience"] = *c.jwt_audience;
    nlohmann::json limits = {{"max_body_bytes", c.max_body_bytes},
                             {"max_header_bytes", c.max_header_bytes},
                             {"header_timeout_ms", c.header_timeout.count()},
                             {"idle_timeout_ms", c.idle_timeout.count()},
                             {"drain_timeout_ms", c.drain_timeout.count()},
                             {"page_limit_default", c.page_limit_default},
                             {"page_limit_max", c.page_limit_max},
                             {"name_max", L::name_max},
                             {"version_max", L::version_max},
                             {"capabilities_max", L::capabilities_max},
                             {"description_max", L::description_max},
                             {"endpoint_max", L::endpoint_max},
                             {"metadata_max", L::metadata_max},
                             {"metadata_key_max", L::metadata_key_max},
                             {"metadata_value_max", L::metadata_value_max},
                             {"idempotency_ttl_s", c.idempotency_ttl.count()},
                             {"event_page_limit_max", c.page_limit_max},
                             {"ws_buffer_bytes", c.ws_buffer_bytes}};
    // DISC-009: limits declares max_body_bytes, max_header_bytes and header_timeout_ms (the
    // failpoint forgets the last).
    if (AGENT_FAILPOINT("DISC-009.no-header-timeout")) limits.erase("header_timeout_ms");
    return {
        {"protocol", "agent-service/1"},
        {"implementation", {{"name", "agentd"}, {"version", agentd_version}}},
        {"features", features_of(s)},
        {"auth", auth},
        {"limits", std::move(limits)},
        {"resilience",
         {{"invoke_timeout_ms", c.invoke_timeout.count()},
          {"invoke_max_attempts", c.invoke_max_attempts},
          {"retry_base_ms", c.task_retry_base.count()},
          {"retry_cap_ms", c.task_retry_cap.count()},
          {"breaker_failure_threshold", c.breaker_failure_threshold},
          {"breaker_recovery_ms", c.breaker_recovery.count()},
          {"allowlist", c.endpoint_allowlist}}},
        {"tasks",
         {{"types", task_type_names()},
          {"max_queue_depth", c.task_queue_depth},
          {"workers", c.task_workers},
          {"retry_base_ms", c.task_retry_base.count()},
          {"retry_cap_ms", c.task_retry_cap.count()},
          {"max_attempts_default", models::task_limits::max_attempts_default},
          {"max_attempts_max", models::task_limits::max_attempts_max},
          {"sleep_ms_max", models::task_limits::sleep_ms_max}}},
        // DISC-010: rate_limit is an object, empty without a limit (the failpoint: null).
        {"rate_limit",
         s.limiter == nullptr
             ? (AGENT_FAILPOINT("DISC-010.rate-limit-null") ? nlohmann::json()
                                                            : nlohmann::json::object())
             : nlohmann::json{{"requests_per_second",
                               static_cast<long long>(s.limiter->settings().requests_per_second)},
                              {"burst", s.limiter->settings().burst}}},
    };
}

} // namespace

void handle_discovery(const app& a, const exchange_ptr& x) {
    auto res = a.json_response(*x, http::status::ok, discovery_document(a.svc()).dump());
    res.set(http::field::cache_control, "max-age=" + std::to_string(discovery_max_age_s));
    a.reply(x, std::move(res));
}

void handle_health(const app& a, const exchange_ptr& x) {
    // Built from fixed parts on every call (no JSON parse on this hot path); only the count of
    // open circuits varies. A dependency that fails does not make this agent unhealthy; the
    // open circuits are reported.
    // HLTH-002: each check's status is pass or fail (the failpoint says "up"); HLTH-003: the
    // storage check is named storage (the failpoint calls it "database").
    static const std::string storage_pass =
        AGENT_FAILPOINT("HLTH-002.check-status-up")
            ? R"("storage":{"status":"up","component_type":"datastore"})"
        : AGENT_FAILPOINT("HLTH-003.storage-check-renamed")
            ? R"("database":{"status":"pass","component_type":"datastore"})"
            : R"("storage":{"status":"pass","component_type":"datastore"})";
    static const std::string storage_fail =
        R"("storage":{"status":"fail","component_type":"datastore","output":"the last commit or probe failed"})";
    const bool ok = a.svc().storage.healthy();
    std::string body =
        R"({"checks":{"dependencies":{"component_type":"component","open_circuits":)";
    body += std::to_string(a.svc().invoker.open_circuits());
    body += R"(,"status":"pass"},)";
    body += ok ? storage_pass : storage_fail;
    // HLTH-001: 200 "healthy" or 503 "unhealthy" (the failpoint says "ok").
    body += !ok                                     ? R"(},"status":"unhealthy"})"
            : AGENT_FAILPOINT("HLTH-001.status-ok") ? R"(},"status":"ok"})"
                                                    : R"(},"status":"healthy"})";
    a.reply(x, a.json_response(*x, ok ? http::status::ok : http::status::service_unavailable,
                               std::move(body)));
}

void handle_livez(const app& a, const exchange_ptr& x) {
    a.reply(x, a.json_response(*x, http::status::ok, R"({"status":"alive"})"));
}

void handle_readyz(const app& a, const exchange_ptr& x) {
    const auto& life = a.svc().lifecycle;
    if (life.is_ready())
        return a.reply(x, a.json_response(*x, http::status::ok, R"({"status":"ready"})"));
    a.fail(x, {errc::unavailable, life.draining ? "draining: shutting down" : "starting", {}});
}

void handle_metrics(const app& a, const exchange_ptr& x) {
    if (a.svc().stats == nullptr) return a.fail(x, {errc::not_found, "metrics are not kept", {}});
    response res{http::status::ok, x->req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = a.svc().stats->scrape();
    a.reply(x, std::move(res));
}

} // namespace agent::handlers
