#pragma once
// The agent's error categories, plugged into std::error_code. Services return these;
// handlers/problem.cpp is the one place they become HTTP statuses and problem documents.

#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace agent {

/// Everything that can go wrong with a request, by kind. Values are stable.
enum class errc {
    ok = 0,
    // request shape
    bad_request = 1,        ///< 400: malformed syntax, bad JSON/UTF-8, bad query parameter
    unsupported_media_type, ///< 415
    payload_too_large,      ///< 413
    header_too_large,       ///< 431
    request_timeout,        ///< 408
    validation_failed,      ///< 422: well-formed body that breaks the schema
    // routing
    not_found,          ///< 404: unknown path or unknown resource
    method_not_allowed, ///< 405
    // auth
    unauthenticated,    ///< 401: no token
    invalid_token,      ///< 401: token present but rejected
    insufficient_scope, ///< 403: role too low
    forbidden,          ///< 403: not the owner
    // state
    conflict,              ///< 409: duplicate, forbidden transition, key in flight
    precondition_required, ///< 428: If-Match missing
    precondition_failed,   ///< 412: If-Match stale
    idempotency_mismatch,  ///< 422: same Idempotency-Key, different body
    upgrade_required,      ///< 426: a WebSocket route asked without an upgrade
    rate_limited,          ///< 429: the principal's token bucket is empty
    // calls to other agents (invoke)
    bad_gateway,     ///< 502: the target failed every attempt
    gateway_timeout, ///< 504: the target's last attempt timed out
    circuit_open,    ///< 503: the target's circuit is open; not contacted
    // resources (server side)
    unavailable,     ///< 503: draining, storage down, queue full
    storage_failure, ///< 500: the store failed
    internal,        ///< 500: a bug
};

/// The category of agent::errc ("agent"). Thread-safe singleton.
const std::error_category& agent_category() noexcept;

/// Makes an error_code in agent_category.
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), agent_category()};
}

/// One bad field of a request body: an RFC 6901 JSON Pointer and why it is bad.
struct field_error {
    std::string pointer;
    std::string detail;
};

/// An error with what a client needs to fix it.
struct error {
    errc code = errc::internal;
    std::string detail;              ///< human-readable, specific to this occurrence
    std::vector<field_error> fields; ///< for validation_failed
    /// Extension members of the problem document ("attempts": 3).
    std::vector<std::pair<std::string, long long>> members = {};
    /// Retry-After seconds, when the answer says when to come back (0: the default).
    long long retry_after_s = 0;
};

} // namespace agent

template <> struct std::is_error_code_enum<agent::errc> : std::true_type {};
