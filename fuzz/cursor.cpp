// Page cursors (PROTOCOL.md §2 lists): a cursor that decodes for a list must be one this agent
// issued for it, i.e. encode_cursor() of what it decoded to gives back the input byte for byte.
#include "fuzz/support.hpp"
#include "reference/handlers/app.hpp"

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = fuzz::as_text(data, size);
    for (const std::string_view kind : {"a", "t"}) {
        const auto seq = agent::handlers::decode_cursor(kind, in);
        if (!seq) continue;
        fuzz::require(*seq >= 0, "a decoded cursor is a position");
        fuzz::require(agent::handlers::encode_cursor(kind, *seq) == in,
                      "a cursor that decodes is the one encode_cursor issues");
    }
    return 0;
}
