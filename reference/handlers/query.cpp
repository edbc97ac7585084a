// The query string of a request target, shared by the handlers.
#include "reference/handlers/app.hpp"
#include <algorithm>

#include "reference/util/base64url.hpp"
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

std::string encode_cursor(std::string_view kind, std::int64_t seq) {
    return util::base64url_encode(std::string(kind) + ":" + std::to_string(seq));
}

std::optional<std::int64_t> decode_cursor(std::string_view kind, std::string_view cursor) {
    auto raw = util::base64url_decode(cursor);
    const std::string prefix = std::string(kind) + ":";
    if (!raw || !raw->starts_with(prefix)) return std::nullopt;
    const auto digits = std::string_view(*raw).substr(prefix.size());
    auto n = util::parse_int(digits);
    // Only the digits encode_cursor() writes: "a:05" is not a cursor this agent issued.
    if (!n || *n < 0 || std::to_string(*n) != digits) return std::nullopt;
    return *n;
}

util::expected<std::size_t, error> parse_page_limit(std::string_view value, std::size_t max) {
    auto n = util::parse_int(value);
    if (!n || *n < 1 || static_cast<std::size_t>(*n) > max)
        return util::unexpected(
            error{errc::bad_request,
                  "query parameter 'limit' must be an integer from 1 to " + std::to_string(max),
                  {}});
    return static_cast<std::size_t>(*n);
}

util::expected<bool, error> apply_page_param(const query_param& p, std::string_view cursor_kind,
                                             std::size_t limit_max, page_position& pos) {
    if (p.name == "limit") {
        auto n = parse_page_limit(p.value, limit_max);
        if (!n) return util::unexpected(n.error());
        pos.limit = *n;
        return true;
    }
    if (p.name == "cursor") {
        auto seq = decode_cursor(cursor_kind, p.value);
        if (!seq)
            return util::unexpected(
                error{errc::bad_request,
                      "query parameter 'cursor' is not a cursor this agent issued",
                      {}});
        pos.after_seq = *seq;
        return true;
    }
    return false;
}

util::expected<std::optional<idempotency_request>, error> idempotency_of(const exchange& x,
                                                                         std::string_view route) {
    constexpr std::size_t key_max = 255;
    auto it = x.req.find("Idempotency-Key");
    if (it == x.req.end()) return std::optional<idempotency_request>();
    auto key = it->value();
    const bool ok = !key.empty() && key.size() <= key_max &&
                    std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < 0x7f; });
    if (!ok)
        return util::unexpected(error{errc::bad_request,
                                      "header 'Idempotency-Key' must be 1 to 255 visible ASCII "
                                      "characters",
                                      {}});
    return std::optional<idempotency_request>(idempotency_request{
        std::string(key), util::sha256_hex(std::string(route) + "\n" + x.body.dump())});
}

response replayed(const app& a, const exchange& x, const idempotency_record& rec) {
    auto res = a.json_response(x, static_cast<http::status>(rec.status), rec.body);
    if (!rec.location.empty()) res.set(http::field::location, rec.location);
    if (!rec.etag.empty()) res.set(http::field::etag, rec.etag);
    res.set("Idempotent-Replayed", "true");
    return res;
}

} // namespace agent::handlers
