// Property checks of §2 (and §4 where declared): generated sequences of registry operations
// checked against a model of the protocol after every step, and concurrent clients checked
// for linearizability.
//
// Every sequence works on agents of its own: their names share a prefix made for the case and
// they carry a capability of that name, so lists filtered by it see only them, whatever else
// the target holds. A failing sequence is shrunk by RapidCheck, then run once more through
// the check's recorded connection: the report shows that run's requests as numbered curl
// commands and `agentcheck replay` sends them again.

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "conformance/properties/agent_model.hpp"
#include "conformance/properties/linearizability.hpp"
#include "conformance/properties/properties.hpp"
#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using json = nlohmann::json;

// ---- the model ----------------------------------------------------------------------------

using lin::move_allowed;

const std::vector<std::string>& statuses() {
    static const std::vector<std::string> all{"registered", "active", "inactive", "degraded",
                                              "draining"};
    return all;
}

constexpr int name_slots = 5; ///< names a case draws from (collisions are part of the test)
constexpr int key_slots = 3;  ///< idempotency keys a case draws from
const char* const versions[] = {"1.0.0", "2.1.0-rc.1", "3.0.0+build.7"};

struct model_agent {
    int slot = 0;
    std::string version;
    std::string identity; ///< who created it (and so owns it)
    std::string status = "registered";
    bool deleted = false;
    std::vector<std::string> events; ///< the event types its changes must have emitted
};
struct model_key {
    int agent = 0; ///< index of the agent its first request created
    int slot = 0;
    int version = 0;
};
/// A task the case submitted, and how it must end.
struct model_task {
    std::string type;
    json payload;
    int max_attempts = 3;
    std::string final_status; ///< succeeded or dead_lettered
    int attempts = 1;         ///< the attempts that end it
};
struct registry_model {
    std::vector<model_agent> agents;
    std::map<int, model_key> keys;
    std::vector<model_task> tasks;

    [[nodiscard]] std::optional<int> live_with_slot(int slot) const {
        for (std::size_t i = 0; i < agents.size(); ++i)
            if (agents[i].slot == slot && !agents[i].deleted) return static_cast<int>(i);
        return std::nullopt;
    }
    [[nodiscard]] bool slot_ever_used(int slot) const {
        return std::any_of(agents.begin(), agents.end(),
                           [&](const model_agent& a) { return a.slot == slot; });
    }
};

/// A broken rule found by a command: which requirement, what was expected and seen.
struct violation : std::runtime_error {
    violation(std::string req, const std::string& what, std::string exp, std::string act)
        : std::runtime_error("[" + req + "] " + what), requirement(std::move(req)),
          expected(std::move(exp)), actual(std::move(act)) {}
    std::string requirement;
    std::string expected;
    std::string actual;
};

/// The system under test: the target, reached through `send` (unrecorded while searching,
/// the check's recorded connection for the final run), and what it answered so far.
struct registry_sut {
    registry_sut(context& c, std::function<response(const request&)> f, std::string p)
        : ctx(c), send(std::move(f)), prefix(std::move(p)) {}
    context& ctx;
    std::function<response(const request&)> send;
    std::string prefix;                ///< names and the case's capability start with it
    bool events = false;               ///< the check covers §4 (custom events, the log)
    bool tasks = false;                ///< the check covers §6 (task commands)
    std::vector<std::string> task_ids; ///< per model task
    std::vector<json> task_seen;       ///< per model task: the last state read
    std::vector<std::string> ids;      ///< per model agent ("" while not created)
    std::vector<long long> revisions;  ///< last revision seen per model agent
    std::map<int, json> first_answers; ///< per idempotency key slot: the first 201's body
    std::vector<std::string> strays;   ///< agents made by requests that should have failed

    [[nodiscard]] std::string name(int slot) const { return prefix + "-n" + std::to_string(slot); }
    [[nodiscard]] std::string key(int slot) const { return prefix + "-k" + std::to_string(slot); }
    [[nodiscard]] json body(int slot, const std::string& version) const {
        return {{"name", name(slot)},
                {"version", version},
                {"capabilities", json::array({{{"name", prefix}}})}};
    }
    response call(request r) { return send(r); }
    /// Keeps the id of an agent an answer says was created (whatever its status), so that the
    /// case deletes it afterwards.
    void remember_created(const response& r) {
        auto j = r.json();
        if (r.status / 100 != 2 || !j || !j->is_object() || !j->contains("id") ||
            !(*j)["id"].is_string())
            return;
        ids.push_back((*j)["id"]);
        revisions.push_back(1);
    }

    /// Keeps the id of an agent created by a request that should have been refused (it has
    /// no place in the model), so that the case deletes it too.
    void remember_stray(const response& r) {
        auto j = r.json();
        if (r.status / 100 == 2 && j && j->is_object() && j->contains("id") &&
            (*j)["id"].is_string())
            strays.push_back((*j)["id"]);
    }

    /// Fails with `req` unless the answer's status is `want`.
    static void expect_status(const std::string& req, const std::string& what, const response& r,
                              int want) {
        if (r.status != want)
            throw violation(req,
                            what + " answered " + std::to_string(r.status) + ", not " +
                                std::to_string(want),
                            std::to_string(want), describe(r));
    }
    static json body_of(const std::string& req, const std::string& what, const response& r) {
        auto j = r.json();
        if (!j || !j->is_object())
            throw violation(req, what + ": the body is not a JSON object", "a JSON object",
                            describe(r));
        return *j;
    }
    static void expect_field(const std::string& req, const std::string& what, const json& body,
                             const char* field, const json& want) {
        if (!body.contains(field) || body[field] != want)
            throw violation(req,
                            what + ": \"" + field + "\" is " +
                                (body.contains(field) ? body[field].dump() : "missing") + ", not " +
                                want.dump(),
                            want.dump(), body.contains(field) ? body[field].dump() : "missing");
    }
};

using registry_command = rc::state::Command<registry_model, registry_sut>;

/// A choice in [lo, hi), uniform whatever the case's size (RapidCheck's inRange narrows the
/// range for small sizes, which would leave the later kinds of a command untried in short
/// runs); it still shrinks towards lo.
int choose(int lo, int hi) { return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange(lo, hi)); }

int pick_agent(const registry_model& m) {
    RC_PRE(!m.agents.empty());
    return choose(0, static_cast<int>(m.agents.size()));
}

/// Reads the agent's revision from a body (or fails with `req`).
long long revision_of(const std::string& req, const std::string& what, const json& body) {
    if (!body.contains("revision") || !body["revision"].is_number_integer())
        throw violation(req, what + ": no integer \"revision\"", "an integer revision",
                        body.dump());
    return body["revision"].get<long long>();
}

struct create_agent : registry_command {
    int slot;
    int version;
    std::string identity;
    explicit create_agent(const registry_model& m)
        : slot(choose(0, name_slots)), version(choose(0, 3)),
          identity(*rc::gen::element<std::string>("operator", "admin")) {
        // A name a deleted agent had is left alone: the protocol does not say whether it may
        // be taken again.
        RC_PRE(m.live_with_slot(slot) || !m.slot_ever_used(slot));
    }
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(m.live_with_slot(slot) || !m.slot_ever_used(slot));
    }
    void apply(registry_model& m) const override {
        if (m.live_with_slot(slot)) return; // a duplicate: refused
        m.agents.push_back(
            {slot, versions[version], identity, "registered", false, {"agent_registered"}});
    }
    void run(const registry_model& m, registry_sut& s) const override {
        auto r = s.call(
            authed(s.ctx, identity, "POST", "/agents").json(s.body(slot, versions[version])));
        const std::string what = "POST /agents (name " + s.name(slot) + ")";
        s.remember_created(r);
        if (m.live_with_slot(slot)) {
            registry_sut::expect_status("REG-012", what + ", a name in use,", r, 409);
            return;
        }
        registry_sut::expect_status("REG-020", what, r, 201);
        auto b = registry_sut::body_of("REG-024", what, r);
        if (!b.contains("id") || !b["id"].is_string())
            throw violation("REG-024", what + ": no \"id\"", "an id", b.dump());
        const std::string id = b["id"];
        if (s.ids.size() != m.agents.size() + 1)
            throw violation("REG-020", what + ": answered with an id, but not one of its own",
                            "a new agent", b.dump());
        if (r.header("Location").value_or("") != "/agents/" + id)
            throw violation("REG-020", what + ": Location is not /agents/{id}", "/agents/" + id,
                            r.header("Location").value_or("(none)"));
        if (r.header("ETag").value_or("") != quoted(1))
            throw violation("REG-021", what + ": ETag is not \"1\"", quoted(1),
                            r.header("ETag").value_or("(none)"));
        registry_sut::expect_field("REG-022", what, b, "status", "registered");
        registry_sut::expect_field("REG-022", what, b, "revision", 1);
        registry_sut::expect_field("REG-023", what, b, "owner", s.ctx.subject(identity));
        registry_sut::expect_field("REG-024", what, b, "name", s.name(slot));
        registry_sut::expect_field("REG-024", what, b, "version", versions[version]);
    }
    void show(std::ostream& os) const override {
        os << "create name n" << slot << " version " << versions[version] << " as " << identity;
    }
};

struct create_invalid : registry_command {
    int kind;
    int slot;
    explicit create_invalid(const registry_model&)
        : kind(choose(0, 3)), slot(choose(0, name_slots)) {}
    void run(const registry_model&, registry_sut& s) const override {
        json b = s.body(slot, "1.0.0");
        std::string req;
        if (kind == 0) {
            b["name"] = "Bad_" + s.name(slot);
            req = "REG-002";
        } else if (kind == 1) {
            b["version"] = "1.0";
            req = "REG-006";
        } else {
            b["colour"] = "blue";
            req = "REG-018";
        }
        auto r = s.call(authed(s.ctx, "operator", "POST", "/agents").json(b));
        s.remember_stray(r); // an agent that accepts it made one: the case deletes it
        registry_sut::expect_status(req,
                                    "POST /agents with " + std::string(kind == 0 ? "an invalid name"
                                                                       : kind == 1
                                                                           ? "version 1.0"
                                                                           : "an unknown field"),
                                    r, 422);
    }
    void show(std::ostream& os) const override {
        os << "create an invalid agent ("
           << (kind == 0   ? "bad name"
               : kind == 1 ? "bad version"
                           : "unknown field")
           << ", n" << slot << ")";
    }
};

struct get_agent : registry_command {
    int agent;
    explicit get_agent(const registry_model& m) : agent(pick_agent(m)) {}
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(agent < static_cast<int>(m.agents.size()));
    }
    void run(const registry_model& m, registry_sut& s) const override {
        const auto& a = m.agents[static_cast<std::size_t>(agent)];
        const auto& id = s.ids[static_cast<std::size_t>(agent)];
        auto r = s.call(authed(s.ctx, "viewer", "GET", "/agents/" + id));
        const std::string what = "GET /agents/{id} (agent " + std::to_string(agent) + ")";
        if (a.deleted) {
            registry_sut::expect_status("REG-034", what + " after its DELETE", r, 404);
            return;
        }
        registry_sut::expect_status("REG-025", what, r, 200);
        auto b = registry_sut::body_of("REG-025", what, r);
        const auto rev = s.revisions[static_cast<std::size_t>(agent)];
        registry_sut::expect_field("REG-030", what + " (the last write's revision)", b, "revision",
                                   rev);
        if (r.header("ETag").value_or("") != quoted(rev))
            throw violation("REG-025", what + ": ETag is not the revision", quoted(rev),
                            r.header("ETag").value_or("(none)"));
        registry_sut::expect_field("REG-046", what + " (the last status set)", b, "status",
                                   a.status);
        registry_sut::expect_field("REG-030", what + " (the last version written)", b, "version",
                                   a.version);
    }
    void show(std::ostream& os) const override { os << "get agent " << agent; }
};

struct put_agent : registry_command {
    int agent;
    int etag; ///< 0 the current one, 1 a stale one, 2 none
    int version;
    explicit put_agent(const registry_model& m)
        : agent(pick_agent(m)), etag(choose(0, 3)), version(choose(0, 3)) {}
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(agent < static_cast<int>(m.agents.size()));
    }
    void apply(registry_model& m) const override {
        auto& a = m.agents[static_cast<std::size_t>(agent)];
        if (a.deleted || etag != 0) return;
        a.version = versions[version];
        a.events.emplace_back("agent_updated");
    }
    void run(const registry_model& m, registry_sut& s) const override {
        const auto& a = m.agents[static_cast<std::size_t>(agent)];
        const auto i = static_cast<std::size_t>(agent);
        const auto rev = s.revisions[i];
        auto req = authed(s.ctx, a.identity, "PUT", "/agents/" + s.ids[i])
                       .json(s.body(a.slot, versions[version]));
        if (etag == 0) req.with("If-Match", quoted(rev));
        if (etag == 1) req.with("If-Match", quoted(rev - 1));
        auto r = s.call(req);
        const std::string what = "PUT /agents/{id} (agent " + std::to_string(agent) + ", " +
                                 (etag == 0   ? "current"
                                  : etag == 1 ? "stale"
                                              : "no") +
                                 " If-Match)";
        if (a.deleted)
            return registry_sut::expect_status("REG-033", what + " after its DELETE", r, 404);
        if (etag == 2) return registry_sut::expect_status("REG-028", what, r, 428);
        if (etag == 1) return registry_sut::expect_status("REG-029", what, r, 412);
        registry_sut::expect_status("REG-030", what, r, 200);
        auto b = registry_sut::body_of("REG-030", what, r);
        registry_sut::expect_field("REG-030", what + " (revision + 1)", b, "revision", rev + 1);
        registry_sut::expect_field("REG-030", what + " (status unchanged)", b, "status", a.status);
        if (r.header("ETag").value_or("") != quoted(rev + 1))
            throw violation("REG-030", what + ": the new ETag is not the new revision",
                            quoted(rev + 1), r.header("ETag").value_or("(none)"));
        s.revisions[i] = rev + 1;
    }
    void show(std::ostream& os) const override {
        os << "put agent " << agent << " version " << versions[version] << " with "
           << (etag == 0   ? "the current"
               : etag == 1 ? "a stale"
                           : "no")
           << " If-Match";
    }
};

struct set_status : registry_command {
    int agent;
    std::string to;
    explicit set_status(const registry_model& m)
        : agent(pick_agent(m)), to(*rc::gen::elementOf(statuses())) {}
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(agent < static_cast<int>(m.agents.size()));
    }
    void apply(registry_model& m) const override {
        auto& a = m.agents[static_cast<std::size_t>(agent)];
        if (a.deleted || a.status == to || !move_allowed(a.status, to)) return;
        a.status = to;
        a.events.emplace_back("agent_status_changed");
    }
    void run(const registry_model& m, registry_sut& s) const override {
        const auto& a = m.agents[static_cast<std::size_t>(agent)];
        const auto i = static_cast<std::size_t>(agent);
        auto r = s.call(authed(s.ctx, a.identity, "PUT", "/agents/" + s.ids[i] + "/status")
                            .json({{"status", to}}));
        const std::string what = "PUT /agents/{id}/status " + a.status + " -> " + to + " (agent " +
                                 std::to_string(agent) + ")";
        if (a.deleted)
            return registry_sut::expect_status("REG-050", what + " after its DELETE", r, 404);
        if (a.status != to && !move_allowed(a.status, to))
            return registry_sut::expect_status("REG-047", what, r, 409);
        const std::string req = a.status == to ? "REG-048" : "REG-046";
        registry_sut::expect_status(req, what, r, 200);
        auto b = registry_sut::body_of(req, what, r);
        registry_sut::expect_field(req, what, b, "status", to);
        const auto rev = revision_of(req, what, b);
        if (rev < s.revisions[i])
            throw violation(req, what + ": the revision went down",
                            ">= " + std::to_string(s.revisions[i]), std::to_string(rev));
        s.revisions[i] = rev;
    }
    void show(std::ostream& os) const override {
        os << "set status of agent " << agent << " to " << to;
    }
};

struct delete_agent : registry_command {
    int agent;
    explicit delete_agent(const registry_model& m) : agent(pick_agent(m)) {}
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(agent < static_cast<int>(m.agents.size()));
    }
    void apply(registry_model& m) const override {
        auto& a = m.agents[static_cast<std::size_t>(agent)];
        if (a.deleted) return;
        a.deleted = true;
        a.events.emplace_back("agent_deleted");
    }
    void run(const registry_model& m, registry_sut& s) const override {
        const auto& a = m.agents[static_cast<std::size_t>(agent)];
        auto r = s.call(authed(s.ctx, a.identity, "DELETE",
                               "/agents/" + s.ids[static_cast<std::size_t>(agent)]));
        const std::string what = "DELETE /agents/{id} (agent " + std::to_string(agent) + ")";
        registry_sut::expect_status("REG-034", a.deleted ? what + " a second time" : what, r,
                                    a.deleted ? 404 : 204);
    }
    void show(std::ostream& os) const override { os << "delete agent " << agent; }
};

/// Walks the case's agents with the capability filter (and sometimes a status filter), a page
/// of `limit` at a time: exactly the live ones, in creation order, each once.
struct list_agents : registry_command {
    int limit;
    std::optional<std::string> status;
    explicit list_agents(const registry_model&) : limit(choose(1, 6)) {
        if (*rc::gen::arbitrary<bool>()) status = *rc::gen::elementOf(statuses());
    }
    void run(const registry_model& m, registry_sut& s) const override {
        std::vector<std::string> want;
        for (std::size_t i = 0; i < m.agents.size(); ++i)
            if (!m.agents[i].deleted && (!status || m.agents[i].status == *status))
                want.push_back(s.ids[i]);
        const std::string req = status ? "REG-040" : "REG-041";
        std::vector<std::string> got;
        std::string base = "/agents?capability=" + url_encode(s.prefix) +
                           "&limit=" + std::to_string(limit) +
                           (status ? "&status=" + *status : std::string());
        std::string target = base;
        for (int page = 0; page < 200; ++page) {
            auto r = s.call(authed(s.ctx, "viewer", "GET", target));
            registry_sut::expect_status("REG-035", "GET " + target, r, 200);
            auto b = registry_sut::body_of("REG-035", "GET " + target, r);
            if (!b.contains("items") || !b["items"].is_array())
                throw violation("REG-035", "GET " + target + ": no \"items\" array", "items",
                                b.dump());
            for (const auto& it : b["items"])
                got.push_back(it.value("id", std::string("?")));
            if (!b.contains("next_cursor") || b["next_cursor"].is_null()) break;
            target = base + "&cursor=" + url_encode(b["next_cursor"].get<std::string>());
        }
        if (got != want) {
            auto show_ids = [&](const std::vector<std::string>& v) {
                std::string out;
                for (const auto& id : v) {
                    auto it = std::find(s.ids.begin(), s.ids.end(), id);
                    out += (out.empty() ? "" : ", ") +
                           (it == s.ids.end() ? id : "agent " + std::to_string(it - s.ids.begin()));
                }
                return "[" + out + "]";
            };
            throw violation(req == "REG-040" ? req : "REG-042",
                            "walking GET " + base +
                                " page by page: not exactly the live agents, in creation order",
                            show_ids(want), show_ids(got));
        }
    }
    void show(std::ostream& os) const override {
        os << "list the case's agents, " << limit << " a page"
           << (status ? ", status " + *status : "");
    }
};

/// POST /agents with an Idempotency-Key: the first creates, the same body again replays the
/// first answer, another body is refused.
struct idempotent_create : registry_command {
    int key;
    bool same;
    int slot;
    int version;
    explicit idempotent_create(const registry_model& m)
        : key(choose(0, key_slots)), same(*rc::gen::arbitrary<bool>()),
          slot(choose(0, name_slots)), version(choose(0, 3)) {
        RC_PRE(m.keys.count(key) > 0 || !m.slot_ever_used(slot));
    }
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(m.keys.count(key) > 0 || !m.slot_ever_used(slot));
    }
    void apply(registry_model& m) const override {
        if (m.keys.count(key)) return;
        m.keys[key] = {static_cast<int>(m.agents.size()), slot, version};
        m.agents.push_back(
            {slot, versions[version], "operator", "registered", false, {"agent_registered"}});
    }
    void run(const registry_model& m, registry_sut& s) const override {
        auto it = m.keys.find(key);
        const bool first = it == m.keys.end();
        json b = first ? s.body(slot, versions[version])
                       : s.body(it->second.slot,
                                versions[same ? it->second.version : (it->second.version + 1) % 3]);
        auto r = s.call(authed(s.ctx, "operator", "POST", "/agents")
                            .json(b)
                            .with("Idempotency-Key", s.key(key)));
        const std::string what = "POST /agents with Idempotency-Key k" + std::to_string(key);
        if (first) {
            s.remember_created(r);
            registry_sut::expect_status("REG-020", what + " (first use)", r, 201);
            auto body = registry_sut::body_of("REG-020", what, r);
            s.first_answers[key] = body;
            return;
        }
        if (!same) return registry_sut::expect_status("REG-052", what + ", another body,", r, 422);
        registry_sut::expect_status("REG-051", what + ", the same body again,", r, 201);
        auto body = registry_sut::body_of("REG-051", what, r);
        if (body != s.first_answers[key])
            throw violation("REG-051", what + ": the replay's body differs from the first answer",
                            s.first_answers[key].dump(), body.dump());
        if (lower(r.header("Idempotent-Replayed").value_or("")) != "true")
            throw violation("REG-051", what + ": no Idempotent-Replayed: true", "true",
                            r.header("Idempotent-Replayed").value_or("(none)"));
    }
    void show(std::ostream& os) const override {
        os << "create with Idempotency-Key k" << key << " (if its first use: name n" << slot
           << " version " << versions[version] << "; else the " << (same ? "same" : "other")
           << " body as its first)";
    }
};

/// The event log holds, for each of the case's agents, exactly the events its changes
/// emitted, in order (where the target declares `events`).
struct read_events : registry_command {
    int agent;
    explicit read_events(const registry_model& m) : agent(pick_agent(m)) {}
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(agent < static_cast<int>(m.agents.size()));
    }
    void run(const registry_model& m, registry_sut& s) const override {
        if (!s.events) return;
        const auto& a = m.agents[static_cast<std::size_t>(agent)];
        const auto& id = s.ids[static_cast<std::size_t>(agent)];
        std::vector<std::string> got;
        long long after = 0;
        long long last_seq = 0;
        for (int page = 0; page < 50; ++page) {
            const std::string target =
                "/events?agent_id=" + id + "&limit=100&after=" + std::to_string(after);
            auto r = s.call(authed(s.ctx, "viewer", "GET", target));
            registry_sut::expect_status("EVT-006", "GET " + target, r, 200);
            auto b = registry_sut::body_of("EVT-006", "GET " + target, r);
            if (!b.contains("items") || !b["items"].is_array() || b["items"].empty()) break;
            for (const auto& e : b["items"]) {
                const auto seq = e.value("seq", 0LL);
                if (seq <= last_seq)
                    throw violation("EVT-002",
                                    "GET /events for agent " + std::to_string(agent) +
                                        ": seq does not grow",
                                    "> " + std::to_string(last_seq), std::to_string(seq));
                last_seq = seq;
                got.push_back(e.value("type", std::string("?")));
            }
            after = last_seq;
        }
        if (got != a.events) {
            auto join = [](const std::vector<std::string>& v) {
                std::string o;
                for (const auto& t : v)
                    o += (o.empty() ? "" : ", ") + t;
                return "[" + o + "]";
            };
            throw violation("EVT-008",
                            "the events of agent " + std::to_string(agent) +
                                " are not one per acknowledged change, in order",
                            join(a.events), join(got));
        }
    }
    void show(std::ostream& os) const override { os << "read the events of agent " << agent; }
};

/// POST /events with a custom type about one of the case's live agents: answered 201 with the
/// event, which then belongs in that agent's part of the log (where `events` is covered).
struct publish_event : registry_command {
    int agent;
    int n;
    explicit publish_event(const registry_model& m)
        : agent(pick_agent(m)), n(choose(0, 1000)) {
        RC_PRE(!m.agents[static_cast<std::size_t>(agent)].deleted);
    }
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(agent < static_cast<int>(m.agents.size()));
        RC_PRE(!m.agents[static_cast<std::size_t>(agent)].deleted);
    }
    void apply(registry_model& m) const override {
        m.agents[static_cast<std::size_t>(agent)].events.emplace_back("x_property_note");
    }
    void run(const registry_model&, registry_sut& s) const override {
        if (!s.events) return;
        const auto& id = s.ids[static_cast<std::size_t>(agent)];
        const json data{{"n", n}};
        auto r = s.call(authed(s.ctx, "operator", "POST", "/events")
                            .json({{"type", "x_property_note"}, {"agent_id", id}, {"data", data}}));
        const std::string what = "POST /events x_property_note (agent " + std::to_string(agent) + ")";
        registry_sut::expect_status("EVT-007", what, r, 201);
        auto b = registry_sut::body_of("EVT-007", what, r);
        registry_sut::expect_field("EVT-007", what, b, "type", "x_property_note");
        registry_sut::expect_field("EVT-007", what, b, "agent_id", id);
        registry_sut::expect_field("EVT-007", what, b, "data", data);
        if (!b.contains("seq") || !b["seq"].is_number_integer() || b["seq"].get<long long>() < 1)
            throw violation("EVT-001", what + ": no integer \"seq\" >= 1", "seq >= 1", b.dump());
    }
    void show(std::ostream& os) const override {
        os << "publish x_property_note {\"n\": " << n << "} about agent " << agent;
    }
};

// ---- tasks (§6) ----------------------------------------------------------------------------

const std::set<std::string>& task_statuses() {
    static const std::set<std::string> all{"queued", "running", "succeeded", "dead_lettered"};
    return all;
}
bool task_final(const std::string& status) {
    return status == "succeeded" || status == "dead_lettered";
}

/// POST /tasks: an echo, a noop, a task that always fails, a flaky one, or one the protocol
/// refuses (unknown type, max_attempts out of 1-10).
struct enqueue_task : registry_command {
    int kind;  ///< 0 echo, 1 noop, 2 fail, 3 flaky, 4 unknown type, 5 max_attempts out of range
    int max_attempts;
    int n;
    explicit enqueue_task(const registry_model&)
        : kind(choose(0, 6)), max_attempts(choose(1, 4)),
          n(choose(0, 1000)) {}
    [[nodiscard]] bool valid() const { return kind < 4; }
    [[nodiscard]] json body() const {
        switch (kind) {
        case 0: return {{"type", "echo"}, {"payload", {{"n", n}, {"s", "échó"}}}};
        case 1: return {{"type", "noop"}, {"payload", json::object()}};
        case 2: return {{"type", "fail"}, {"payload", json::object()}, {"max_attempts", max_attempts}};
        case 3:
            return {{"type", "flaky"},
                    {"payload", {{"fail_times", max_attempts - 1}}},
                    {"max_attempts", max_attempts}};
        case 4: return {{"type", "x_no_such_type"}, {"payload", json::object()}};
        default:
            return {{"type", "noop"},
                    {"payload", json::object()},
                    {"max_attempts", n % 2 == 0 ? 0 : 11}};
        }
    }
    void apply(registry_model& m) const override {
        if (!valid()) return;
        const auto b = body();
        model_task t;
        t.type = b["type"];
        t.payload = b["payload"];
        t.max_attempts = b.value("max_attempts", 3);
        t.final_status = kind == 2 ? "dead_lettered" : "succeeded";
        t.attempts = kind == 2 ? max_attempts : kind == 3 ? max_attempts : 1;
        m.tasks.push_back(std::move(t));
    }
    void run(const registry_model& m, registry_sut& s) const override {
        if (!s.tasks) return;
        const auto b = body();
        auto r = s.call(authed(s.ctx, "operator", "POST", "/tasks").json(b));
        const std::string what = "POST /tasks " + b.dump();
        if (!valid())
            return registry_sut::expect_status(kind == 4 ? "TASK-003" : "TASK-002", what, r, 422);
        registry_sut::expect_status("TASK-001", what, r, 202);
        auto t = registry_sut::body_of("TASK-001", what, r);
        if (!t.contains("id") || !t["id"].is_string())
            throw violation("TASK-001", what + ": no \"id\"", "an id", t.dump());
        const std::string id = t["id"];
        if (s.task_ids.size() != m.tasks.size())
            throw violation("TASK-001", what + ": the case lost count of its tasks", "", "");
        s.task_ids.push_back(id);
        s.task_seen.push_back(t);
        if (r.header("Location").value_or("") != "/tasks/" + id)
            throw violation("TASK-001", what + ": Location is not /tasks/{id}", "/tasks/" + id,
                            r.header("Location").value_or("(none)"));
        registry_sut::expect_field("TASK-005", what, t, "type", b["type"]);
        registry_sut::expect_field("TASK-005", what, t, "payload", b["payload"]);
        registry_sut::expect_field("TASK-002", what + " (max_attempts, 3 when not given)", t,
                                   "max_attempts", b.value("max_attempts", 3));
        if (!t.contains("status") || !t["status"].is_string() ||
            !task_statuses().count(t["status"].get<std::string>()))
            throw violation("TASK-005", what + ": \"status\" is not a task status",
                            "queued|running|succeeded|dead_lettered", t.value("status", json()).dump());
    }
    void show(std::ostream& os) const override { os << "submit task " << body().dump(); }
};

int pick_task(const registry_model& m) {
    RC_PRE(!m.tasks.empty());
    return choose(0, static_cast<int>(m.tasks.size()));
}

/// Checks one read of a task against the model and against the previous read: the fields
/// the submitter chose never change, attempts never go down nor pass max_attempts, a final
/// status is the one the task's type must reach and never changes again.
void check_task_read(registry_sut& s, const registry_model& m, int task, const json& t,
                     const std::string& what) {
    const auto i = static_cast<std::size_t>(task);
    const auto& want = m.tasks[i];
    registry_sut::expect_field("TASK-010", what, t, "id", s.task_ids[i]);
    registry_sut::expect_field("TASK-005", what, t, "type", want.type);
    registry_sut::expect_field("TASK-005", what, t, "payload", want.payload);
    registry_sut::expect_field("TASK-005", what, t, "max_attempts", want.max_attempts);
    const std::string status = t.value("status", std::string("?"));
    if (!task_statuses().count(status))
        throw violation("TASK-005", what + ": \"status\" is not a task status",
                        "queued|running|succeeded|dead_lettered", status);
    const auto attempts = t.value("attempts", -1LL);
    const auto& before = s.task_seen[i];
    const auto attempts_before = before.value("attempts", 0LL);
    const std::string status_before = before.value("status", std::string());
    if (attempts < attempts_before || attempts > want.max_attempts)
        throw violation("TASK-009", what + ": attempts went down or past max_attempts",
                        std::to_string(attempts_before) + ".." + std::to_string(want.max_attempts),
                        std::to_string(attempts));
    if (task_final(status_before) && status != status_before)
        throw violation("TASK-010", what + ": a finished task's status changed",
                        status_before, status);
    if (task_final(status)) {
        const std::string req = want.final_status == "dead_lettered" ? "TASK-009" : "TASK-006";
        if (status != want.final_status)
            throw violation(req, what + ": a " + want.type + " task ended " + status,
                            want.final_status, t.dump());
        if (attempts != want.attempts)
            throw violation(req,
                            what + ": a " + want.type + " task ended after " +
                                std::to_string(attempts) + " attempts",
                            std::to_string(want.attempts), t.dump());
        if (want.type == "echo" && (!t.contains("result") || t["result"] != want.payload))
            throw violation("TASK-006", what + ": an echo task's result is not its payload",
                            want.payload.dump(), t.value("result", json()).dump());
    }
    s.task_seen[i] = t;
}

struct get_task : registry_command {
    int task;
    explicit get_task(const registry_model& m) : task(pick_task(m)) {}
    void checkPreconditions(const registry_model& m) const override {
        RC_PRE(task < static_cast<int>(m.tasks.size()));
    }
    void run(const registry_model& m, registry_sut& s) const override {
        if (!s.tasks) return;
        const std::string what = "GET /tasks/{id} (task " + std::to_string(task) + ")";
        auto r = s.call(authed(s.ctx, "viewer", "GET",
                               "/tasks/" + s.task_ids[static_cast<std::size_t>(task)]));
        registry_sut::expect_status("TASK-010", what, r, 200);
        check_task_read(s, m, task, registry_sut::body_of("TASK-010", what, r), what);
    }
    void show(std::ostream& os) const override { os << "get task " << task; }
};

/// Reads every task of the case until each has finished (within the declared backoff's
/// bound): each ends as its type must, after the attempts its type needs.
struct await_tasks : registry_command {
    explicit await_tasks(const registry_model& m) { RC_PRE(!m.tasks.empty()); }
    void run(const registry_model& m, registry_sut& s) const override {
        if (!s.tasks) return;
        const auto base = declared(s.ctx, "tasks", "retry_base_ms", 1000);
        const auto cap = declared(s.ctx, "tasks", "retry_cap_ms", 30000);
        long long budget_ms = 5000;
        for (const auto& t : m.tasks)
            for (int a = 1; a < t.max_attempts; ++a)
                budget_ms += std::min(cap, base << std::min(a - 1, 20));
        const auto deadline = std::chrono::steady_clock::now() +
                              s.ctx.scaled(std::chrono::milliseconds(budget_ms));
        for (std::size_t i = 0; i < m.tasks.size(); ++i) {
            const std::string what = "GET /tasks/{id} (task " + std::to_string(i) + ", awaited)";
            for (;;) {
                auto r = s.call(authed(s.ctx, "viewer", "GET", "/tasks/" + s.task_ids[i]));
                registry_sut::expect_status("TASK-010", what, r, 200);
                auto t = registry_sut::body_of("TASK-010", what, r);
                check_task_read(s, m, static_cast<int>(i), t, what);
                if (task_final(t.value("status", std::string()))) break;
                if (std::chrono::steady_clock::now() > deadline)
                    throw violation(m.tasks[i].final_status == "dead_lettered" ? "TASK-009"
                                                                               : "TASK-006",
                                    what + ": not finished within " + std::to_string(budget_ms) +
                                        " ms (the declared backoff's bound plus 5 s)",
                                    m.tasks[i].final_status, t.dump());
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }
    void show(std::ostream& os) const override { os << "wait for every task to finish"; }
};

using registry_commands = rc::state::Commands<registry_command>;

/// Deletes a case's agents (as admin), ignoring what is answered.
void delete_all(registry_sut& s) {
    auto all = s.ids;
    all.insert(all.end(), s.strays.begin(), s.strays.end());
    for (const auto& id : all)
        if (!id.empty()) {
            try {
                s.call(authed(s.ctx, "admin", "DELETE", "/agents/" + id));
            } catch (const std::exception&) {
            }
        }
}

/// Waits (bounded) until each task a case submitted has finished, so that no case leaves
/// work in the agent's queue for the checks after it (TASK-004 fills the queue, alone).
void drain_tasks(registry_sut& s) {
    const auto deadline = std::chrono::steady_clock::now() +
                          s.ctx.scaled(std::chrono::milliseconds(15000));
    for (const auto& id : s.task_ids) {
        while (std::chrono::steady_clock::now() < deadline) {
            try {
                auto r = s.call(authed(s.ctx, "viewer", "GET", "/tasks/" + id));
                auto j = r.json();
                if (r.status != 200 || !j || !j->is_object() ||
                    task_final(j->value("status", std::string())))
                    break;
            } catch (const std::exception&) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

/// A listener that prints nothing (agentcheck writes its own report).
struct quiet_listener : rc::detail::TestListener {
    void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
    void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
    void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

/// RapidCheck keeps the generation in progress in process-wide state: two properties must not
/// run at once (the runner runs checks in parallel).
std::mutex& rapidcheck_mutex() {
    static std::mutex m;
    return m;
}

/// RapidCheck prints its configuration to stderr the first time it reads it; agentcheck
/// reports the seed itself.
void load_rapidcheck_configuration_quietly() {
    static std::once_flag once;
    std::call_once(once, [] {
        auto* previous = std::cerr.rdbuf(nullptr);
        (void)rc::detail::configuration();
        std::cerr.rdbuf(previous);
    });
}

std::string numbered_curls(context& ctx, const std::vector<request>& sent) {
    std::ostringstream out;
    for (std::size_t i = 0; i < sent.size(); ++i)
        out << (i + 1) << ". " << client::to_curl(ctx.target(), sent[i]) << "\n";
    return out.str();
}

/// What a model check covers: §2 alone, §2 with §4's log and custom events, or §6's tasks.
enum class coverage { registry, events, tasks };

registry_sut make_sut(context& ctx, coverage what, std::function<response(const request&)> send) {
    registry_sut s(ctx, std::move(send), ctx.unique_name("pr"));
    s.events = what == coverage::events;
    s.tasks = what == coverage::tasks;
    return s;
}

rc::Gen<registry_commands> command_sequences(coverage what) {
    using namespace rc::state::gen;
    // Weights by repetition: few agents, many changes to each; few tasks, read often.
    switch (what) {
    case coverage::registry:
        return commands(registry_model{},
                        execOneOfWithArgs<create_agent, create_invalid, get_agent, get_agent,
                                          put_agent, put_agent, put_agent, set_status, set_status,
                                          delete_agent, list_agents, idempotent_create>());
    case coverage::events:
        return commands(registry_model{},
                        execOneOfWithArgs<create_agent, get_agent, put_agent, put_agent,
                                          set_status, set_status, delete_agent, idempotent_create,
                                          publish_event, publish_event, read_events,
                                          read_events>());
    case coverage::tasks:
        break;
    }
    return commands(registry_model{},
                    execOneOfWithArgs<enqueue_task, enqueue_task, enqueue_task, get_task,
                                      get_task, await_tasks>());
}

void registry_model_check(context& ctx, coverage what) {
    client::http_client search(ctx.target(), ctx.scaled(std::chrono::milliseconds(10000)));
    const std::uint64_t seed = ctx.rng()();
    std::mutex last_mutex;
    registry_commands last_failing;
    std::string last_prefix;
    std::size_t cases = 0;
    std::size_t steps_run = 0;

    auto property = [&] {
        const auto cmds = *command_sequences(what);
        // (A 429 from the agent's rate limit is sent again after Retry-After: a model check is
        // not about the limits.)
        auto s = make_sut(ctx, what, [&](const request& r) {
            return client::send_honouring_rate_limits(search, r);
        });
        ++cases;
        steps_run += cmds.size();
        try {
            rc::state::runAll(cmds, registry_model{}, s);
        } catch (...) {
            delete_all(s);
            drain_tasks(s);
            std::lock_guard lock(last_mutex);
            last_failing = cmds;
            throw;
        }
        delete_all(s);
        drain_tasks(s);
    };

    std::lock_guard rapidcheck_lock(rapidcheck_mutex());
    load_rapidcheck_configuration_quietly();
    rc::detail::TestParams params;
    params.seed = seed;
    // Tasks take the agent's time (retries wait for the backoff): a quarter of the cases.
    params.maxSuccess = static_cast<int>(what == coverage::tasks
                                             ? std::max<std::size_t>(1, ctx.property_runs() / 4)
                                             : ctx.property_runs());
    params.maxSize = what == coverage::tasks ? 30 : 80;
    params.maxDiscardRatio = 20;
    quiet_listener listener;
    rc::detail::TestMetadata metadata;
    metadata.id = what == coverage::tasks ? "task-model" : "registry-model";
    const auto result =
        rc::detail::checkProperty(rc::detail::toProperty(property), metadata, params, listener);
    ctx.note("RapidCheck seed " + std::to_string(seed) +
             " (from agentcheck --seed and the check id), " + std::to_string(cases) +
             " sequences run, " + std::to_string(steps_run) + " steps in all");

    rc::detail::FailureResult failure;
    if (!result.match(failure)) {
        rc::detail::GaveUpResult gave_up;
        rc::detail::Error error;
        if (result.match(gave_up)) ctx.note("gave up: " + gave_up.description);
        if (result.match(error)) ctx.fail("RapidCheck failed: " + error.description);
        return;
    }

    // Shrunk: run the smallest failing sequence once more, through the recorded connection.
    std::ostringstream steps;
    int n = 0;
    for (const auto& c : last_failing) {
        steps << "  " << ++n << ". ";
        c->show(steps);
        steps << "\n";
    }
    std::vector<request> sent;
    auto again = make_sut(ctx, what, [&](const request& r) {
        sent.push_back(r);
        return ctx.send(r);
    });
    try {
        rc::state::runAll(last_failing, registry_model{}, again);
    } catch (const violation& v) {
        delete_all(again);
        ctx.note("The shrunk sequence (" + std::to_string(last_failing.size()) + " steps):\n" +
                 steps.str());
        ctx.note(std::string("As curl commands") +
                 (again.ids.empty() && again.strays.empty() ? "" : " (the last delete what the sequence created)") +
                 ":\n" + numbered_curls(ctx, sent));
        check_failed f("after " + std::to_string(failure.numSuccess) +
                           " passing sequences, one failed; shrunk to " +
                           std::to_string(last_failing.size()) +
                           " steps, it failed again: " + v.what(),
                       v.expected, v.actual);
        f.requirement = v.requirement;
        drain_tasks(again);
        throw f;
    } catch (const std::exception& e) {
        delete_all(again);
        ctx.note("The shrunk sequence (" + std::to_string(last_failing.size()) + " steps):\n" +
                 steps.str());
        ctx.note("As curl commands:\n" + numbered_curls(ctx, sent));
        drain_tasks(again);
        ctx.fail(std::string("a shrunk sequence failed again: ") + e.what());
    }
    delete_all(again);
    drain_tasks(again);
    ctx.note("The shrunk sequence (" + std::to_string(last_failing.size()) + " steps):\n" +
             steps.str());
    ctx.fail("a sequence failed (" + failure.description + ") but its shrunk form of " +
             std::to_string(last_failing.size()) +
             " steps passed when run again: the agent's answers depend on more than the "
             "requests (timing, or state left by earlier steps)");
}

// ---- linearizability --------------------------------------------------------------------

void linearizability_check(context& ctx) {
    ctx.mark_concurrent();
    const auto model = lin::agent_model();
    std::mt19937_64& rng = ctx.rng();
    const std::size_t rounds =
        std::max<std::size_t>(1, std::min<std::size_t>(ctx.property_runs() / 20, 10));
    constexpr int keys = 2;
    constexpr int ops_per_client = 25;
    std::size_t total_ops = 0;
    std::size_t unknown_ops = 0;
    for (std::size_t round = 0; round < rounds; ++round) {
        const int clients = 2 + static_cast<int>(rng() % 3); // 2-4
        std::vector<std::string> ids;
        std::vector<std::string> names;
        for (int k = 0; k < keys; ++k) {
            auto a = ctx.create_agent("operator", {{"version", "1.0.0"}});
            ids.push_back(a["id"]);
            names.push_back(a["name"]);
        }
        const auto epoch = std::chrono::steady_clock::now();
        auto now = [&] {
            return std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - epoch)
                .count();
        };
        std::vector<std::vector<lin::operation>> per_client(static_cast<std::size_t>(clients));
        std::vector<std::uint64_t> seeds;
        for (int c = 0; c < clients; ++c)
            seeds.push_back(rng());
        const std::string token = ctx.token("operator");
        std::vector<std::thread> threads;
        for (int c = 0; c < clients; ++c) {
            threads.emplace_back([&, c] {
                std::mt19937_64 r(seeds[static_cast<std::size_t>(c)]);
                client::http_client http(ctx.target(), ctx.scaled(std::chrono::milliseconds(5000)));
                std::map<int, long long> seen_rev; // per key: what this client last saw
                for (int i = 0; i < ops_per_client; ++i) {
                    const int k = static_cast<int>(r() % keys);
                    const auto& id = ids[static_cast<std::size_t>(k)];
                    const int kind = static_cast<int>(r() % 20);
                    lin::operation op;
                    op.client = c;
                    json in{{"key", "agent " + std::to_string(k)}};
                    request req;
                    if (kind < 8) {
                        in["op"] = "get";
                        req = request("GET", "/agents/" + id);
                    } else if (kind < 14) {
                        const long long rev = seen_rev.count(k) ? seen_rev[k] : 1;
                        const std::string version =
                            "1." + std::to_string(c) + "." + std::to_string(i);
                        in["op"] = "put";
                        in["if_match"] = rev;
                        in["version"] = version;
                        req = request("PUT", "/agents/" + id);
                        req.json(
                            {{"name", names[static_cast<std::size_t>(k)]}, {"version", version}});
                        req.with("If-Match", quoted(rev));
                    } else if (kind < 19) {
                        const auto& to = statuses()[r() % statuses().size()];
                        in["op"] = "set_status";
                        in["to"] = to;
                        req = request("PUT", "/agents/" + id + "/status");
                        req.json({{"status", to}});
                    } else {
                        in["op"] = "delete";
                        req = request("DELETE", "/agents/" + id);
                    }
                    req.bearer(token);
                    op.input = in;
                    op.call = now();
                    try {
                        auto resp = http.send(req);
                        op.ret = now();
                        if (resp.status >= 500 || resp.status == 429) {
                            op.unknown = true;
                        } else {
                            json out{{"status", resp.status}};
                            if (auto b = resp.json(); b && b->is_object() && resp.status == 200) {
                                out["rev"] = b->value("revision", -1LL);
                                out["agent_status"] = b->value("status", std::string());
                                out["version"] = b->value("version", std::string());
                                seen_rev[k] = out["rev"];
                            }
                            op.output = out;
                        }
                    } catch (const client::transport_exception&) {
                        op.unknown = true;
                    }
                    per_client[static_cast<std::size_t>(c)].push_back(std::move(op));
                }
            });
        }
        for (auto& t : threads)
            t.join();
        std::vector<lin::operation> history;
        for (auto& v : per_client)
            for (auto& o : v)
                history.push_back(std::move(o));
        total_ops += history.size();
        for (const auto& o : history)
            unknown_ops += o.unknown ? 1 : 0;
        auto result = lin::check(model, history);
        for (const auto& k : result.keys) {
            if (k.result == lin::outcome::undecided)
                ctx.note("round " + std::to_string(round + 1) + ", " + k.key +
                         ": undecided within the search budget (" + std::to_string(k.steps) +
                         " steps)");
            if (k.result != lin::outcome::not_linearizable) continue;
            const auto text = lin::render_witness(model, history, k);
            ctx.figure("Operations on " + k.key + " that have no valid order (round " +
                           std::to_string(round + 1) + ")",
                       lin::witness_svg(model, history, k));
            ctx.fail("concurrent operations from " + std::to_string(clients) +
                         " clients are not linearizable (round " + std::to_string(round + 1) +
                         "):\n" + text,
                     "an order of the operations, each taking effect between its request and its "
                     "response, that §2's rules allow",
                     "none exists for the operations above");
        }
    }
    ctx.note(std::to_string(rounds) + " rounds, " + std::to_string(total_ops) +
             " operations from 2-4 concurrent clients on " + std::to_string(keys) +
             " agents each, " + std::to_string(unknown_ops) +
             " without an answer (indeterminate); every history linearizable");
}

} // namespace

void register_properties(check_registry& registry) {
    registry.add({"REG-PROP.model",
                  {"REG-002", "REG-006", "REG-012", "REG-018", "REG-020", "REG-021", "REG-022",
                   "REG-023", "REG-024", "REG-025", "REG-028", "REG-029", "REG-030", "REG-033",
                   "REG-034", "REG-035", "REG-040", "REG-041", "REG-042", "REG-046", "REG-047",
                   "REG-048", "REG-050", "REG-051", "REG-052"},
                  layer::property,
                  "generated sequences of creates, reads, conditional updates, status moves, "
                  "deletes, list walks and idempotent replays agree with the protocol's model "
                  "after every step",
                  [](context& ctx) { registry_model_check(ctx, coverage::registry); }});
    registry.add({"EVT-PROP.model",
                  {"EVT-001", "EVT-002", "EVT-006", "EVT-007", "EVT-008"},
                  layer::property,
                  "after generated sequences of registry operations and custom events, each "
                  "agent's events are exactly one per acknowledged change or publication, in "
                  "order",
                  [](context& ctx) { registry_model_check(ctx, coverage::events); }});
    registry.add({"TASK-PROP.model",
                  {"TASK-001", "TASK-002", "TASK-003", "TASK-005", "TASK-006", "TASK-009",
                   "TASK-010"},
                  layer::property,
                  "generated sequences of valid and invalid task submissions and reads: every "
                  "read agrees with the submitted task and with the reads before it, and every "
                  "task ends as its type requires after the attempts it needs",
                  [](context& ctx) { registry_model_check(ctx, coverage::tasks); }});
    registry.add({"REG-057.linearizable",
                  {"REG-057"},
                  layer::property,
                  "reads, conditional updates, status moves and deletes from 2-4 concurrent "
                  "clients on the same agents are linearizable",
                  linearizability_check});
}

} // namespace agentcheck
