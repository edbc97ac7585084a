// W3C traceparent of an incoming request (passed on by invoke): whatever comes in, the
// outbound value is a well-formed version-00 traceparent, keeping the trace id and flags of
// a valid one.
#include <algorithm>

#include "fuzz/support.hpp"
#include "reference/services/invoke.hpp"

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = fuzz::as_text(data, size);
    const auto out = agent::invoke_service::child_traceparent(in);
    const auto lower_hex = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(),
                           [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    };
    fuzz::require(out.size() == 55 && out.starts_with("00-") && out[35] == '-' && out[52] == '-' &&
                      lower_hex(out.substr(3, 32)) && lower_hex(out.substr(36, 16)) &&
                      lower_hex(out.substr(53, 2)),
                  "the outbound traceparent is 00-<32 hex>-<16 hex>-<2 hex>");
    if (in.size() == 55 && out.substr(3, 32) == in.substr(3, 32))
        fuzz::require(out.substr(53) == in.substr(53), "a kept trace keeps its flags");
    return 0;
}
