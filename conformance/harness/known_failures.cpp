#include "conformance/harness/known_failures.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace agentcheck {

namespace {

constexpr std::size_t date_length = 10; // YYYY-MM-DD
constexpr std::size_t first_dash = 4;
constexpr std::size_t second_dash = 7;
constexpr int months_per_year = 12;
constexpr int max_day = 31;

bool valid_date(std::string_view d) {
    if (d.size() != date_length || d[first_dash] != '-' || d[second_dash] != '-') return false;
    for (std::size_t i = 0; i < d.size(); ++i) {
        if (i == first_dash || i == second_dash) continue;
        if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
    }
    const int month = std::stoi(std::string(d.substr(first_dash + 1, 2)));
    const int day = std::stoi(std::string(d.substr(second_dash + 1, 2)));
    return month >= 1 && month <= months_per_year && day >= 1 && day <= max_day;
}

} // namespace

std::vector<known_failure> parse_known_failures(std::string_view json_text, const catalogue& cat) {
    const auto doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded()) throw config_error("known failures: not valid JSON");
    if (!doc.is_array()) throw config_error("known failures: the document must be an array");
    std::vector<known_failure> out;
    for (const auto& entry : doc) {
        if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string()) {
            throw config_error("known failures: every entry needs a string \"id\"");
        }
        known_failure k;
        k.id = entry["id"].get<std::string>();
        const std::string where = "known failures: " + k.id;
        if (cat.find(k.id) == nullptr) throw config_error(where + ": unknown requirement ID");
        if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.id == k.id; })) {
            throw config_error(where + ": listed twice");
        }
        if (!entry.contains("reason") || !entry["reason"].is_string() ||
            entry["reason"].get<std::string>().empty()) {
            throw config_error(where + ": needs a non-empty \"reason\"");
        }
        k.reason = entry["reason"].get<std::string>();
        if (entry.contains("expires")) {
            if (!entry["expires"].is_string() || !valid_date(entry["expires"].get<std::string>())) {
                throw config_error(where + ": \"expires\" must be a date YYYY-MM-DD");
            }
            k.expires = entry["expires"].get<std::string>();
        }
        out.push_back(std::move(k));
    }
    return out;
}

bool is_expired(const known_failure& k, std::string_view today) noexcept {
    // ISO dates compare correctly as strings.
    return !k.expires.empty() && std::string_view(k.expires) < today;
}

} // namespace agentcheck
