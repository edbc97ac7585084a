#pragma once
namespace agent {
/// The agentd release, shown in discovery and by --version.
inline constexpr const char* agentd_version = "0.1.0";
} // namespace agent
