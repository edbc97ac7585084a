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

/// Formats a time-ordered (version 7, RFC 9562) lowercase UUID: the 48-bit Unix time in
/// milliseconds, then 74 of the random bits.
std::string uuid_v7(std::uint64_t unix_ms, std::uint64_t hi_random, std::uint64_t lo_random);

/// A fresh version-7 UUID for the time `unix_ms`. Ids made close in time sort close together,
/// so the B-tree indexes keyed by them are appended to rather than written at random pages
/// (one dirty page per insert fewer for each such index). Thread-safe.
std::string new_time_ordered_uuid(std::uint64_t unix_ms);

/// True when text is a lowercase canonical UUID (8-4-4-4-12 hex digits).
bool is_uuid(std::string_view text) noexcept;

/// 16 random bytes as 32 lowercase hex characters (trace ids, request ids). Thread-safe.
std::string random_hex(std::size_t bytes);

} // namespace agent::util
