#include "conformance/properties/agent_model.hpp"

#include <algorithm>
#include <map>
#include <vector>

namespace agentcheck::lin {

using json = nlohmann::json;

bool move_allowed(const std::string& from, const std::string& to) {
    static const std::map<std::string, std::vector<std::string>> moves{
        {"registered", {"active", "inactive"}},
        {"active", {"inactive", "degraded", "draining"}},
        {"inactive", {"active", "draining"}},
        {"degraded", {"active", "inactive", "draining"}},
        {"draining", {"inactive"}}};
    auto it = moves.find(from);
    return it != moves.end() &&
           std::find(it->second.begin(), it->second.end(), to) != it->second.end();
}

/// The sequential specification of one agent, for the linearizability checker: its state
/// is {exists, rev, status, version}; operations get, put (If-Match), set_status, delete.
model agent_model(const std::string& initial_version) {
    model m;
    m.init = {{"exists", true}, {"rev", 1}, {"status", "registered"}};
    m.init["version"] = initial_version.empty() ? json() : json(initial_version);
    m.key = [](const json& in) { return in["key"].get<std::string>(); };
    m.step = [](const json& st, const json& in, const json& out) -> std::vector<json> {
        const std::string op = in["op"];
        const bool exists = st["exists"];
        const bool unknown = out.is_null();
        const int status = unknown ? 0 : out["status"].get<int>();
        if (op == "get") {
            if (unknown) return {st};
            if (!exists) return status == 404 ? std::vector<json>{st} : std::vector<json>{};
            if (status == 200 && out["rev"] == st["rev"] && out["agent_status"] == st["status"] &&
                (st["version"].is_null() || out["version"] == st["version"]))
                return {st};
            return {};
        }
        if (op == "put") {
            json applied = st;
            applied["rev"] = st["rev"].get<long long>() + 1;
            applied["version"] = in["version"];
            const bool match = exists && in["if_match"] == st["rev"];
            if (unknown) return match ? std::vector<json>{st, applied} : std::vector<json>{st};
            if (!exists) return status == 404 ? std::vector<json>{st} : std::vector<json>{};
            if (!match) return status == 412 ? std::vector<json>{st} : std::vector<json>{};
            if (status == 200 && out["rev"] == applied["rev"]) return {applied};
            return {};
        }
        if (op == "set_status") {
            const std::string to = in["to"];
            const std::string from = exists ? st["status"].get<std::string>() : "";
            const bool ok = exists && (from == to || move_allowed(from, to));
            if (unknown) {
                if (!ok) return {st};
                json a = st, b = st;
                a["status"] = to;
                b["status"] = to;
                b["rev"] = st["rev"].get<long long>() + 1;
                return {st, a, b};
            }
            if (!exists) return status == 404 ? std::vector<json>{st} : std::vector<json>{};
            if (!ok) return status == 409 ? std::vector<json>{st} : std::vector<json>{};
            if (status != 200 || out["agent_status"] != to) return {};
            const auto rev = out["rev"].get<long long>();
            if (rev < st["rev"].get<long long>()) return {};
            json next = st;
            next["status"] = to;
            next["rev"] = rev;
            return {next};
        }
        if (op == "delete") {
            json gone = st;
            gone["exists"] = false;
            if (unknown) return exists ? std::vector<json>{st, gone} : std::vector<json>{st};
            if (!exists) return status == 404 ? std::vector<json>{st} : std::vector<json>{};
            return status == 204 ? std::vector<json>{gone} : std::vector<json>{};
        }
        return {};
    };
    m.describe = [](const operation& o) {
        std::string s = o.input["op"].get<std::string>();
        if (s == "put")
            s += " If-Match " + o.input["if_match"].dump() + " " +
                 o.input["version"].get<std::string>();
        if (s == "set_status") s += " " + o.input["to"].get<std::string>();
        if (o.unknown) return s + " -> ?";
        s += " -> " + std::to_string(o.output["status"].get<int>());
        if (o.output.contains("rev")) s += " rev " + o.output["rev"].dump();
        if (o.output.contains("agent_status"))
            s += " " + o.output["agent_status"].get<std::string>();
        return s;
    };
    return m;
}

json agent_input(const std::string& key, const std::string& method,
                 const std::string& path_after_id, const std::string& request_body,
                 long long if_match) {
    json in{{"key", key}};
    auto body = json::parse(request_body, nullptr, false);
    if (method == "GET" && path_after_id.empty()) {
        in["op"] = "get";
    } else if (method == "DELETE" && path_after_id.empty()) {
        in["op"] = "delete";
    } else if (method == "PUT" && path_after_id == "/status" && body.is_object() &&
               body.contains("status") && body["status"].is_string()) {
        in["op"] = "set_status";
        in["to"] = body["status"];
    } else if (method == "PUT" && path_after_id.empty() && if_match >= 0 && body.is_object() &&
               body.contains("version") && body["version"].is_string()) {
        in["op"] = "put";
        in["if_match"] = if_match;
        in["version"] = body["version"];
    } else {
        return nullptr;
    }
    return in;
}

json agent_output(int status, const std::string& body) {
    json out{{"status", status}};
    if (status != 200) return out;
    auto b = json::parse(body, nullptr, false);
    if (!b.is_object()) return out;
    out["rev"] = b.value("revision", -1LL);
    out["agent_status"] = b.value("status", std::string());
    out["version"] = b.value("version", std::string());
    return out;
}

} // namespace agentcheck::lin
