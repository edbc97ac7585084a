#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace agent::util {

/// Encodes bytes as base64url (RFC 4648 §5) without padding. Thread-safe.
std::string base64url_encode(std::string_view bytes);

/// Decodes unpadded base64url. Returns nullopt on any character outside the alphabet,
/// on '=' padding, on an impossible length (len % 4 == 1) or non-zero trailing bits.
/// Thread-safe.
std::optional<std::string> base64url_decode(std::string_view text);

} // namespace agent::util
