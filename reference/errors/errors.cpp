#include "reference/errors/errors.hpp"

namespace agent {
namespace {

/// The "agent" error category: one message per errc value.
class agent_error_category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "agent"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::ok:
            return "success";
        case errc::bad_request:
            return "bad request";
        case errc::unsupported_media_type:
            return "unsupported media type";
        case errc::payload_too_large:
            return "payload too large";
        case errc::header_too_large:
            return "request header fields too large";
        case errc::request_timeout:
            return "request timeout";
        case errc::validation_failed:
            return "validation failed";
        case errc::not_found:
            return "not found";
        case errc::method_not_allowed:
            return "method not allowed";
        case errc::unauthenticated:
            return "authentication required";
        case errc::invalid_token:
            return "invalid token";
        case errc::insufficient_scope:
            return "insufficient scope";
        case errc::forbidden:
            return "forbidden";
        case errc::conflict:
            return "conflict";
        case errc::precondition_required:
            return "precondition required";
        case errc::precondition_failed:
            return "precondition failed";
        case errc::idempotency_mismatch:
            return "idempotency key reused with a different request";
        case errc::upgrade_required:
            return "upgrade required";
        case errc::rate_limited:
            return "rate limited";
        case errc::bad_gateway:
            return "bad gateway";
        case errc::gateway_timeout:
            return "gateway timeout";
        case errc::circuit_open:
            return "circuit open";
        case errc::unavailable:
            return "service unavailable";
        case errc::storage_failure:
            return "storage failure";
        case errc::internal:
            return "internal error";
        }
        return "unknown agent error " + std::to_string(value);
    }
};

} // namespace

const std::error_category& agent_category() noexcept {
    static const agent_error_category category;
    return category;
}

} // namespace agent
