// The query string of a request target, shared by the handlers.
#include "reference/handlers/app.hpp"
#include "reference/util/text.hpp"

namespace agent::handlers {

util::expected<std::vector<query_param>, error> parse_query(std::string_view target) {
    std::vector<query_param> out;
    auto q = target.find('?');
    if (q == std::string_view::npos) return out;
    auto rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto part = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        auto name = util::url_decode(part.substr(0, eq));
        auto value = util::url_decode(eq == std::string_view::npos ? std::string_view{}
                                                                   : part.substr(eq + 1));
        if (!name || !value)
            return util::unexpected(
                error{errc::bad_request, "the query string has a bad percent-escape", {}});
        out.push_back({std::move(*name), std::move(*value)});
    }
    return out;
}

} // namespace agent::handlers
