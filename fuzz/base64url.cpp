// base64url (RFC 4648 §5, unpadded): decoding accepts only canonical text, so whatever decodes
// encodes back to the input; and any bytes survive encode then decode.
#include "reference/util/base64url.hpp"
#include "fuzz/support.hpp"

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = fuzz::as_text(data, size);
    if (const auto bytes = agent::util::base64url_decode(in))
        fuzz::require(agent::util::base64url_encode(*bytes) == in,
                      "decode then encode is identity");
    const auto text = agent::util::base64url_encode(in);
    const auto back = agent::util::base64url_decode(text);
    fuzz::require(back && *back == in, "encode then decode is identity");
    return 0;
}
