#pragma once
// The conformance suites, one per protocol section, and the small helpers they share.
// Every helper talks to the target only through agentcheck::context and the client headers:
// nothing here knows how any particular agent is built.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/client/http.hpp"
#include "conformance/harness/check.hpp"
#include "conformance/stub/stub.hpp"

namespace agentcheck {

/// §0 Shape: JSON, problems, 404/405, limits, times, ids, X-Request-ID, headers, keep-alive.
void register_s00_shape(check_registry& registry);
/// §1 Discovery and health.
void register_s01_discovery(check_registry& registry);
/// §2 Registry: validation, CRUD, ETags, list and pagination, status machine, idempotency.
void register_s02_registry(check_registry& registry);
/// §3 Errors, auth and roles: JWT variants, role matrix, ownership, order of refusals.
void register_s03_auth(check_registry& registry);
/// §9 Lifecycle: the parts that need no restart.
void register_s09_lifecycle(check_registry& registry);
/// §9 Lifecycle with the agent's process owned by the harness (--launch): start-up, SIGTERM,
/// restart, SIGKILL.
void register_s09_restart(check_registry& registry);
/// §4 Events.
void register_s04_events(check_registry& registry);
/// §5 WebSocket streams.
void register_s05_websocket(check_registry& registry);
/// §6 Tasks.
void register_s06_tasks(check_registry& registry);
/// §7 Invoke and resilience (with the downstream stub).
void register_s07_invoke(check_registry& registry);
/// §8 Audit, rate limits, metrics, tracing, TLS.
void register_s08_observability(check_registry& registry);
/// §8 audit (s08_audit.cpp), registered by register_s08_observability.
void register_s08_audit(check_registry& registry);
/// §8 TLS (s08_tls.cpp), registered by register_s08_observability.
void register_s08_tls(check_registry& registry);
/// End-to-end workflows across features (conformance/workflows/).
void register_workflows(check_registry& registry);

/// Helpers shared by the suites. Not thread-safe unless stated (a context is per check).
namespace support {

using json = nlohmann::json;
using client::request;
using client::response;

/// The downstream stub of a check (conformance/stub), marked as what the agent's answers
/// depend on (a replay cannot bring it back).
struct check_stub : stub::downstream {
    explicit check_stub(context& ctx) {
        ctx.mark_depends_on("the downstream stub the check ran (" + url() + ")");
    }
};

/// An integer member of a discovery object ("tasks", "resilience", "limits"), or fallback
/// when the object or the member is not declared.
inline long long declared(context& ctx, const std::string& object, const std::string& name,
                          long long fallback) {
    const auto& d = ctx.discovery();
    if (!d.contains(object) || !d[object].is_object()) return fallback;
    const auto& o = d[object];
    return o.contains(name) && o[name].is_number_integer() ? o[name].get<long long>() : fallback;
}

/// A request without credentials.
inline request make(std::string method, std::string target) {
    return request(std::move(method), std::move(target));
}

/// A request carrying the token of `identity` (one of agentcheck::identities).
inline request authed(context& ctx, std::string_view identity, std::string method,
                      std::string target) {
    request r(std::move(method), std::move(target));
    r.bearer(ctx.token(identity));
    return r;
}

/// "NNN" plus the start of the body, for failure messages.
inline std::string describe(const response& r) {
    std::string out = std::to_string(r.status);
    if (!r.body.empty()) {
        out += " ";
        out += r.body.size() > 300 ? r.body.substr(0, 300) + "…" : r.body;
    }
    return out;
}

/// True for a lowercase RFC 4122 textual UUID (8-4-4-4-12 hex digits, no upper case).
inline bool is_lower_uuid(std::string_view s) {
    static const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
    return std::regex_match(s.begin(), s.end(), re);
}

/// True for an RFC 3339 UTC timestamp with exactly three fractional digits and a "Z".
inline bool is_rfc3339_ms_utc(std::string_view s) {
    static const std::regex re(
        "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:"
        "([0-5][0-9]|60)\\.[0-9]{3}Z$");
    return std::regex_match(s.begin(), s.end(), re);
}

/// A random lowercase version-4 UUID (from the check's seeded generator).
inline std::string random_uuid(context& ctx) {
    auto& g = ctx.rng();
    const unsigned long long a = g();
    const unsigned long long b = g();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                  (a >> 32) & 0xffffffffULL, (a >> 16) & 0xffffULL, a & 0xfffULL,
                  ((b >> 48) & 0x3fffULL) | 0x8000ULL, b & 0xffffffffffffULL);
    return buf;
}

/// n random lowercase hex digits.
inline std::string random_hex(context& ctx, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out += digits[ctx.rng()() % 16];
    return out;
}

/// The ETag the protocol gives revision `rev`: "\"<rev>\"".
inline std::string quoted(long long rev) {
    return "\"" + std::to_string(rev) + "\"";
}

/// Percent-encodes everything outside RFC 3986 unreserved characters.
inline std::string url_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

/// Lowercases ASCII.
inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// The comma-separated elements of a header value, trimmed (case kept).
inline std::vector<std::string> split_list(std::string_view v) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= v.size()) {
        std::size_t end = v.find(',', start);
        if (end == std::string_view::npos) end = v.size();
        std::string_view item = v.substr(start, end - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        start = end + 1;
    }
    return out;
}

/// A valid agent body with a unique name, built here (not by the harness) so that checks
/// know every field exactly: one capability, an endpoint, one metadata entry.
inline json base_body(context& ctx, std::string_view hint = "agent") {
    return json{{"name", ctx.unique_name(hint)},
                {"version", "1.0.0"},
                {"capabilities", json::array({json{{"name", "echo"},
                                                   {"version", "1.0.0"},
                                                   {"description", "Returns its input"}}})},
                {"endpoint", "http://127.0.0.1:9/agentcheck"},
                {"metadata", json{{"suite", "agentcheck"}}}};
}

/// A unique, valid name of exactly `length` characters (length >= 24).
inline std::string name_of_length(context& ctx, std::size_t length) {
    std::string n = ctx.unique_name("len");
    if (n.size() > length) n = "a" + random_hex(ctx, length - 1);
    while (n.size() < length)
        n += 'x';
    return n;
}

/// Deletes, as admin and over an unrecorded connection, every agent it was told about, when
/// it goes out of scope (also when the check failed). Never throws.
class agent_guard {
public:
    explicit agent_guard(context& ctx) : ctx_(ctx) {}
    agent_guard(const agent_guard&) = delete;
    agent_guard& operator=(const agent_guard&) = delete;
    ~agent_guard() {
        if (ids_.empty()) return;
        try {
            const std::string token = ctx_.token("admin");
            auto conn = ctx_.open_connection();
            for (const auto& id : ids_) {
                try {
                    request r("DELETE", "/agents/" + id);
                    r.bearer(token);
                    (void)conn.send(r);
                } catch (...) {
                    try {
                        conn = ctx_.open_connection();
                    } catch (...) {
                        return;
                    }
                }
            }
        } catch (...) {
        }
    }
    /// Remembers the agent a 2xx response to POST /agents carried (no-op for other responses).
    void adopt(const response& r) {
        // Whatever the status said, an agent that was made is removed afterwards.
        if (r.status < 200 || r.status >= 300) return;
        if (auto j = r.json(); j && j->is_object() && j->contains("id") && (*j)["id"].is_string())
            ids_.push_back((*j)["id"].get<std::string>());
    }
    void adopt_id(std::string id) { ids_.push_back(std::move(id)); }

private:
    context& ctx_;
    std::vector<std::string> ids_;
};

/// POST /agents with `body` exactly as given (JSON), as `identity`; an agent it creates is
/// deleted by `guard`. Returns the response whatever its status.
inline response post_agent(context& ctx, agent_guard& guard, const json& body,
                           std::string_view identity = "operator",
                           const client::header_list& extra = {}) {
    auto req = authed(ctx, identity, "POST", "/agents");
    req.json(body);
    for (const auto& h : extra)
        req.with(h.name, h.value);
    auto r = ctx.send(req);
    guard.adopt(r);
    return r;
}

/// POSTs `body` (a valid agent) and returns the created agent; the check is blocked by REG-020
/// (fails, when it checks REG-020 itself) unless the answer is 201 with a JSON agent.
inline json create_exact(context& ctx, agent_guard& guard, const json& body,
                         std::string_view identity = "operator") {
    auto r = post_agent(ctx, guard, body, identity);
    if (r.status != 201) ctx.block("REG-020", create_blocked_reason(r.status));
    auto j = r.json();
    if (!j || !j->is_object() || !j->contains("id") || !(*j)["id"].is_string())
        ctx.block("REG-020", "POST /agents answered 201 without a JSON agent carrying a string "
                             "\"id\": " +
                                 describe(r));
    return *j;
}

/// The mutable fields of an agent resource (what PUT takes).
inline json mutable_fields(const json& agent) {
    json out = json::object();
    for (const char* k : {"name", "version", "capabilities", "endpoint", "metadata"})
        if (agent.contains(k) && !agent[k].is_null()) out[k] = agent[k];
    return out;
}

/// PUT /agents/{id} with `body` (JSON) and an optional If-Match.
inline response put_agent(context& ctx, std::string_view id, const json& body,
                          const std::optional<std::string>& if_match,
                          std::string_view identity = "operator") {
    auto req = authed(ctx, identity, "PUT", "/agents/" + std::string(id));
    req.json(body);
    if (if_match) req.with("If-Match", *if_match);
    return ctx.send(req);
}

/// PUT /agents/{id}/status {"status": status}.
inline response put_status(context& ctx, std::string_view id, std::string_view status,
                           std::string_view identity = "operator") {
    auto req = authed(ctx, identity, "PUT", "/agents/" + std::string(id) + "/status");
    req.json(json{{"status", status}, {"reason", "agentcheck"}});
    return ctx.send(req);
}

/// GET /agents/{id}.
inline response get_agent(context& ctx, std::string_view id, std::string_view identity = "viewer") {
    return ctx.send(authed(ctx, identity, "GET", "/agents/" + std::string(id)));
}

/// Fails, naming `what`, unless r is a problem with `status`.
inline json expect_refused(context& ctx, const response& r, int status, std::string_view what) {
    if (r.status != status)
        ctx.fail(std::string(what) + ": answered " + std::to_string(r.status) + " instead of " +
                     std::to_string(status),
                 std::to_string(status) + " problem", describe(r));
    return ctx.expect_problem(r, status);
}

/// Fails unless r is 201; `what` names the accepted input.
/// A 2xx other than 201 to POST /agents means the agent accepted the body but broke REG-020
/// (create is 201): the check is blocked by that, not failed.
inline void block_if_created_without_201(context& ctx, const response& r) {
    if (r.status >= 200 && r.status < 300 && r.status != 201)
        ctx.block("REG-020", create_blocked_reason(r.status));
}

/// Fails unless POST /agents created the agent (201); see block_if_created_without_201.
inline void expect_created(context& ctx, const response& r) {
    if (r.status == 201) return;
    block_if_created_without_201(ctx, r);
    ctx.fail("expected status 201, got " + std::to_string(r.status), "201", describe(r));
}

/// Fails unless a valid POST /agents body was accepted (201); see expect_created for 2xx.
inline void expect_accepted(context& ctx, const response& r, std::string_view what) {
    if (r.status == 201) return;
    block_if_created_without_201(ctx, r);
    ctx.fail(std::string(what) + " was refused (it is valid)", "201", describe(r));
}

/// The agent id of a JSON object response (fails otherwise).
inline std::string id_of(context& ctx, const json& agent) {
    if (!agent.is_object() || !agent.contains("id") || !agent["id"].is_string())
        ctx.fail("the agent has no string id", "an \"id\" string", agent.dump());
    return agent["id"].get<std::string>();
}

/// One page of GET /agents: status 200, {"items": array, "next_cursor": string|null}.
struct page {
    std::vector<json> items;
    std::optional<std::string> next_cursor;
};

/// Fails unless r is a well-formed list page; returns it.
inline page expect_page(context& ctx, const response& r) {
    ctx.expect_status(r, 200);
    auto j = ctx.expect_json(r);
    if (!j.is_object() || !j.contains("items") || !j["items"].is_array())
        ctx.fail("the list has no \"items\" array", "{\"items\": [...], \"next_cursor\": ...}",
                 describe(r));
    if (!j.contains("next_cursor") || !(j["next_cursor"].is_string() || j["next_cursor"].is_null()))
        ctx.fail("the list has no \"next_cursor\" (string or null)",
                 "{\"items\": [...], \"next_cursor\": string|null}", describe(r));
    page p;
    for (auto& it : j["items"])
        p.items.push_back(it);
    if (j["next_cursor"].is_string()) p.next_cursor = j["next_cursor"].get<std::string>();
    return p;
}

/// Walks GET /agents?<query> following next_cursor until null, as `identity`. Calls
/// `between` (if set) after each page with the page just read. Fails after max_pages or
/// when a page holds more than `limit` items (limit 0: not checked).
template <typename Between>
std::vector<json> walk(context& ctx, std::string_view identity, const std::string& query,
                       std::size_t limit, std::size_t max_pages, Between between) {
    std::vector<json> all;
    std::optional<std::string> cursor;
    for (std::size_t n = 0;; ++n) {
        if (n >= max_pages)
            ctx.fail("the walk through GET /agents did not end within " +
                         std::to_string(max_pages) + " pages",
                     "next_cursor null eventually", "still a cursor");
        std::string target = "/agents?" + query;
        if (cursor) target += "&cursor=" + url_encode(*cursor);
        const auto r = ctx.send(authed(ctx, identity, "GET", target));
        if (cursor && r.status != 200)
            ctx.fail("page " + std::to_string(n + 1) + " of the walk (the next_cursor page " +
                         std::to_string(n) + " gave) answered " + std::to_string(r.status) +
                         ", so the walk could not go on",
                     "200 with the next page", describe(r));
        auto p = expect_page(ctx, r);
        if (limit > 0 && p.items.size() > limit)
            ctx.fail("a page holds more items than limit", "<= " + std::to_string(limit),
                     std::to_string(p.items.size()));
        for (auto& it : p.items)
            all.push_back(it);
        between(p);
        if (!p.next_cursor) break;
        cursor = p.next_cursor;
    }
    return all;
}

inline std::vector<json> walk(context& ctx, std::string_view identity, const std::string& query,
                              std::size_t limit = 0, std::size_t max_pages = 2000) {
    return walk(ctx, identity, query, limit, max_pages, [](const page&) {});
}

/// Parses a complete HTTP/1.1 response from raw bytes. With `closed` (the peer closed after
/// these bytes) a body without Content-Length runs to the end. nullopt when incomplete.
inline std::optional<response> parse_raw_response(std::string_view bytes, bool closed) {
    const auto head_end = bytes.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return std::nullopt;
    std::string_view head = bytes.substr(0, head_end);
    auto line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return std::nullopt;
    response r;
    try {
        r.status = std::stoi(std::string(status_line.substr(9, 3)));
    } catch (...) {
        return std::nullopt;
    }
    if (status_line.size() > 13) r.reason = std::string(status_line.substr(13));
    std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    std::optional<std::size_t> length;
    while (pos < head.size()) {
        auto e = head.find("\r\n", pos);
        if (e == std::string_view::npos) e = head.size();
        std::string_view line = head.substr(pos, e - pos);
        auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string name(line.substr(0, colon));
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.remove_suffix(1);
            if (lower(name) == "content-length") {
                try {
                    length = static_cast<std::size_t>(std::stoull(std::string(value)));
                } catch (...) {
                    return std::nullopt;
                }
            }
            r.headers.push_back({std::move(name), std::string(value)});
        }
        pos = e + 2;
    }
    std::string_view rest = bytes.substr(head_end + 4);
    if (length) {
        if (rest.size() < *length) return std::nullopt;
        r.body = std::string(rest.substr(0, *length));
    } else if (r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200)) {
        // no body
    } else {
        if (!closed) return std::nullopt;
        r.body = std::string(rest);
    }
    return r;
}

/// Sends a request whose body may be refused before it is read (too large): writes the head,
/// gives the agent `head_wait` to answer from the head alone, then writes the body and reads
/// the answer. Records the exchange. nullopt when no response came (connection closed).
inline std::optional<response>
send_large(context& ctx, const request& req,
           std::chrono::milliseconds head_wait = std::chrono::milliseconds(400)) {
    request head_only = req;
    head_only.body.clear();
    if (!head_only.header("Content-Length"))
        head_only.with("Content-Length", std::to_string(req.body.size()));
    auto conn = ctx.open_connection();
    conn.set_timeout(ctx.scaled(std::chrono::milliseconds(15000)));
    std::string got;
    std::optional<response> out;
    try {
        conn.write_raw(conn.serialize(head_only));
        bool closed = conn.wait_closed(ctx.scaled(head_wait), &got);
        if (!got.empty()) {
            out = parse_raw_response(got, closed);
            if (!out && !closed) {
                std::string more;
                closed = conn.wait_closed(ctx.scaled(std::chrono::milliseconds(3000)), &more);
                got += more;
                out = parse_raw_response(got, closed);
            }
        } else if (!closed) {
            bool write_failed = false;
            try {
                constexpr std::size_t chunk = 64 * 1024;
                for (std::size_t off = 0; off < req.body.size(); off += chunk)
                    conn.write_raw(std::string_view(req.body).substr(off, chunk));
            } catch (const client::transport_exception&) {
                write_failed = true;
            }
            if (!write_failed) {
                try {
                    out = conn.read_response(req.method == "HEAD");
                } catch (const client::transport_exception&) {
                }
            } else {
                std::string more;
                closed = conn.wait_closed(ctx.scaled(std::chrono::milliseconds(2000)), &more);
                out = parse_raw_response(more, closed);
            }
        }
    } catch (const client::transport_exception& e) {
        ctx.note(std::string("transport: ") + e.what());
    }
    // The whole request: the report keeps its first bytes, the reproduction makes the rest.
    ctx.record(req, out ? &*out : nullptr, "head written first, then the body");
    return out;
}

/// The methods listed in an Allow header, upper-cased.
inline std::set<std::string> allow_set(std::string_view v) {
    std::set<std::string> out;
    for (auto& m : split_list(v)) {
        std::string u = m;
        for (auto& c : u)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.insert(u);
    }
    return out;
}

/// Fails unless the response carries WWW-Authenticate with the Bearer scheme and, when
/// `param` is not empty, that auth-param (e.g. error="invalid_token").
inline void expect_bearer_challenge(context& ctx, const response& r, std::string_view param) {
    auto v = r.header("WWW-Authenticate");
    if (!v) ctx.fail("no WWW-Authenticate header", "Bearer ...", "absent");
    if (lower(v->substr(0, 6)) != "bearer")
        ctx.fail("WWW-Authenticate does not use the Bearer scheme", "Bearer ...", *v);
    if (!param.empty()) {
        // accept the token or quoted-string form of the value
        std::string p(param);
        std::string alt = p;
        if (auto eq = p.find("=\""); eq != std::string::npos && p.back() == '"')
            alt = p.substr(0, eq + 1) + p.substr(eq + 2, p.size() - eq - 3);
        if (v->find(p) == std::string::npos && v->find(alt) == std::string::npos)
            ctx.fail("WWW-Authenticate lacks " + p, "Bearer " + p, *v);
    }
}

} // namespace support
} // namespace agentcheck
