#pragma once
// What every fuzz target shares: the input as text, and a check that ends the run as a crash
// (which libFuzzer keeps as an input file) when a property of the code under test breaks.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace fuzz {

/// The HS256 secret of the verifiers in the fuzz targets; the seed tokens are signed with it.
inline constexpr std::string_view hs256_secret = "fuzz-hs256-secret-0123456789abcdef0123";

/// The input bytes as text (not NUL-terminated; may hold any byte).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

/// Aborts with `what` on stderr unless ok, so that the fuzzer reports the input.
inline void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz: property broken: %s\n", what);
    std::abort();
}

} // namespace fuzz
