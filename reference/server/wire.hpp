#pragma once
// The bytes of a response head, as Beast's serializer writes them (status line, every field in
// order, the blank line), built in one string.

#include <string>

#include "reference/handlers/http.hpp"

namespace agent::server {

/// "HTTP/1.1 200 OK\r\n" + "Name: value\r\n" for each field + "\r\n". The body follows as is.
std::string serialize_head(const handlers::response& res);

} // namespace agent::server
