#include "conformance/harness/selection.hpp"

#include <algorithm>
#include <cctype>

#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {

/// The section a pattern names ("2", "s2", "section:2"), or "" when it names none.
std::string section_of_pattern(std::string_view pattern) {
    constexpr std::string_view long_prefix = "section:";
    std::string_view rest = pattern;
    const std::string lowered = text::lower(pattern);
    if (lowered.rfind(long_prefix, 0) == 0) {
        rest = pattern.substr(long_prefix.size());
    } else if (!lowered.empty() && lowered.front() == 's') {
        rest = pattern.substr(1);
    }
    if (rest.empty() ||
        !std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return std::isdigit(c); })) {
        return {};
    }
    return std::string(rest);
}

bool equal_fold(char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
    // Iterative matcher with single-star backtracking: linear in practice, no recursion.
    std::size_t p = 0;
    std::size_t t = 0;
    std::size_t star = std::string_view::npos;
    std::size_t resume = 0;
    while (t < text.size()) {
        if (p < pattern.size() &&
            (pattern[p] == '?' || (pattern[p] != '*' && equal_fold(pattern[p], text[t])))) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

level check_level(const check& c, const catalogue& cat) {
    level strictest = level::may;
    for (const auto& id : c.requirements) {
        if (const auto* r = cat.find(id); r != nullptr && within_level(r->lvl, strictest)) {
            strictest = r->lvl;
        }
    }
    return strictest;
}

std::vector<std::string> check_sections(const check& c, const catalogue& cat) {
    std::vector<std::string> out;
    for (const auto& id : c.requirements) {
        const auto* r = cat.find(id);
        if (r != nullptr && std::find(out.begin(), out.end(), r->section) == out.end()) {
            out.push_back(r->section);
        }
    }
    return out;
}

bool pattern_matches(std::string_view pattern, const check& c, const catalogue& cat) {
    if (glob_match(pattern, c.id)) return true;
    for (const auto& id : c.requirements) {
        if (glob_match(pattern, id)) return true;
    }
    const auto sec = section_of_pattern(pattern);
    if (sec.empty()) return false;
    const auto sections = check_sections(c, cat);
    return std::find(sections.begin(), sections.end(), sec) != sections.end();
}

bool is_selected(const check& c, const catalogue& cat, const selection& sel) {
    const bool in_level =
        std::any_of(c.requirements.begin(), c.requirements.end(), [&](const auto& id) {
            const auto* r = cat.find(id);
            return r != nullptr && within_level(r->lvl, sel.lvl);
        });
    if (!in_level) return false;
    // With no --layer, every layer but robustness (its cases hold connections open for the
    // agent's header timeout): it runs when named, by --layer or by an --only glob over check
    // IDs ("ROB.smuggling.*").
    const auto named_by_id = std::any_of(sel.only.begin(), sel.only.end(),
                                         [&](const auto& p) { return glob_match(p, c.id); });
    if (sel.layers.empty()
            ? c.lyr == layer::robustness && !named_by_id
            : std::find(sel.layers.begin(), sel.layers.end(), c.lyr) == sel.layers.end()) {
        return false;
    }
    const auto matches = [&](const std::string& p) { return pattern_matches(p, c, cat); };
    if (!sel.only.empty() && std::none_of(sel.only.begin(), sel.only.end(), matches)) return false;
    return std::none_of(sel.exclude.begin(), sel.exclude.end(), matches);
}

std::vector<const check*> select_checks(const check_registry& registry, const catalogue& cat,
                                        const selection& sel) {
    std::vector<const check*> out;
    for (const auto& c : registry.all()) {
        if (is_selected(c, cat, sel)) out.push_back(&c);
    }
    return out;
}

} // namespace agentcheck
