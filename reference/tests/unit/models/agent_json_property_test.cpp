// The agent's hand-written serialisers against the JSON library's: byte for byte equal
// for every agent, including strings full of quotes, backslashes, control characters and
// multi-byte UTF-8.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "reference/models/agent.hpp"

namespace agent::models {
namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Valid UTF-8 text, weighted towards the characters a JSON writer must escape.
rc::Gen<std::string> text() {
    auto code_point = rc::gen::weightedOneOf<std::uint32_t>(
        {{4, rc::gen::inRange<std::uint32_t>(0x00, 0x20)},
         {2, rc::gen::element<std::uint32_t>('"', '\\', '/', 0x7F)},
         {6, rc::gen::inRange<std::uint32_t>(0x20, 0x7F)},
         {2, rc::gen::inRange<std::uint32_t>(0x80, 0x800)},
         {2, rc::gen::inRange<std::uint32_t>(0x800, 0xD800)},
         {1, rc::gen::inRange<std::uint32_t>(0xE000, 0x10000)},
         {1, rc::gen::inRange<std::uint32_t>(0x10000, 0x110000)}});
    return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(code_point),
                        [](const std::vector<std::uint32_t>& cps) {
                            std::string s;
                            for (auto cp : cps)
                                append_utf8(s, cp);
                            return s;
                        });
}

rc::Gen<std::optional<std::string>> maybe_text() {
    return rc::gen::map(
        rc::gen::pair(rc::gen::arbitrary<bool>(), text()), [](std::pair<bool, std::string> p) {
            return p.first ? std::optional<std::string>(std::move(p.second)) : std::nullopt;
        });
}

rc::Gen<agent> any_agent() {
    return rc::gen::exec([] {
        agent a;
        a.id = *text();
        a.fields.name = *text();
        a.fields.version = *text();
        const auto caps = *rc::gen::inRange<std::size_t>(0, 4);
        for (std::size_t i = 0; i < caps; ++i) {
            capability c{*text(), std::nullopt, std::nullopt};
            c.version = *maybe_text();
            c.description = *maybe_text();
            a.fields.capabilities.push_back(std::move(c));
        }
        a.fields.endpoint = *maybe_text();
        const auto meta = *rc::gen::inRange<std::size_t>(0, 5);
        for (std::size_t i = 0; i < meta; ++i)
            a.fields.metadata[*text()] = *text();
        a.status = *rc::gen::element(agent_status::registered, agent_status::active,
                                     agent_status::inactive, agent_status::degraded,
                                     agent_status::draining);
        a.owner = *text();
        a.created_at = *text();
        a.updated_at = *text();
        a.revision = *rc::gen::arbitrary<std::int64_t>();
        return a;
    });
}

RC_GTEST_PROP(agent_json_text, equals_the_json_librarys_dump, ()) {
    const agent a = *any_agent();
    RC_ASSERT(to_json_text(a) == to_json(a).dump());
    RC_ASSERT(capabilities_json_text(a) == capabilities_json(a).dump());
}

RC_GTEST_PROP(agent_json_text, reads_back_as_the_same_agent, ()) {
    const agent a = *any_agent();
    auto back = from_json(nlohmann::json::parse(to_json_text(a)));
    RC_ASSERT(back.has_value());
    RC_ASSERT(to_json_text(*back) == to_json_text(a));
}

} // namespace
} // namespace agent::models
