#include "reference/models/agent.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "reference/util/failpoint.hpp"
#include "reference/util/text.hpp"

namespace agent::models {
namespace {

constexpr std::array<std::string_view, 5> status_names = {"registered", "active", "inactive",
                                                          "degraded", "draining"};
constexpr std::size_t status_reason_max = 256;
constexpr unsigned max_port = 65535;

bool is_lower(char c) noexcept {
    return c >= 'a' && c <= 'z';
}
bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// SemVer 2.0.0 numeric identifier: 0 or no leading zero.
bool numeric_identifier(std::string_view s) noexcept {
    if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return false;
    return s.size() == 1 || s[0] != '0';
}
bool alnum_hyphen(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(),
                                     [](char c) { return is_alpha(c) || is_digit(c) || c == '-'; });
}
template <class F> bool each_dot_part(std::string_view s, F&& f) {
    std::size_t start = 0;
    while (true) {
        auto dot = s.find('.', start);
        auto part =
            s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (!f(part)) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

// RFC 3986 character classes.
bool unreserved(char c) noexcept {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool sub_delim(char c) noexcept {
    return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}
// Validates *( allowed / pct-encoded ) where allowed is given.
template <class F> bool uri_chars(std::string_view s, F&& allowed) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) return false;
            if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
            i += 2;
        } else if (!allowed(s[i])) {
            return false;
        }
    }
    return true;
}
bool pchar_or(char c, std::string_view extra) noexcept {
    return unreserved(c) || sub_delim(c) || c == ':' || c == '@' ||
           extra.find(c) != std::string_view::npos;
}

void add(std::vector<field_error>& errs, std::string pointer, std::string detail) {
    errs.push_back({std::move(pointer), std::move(detail)});
}

bool check_string(const nlohmann::json& j, const std::string& ptr, std::vector<field_error>& errs) {
    if (!j.is_string()) {
        add(errs, ptr, "must be a string");
        return false;
    }
    return true;
}

capability parse_capability(const nlohmann::json& j, const std::string& ptr,
                            std::vector<field_error>& errs) {
    capability cap;
    if (!j.is_object()) {
        add(errs, ptr, "must be an object {\"name\", \"version\"?, \"description\"?}");
        return cap;
    }
    for (const auto& [key, value] : j.items()) {
        const std::string p = ptr + "/" + pointer_escape(key);
        if (key == "name") {
            if (check_string(value, p, errs)) {
                cap.name = value.get<std::string>();
                if (!is_valid_capability_name(cap.name))
                    add(errs, p, "must match ^[a-z][a-z0-9_.-]{0,63}$");
            }
        } else if (key == "version") {
            if (check_string(value, p, errs)) {
                auto v = value.get<std::string>();
                if (v.empty() || util::utf8_length(v) > agent_limits::capability_version_max)
                    add(errs, p, "must be 1 to 64 characters");
                cap.version = std::move(v);
            }
        } else if (key == "description") {
            if (check_string(value, p, errs)) {
                auto d = value.get<std::string>();
                // REG-011: 256 Unicode characters (the failpoint counts bytes).
                const std::size_t len =
                    AGENT_FAILPOINT("REG-011.description-bytes") ? d.size() : util::utf8_length(d);
                if (len > agent_limits::description_max)
                    add(errs, p, "must be at most 256 characters");
                cap.description = std::move(d);
            }
        } else {
            add(errs, p, "unknown field");
        }
    }
    if (!j.contains("name")) add(errs, ptr + "/name", "is required");
    return cap;
}

} // namespace

const char* to_string(agent_status s) noexcept {
    return status_names.at(static_cast<std::size_t>(s)).data();
}

std::optional<agent_status> parse_status(std::string_view s) noexcept {
    for (std::size_t i = 0; i < status_names.size(); ++i)
        if (status_names[i] == s) return static_cast<agent_status>(i);
    return std::nullopt;
}

bool transition_allowed(agent_status from, agent_status to) noexcept {
    using enum agent_status;
    switch (from) {
    case registered:
        return to == active || to == inactive;
    case active:
        return to == inactive || to == degraded || to == draining;
    case inactive:
        return to == active || to == draining;
    case degraded:
        return to == active || to == inactive || to == draining;
    case draining:
        return to == inactive;
    }
    return false;
}

bool is_valid_name(std::string_view s) noexcept {
    // REG-002: ^[a-z][a-z0-9-]{0,63}$. The failpoint's lax pattern is ^[A-Za-z0-9_-]{1,64}$.
    if (AGENT_FAILPOINT("REG-002.lax-name-pattern"))
        return !s.empty() && s.size() <= agent_limits::name_max &&
               std::all_of(s.begin(), s.end(), [](char c) {
                   return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
               });
    // REG-003: at most 64 characters (the failpoint's bound is off by one).
    const std::size_t name_max =
        agent_limits::name_max + (AGENT_FAILPOINT("REG-003.name-65-accepted") ? 1 : 0);
    if (s.empty() || s.size() > name_max || !is_lower(s[0])) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
}

bool is_valid_capability_name(std::string_view s) noexcept {
    if (s.empty() || s.size() > agent_limits::capability_name_max || !is_lower(s[0])) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return is_lower(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
    });
}

bool is_valid_metadata_key(std::string_view s) noexcept {
    if (s.empty() || s.size() > agent_limits::metadata_key_max) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
    });
}

bool is_valid_semver(std::string_view s) noexcept {
    // REG-007: at most 64 characters (the failpoint's bound is off by one).
    const std::size_t version_max =
        agent_limits::version_max + (AGENT_FAILPOINT("REG-007.version-65-accepted") ? 1 : 0);
    if (s.empty() || s.size() > version_max) return false;
    std::string_view build, pre;
    if (auto plus = s.find('+'); plus != std::string_view::npos) {
        build = s.substr(plus + 1);
        s = s.substr(0, plus);
        if (!each_dot_part(build, alnum_hyphen)) return false;
    }
    if (auto dash = s.find('-'); dash != std::string_view::npos) {
        pre = s.substr(dash + 1);
        s = s.substr(0, dash);
        bool ok = each_dot_part(pre, [](std::string_view id) {
            if (!alnum_hyphen(id)) return false;
            bool all_digits = std::all_of(id.begin(), id.end(), is_digit);
            return !all_digits || numeric_identifier(id);
        });
        if (!ok) return false;
    }
    int parts = 0;
    bool ok = each_dot_part(s, [&](std::string_view n) {
        ++parts;
        return numeric_identifier(n);
    });
    return ok && parts == 3;
}

bool is_valid_endpoint(std::string_view s) noexcept {
    if (s.empty() || s.size() > agent_limits::endpoint_max) return false;
    auto colon = s.find("://");
    if (colon == std::string_view::npos) return false;
    auto scheme = s.substr(0, colon);
    // REG-013: http or https only (the failpoint takes any scheme followed by "://").
    if (!util::iequals(scheme, "http") && !util::iequals(scheme, "https") &&
        !AGENT_FAILPOINT("REG-013.any-scheme"))
        return false;
    auto rest = s.substr(colon + 3);
    auto auth_end = rest.find_first_of("/?#");
    auto authority = rest.substr(0, auth_end);
    auto tail = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        if (!uri_chars(authority.substr(0, at),
                       [](char c) { return unreserved(c) || sub_delim(c) || c == ':'; }))
            return false;
        authority = authority.substr(at + 1);
    }
    std::string_view host = authority, port;
    if (!authority.empty() && authority[0] == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos || close < 2) return false;
        host = authority.substr(1, close - 1);
        if (!std::all_of(host.begin(), host.end(),
                         [](char c) { return is_hex(c) || c == ':' || c == '.'; }))
            return false;
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return false;
            port = after.substr(1);
        }
    } else {
        if (auto pc = authority.rfind(':'); pc != std::string_view::npos) {
            host = authority.substr(0, pc);
            port = authority.substr(pc + 1);
        }
        if (host.empty() || !uri_chars(host, [](char c) { return unreserved(c) || sub_delim(c); }))
            return false;
    }
    if (authority.find(':') != std::string_view::npos && authority[0] != '[') {
        if (port.empty()) return false;
    }
    if (!port.empty()) {
        auto p = util::parse_int(port);
        if (!p || *p < 1 || *p > static_cast<long long>(max_port)) return false;
    }
    // path-abempty [ "?" query ] [ "#" fragment ]
    auto hash = tail.find('#');
    auto fragment = hash == std::string_view::npos ? std::string_view{} : tail.substr(hash + 1);
    auto before = tail.substr(0, hash);
    auto q = before.find('?');
    auto path = before.substr(0, q);
    auto query = q == std::string_view::npos ? std::string_view{} : before.substr(q + 1);
    return uri_chars(path, [](char c) { return pchar_or(c, "/"); }) &&
           uri_chars(query, [](char c) { return pchar_or(c, "/?"); }) &&
           uri_chars(fragment, [](char c) { return pchar_or(c, "/?"); });
}

std::string pointer_escape(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    for (char c : token) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

nlohmann::json to_json(const agent& a) {
    nlohmann::json j = {{"id", a.id},
                        {"name", a.fields.name},
                        {"version", a.fields.version},
                        {"capabilities", nlohmann::json::array()},
                        {"metadata", a.fields.metadata},
                        {"status", to_string(a.status)},
                        {"owner", a.owner},
                        {"created_at", a.created_at},
                        {"updated_at", a.updated_at},
                        {"revision", a.revision}};
    for (const auto& c : a.fields.capabilities) {
        nlohmann::json cj = {{"name", c.name}};
        if (c.version) cj["version"] = *c.version;
        if (c.description) cj["description"] = *c.description;
        j["capabilities"].push_back(std::move(cj));
    }
    if (a.fields.endpoint) j["endpoint"] = *a.fields.endpoint;
    return j;
}

nlohmann::json capabilities_json(const agent& a) {
    return {{"agent_id", a.id}, {"capabilities", to_json(a)["capabilities"]}};
}

namespace {

// Keys in the order nlohmann::json (a std::map) writes them: sorted.
void append_capabilities(std::string& out, const agent& a) {
    out += '[';
    bool first = true;
    for (const auto& c : a.fields.capabilities) {
        if (!first) out += ',';
        first = false;
        out += '{';
        if (c.description) {
            out += "\"description\":";
            util::append_json_string(out, *c.description);
            out += ',';
        }
        out += "\"name\":";
        util::append_json_string(out, c.name);
        if (c.version) {
            out += ",\"version\":";
            util::append_json_string(out, *c.version);
        }
        out += '}';
    }
    out += ']';
}

} // namespace

std::string to_json_text(const agent& a) {
    std::string out;
    out.reserve(256);
    out += "{\"capabilities\":";
    append_capabilities(out, a);
    out += ",\"created_at\":";
    util::append_json_string(out, a.created_at);
    if (a.fields.endpoint) {
        out += ",\"endpoint\":";
        util::append_json_string(out, *a.fields.endpoint);
    }
    out += ",\"id\":";
    util::append_json_string(out, a.id);
    out += ",\"metadata\":{";
    bool first = true;
    for (const auto& [k, v] : a.fields.metadata) {
        if (!first) out += ',';
        first = false;
        util::append_json_string(out, k);
        out += ':';
        util::append_json_string(out, v);
    }
    out += "},\"name\":";
    util::append_json_string(out, a.fields.name);
    out += ",\"owner\":";
    util::append_json_string(out, a.owner);
    out += ",\"revision\":";
    out += std::to_string(a.revision);
    out += ",\"status\":\"";
    out += to_string(a.status);
    out += "\",\"updated_at\":";
    util::append_json_string(out, a.updated_at);
    out += ",\"version\":";
    util::append_json_string(out, a.fields.version);
    out += '}';
    return out;
}

std::string capabilities_json_text(const agent& a) {
    std::string out = "{\"agent_id\":";
    util::append_json_string(out, a.id);
    out += ",\"capabilities\":";
    append_capabilities(out, a);
    out += '}';
    return out;
}

std::optional<agent> from_json(const nlohmann::json& j) {
    try {
        agent a;
        a.id = j.at("id").get<std::string>();
        a.fields.name = j.at("name").get<std::string>();
        a.fields.version = j.at("version").get<std::string>();
        for (const auto& c : j.at("capabilities")) {
            capability cap{c.at("name").get<std::string>(), std::nullopt, std::nullopt};
            if (c.contains("version")) cap.version = c["version"].get<std::string>();
            if (c.contains("description")) cap.description = c["description"].get<std::string>();
            a.fields.capabilities.push_back(std::move(cap));
        }
        if (j.contains("endpoint")) a.fields.endpoint = j["endpoint"].get<std::string>();
        a.fields.metadata = j.at("metadata").get<std::map<std::string, std::string>>();
        auto st = parse_status(j.at("status").get<std::string>());
        if (!st) return std::nullopt;
        a.status = *st;
        a.owner = j.at("owner").get<std::string>();
        a.created_at = j.at("created_at").get<std::string>();
        a.updated_at = j.at("updated_at").get<std::string>();
        a.revision = j.at("revision").get<std::int64_t>();
        return a;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

util::expected<agent_input, error> parse_agent_input(const nlohmann::json& body) {
    static const std::set<std::string, std::less<>> read_only = {
        "id", "status", "owner", "created_at", "updated_at", "revision", "circuit"};
    std::vector<field_error> errs;
    agent_input in;
    if (!body.is_object()) {
        add(errs, "", "the body must be a JSON object");
        return util::unexpected(
            error{errc::validation_failed, "the request body breaks the agent schema", errs});
    }
    for (const auto& [key, value] : body.items()) {
        const std::string p = "/" + pointer_escape(key);
        if (key == "name") {
            if (check_string(value, p, errs)) {
                in.name = value.get<std::string>();
                if (!is_valid_name(in.name)) add(errs, p, "must match ^[a-z][a-z0-9-]{0,63}$");
            }
        } else if (key == "version") {
            if (check_string(value, p, errs)) {
                in.version = value.get<std::string>();
                if (!is_valid_semver(in.version))
                    add(errs, p, "must be a SemVer 2.0.0 version of at most 64 characters");
            }
        } else if (key == "capabilities") {
            if (!value.is_array()) {
                add(errs, p, "must be an array");
                continue;
            }
            // REG-008: at most 64 capabilities (the failpoint's bound is off by one).
            if (value.size() > agent_limits::capabilities_max +
                                   (AGENT_FAILPOINT("REG-008.capabilities-65-accepted") ? 1 : 0))
                add(errs, p, "must have at most 64 items");
            std::set<std::string, std::less<>> seen;
            for (std::size_t i = 0; i < value.size(); ++i) {
                const std::string ip = p + "/" + std::to_string(i);
                auto cap = parse_capability(value[i], ip, errs);
                // REG-009: capability names are unique (the failpoint does not compare them).
                if (!cap.name.empty() && !seen.insert(cap.name).second &&
                    !AGENT_FAILPOINT("REG-009.duplicate-capabilities-accepted"))
                    add(errs, ip + "/name", "duplicate capability name '" + cap.name + "'");
                in.capabilities.push_back(std::move(cap));
            }
        } else if (key == "endpoint") {
            if (value.is_null()) continue;
            if (check_string(value, p, errs)) {
                in.endpoint = value.get<std::string>();
                if (!is_valid_endpoint(*in.endpoint))
                    add(errs, p,
                        "must be an absolute http or https URL of at most 2048 characters");
            }
        } else if (key == "metadata") {
            if (!value.is_object()) {
                add(errs, p, "must be an object of string values");
                continue;
            }
            if (value.size() > agent_limits::metadata_max)
                add(errs, p, "must have at most 32 entries");
            for (const auto& [mk, mv] : value.items()) {
                const std::string mp = p + "/" + pointer_escape(mk);
                if (!is_valid_metadata_key(mk))
                    add(errs, mp, "key must match ^[A-Za-z0-9_.-]{1,64}$");
                // REG-017: values are strings. The failpoint stores other JSON values as their
                // text (42 becomes "42").
                if (!mv.is_string() && AGENT_FAILPOINT("REG-017.values-stringified")) {
                    in.metadata.emplace(mk, mv.dump());
                    continue;
                }
                if (!mv.is_string()) {
                    add(errs, mp, "must be a string");
                    continue;
                }
                auto s = mv.get<std::string>();
                if (util::utf8_length(s) > agent_limits::metadata_value_max)
                    add(errs, mp, "must be at most 256 characters");
                in.metadata.emplace(mk, std::move(s));
            }
        } else if (read_only.contains(key)) {
            // REG-019: read-only fields are 422 (the failpoint silently drops them).
            if (AGENT_FAILPOINT("REG-019.read-only-ignored")) continue;
            add(errs, p, "is read-only");
        } else if (!AGENT_FAILPOINT("REG-018.unknown-fields-ignored")) {
            // REG-018: unknown fields are 422 (the failpoint ignores them).
            add(errs, p, "unknown field");
        }
    }
    if (!body.contains("name")) add(errs, "/name", "is required");
    if (!body.contains("version")) add(errs, "/version", "is required");
    if (!errs.empty())
        return util::unexpected(error{errc::validation_failed,
                                      "the request body breaks the agent schema", std::move(errs)});
    return in;
}

util::expected<status_change, error> parse_status_change(const nlohmann::json& body) {
    std::vector<field_error> errs;
    status_change out{agent_status::registered, std::nullopt};
    if (!body.is_object()) {
        add(errs, "", "the body must be a JSON object {\"status\", \"reason\"?}");
    } else {
        for (const auto& [key, value] : body.items()) {
            const std::string p = "/" + pointer_escape(key);
            if (key == "status") {
                if (!check_string(value, p, errs)) continue;
                auto st = parse_status(value.get<std::string>());
                if (!st)
                    add(errs, p, "must be one of registered, active, inactive, degraded, draining");
                else
                    out.status = *st;
            } else if (key == "reason") {
                if (value.is_null()) continue;
                if (!check_string(value, p, errs)) continue;
                auto r = value.get<std::string>();
                if (util::utf8_length(r) > status_reason_max)
                    add(errs, p, "must be at most 256 characters");
                out.reason = std::move(r);
            } else {
                add(errs, p, "unknown field");
            }
        }
        if (!body.contains("status")) add(errs, "/status", "is required");
    }
    if (!errs.empty())
        return util::unexpected(error{
            errc::validation_failed, "the request body breaks the status schema", std::move(errs)});
    return out;
}

} // namespace agent::models
