#include "conformance/harness/catalogue.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace agentcheck {

namespace {

constexpr int supported_version = 1;

std::string string_member(const nlohmann::json& obj, const char* key, const std::string& where,
                          bool required = true) {
    const auto it = obj.find(key);
    if (it == obj.end()) {
        if (!required) return {};
        throw config_error(where + ": \"" + key + "\" is missing");
    }
    if (!it->is_string()) throw config_error(where + ": \"" + key + "\" must be a string");
    return it->get<std::string>();
}

/// "REG-012": an uppercase prefix, a dash, digits.
bool valid_requirement_id(std::string_view id) {
    const auto dash = id.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 >= id.size()) return false;
    const auto prefix = id.substr(0, dash);
    const auto number = id.substr(dash + 1);
    return std::all_of(prefix.begin(), prefix.end(),
                       [](unsigned char c) { return std::isupper(c) || std::isdigit(c); }) &&
           std::all_of(number.begin(), number.end(),
                       [](unsigned char c) { return std::isdigit(c); });
}

} // namespace

const requirement* catalogue::find(std::string_view id) const noexcept {
    const auto it = std::find_if(requirements.begin(), requirements.end(),
                                 [&](const requirement& r) { return r.id == id; });
    return it == requirements.end() ? nullptr : &*it;
}

const section* catalogue::find_section(std::string_view id) const noexcept {
    const auto it = std::find_if(sections.begin(), sections.end(),
                                 [&](const section& s) { return s.id == id; });
    return it == sections.end() ? nullptr : &*it;
}

bool catalogue::is_planned(std::string_view id) const {
    return planned.count(std::string(id)) > 0;
}

catalogue parse_catalogue(std::string_view json_text) {
    const auto doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded()) throw config_error("catalogue: not valid JSON");
    if (!doc.is_object()) throw config_error("catalogue: the document must be an object");
    catalogue cat;
    const auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer() ||
        version->get<int>() != supported_version) {
        throw config_error("catalogue: \"version\" must be 1");
    }
    cat.version = supported_version;
    cat.protocol = string_member(doc, "protocol", "catalogue");
    const auto sections = doc.find("sections");
    if (sections == doc.end() || !sections->is_array()) {
        throw config_error("catalogue: \"sections\" must be an array");
    }
    for (const auto& s : *sections) {
        if (!s.is_object()) throw config_error("catalogue: a section must be an object");
        section sec{string_member(s, "id", "catalogue section"), {}};
        sec.title = string_member(s, "title", "catalogue section " + sec.id);
        if (sec.id.empty()) throw config_error("catalogue: a section has an empty id");
        if (cat.find_section(sec.id) != nullptr) {
            throw config_error("catalogue: duplicate section " + sec.id);
        }
        cat.sections.push_back(std::move(sec));
    }
    const auto reqs = doc.find("requirements");
    if (reqs == doc.end() || !reqs->is_array()) {
        throw config_error("catalogue: \"requirements\" must be an array");
    }
    for (const auto& r : *reqs) {
        if (!r.is_object()) throw config_error("catalogue: a requirement must be an object");
        requirement req;
        req.id = string_member(r, "id", "catalogue requirement");
        const std::string where = "catalogue requirement " + req.id;
        if (!valid_requirement_id(req.id))
            throw config_error(where + ": the id must look like REG-012");
        if (cat.find(req.id) != nullptr)
            throw config_error("catalogue: duplicate requirement " + req.id);
        req.section = string_member(r, "section", where);
        if (cat.find_section(req.section) == nullptr) {
            throw config_error(where + ": unknown section \"" + req.section + "\"");
        }
        req.title = string_member(r, "title", where);
        const auto lvl = parse_level(string_member(r, "level", where));
        if (!lvl) throw config_error(where + ": \"level\" must be MUST, SHOULD or MAY");
        req.lvl = *lvl;
        req.feature = string_member(r, "feature", where, false);
        req.text = string_member(r, "text", where);
        const auto planned = r.find("planned");
        if (planned != r.end()) {
            if (!planned->is_boolean())
                throw config_error(where + ": \"planned\" must be a boolean");
            if (planned->get<bool>()) cat.planned.insert(req.id);
        }
        cat.requirements.push_back(std::move(req));
    }
    return cat;
}

const catalogue& builtin_catalogue() {
    static const catalogue cat = parse_catalogue(embedded_catalogue_json());
    return cat;
}

std::vector<std::string> cross_check(const catalogue& cat, const check_registry& registry) {
    std::vector<std::string> problems;
    std::set<std::string> covered;
    for (const auto& c : registry.all()) {
        for (const auto& id : c.requirements) {
            if (cat.find(id) == nullptr) {
                problems.push_back("check " + c.id + " names unknown requirement " + id);
            }
            covered.insert(id);
        }
    }
    for (const auto& r : cat.requirements) {
        if (r.lvl == level::must && !cat.is_planned(r.id) && covered.count(r.id) == 0) {
            problems.push_back("MUST requirement " + r.id +
                               " has no check (mark it planned or add one)");
        }
    }
    return problems;
}

} // namespace agentcheck
