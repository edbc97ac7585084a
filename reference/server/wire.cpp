#include "reference/server/wire.hpp"
#include "reference/util/failpoint.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

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

namespace agent::server {
namespace {

bool is_tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
}
bool is_hex(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
bool is_unreserved(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
}
bool is_sub_delim(char c) {
    return c != '\0' && std::strchr("!$&'()*+,;=", c) != nullptr;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// RFC 3986 path and query characters (pchar, "/", "?"). A "%" is let through: decoding the
/// path and the query parameters refuses a bad escape (400) without closing the connection.
bool valid_origin_form(std::string_view t) {
    if (t.empty() || t.front() != '/') return false;
    return std::all_of(t.begin(), t.end(), [](char c) {
        return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/' ||
               c == '?' || c == '%';
    });
}

/// uri-host [ ":" port ] (RFC 3986 §3.2.2, §3.2.3); an empty value is allowed (RFC 9112 §3.2).
bool valid_host(std::string_view h) {
    if (h.empty()) return true;
    std::string_view host = h;
    std::string_view port;
    if (h.front() == '[') {
        const auto close = h.find(']');
        if (close == std::string_view::npos) return false;
        for (char c : h.substr(1, close - 1))
            if (!(is_hex(c) || c == ':' || c == '.')) return false;
        if (close + 1 < h.size()) {
            if (h[close + 1] != ':') return false;
            port = h.substr(close + 2);
            if (port.empty()) return true;
        }
        host = {};
    } else if (const auto colon = h.find(':'); colon != std::string_view::npos) {
        host = h.substr(0, colon);
        port = h.substr(colon + 1);
        if (port.empty()) return !host.empty();
    }
    for (std::size_t i = 0; i < host.size(); ++i) {
        const char c = host[i];
        if (c == '%') {
            if (i + 2 >= host.size() || !is_hex(host[i + 1]) || !is_hex(host[i + 2])) return false;
            i += 2;
        } else if (!(is_unreserved(c) || is_sub_delim(c))) {
            return false;
        }
    }
    if (port.size() > 5) return false;
    return std::all_of(port.begin(), port.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}

} // namespace

std::string check_request_head(handlers::request& req) {
    namespace http = boost::beast::http;
    // Transfer-Encoding.
    std::size_t codings = 0;
    std::string last;
    for (const auto& f : req) {
        if (f.name() != http::field::transfer_encoding) continue;
        std::string_view v = f.value();
        while (!v.empty()) {
            const auto comma = v.find(',');
            const auto item = trim(v.substr(0, comma));
            v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
            if (item.empty()) continue; // empty list elements are ignored (RFC 9110 §5.6.1)
            if (!std::all_of(item.begin(), item.end(), is_tchar))
                return "Transfer-Encoding \"" + std::string(f.value()) +
                       "\" is not a list of transfer codings without parameters";
            ++codings;
            last = std::string(item);
        }
    }
    // HTTP-036: a request whose final transfer coding is not chunked has no determinable
    // length: refused (with the failpoint it is let through, and Beast, finding no chunked and
    // no Content-Length, reads an empty body and the body's bytes as the next request).
    if (codings > 0 && !AGENT_FAILPOINT("HTTP-036.te-not-final-chunked")) {
        if (!boost::beast::iequals(last, "chunked"))
            return "chunked is not the final transfer coding: the body's length cannot be "
                   "determined (RFC 9112 §6.3)";
        if (codings > 1)
            return "only the chunked transfer coding is supported, once (RFC 9112 §6.1)";
    }
    // Host and Authorization.
    std::size_t hosts = 0;
    std::size_t credentials = 0;
    for (const auto& f : req) {
        if (f.name() == http::field::host) {
            ++hosts;
            if (!valid_host(f.value()))
                return "Host \"" + std::string(f.value()) + "\" is not host[:port]";
        }
        if (f.name() == http::field::authorization) ++credentials;
    }
    if (hosts > 1) return "more than one Host header (RFC 9112 §3.2)";
    if (credentials > 1) return "more than one Authorization header";
    // The request-target.
    std::string_view target = req.target();
    if (target == "*") {
        if (req.method() != http::verb::options) return "the target * is for OPTIONS only";
        return {};
    }
    if (iequals_prefix(target, "http://") || iequals_prefix(target, "https://")) {
        const auto rest = target.substr(target.find("//") + 2);
        const auto end = rest.find_first_of("/?");
        const auto authority = rest.substr(0, end);
        if (authority.empty() || authority.find('@') != std::string_view::npos ||
            !valid_host(authority))
            return "the absolute-form target has no valid authority";
        if (hosts == 0 && req.version() >= 11)
            return "an HTTP/1.1 request needs a Host header, also with an absolute-form target "
                   "(RFC 9112 §3.2)";
        std::string path = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
        if (path.front() == '?') path.insert(0, "/");
        if (!valid_origin_form(path)) return "the request-target is not a valid URI path";
        req.set(http::field::host, authority);
        req.target(path);
        return {};
    }
    if (!valid_origin_form(target)) return "the request-target is not an origin-form URI path";
    return {};
}

std::size_t repair_request_line(char* data, std::size_t size, bool& changed) {
    changed = false;
    std::size_t skip = 0;
    while (skip < size && skip < 4 && (data[skip] == '\r' || data[skip] == '\n'))
        ++skip;
    if (skip > 0) return skip;
    const std::string_view s(data, size);
    const auto eol = s.find("\r\n");
    if (eol == std::string_view::npos || eol < 9) return 0;
    const auto v = s.substr(eol - 9, 9); // " HTTP/1.x"
    if (v.substr(0, 8) == " HTTP/1." && v[8] >= '2' && v[8] <= '9') {
        data[eol - 1] = '1';
        changed = true;
    }
    return 0;
}

} // namespace agent::server
