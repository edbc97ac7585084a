#pragma once
// The one place where errors become HTTP: status codes, RFC 9457 problem documents and
// the headers that go with them (WWW-Authenticate, Allow, Retry-After).

#include <string>
#include <string_view>

#include "reference/errors/errors.hpp"
#include "reference/handlers/http.hpp"

namespace agent::handlers {

/// The HTTP status for an error kind.
http::status status_of(errc code) noexcept;

/// The problem "type" URI for an error kind: "urn:agent-service:problem:<slug>".
std::string problem_type(errc code);

/// A complete problem response (body, Content-Type application/problem+json, and the
/// error's own headers). `instance` is the request path; `allow` is used for 405.
response make_problem(const error& err, unsigned version, std::string_view instance,
                      std::string_view request_id, std::string_view allow = {});

} // namespace agent::handlers
