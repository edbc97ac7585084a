#pragma once
// Which hosts the agent may call (agent_health_check, invoke): host:port or host:* entries.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agent {

/// host:port entries ("127.0.0.1:8080", "127.0.0.1:*").
class endpoint_allowlist {
public:
    explicit endpoint_allowlist(std::vector<std::string> entries) : entries_(std::move(entries)) {}
    /// Parses "a:1,b:*" (spaces ignored); throws std::invalid_argument naming a bad entry.
    static endpoint_allowlist parse(std::string_view text);
    [[nodiscard]] bool allows(std::string_view host, std::uint16_t port) const;
    [[nodiscard]] const std::vector<std::string>& entries() const noexcept { return entries_; }

private:
    std::vector<std::string> entries_;
};

} // namespace agent
