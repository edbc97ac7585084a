#include "conformance/load/scenario.hpp"

#include <fstream>
#include <set>
#include <sstream>

namespace agentcheck::load {
namespace {

constexpr char marker = '\x01';
constexpr char agent_mark = 'A';
constexpr char uniq_mark = 'U';
constexpr std::string_view agent_token = "{agent}";
constexpr std::string_view uniq_token = "{uniq}";
constexpr int status_min = 100;
constexpr int status_max = 599;
constexpr std::size_t setup_agents_max = 100000;

const std::set<std::string, std::less<>> methods = {"GET",    "HEAD",  "POST",   "PUT",
                                                    "DELETE", "PATCH", "OPTIONS"};
const std::set<std::string, std::less<>> identities = {"viewer", "operator", "operator2", "admin",
                                                       "noroles"};

std::string replace_tokens(std::string s) {
    for (auto [token, mark] :
         {std::pair{agent_token, agent_mark}, std::pair{uniq_token, uniq_mark}}) {
        std::size_t at = 0;
        while ((at = s.find(token, at)) != std::string::npos) {
            s.replace(at, token.size(), std::string{marker, mark});
            at += 2;
        }
    }
    return s;
}

operation parse_operation(const nlohmann::json& j, const std::string& where) {
    if (!j.is_object()) throw spec_error(where + ": must be an object");
    static const std::set<std::string, std::less<>> known = {
        "name", "weight", "method", "path", "body", "identity", "expect", "requires"};
    for (const auto& [k, v] : j.items())
        if (!known.contains(k))
            throw spec_error(where + "." + k +
                             ": unknown field (name, weight, method, path, body, identity, "
                             "expect, requires)");
    operation op;
    if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty())
        throw spec_error(where + ".name: required, a non-empty string");
    op.name = j["name"].get<std::string>();
    for (char c : op.name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            throw spec_error(where + ".name: \"" + op.name +
                             "\" may hold only letters, digits, '_' and '-' (it names metrics)");
    if (j.contains("weight")) {
        if (!j["weight"].is_number() || j["weight"].get<double>() <= 0)
            throw spec_error(where + ".weight: must be a positive number");
        op.weight = j["weight"].get<double>();
    }
    if (j.contains("method")) {
        if (!j["method"].is_string() || !methods.contains(j["method"].get<std::string>()))
            throw spec_error(where +
                             ".method: one of GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS");
        op.method = j["method"].get<std::string>();
    }
    if (!j.contains("path") || !j["path"].is_string() ||
        !j["path"].get<std::string>().starts_with("/"))
        throw spec_error(where + ".path: required, a path starting with /");
    op.path = j["path"].get<std::string>();
    for (char c : op.path)
        if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f)
            throw spec_error(where + ".path: spaces and control characters are not allowed");
    if (j.contains("body")) op.body = j["body"];
    if (j.contains("identity")) {
        if (!j["identity"].is_string() || !identities.contains(j["identity"].get<std::string>()))
            throw spec_error(where +
                             ".identity: one of viewer, operator, operator2, admin, noroles");
        op.identity = j["identity"].get<std::string>();
    }
    if (j.contains("expect")) {
        if (!j["expect"].is_array() || j["expect"].empty())
            throw spec_error(where + ".expect: a non-empty array of HTTP statuses");
        for (const auto& s : j["expect"]) {
            if (!s.is_number_integer() || s.get<int>() < status_min || s.get<int>() > status_max)
                throw spec_error(where + ".expect: statuses are integers from 100 to 599");
            op.expect.push_back(s.get<int>());
        }
    }
    if (j.contains("requires")) {
        if (!j["requires"].is_string())
            throw spec_error(where + ".requires: a feature name discovery declares (\"tasks\")");
        op.requires_feature = j["requires"].get<std::string>();
    }
    return op;
}

} // namespace

bool operation::expected(int status) const {
    if (expect.empty()) return status >= 200 && status < 300;
    for (int s : expect)
        if (s == status) return true;
    return false;
}

scenario parse_scenario(const nlohmann::json& doc) {
    if (!doc.is_object()) throw spec_error("scenario: must be a JSON object");
    static const std::set<std::string, std::less<>> known = {
        "name", "description", "setup", "operations", "teardown", "subscribers"};
    for (const auto& [k, v] : doc.items())
        if (!known.contains(k))
            throw spec_error(k + ": unknown field (name, description, setup, operations, "
                                 "teardown, subscribers)");
    scenario s;
    if (doc.contains("name")) {
        if (!doc["name"].is_string()) throw spec_error("name: must be a string");
        s.name = doc["name"].get<std::string>();
    }
    if (doc.contains("description")) {
        if (!doc["description"].is_string()) throw spec_error("description: must be a string");
        s.description = doc["description"].get<std::string>();
    }
    if (doc.contains("setup")) {
        const auto& setup = doc["setup"];
        if (!setup.is_object()) throw spec_error("setup: must be an object");
        for (const auto& [k, v] : setup.items())
            if (k != "agents") throw spec_error("setup." + k + ": unknown field (agents)");
        if (setup.contains("agents")) {
            const auto& n = setup["agents"];
            if (!n.is_number_integer() || n.get<long long>() < 0 ||
                n.get<std::size_t>() > setup_agents_max)
                throw spec_error("setup.agents: an integer from 0 to " +
                                 std::to_string(setup_agents_max));
            s.setup_agents = n.get<std::size_t>();
        }
    }
    if (doc.contains("subscribers")) {
        constexpr int subscribers_max = 64;
        const auto& sub = doc["subscribers"];
        if (!sub.is_object()) throw spec_error("subscribers: must be an object");
        for (const auto& [k, v] : sub.items())
            if (k != "events") throw spec_error("subscribers." + k + ": unknown field (events)");
        if (sub.contains("events")) {
            const auto& n = sub["events"];
            if (!n.is_number_integer() || n.get<int>() < 0 || n.get<int>() > subscribers_max)
                throw spec_error("subscribers.events: an integer from 0 to " +
                                 std::to_string(subscribers_max));
            s.event_subscribers = n.get<int>();
        }
    }
    if (doc.contains("teardown")) {
        const auto& td = doc["teardown"];
        if (!td.is_object()) throw spec_error("teardown: must be an object");
        for (const auto& [k, v] : td.items())
            if (k != "delete_created")
                throw spec_error("teardown." + k + ": unknown field (delete_created)");
        if (td.contains("delete_created")) {
            if (!td["delete_created"].is_boolean())
                throw spec_error("teardown.delete_created: must be true or false");
            s.delete_created = td["delete_created"].get<bool>();
        }
    }
    if (!doc.contains("operations") || !doc["operations"].is_array() || doc["operations"].empty())
        throw spec_error("operations: required, a non-empty array");
    std::set<std::string> names;
    for (std::size_t i = 0; i < doc["operations"].size(); ++i) {
        const auto where = "operations[" + std::to_string(i) + "]";
        auto op = parse_operation(doc["operations"][i], where);
        if (!names.insert(op.name).second)
            throw spec_error(where + ".name: \"" + op.name + "\" is used twice");
        const bool uses_agent = op.path.find(agent_token) != std::string::npos ||
                                (op.body && op.body->dump().find(agent_token) != std::string::npos);
        if (uses_agent && s.setup_agents == 0)
            throw spec_error(where + ".path: {agent} needs agents made in setup (setup.agents)");
        s.operations.push_back(std::move(op));
    }
    return s;
}

scenario load_scenario_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw spec_error("--scenario: cannot read \"" + path + "\"");
    std::ostringstream ss;
    ss << in.rdbuf();
    const auto doc = nlohmann::json::parse(ss.str(), nullptr, false);
    if (doc.is_discarded()) throw spec_error("--scenario: \"" + path + "\" is not JSON");
    try {
        return parse_scenario(doc);
    } catch (const spec_error& e) {
        throw spec_error("--scenario " + path + ": " + e.what());
    }
}

scenario default_scenario() {
    scenario s;
    s.name = "health";
    s.description = "GET /health";
    s.delete_created = false;
    operation op;
    op.name = "health";
    op.path = "/health";
    s.operations.push_back(op);
    return s;
}

compiled_request::compiled_request(const client::target_url& target, const operation& op,
                                   const std::string& token) {
    client::request req(op.method, replace_tokens(op.path));
    if (!token.empty()) req.bearer(token);
    if (op.body) {
        req.body = replace_tokens(op.body->dump());
        req.with("Content-Type", "application/json");
    }
    const auto bytes = client::serialize_request(target, req);
    const auto head_end = bytes.find("\r\n\r\n");
    std::string head = bytes.substr(0, head_end + 4);
    const std::string body = bytes.substr(head_end + 4);
    uses_agent_ = bytes.find(std::string{marker, agent_mark}) != std::string::npos;
    const std::string length_field = "\r\nContent-Length: ";
    const auto at = head.find(length_field);
    if (at != std::string::npos) {
        has_length_ = true;
        const auto value_end = head.find("\r\n", at + length_field.size());
        head_ = split(std::string_view(head).substr(0, at + length_field.size()));
        tail_ = split(std::string_view(head).substr(value_end));
        body_ = split(body);
    } else {
        head_ = split(head);
    }
}

std::vector<compiled_request::piece> compiled_request::split(std::string_view s) {
    std::vector<piece> out;
    std::string lit;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == marker && i + 1 < s.size()) {
            if (!lit.empty()) out.push_back({piece::kind::literal, std::move(lit)});
            lit.clear();
            out.push_back({s[i + 1] == agent_mark ? piece::kind::agent : piece::kind::uniq, {}});
            ++i;
        } else {
            lit.push_back(s[i]);
        }
    }
    if (!lit.empty()) out.push_back({piece::kind::literal, std::move(lit)});
    return out;
}

void compiled_request::append(std::string& out, const std::vector<piece>& pieces,
                              std::string_view agent, std::string_view uniq) {
    for (const auto& p : pieces) {
        switch (p.k) {
        case piece::kind::literal:
            out += p.text;
            break;
        case piece::kind::agent:
            out += agent;
            break;
        case piece::kind::uniq:
            out += uniq;
            break;
        }
    }
}

void compiled_request::render(std::string& out, std::string_view agent,
                              std::string_view uniq) const {
    out.clear();
    append(out, head_, agent, uniq);
    if (!has_length_) return;
    const auto length_at = out.size();
    append(out, tail_, agent, uniq);
    const auto body_at = out.size();
    append(out, body_, agent, uniq);
    out.insert(length_at, std::to_string(out.size() - body_at));
}

} // namespace agentcheck::load
