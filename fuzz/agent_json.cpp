// Agent bodies (PROTOCOL.md §2): any JSON through the POST/PUT and status validators; a body
// that validates must serialise by to_json_text() exactly as to_json().dump() does, and read
// back by from_json() to the same fields.
#include <nlohmann/json.hpp>

#include "fuzz/support.hpp"
#include "reference/models/agent.hpp"

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto body = nlohmann::json::parse(fuzz::as_text(data, size), nullptr, false);
    if (body.is_discarded()) return 0;
    (void)agent::models::parse_status_change(body);
    auto input = agent::models::parse_agent_input(body);
    if (!input) {
        fuzz::require(!input.error().fields.empty(), "a refused body names a bad field");
        return 0;
    }
    agent::models::agent a;
    a.id = "0190b3c4-5d6e-7f80-9a1b-2c3d4e5f6071";
    a.seq = 1;
    a.fields = std::move(*input);
    a.owner = "fuzz-owner";
    a.created_at = a.updated_at = "2026-01-01T00:00:00.000Z";
    const auto text = agent::models::to_json_text(a);
    fuzz::require(text == agent::models::to_json(a).dump(), "to_json_text == to_json().dump()");
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    fuzz::require(!doc.is_discarded(), "to_json_text is JSON");
    const auto back = agent::models::from_json(doc);
    fuzz::require(back.has_value(), "from_json reads to_json_text back");
    fuzz::require(back->fields.name == a.fields.name && back->fields.version == a.fields.version &&
                      back->fields.capabilities == a.fields.capabilities &&
                      back->fields.endpoint == a.fields.endpoint &&
                      back->fields.metadata == a.fields.metadata,
                  "from_json(to_json_text(a)) has a's fields");
    fuzz::require(agent::models::capabilities_json_text(a) ==
                      agent::models::capabilities_json(a).dump(),
                  "capabilities_json_text == capabilities_json().dump()");
    return 0;
}
