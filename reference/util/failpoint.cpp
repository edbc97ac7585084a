#include "reference/util/failpoint.hpp"

#include <string>

namespace agent::failpoint {

namespace {

#ifdef AGENT_FAILPOINTS
// The table. A unit test (failpoint_test.cpp) requires each name to appear exactly once in
// an AGENT_FAILPOINT("…") call under reference/, and each such call to be listed here.
constexpr info table[] = {
    // ---- sections 0-3: HTTP, discovery and health, registry, errors, auth and roles
    {"HTTP-018.no-allow-header", "405 answers carry no Allow header", ""},
    // ---- end of sections 0-3

    // ---- sections 4-9: events, WebSocket, tasks, invoke, audit, rate limits, metrics,
    // tracing, lifecycle
    // ---- end of sections 4-9
};
std::string_view active_name; // set once at start-up, before any thread
#endif

} // namespace

std::span<const info> all() noexcept {
#ifdef AGENT_FAILPOINTS
    return table;
#else
    return {};
#endif
}

std::string_view requirement_of(std::string_view name) noexcept {
    return name.substr(0, name.find('.'));
}

bool enable(std::string_view name) noexcept {
#ifdef AGENT_FAILPOINTS
    for (const auto& fp : table)
        if (fp.name == name) {
            active_name = fp.name;
            return true;
        }
#else
    (void)name;
#endif
    return false;
}

std::string_view active() noexcept {
#ifdef AGENT_FAILPOINTS
    return active_name;
#else
    return {};
#endif
}

bool on(std::string_view name) noexcept {
#ifdef AGENT_FAILPOINTS
    return !active_name.empty() && active_name == name;
#else
    (void)name;
    return false;
#endif
}

std::string table_json() {
    auto quoted = [](std::string_view s) {
        std::string out = "\"";
        for (char c : s) {
            if (c == '"' || c == '\\') out.push_back('\\');
            out.push_back(c);
        }
        return out + "\"";
    };
    std::string out = "[";
    for (const auto& fp : all()) {
        if (out.size() > 1) out += ",";
        out += "\n  {\"name\": " + quoted(fp.name) +
               ", \"requirement\": " + quoted(requirement_of(fp.name)) +
               ", \"breaks\": " + quoted(fp.breaks) + ", \"args\": " + quoted(fp.extra_args) +
               "}";
    }
    return out + "\n]\n";
}

} // namespace agent::failpoint
