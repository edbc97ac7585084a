#include "reference/handlers/problem.hpp"
#include "reference/util/failpoint.hpp"

#include <nlohmann/json.hpp>

namespace agent::handlers {
namespace {

struct kind {
    http::status status;
    const char* slug;
    const char* title;
};

kind kind_of(errc code) noexcept {
    using s = http::status;
    switch (code) {
    case errc::bad_request:
        return {s::bad_request, "bad-request", "Bad Request"};
    case errc::unsupported_media_type:
        return {s::unsupported_media_type, "unsupported-media-type", "Unsupported Media Type"};
    case errc::payload_too_large:
        return {s::payload_too_large, "payload-too-large", "Content Too Large"};
    case errc::header_too_large:
        return {s::request_header_fields_too_large, "header-too-large",
                "Request Header Fields Too Large"};
    case errc::request_timeout:
        return {s::request_timeout, "request-timeout", "Request Timeout"};
    case errc::validation_failed:
        return {s::unprocessable_entity, "validation-failed", "Unprocessable Content"};
    case errc::not_found:
        return {s::not_found, "not-found", "Not Found"};
    case errc::method_not_allowed:
        return {s::method_not_allowed, "method-not-allowed", "Method Not Allowed"};
    case errc::unauthenticated:
        return {s::unauthorized, "unauthenticated", "Unauthorized"};
    case errc::invalid_token:
        return {s::unauthorized, "invalid-token", "Unauthorized"};
    case errc::insufficient_scope:
        return {s::forbidden, "insufficient-scope", "Forbidden"};
    case errc::rate_limited:
        return {s::too_many_requests, "rate-limited", "Too Many Requests"};
    case errc::forbidden:
        return {s::forbidden, "forbidden", "Forbidden"};
    case errc::conflict:
        return {s::conflict, "conflict", "Conflict"};
    case errc::precondition_required:
        return {s::precondition_required, "precondition-required", "Precondition Required"};
    case errc::precondition_failed:
        return {s::precondition_failed, "precondition-failed", "Precondition Failed"};
    case errc::idempotency_mismatch:
        return {s::unprocessable_entity, "idempotency-key-reused", "Unprocessable Content"};
    case errc::upgrade_required:
        return {s::upgrade_required, "upgrade-required", "Upgrade Required"};
    case errc::bad_gateway:
        return {s::bad_gateway, "bad-gateway", "Bad Gateway"};
    case errc::gateway_timeout:
        return {s::gateway_timeout, "gateway-timeout", "Gateway Timeout"};
    case errc::circuit_open:
        return {s::service_unavailable, "circuit-open", "Service Unavailable"};
    case errc::unavailable:
        return {s::service_unavailable, "unavailable", "Service Unavailable"};
    case errc::storage_failure:
        return {s::internal_server_error, "storage-failure", "Internal Server Error"};
    case errc::ok:
    case errc::internal:
        break;
    }
    return {s::internal_server_error, "internal", "Internal Server Error"};
}

} // namespace

http::status status_of(errc code) noexcept {
    return kind_of(code).status;
}

std::string problem_type(errc code) {
    return std::string("urn:agent-service:problem:") + kind_of(code).slug;
}

response make_problem(const error& err, unsigned version, std::string_view instance,
                      std::string_view request_id, std::string_view allow) {
    const kind k = kind_of(err.code);
    nlohmann::json body = {{"type", problem_type(err.code)},
                           {"title", k.title},
                           {"status", static_cast<int>(k.status)},
                           {"detail", err.detail.empty() ? std::string(k.title) : err.detail},
                           {"instance", instance},
                           {"request_id", request_id}};
    for (const auto& [name, value] : err.members)
        body[name] = value;
    if (!err.fields.empty()) {
        auto& list = body["errors"] = nlohmann::json::array();
        for (const auto& f : err.fields)
            list.push_back({{"pointer", f.pointer}, {"detail", f.detail}});
    }
    response res{k.status, version};
    res.set(http::field::content_type, AGENT_FAILPOINT("HTTP-012.text-plain-errors")
                                           ? "text/plain; charset=utf-8"
                                           : "application/problem+json");
    switch (err.code) {
    case errc::unauthenticated:
        if (AGENT_FAILPOINT("AUTH-002.no-challenge")) break;
        res.set(http::field::www_authenticate, "Bearer realm=\"agent\"");
        break;
    case errc::invalid_token:
        res.set(http::field::www_authenticate, AGENT_FAILPOINT("AUTH-017.challenge-without-error")
                                                   ? "Bearer realm=\"agent\""
                                                   : "Bearer error=\"invalid_token\"");
        break;
    case errc::insufficient_scope:
        res.set(http::field::www_authenticate, "Bearer error=\"insufficient_scope\"");
        break;
    case errc::method_not_allowed:
        if (AGENT_FAILPOINT("HTTP-018.no-allow-header")) break;
        res.set(http::field::allow, allow);
        break;
    case errc::unavailable:
        res.set(http::field::retry_after, "1");
        break;
    case errc::upgrade_required:
        res.set(http::field::upgrade, "websocket");
        res.set(http::field::connection, "Upgrade");
        break;
    case errc::circuit_open:
        res.set(http::field::retry_after, "1");
        break;
    default:
        break;
    }
    if (err.retry_after_s > 0) res.set(http::field::retry_after, std::to_string(err.retry_after_s));
    res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return res;
}

} // namespace agent::handlers
