#include "reference/server/wire.hpp"

namespace agent::server {

std::string serialize_head(const handlers::response& res) {
    constexpr std::size_t typical_head = 320;
    constexpr unsigned http10 = 10;
    std::string out;
    out.reserve(typical_head);
    out += res.version() == http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    const unsigned status = res.result_int();
    out += static_cast<char>('0' + status / 100 % 10);
    out += static_cast<char>('0' + status / 10 % 10);
    out += static_cast<char>('0' + status % 10);
    out += ' ';
    const auto reason = res.reason();
    out.append(reason.data(), reason.size());
    out += "\r\n";
    for (const auto& f : res) {
        const auto name = f.name_string();
        const auto value = f.value();
        out.append(name.data(), name.size());
        out += ": ";
        out.append(value.data(), value.size());
        out += "\r\n";
    }
    out += "\r\n";
    return out;
}

} // namespace agent::server
