// Query strings of request targets: parse_query() on the input as a whole target, and every
// parameter through the paging rules of both lists (limit, cursor).
#include "fuzz/support.hpp"
#include "reference/handlers/app.hpp"

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto target = fuzz::as_text(data, size);
    const auto params = agent::handlers::parse_query(target);
    if (!params) return 0;
    if (target.find('?') == std::string_view::npos)
        fuzz::require(params->empty(), "a target without '?' has no parameters");
    constexpr std::size_t limit_max = 500;
    for (const auto& p : *params) {
        for (const std::string_view kind : {"a", "t"}) {
            agent::handlers::page_position pos{50, 0};
            const auto applied = agent::handlers::apply_page_param(p, kind, limit_max, pos);
            if (applied && *applied)
                fuzz::require(pos.limit >= 1 && pos.limit <= limit_max && pos.after_seq >= 0,
                              "an accepted page parameter is in range");
        }
    }
    return 0;
}
