#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace agent::util {

/// Formats a random (version 4, variant 10) lowercase UUID from 128 random bits.
std::string uuid_v4(std::uint64_t hi, std::uint64_t lo);

/// A fresh version-4 UUID from a thread-local generator seeded from std::random_device.
/// Thread-safe.
std::string new_uuid();

/// True when text is a lowercase canonical UUID (8-4-4-4-12 hex digits).
bool is_uuid(std::string_view text) noexcept;

/// 16 random bytes as 32 lowercase hex characters (trace ids, request ids). Thread-safe.
std::string random_hex(std::size_t bytes);

} // namespace agent::util
