#pragma once
// Outbound HTTP for the agent_health_check task: GET <endpoint>/health with a deadline, only
// to hosts the allowlist permits. Blocking; runs on a task worker thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference/util/allowlist.hpp"
#include "reference/util/expected.hpp"

namespace agent {

/// An http:// URL split up; nullopt for anything else (https is not probed).
struct http_url {
    std::string host;
    std::uint16_t port = 80;
    std::string path; ///< "" or "/prefix" (no trailing slash)
};
std::optional<http_url> parse_http_url(std::string_view url);

/// GET url + "/health": the status, or why there is none ("timed out", "refused", ...).
util::expected<int, std::string> probe_health(const std::string& endpoint,
                                              const endpoint_allowlist& allow,
                                              std::chrono::milliseconds timeout);

} // namespace agent
