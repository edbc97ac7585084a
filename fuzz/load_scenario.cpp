// Load scenarios (fixtures/load/*.json): any JSON through parse_scenario(), which must accept
// it or refuse it with a spec_error (the CLI's usage error) — never another exception. An
// accepted scenario's requests compile, and each renders with a Content-Length that is its
// body's length.
#include <charconv>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "conformance/load/scenario.hpp"
#include "fuzz/support.hpp"

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto doc = nlohmann::json::parse(fuzz::as_text(data, size), nullptr, false);
    if (doc.is_discarded()) return 0;
    agentcheck::load::scenario s;
    try {
        s = agentcheck::load::parse_scenario(doc);
    } catch (const agentcheck::load::spec_error&) {
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "parse_scenario threw %s\n", e.what());
        fuzz::require(false, "parse_scenario refuses only with spec_error");
    }
    constexpr std::string_view blank_line = "\r\n\r\n";
    constexpr std::string_view length_field = "\r\nContent-Length: ";
    const agentcheck::client::target_url target;
    std::string bytes;
    for (const auto& op : s.operations) {
        const agentcheck::load::compiled_request req(target, op, op.identity.empty() ? "" : "t0k");
        req.render(bytes, "0190b3c4-5d6e-7f80-9a1b-2c3d4e5f6071", "00000000000000ff");
        const auto head_end = bytes.find(blank_line);
        fuzz::require(head_end != std::string::npos, "a rendered request has a head");
        const auto at = bytes.find(length_field);
        if (at == std::string::npos || at > head_end) continue;
        std::size_t length = 0;
        std::from_chars(bytes.data() + at + length_field.size(), bytes.data() + head_end, length);
        fuzz::require(length == bytes.size() - head_end - blank_line.size(),
                      "Content-Length is the body's");
    }
    return 0;
}
