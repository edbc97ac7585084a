#pragma once
// Beast message types used by handlers and the server.

#include <functional>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace agent::handlers {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;
/// Delivers the response for a request. Called exactly once, from any thread.
using responder = std::function<void(response)>;

} // namespace agent::handlers
