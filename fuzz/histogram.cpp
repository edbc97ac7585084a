// Latency histograms as `agentcheck load merge` reads them from results files: from_json()
// accepts a document or gives a reason; one it accepts serialises to a document it reads back
// to the same counts.
#include <nlohmann/json.hpp>

#include "conformance/load/histogram.hpp"
#include "fuzz/support.hpp"

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto doc = nlohmann::json::parse(fuzz::as_text(data, size), nullptr, false);
    if (doc.is_discarded()) return 0;
    std::string why;
    const auto h = agentcheck::load::histogram::from_json(doc, &why);
    if (!h) {
        fuzz::require(!why.empty(), "a refused histogram has a reason");
        return 0;
    }
    (void)h->value_at_percentile(99);
    (void)h->mean();
    (void)h->distribution();
    const auto again = h->to_json();
    const auto back = agentcheck::load::histogram::from_json(again, &why);
    fuzz::require(back.has_value(), "to_json() output reads back");
    fuzz::require(back->count() == h->count() && back->clamped() == h->clamped() &&
                      back->to_json() == again,
                  "a histogram survives to_json and from_json");
    return 0;
}
