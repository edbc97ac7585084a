#include "reference/util/allowlist.hpp"

#include <stdexcept>

#include "reference/util/text.hpp"

namespace agent {

endpoint_allowlist endpoint_allowlist::parse(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        auto entry = util::trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (entry.empty()) continue;
        const auto colon = entry.rfind(':');
        const auto port =
            colon == std::string_view::npos ? std::string_view{} : entry.substr(colon + 1);
        const auto n = util::parse_int(port);
        if (colon == 0 || colon == std::string_view::npos ||
            (port != "*" && (!n || *n < 1 || *n > 65535)))
            throw std::invalid_argument("allowlist entry \"" + std::string(entry) +
                                        "\" is not host:port or host:*");
        out.emplace_back(entry);
    }
    return endpoint_allowlist(std::move(out));
}

bool endpoint_allowlist::allows(std::string_view host, std::uint16_t port) const {
    for (const auto& e : entries_) {
        const auto colon = e.rfind(':');
        const auto h = std::string_view(e).substr(0, colon);
        const auto p = std::string_view(e).substr(colon + 1);
        if (!util::iequals(h, host)) continue;
        if (p == "*" || p == std::to_string(port)) return true;
    }
    return false;
}

} // namespace agent
