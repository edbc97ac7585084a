#pragma once
// The bytes of a response head, as Beast's serializer writes them (status line, every field in
// order, the blank line), built in one string.

#include <string>

#include "reference/handlers/http.hpp"

namespace agent::server {

/// "HTTP/1.1 200 OK\r\n" + "Name: value\r\n" for each field + "\r\n". The body follows as is.
std::string serialize_head(const handlers::response& res);

} // namespace agent::server

namespace agent::server {

/// Why a request head must be refused before its body is read: its framing is ambiguous or
/// its target or Host is not what RFC 9112 allows. Empty when the head may be served.
/// Checks:
///  - Transfer-Encoding: only `chunked`, alone (RFC 9112 §6.1, §6.3: anything else cannot be
///    framed here, so the answer is 400 and the connection is closed);
///  - Host: at most one, of `uri-host [":" port]` syntax (RFC 9112 §3.2);
///  - Authorization: at most one (which credential would count is ambiguous);
///  - the request-target: origin-form of RFC 3986 characters, absolute-form (rewritten to
///    origin-form, its authority replacing Host, RFC 9112 §3.2.2), or `*` for OPTIONS.
/// `req` is changed only when its target is in absolute-form.
std::string check_request_head(handlers::request& req);

/// Repairs a request line that a lenient reading accepts (RFC 9112 §2.2: empty lines before
/// it are ignored; RFC 9110 §6.2: a higher HTTP/1.x minor version is answered as 1.1), in
/// place in the bytes not yet parsed. Returns how many leading bytes to drop; sets
/// `changed` when a byte was rewritten. 0 and unchanged when nothing applies.
std::size_t repair_request_line(char* data, std::size_t size, bool& changed);

} // namespace agent::server
