// §9 Lifecycle with the agent's process owned by the harness (`agentcheck run --launch`):
// not ready while starting, SIGTERM drains, state and cursors across a restart, and crash
// durability counted as Jepsen counts it (acknowledged, refused or unknown operations; lost,
// phantom, duplicate, gap). Without --launch these checks are not applicable (the runner
// skips them with the reason) and never run.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "conformance/client/ws.hpp"
#include "conformance/harness/process.hpp"
#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// Fails the check on one of its requirements (the others stay unaffected).
[[noreturn]] void fail_on(std::string requirement, std::string message, std::string expected = {},
                          std::string actual = {}) {
    check_failed f(std::move(message), std::move(expected), std::move(actual));
    f.requirement = std::move(requirement);
    throw f;
}

/// The drain timeout the agent declares (limits.drain_timeout_ms), else 30 s.
std::chrono::milliseconds drain_timeout(context& ctx) {
    constexpr long long fallback_ms = 30000;
    return std::chrono::milliseconds(declared(ctx, "limits", "drain_timeout_ms", fallback_ms));
}

std::string ms_text(std::chrono::microseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

/// The launched agent. These checks declare needs_process: the runner reports them as not
/// applicable without --launch, so they never run without one.
managed_process& owned(context& ctx) {
    auto* p = ctx.process();
    if (p == nullptr) throw std::logic_error("a needs_process check ran without a process");
    return *p;
}

/// Starts the agent and waits until /readyz answers 200; fails (on `requirement`) with the end
/// of its log when it does not come up.
ready_outcome start_again(context& ctx, managed_process& p, const std::string& requirement) {
    if (p.running()) p.kill_now();
    p.start();
    auto r = p.wait_ready(ctx.target(), ctx.scaled(30s));
    if (!r.ready)
        fail_on(requirement, "the agent did not come back after a restart: " + r.why,
                "GET /readyz 200 after the restart", p.log_tail(800));
    return r;
}

/// An earlier check may have left the agent stopped: start it.
void ensure_running(context& ctx, managed_process& p) {
    if (p.running()) return;
    p.start();
    if (auto r = p.wait_ready(ctx.target(), ctx.scaled(30s)); !r.ready)
        ctx.fail("the launched agent is not running and does not start again: " + r.why, {},
                 p.log_tail(800));
}

/// SIGTERM, then waits for the exit (SIGKILL after `limit`); how the process ended.
std::optional<exit_info> stop_gracefully(managed_process& p, std::chrono::milliseconds limit) {
    p.signal(SIGTERM);
    if (auto exit = p.wait_exit(limit)) return exit;
    return p.kill_now();
}

/// GET as `identity` on a client of the check's own (bookkeeping reads are not evidence one by
/// one); a 429 is waited out.
response get_quiet(client::http_client& http, context& ctx, std::string_view identity,
                   const std::string& path) {
    request r("GET", path);
    r.bearer(ctx.token(identity));
    return client::send_honouring_rate_limits(http, r);
}

/// Every item of a {"items", "next_after"} log (/events, /audit) after `after`, oldest first.
std::vector<json> read_log(client::http_client& http, context& ctx, const std::string& path,
                           long long after, const std::string& requirement) {
    const long long limit = std::min<long long>(
        500, std::max<long long>(1, declared(ctx, "limits", "event_page_limit_max", 100)));
    std::vector<json> all;
    for (int pages = 0; pages < 100000; ++pages) {
        const auto target =
            path + "?after=" + std::to_string(after) + "&limit=" + std::to_string(limit);
        const auto r = get_quiet(http, ctx, "admin", target);
        const auto j = r.json();
        if (r.status != 200 || !j || !j->is_object() || !j->contains("items") ||
            !(*j)["items"].is_array())
            fail_on(requirement, "GET " + target + " did not answer a page", "200 {\"items\"}",
                    describe(r));
        for (const auto& e : (*j)["items"]) {
            if (!e.contains("seq") || !e["seq"].is_number_integer())
                fail_on(requirement, "an item of GET " + path + " has no integer seq", "seq",
                        e.dump());
            after = e["seq"].get<long long>();
            all.push_back(e);
        }
        if ((*j)["items"].empty()) return all;
    }
    return all;
}

/// The seq of the last item of a log (0 when empty).
long long last_seq(client::http_client& http, context& ctx, const std::string& path,
                   const std::string& requirement) {
    const auto items = read_log(http, ctx, path, 0, requirement);
    return items.empty() ? 0 : items.back()["seq"].get<long long>();
}

/// Every agent, walking GET /agents as admin.
std::vector<json> all_agents(client::http_client& http, context& ctx,
                             const std::string& requirement) {
    std::vector<json> all;
    std::optional<std::string> cursor;
    for (int pages = 0; pages < 100000; ++pages) {
        std::string target =
            "/agents?limit=" + std::to_string(std::clamp<long long>(
                                   declared(ctx, "limits", "page_limit_max", 100), 1, 500));
        if (cursor) target += "&cursor=" + url_encode(*cursor);
        const auto r = get_quiet(http, ctx, "admin", target);
        const auto j = r.json();
        if (r.status != 200 || !j || !j->contains("items") || !(*j)["items"].is_array())
            fail_on(requirement, "GET " + target + " did not answer a page", "200 {\"items\"}",
                    describe(r));
        for (const auto& a : (*j)["items"])
            all.push_back(a);
        if (!j->contains("next_cursor") || !(*j)["next_cursor"].is_string()) break;
        cursor = (*j)["next_cursor"].get<std::string>();
    }
    return all;
}

// --- crash durability -----------------------------------------------------------------------

/// What the client saw of one operation (Jepsen: ok, fail, info).
enum class outcome { acknowledged, refused, unknown };

const char* to_string(outcome o) {
    switch (o) {
    case outcome::acknowledged:
        return "acknowledged";
    case outcome::refused:
        return "refused";
    case outcome::unknown:
        return "unknown";
    }
    return "?";
}

enum class op_kind { create, status, task, event };

/// One operation a crash-cycle client sent.
struct operation {
    op_kind kind = op_kind::create;
    outcome result = outcome::unknown;
    int cycle = 0;
    int status = 0;         ///< HTTP status (0: none)
    std::string request_id; ///< X-Request-ID sent
    std::string key;        ///< Idempotency-Key (create, task) or the event's marker
    std::string name;       ///< create: the agent's name
    std::string agent_id;   ///< create: from the answer; status: the agent moved
    std::string new_status; ///< status
    std::string task_id;    ///< task: from the answer
    std::string task_type;  ///< task
    json body;              ///< what was sent
};

/// An agent a client created and moves: its acknowledged statuses, in order, and whether an
/// operation on it ended unknown (then nothing more is sent to it).
struct owned_agent {
    std::string id;
    std::vector<std::string> statuses{"registered"};
    std::optional<std::string> unknown_move; ///< the target of an unknown move
};

/// Allowed next statuses that cycle (registered → active ⇄ inactive).
std::string next_status(const std::string& s) {
    return s == "active" ? "inactive" : "active";
}

/// Totals over the cycles.
struct crash_totals {
    std::size_t sent = 0, acknowledged = 0, refused = 0, unknown = 0;
    std::size_t lost = 0, phantoms = 0, duplicates = 0, gaps = 0, partial = 0;
    std::size_t event_mismatches = 0, audit_mismatches = 0, tasks_lost = 0, tasks_unfinished = 0;
    std::vector<std::string> problems; ///< the first few, in words
    std::set<std::string> seen;        ///< every problem once (each cycle verifies all so far)
    void problem(std::size_t& counter, std::string what) {
        if (!seen.insert(what).second) return;
        ++counter;
        if (problems.size() < 12) problems.push_back(std::move(what));
    }
};

/// The crash workload's shared record. Thread-safe.
class crash_history {
public:
    void add(operation op) {
        std::lock_guard lock(mutex_);
        ops_.push_back(std::move(op));
    }
    std::vector<operation> all() const {
        std::lock_guard lock(mutex_);
        return ops_;
    }
    void replace(std::vector<operation> ops) {
        std::lock_guard lock(mutex_);
        ops_ = std::move(ops);
    }

private:
    mutable std::mutex mutex_;
    std::vector<operation> ops_;
};

/// The answer to a request written on a raw connection: the response, or the transport error
/// and whether any byte of the request was written (a connect failure sends nothing).
struct sent_result {
    std::optional<response> resp;
    bool written = false;
};

sent_result send_once(std::unique_ptr<client::connection>& conn, context& ctx, const request& req) {
    sent_result out;
    try {
        if (!conn) conn = std::make_unique<client::connection>(ctx.target(), ctx.scaled(5s));
    } catch (const client::transport_exception&) {
        return out; // nothing was sent
    }
    try {
        conn->write_raw(conn->serialize(req));
        out.written = true;
        out.resp = conn->read_response();
        const auto c = out.resp->header("Connection");
        if (c && lower(*c) == "close") conn.reset();
    } catch (const client::transport_exception&) {
        conn.reset();
    }
    return out;
}

/// One workload client of a crash cycle: sends operations until `stop`, records each.
class crash_client {
public:
    crash_client(context& ctx, crash_history& history, int index, int cycle, std::uint64_t seed,
                 std::vector<owned_agent>& agents, const std::string& tag, std::string token)
        : ctx_(ctx), history_(history), index_(index), cycle_(cycle), rng_(seed), agents_(agents),
          tag_(tag), operator_token_(std::move(token)) {}

    void run(const std::atomic<bool>& stop) {
        const bool tasks = ctx_.has_feature("tasks");
        const bool events = ctx_.has_feature("events");
        for (int n = 0; !stop.load(); ++n) {
            const auto roll = std::uniform_int_distribution<int>(0, 99)(rng_);
            const auto movable = std::count_if(agents_.begin(), agents_.end(),
                                               [](const auto& a) { return !a.unknown_move; });
            operation op;
            // 45% creates, 35% status moves, 10% tasks, 10% events.
            if (roll < 45 || (roll < 80 && movable == 0) || (roll >= 80 && roll < 90 && !tasks) ||
                (roll >= 90 && !events)) {
                op = create(n);
            } else if (roll < 80) {
                op = move(n);
            } else if (roll < 90) {
                op = task(n);
            } else {
                op = event(n);
            }
            if (op.request_id.empty()) continue; // not sent: the agent was down
            history_.add(std::move(op));
        }
    }

private:
    std::string request_id(int n) const {
        return "lc-" + tag_ + "-" + std::to_string(cycle_) + "-" + std::to_string(index_) + "-" +
               std::to_string(n);
    }
    /// Sends; fills the operation's outcome. Returns false when nothing was sent.
    bool send(operation& op, request req, std::initializer_list<int> ok) {
        req.bearer(operator_token_);
        req.with("X-Request-ID", op.request_id);
        const auto r = send_once(conn_, ctx_, req);
        if (!r.written) return false;
        if (!r.resp) {
            op.result = outcome::unknown;
            return true;
        }
        op.status = r.resp->status;
        if (std::find(ok.begin(), ok.end(), op.status) != ok.end())
            op.result = outcome::acknowledged;
        else if (op.status >= 500 || op.status == 429)
            op.result = op.status == 429 || op.status == 503 ? outcome::refused : outcome::unknown;
        else
            op.result = outcome::refused;
        last_ = r.resp;
        return true;
    }

    /// A new operation of `kind`, numbered n; its request ID is also its key (the key of a
    /// create or a task is its Idempotency-Key; an event carries it in its data).
    operation begin(op_kind kind, int n) const {
        operation op;
        op.kind = kind;
        op.cycle = cycle_;
        op.request_id = request_id(n);
        op.key = op.request_id;
        return op;
    }
    /// POSTs op.body to path, with op.key as its Idempotency-Key when `idempotent`; `ok` is the
    /// status that acknowledges it. False when nothing was sent.
    bool post(operation& op, const std::string& path, int ok, bool idempotent) {
        request req("POST", path);
        req.json(op.body);
        if (idempotent) req.with("Idempotency-Key", op.key);
        return send(op, req, {ok});
    }
    /// The "id" of the last answer ("" when it has none).
    std::string answered_id() const {
        const auto j = last_->json();
        return j && j->contains("id") && (*j)["id"].is_string() ? (*j)["id"].get<std::string>()
                                                                : std::string();
    }

    operation create(int n) {
        operation op = begin(op_kind::create, n);
        op.name = "ac-crash-" + tag_ + "-" + std::to_string(cycle_) + "-" + std::to_string(index_) +
                  "-" + std::to_string(n);
        op.body = {{"name", op.name},
                   {"version", "1.0.0"},
                   {"capabilities", json::array({json{{"name", "crash"}}})},
                   {"metadata", {{"key", op.key}}}};
        if (!post(op, "/agents", 201, true)) return {};
        if (op.result == outcome::acknowledged) {
            op.agent_id = answered_id();
            if (!op.agent_id.empty())
                agents_.push_back({op.agent_id, {"registered"}, std::nullopt});
        }
        return op;
    }

    operation move(int n) {
        std::vector<owned_agent*> movable;
        for (auto& a : agents_)
            if (!a.unknown_move) movable.push_back(&a);
        auto& a = *movable[std::uniform_int_distribution<std::size_t>(0, movable.size() - 1)(rng_)];
        operation op = begin(op_kind::status, n);
        op.key.clear();
        op.agent_id = a.id;
        op.new_status = next_status(a.statuses.back());
        op.body = {{"status", op.new_status}, {"reason", "crash test"}};
        request req("PUT", "/agents/" + a.id + "/status");
        req.json(op.body);
        if (!send(op, req, {200})) return {};
        if (op.result == outcome::acknowledged) a.statuses.push_back(op.new_status);
        if (op.result == outcome::unknown) a.unknown_move = op.new_status;
        return op;
    }

    operation task(int n) {
        operation op = begin(op_kind::task, n);
        // Echoes, and short sleeps (so that some run when the process dies).
        if (std::uniform_int_distribution<int>(0, 3)(rng_) == 0) {
            op.task_type = "sleep";
            op.body = {{"type", "sleep"},
                       {"payload", {{"ms", std::uniform_int_distribution<int>(10, 100)(rng_)}}}};
        } else {
            op.task_type = "echo";
            op.body = {{"type", "echo"}, {"payload", {{"key", op.key}}}};
        }
        if (!post(op, "/tasks", 202, true)) return {};
        if (op.result == outcome::acknowledged) op.task_id = answered_id();
        return op;
    }

    operation event(int n) {
        operation op = begin(op_kind::event, n);
        op.body = {{"type", "x_crash"}, {"data", {{"key", op.key}}}};
        if (!post(op, "/events", 201, false)) return {};
        return op;
    }

    context& ctx_;
    crash_history& history_;
    int index_;
    int cycle_;
    std::mt19937_64 rng_;
    std::vector<owned_agent>& agents_;
    std::string tag_;
    std::string operator_token_;
    std::unique_ptr<client::connection> conn_;
    std::optional<response> last_;
};

/// What one cycle measured.
struct cycle_figures {
    int cycle = 0;
    std::size_t sent = 0, acknowledged = 0, refused = 0, unknown = 0;
    std::chrono::milliseconds killed_after{0};
    std::chrono::microseconds time_to_ready{0};
    std::size_t lost = 0, phantoms = 0, duplicates = 0, gaps = 0;
};

/// Retries, after the restart, each operation whose outcome was unknown with the same
/// Idempotency-Key (creates and tasks), as a careful client does; the answer becomes its
/// outcome. An agent that lost the key of an applied create answers 409 (the name exists).
void retry_unknown(context& ctx, std::vector<operation>& ops, int cycle) {
    std::unique_ptr<client::connection> conn;
    for (auto& op : ops) {
        if (op.result != outcome::unknown) continue;
        if (op.kind != op_kind::create && op.kind != op_kind::task) continue;
        request req("POST", op.kind == op_kind::create ? "/agents" : "/tasks");
        req.json(op.body);
        req.with("Idempotency-Key", op.key);
        req.bearer(ctx.token("operator"));
        const auto retry_id = op.request_id + "-retry" + std::to_string(cycle);
        req.with("X-Request-ID", retry_id);
        const auto r = send_once(conn, ctx, req);
        if (!r.resp) continue;
        const int want = op.kind == op_kind::create ? 201 : 202;
        if (r.resp->status != want) continue; // still unknown (say 409: verified below)
        const auto j = r.resp->json();
        if (!j || !j->contains("id") || !(*j)["id"].is_string()) continue;
        (op.kind == op_kind::create ? op.agent_id : op.task_id) = (*j)["id"].get<std::string>();
        op.status = want;
        op.result = outcome::acknowledged;
        op.request_id = retry_id;
    }
}

/// Verifies everything sent so far against the agent's state after a restart.
/// What the event log and the audit log held, read incrementally: each cycle reads what was
/// appended since the last one (the last cycle reads both logs again from the start, so that
/// the verdict is on the whole of them and the cost of a cycle does not grow with the logs).
struct log_digest {
    long long events_after = 0;
    long long audit_after = 0;
    std::map<std::string, int> registered;                   // agent id → agent_registered
    std::map<std::string, std::vector<std::string>> changed; // agent id → new statuses
    std::map<std::string, int> published;                    // key → x_crash events
    std::map<std::string, int> audit;                        // request id → records
};

/// Reads the events appended since digest.events_after: gapless, counted into the digest.
void digest_events(context& ctx, client::http_client& http, log_digest& d, crash_totals& t) {
    for (const auto& e : read_log(http, ctx, "/events", d.events_after, "LIFE-007")) {
        const auto seq = e["seq"].get<long long>();
        if (seq != d.events_after + 1)
            t.problem(t.gaps, "the event log jumps from seq " + std::to_string(d.events_after) +
                                  " to " + std::to_string(seq));
        d.events_after = seq;
        const auto type = e.value("type", std::string());
        const auto agent = e.contains("agent_id") && e["agent_id"].is_string()
                               ? e["agent_id"].get<std::string>()
                               : std::string();
        if (type == "agent_registered") ++d.registered[agent];
        if (type == "agent_status_changed" && e.contains("data") && e["data"].is_object())
            d.changed[agent].push_back(e["data"].value("new_status", std::string()));
        if (type == "x_crash" && e.contains("data") && e["data"].is_object())
            ++d.published[e["data"].value("key", std::string())];
    }
}

/// Reads the audit records appended since digest.audit_after into the digest.
void digest_audit(context& ctx, client::http_client& http, log_digest& d) {
    for (const auto& a : read_log(http, ctx, "/audit", d.audit_after, "LIFE-008")) {
        d.audit_after = a["seq"].get<long long>();
        if (a.contains("request_id") && a["request_id"].is_string())
            ++d.audit[a["request_id"].get<std::string>()];
    }
}

void verify_state(context& ctx, client::http_client& http, const std::vector<operation>& ops,
                  const std::string& tag, log_digest& logs, crash_totals& t, cycle_figures& fig) {
    const std::string prefix = "ac-crash-" + tag + "-";
    // Agents: lost, phantoms, duplicates, partial.
    std::map<std::string, std::vector<json>> by_name;
    for (auto& a : all_agents(http, ctx, "LIFE-006")) {
        const auto name = a.value("name", std::string());
        if (name.rfind(prefix, 0) == 0) by_name[name].push_back(a);
    }
    std::set<std::string> sent_names;
    std::map<std::string, const operation*> create_of_id;
    std::map<std::string, const json*> agent_by_id;
    for (const auto& [name, list] : by_name)
        for (const auto& a : list)
            agent_by_id[a.value("id", std::string())] = &a;
    const auto before = t;
    for (const auto& op : ops) {
        if (op.kind != op_kind::create) continue;
        sent_names.insert(op.name);
        const auto it = by_name.find(op.name);
        const std::size_t n = it == by_name.end() ? 0 : it->second.size();
        if (n > 1)
            t.problem(t.duplicates,
                      std::to_string(n) + " agents named " + op.name + " (one Idempotency-Key)");
        if (op.result == outcome::acknowledged && n == 0)
            t.problem(t.lost, "the create of " + op.name + " was answered " +
                                  std::to_string(op.status) + " but the agent is gone");
        if (op.result == outcome::acknowledged && n == 1 && !op.agent_id.empty() &&
            it->second.front().value("id", std::string()) != op.agent_id)
            t.problem(t.lost, "the agent " + op.name + " has another id than its create answered");
        if (op.result == outcome::refused && n > 0)
            t.problem(t.phantoms, "the create of " + op.name + " was refused (" +
                                      std::to_string(op.status) + ") but the agent exists");
        if (n >= 1) {
            const auto& a = it->second.front();
            create_of_id[a.value("id", std::string())] = &op;
            const bool whole = a.value("version", std::string()) == "1.0.0" &&
                               a.contains("metadata") && a["metadata"].is_object() &&
                               a["metadata"].value("key", std::string()) == op.key;
            if (!whole)
                t.problem(t.partial, "the agent " + op.name + " is not what was sent: " + a.dump());
        }
    }
    for (const auto& [name, list] : by_name)
        if (!sent_names.contains(name))
            t.problem(t.phantoms, "an agent named " + name + " exists but was never sent");
    // Statuses: the last acknowledged move, or the unknown one after it.
    std::map<std::string, std::vector<const operation*>> moves;
    for (const auto& op : ops)
        if (op.kind == op_kind::status) moves[op.agent_id].push_back(&op);
    for (const auto& [id, list] : moves) {
        const auto a = agent_by_id.find(id);
        if (a == agent_by_id.end()) continue; // its create is judged above
        std::string expected = "registered";
        std::optional<std::string> maybe;
        for (const auto* m : list) {
            if (m->result == outcome::acknowledged) expected = m->new_status;
            if (m->result == outcome::unknown) maybe = m->new_status;
        }
        const auto actual = a->second->value("status", std::string());
        if (actual != expected && (!maybe || actual != *maybe))
            t.problem(t.lost, "agent " + id + " is " + actual + ", but its last acknowledged " +
                                  "status move was to " + expected);
    }
    // Tasks: every acknowledged one exists.
    for (const auto& op : ops) {
        if (op.kind != op_kind::task || op.result != outcome::acknowledged || op.task_id.empty())
            continue;
        const auto r = get_quiet(http, ctx, "viewer", "/tasks/" + op.task_id);
        if (r.status != 200)
            t.problem(t.tasks_lost, "task " + op.task_id + " was accepted (202) but GET /tasks/" +
                                        op.task_id + " answers " + std::to_string(r.status));
    }
    // Events: gapless after events_from, one per acknowledged change.
    if (ctx.has_feature("events")) {
        digest_events(ctx, http, logs, t);
        auto& registered = logs.registered;
        auto& changed = logs.changed;
        auto& published = logs.published;
        for (const auto& [id, op] : create_of_id) {
            const int n = registered.contains(id) ? registered[id] : 0;
            if (n != 1)
                t.problem(t.event_mismatches, "agent " + op->name + " exists with " +
                                                  std::to_string(n) + " agent_registered events");
        }
        for (const auto& [id, list] : moves) {
            if (!agent_by_id.contains(id)) continue;
            std::vector<std::string> acked;
            std::optional<std::string> maybe;
            for (const auto* m : list) {
                if (m->result == outcome::acknowledged) acked.push_back(m->new_status);
                if (m->result == outcome::unknown) maybe = m->new_status;
            }
            const auto& seen = changed[id];
            auto with_maybe = acked;
            if (maybe) with_maybe.push_back(*maybe);
            if (seen != acked && seen != with_maybe)
                t.problem(t.event_mismatches, "agent " + id + ": " + std::to_string(acked.size()) +
                                                  " acknowledged status moves, " +
                                                  std::to_string(seen.size()) +
                                                  " agent_status_changed events");
        }
        for (const auto& op : ops) {
            if (op.kind != op_kind::event) continue;
            const int n = published.contains(op.key) ? published[op.key] : 0;
            if ((op.result == outcome::acknowledged && n != 1) ||
                (op.result == outcome::refused && n != 0) || n > 1)
                t.problem(t.event_mismatches, "the event published with key " + op.key + " (" +
                                                  to_string(op.result) + ") is in the log " +
                                                  std::to_string(n) + " times");
        }
    }
    // Audit: one record per acknowledged mutation, matched by X-Request-ID.
    if (ctx.has_feature("audit")) {
        digest_audit(ctx, http, logs);
        auto& records = logs.audit;
        for (const auto& op : ops) {
            if (op.result != outcome::acknowledged) continue;
            const int n = records.contains(op.request_id) ? records[op.request_id] : 0;
            if (n != 1)
                t.problem(t.audit_mismatches, "the acknowledged request " + op.request_id +
                                                  " has " + std::to_string(n) + " audit records");
        }
    }
    fig.lost = t.lost - before.lost;
    fig.phantoms = t.phantoms - before.phantoms;
    fig.duplicates = t.duplicates - before.duplicates;
    fig.gaps = t.gaps - before.gaps;
}

/// Waits until every acknowledged task has ended (succeeded: noop/echo/sleep cannot fail).
void await_tasks(context& ctx, client::http_client& http, const std::vector<operation>& ops,
                 crash_totals& t) {
    std::set<std::string> pending;
    for (const auto& op : ops)
        if (op.kind == op_kind::task && op.result == outcome::acknowledged && !op.task_id.empty())
            pending.insert(op.task_id);
    const auto deadline = steady::now() + ctx.scaled(30s);
    while (!pending.empty() && steady::now() < deadline) {
        for (auto it = pending.begin(); it != pending.end();) {
            const auto r = get_quiet(http, ctx, "viewer", "/tasks/" + *it);
            const auto j = r.json();
            // Only a task has a string "status" (a problem's is its HTTP status, a number).
            const auto status = r.status == 200 && j && j->is_object() && j->contains("status") &&
                                        (*j)["status"].is_string()
                                    ? (*j)["status"].get<std::string>()
                                    : std::string();
            if (r.status == 404) {
                it = pending.erase(it); // lost: counted as such when the state was verified
            } else if (r.status == 200 && status == "succeeded") {
                it = pending.erase(it);
            } else if (r.status == 200 && status == "dead_lettered") {
                t.problem(t.tasks_unfinished, "task " + *it + " was dead-lettered: " + j->dump());
                it = pending.erase(it);
            } else {
                ++it;
            }
        }
        if (!pending.empty()) std::this_thread::sleep_for(50ms);
    }
    for (const auto& id : pending)
        t.problem(t.tasks_unfinished, "task " + id + " did not complete within " +
                                          std::to_string(ctx.scaled(30s).count() / 1000) +
                                          " s of the last restart");
}

/// Duplicates per Idempotency-Key among the tasks (echo tasks carry their key).
void count_task_duplicates(context& ctx, client::http_client& http,
                           const std::vector<operation>& ops, crash_totals& t) {
    std::set<std::string> keys;
    for (const auto& op : ops)
        if (op.kind == op_kind::task && op.task_type == "echo") keys.insert(op.key);
    if (keys.empty()) return;
    std::map<std::string, int> seen;
    std::optional<std::string> cursor;
    for (int pages = 0; pages < 100000; ++pages) {
        std::string target = "/tasks?limit=100";
        if (cursor) target += "&cursor=" + url_encode(*cursor);
        const auto r = get_quiet(http, ctx, "viewer", target);
        const auto j = r.json();
        if (r.status != 200 || !j || !j->contains("items") || !(*j)["items"].is_array()) return;
        for (const auto& task : (*j)["items"])
            if (task.contains("payload") && task["payload"].is_object() &&
                task["payload"].contains("key") && task["payload"]["key"].is_string())
                ++seen[task["payload"]["key"].get<std::string>()];
        if (!j->contains("next_cursor") || !(*j)["next_cursor"].is_string()) break;
        cursor = (*j)["next_cursor"].get<std::string>();
    }
    for (const auto& [key, n] : seen)
        if (keys.contains(key) && n > 1)
            t.problem(t.duplicates, std::to_string(n) + " tasks with Idempotency-Key " + key);
}

/// An SVG bar chart of each cycle's time to ready.
std::string ready_chart(const std::vector<cycle_figures>& cycles) {
    constexpr int w = 640, h = 200, left = 50, bottom = 30, top = 10;
    double max_ms = 1;
    for (const auto& c : cycles)
        max_ms = std::max(max_ms, static_cast<double>(c.time_to_ready.count()) / 1000.0);
    std::ostringstream s;
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
      << "\" font-family=\"sans-serif\" font-size=\"11\">";
    const double bw = static_cast<double>(w - left - 10) / static_cast<double>(cycles.size());
    for (std::size_t i = 0; i < cycles.size(); ++i) {
        const double ms = static_cast<double>(cycles[i].time_to_ready.count()) / 1000.0;
        const double bh = (h - top - bottom) * ms / max_ms;
        const bool bad =
            cycles[i].lost + cycles[i].phantoms + cycles[i].duplicates + cycles[i].gaps > 0;
        s << "<rect x=\"" << left + bw * static_cast<double>(i) + 1 << "\" y=\"" << h - bottom - bh
          << "\" width=\"" << std::max(1.0, bw - 2) << "\" height=\"" << bh << "\" fill=\""
          << (bad ? "#c0392b" : "#2e86c1") << "\"><title>cycle " << cycles[i].cycle << ": ready in "
          << ms << " ms, " << cycles[i].acknowledged << " acknowledged</title></rect>";
    }
    s << "<line x1=\"" << left << "\" y1=\"" << h - bottom << "\" x2=\"" << w - 10 << "\" y2=\""
      << h - bottom << "\" stroke=\"#333\"/>";
    s << "<text x=\"" << left - 4 << "\" y=\"" << top + 10 << "\" text-anchor=\"end\">"
      << static_cast<long long>(max_ms) << " ms</text>";
    s << "<text x=\"" << left - 4 << "\" y=\"" << h - bottom << "\" text-anchor=\"end\">0</text>";
    s << "<text x=\"" << (w + left) / 2 << "\" y=\"" << h - 8
      << "\" text-anchor=\"middle\">crash cycle (red: a cycle that lost, added or repeated "
         "something)</text></svg>";
    return s.str();
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto rank =
        static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

void crash_durability(context& ctx) {
    auto& proc = owned(ctx);
    ensure_running(ctx, proc);
    client::http_client http(ctx.target(), ctx.scaled(10s));
    const auto tag = random_hex(ctx, 6);
    const long long events_from =
        ctx.has_feature("events") ? last_seq(http, ctx, "/events", "LIFE-007") : 0;
    const long long audit_from =
        ctx.has_feature("audit") ? last_seq(http, ctx, "/audit", "LIFE-008") : 0;
    constexpr int clients = 4;
    std::vector<std::vector<owned_agent>> agents(clients);
    crash_history history;
    crash_totals totals;
    std::vector<cycle_figures> cycles;
    const auto operator_token = ctx.token("operator");
    log_digest logs{events_from, audit_from, {}, {}, {}, {}};
    const unsigned n_cycles = ctx.crash_cycles();
    for (unsigned cycle = 1; cycle <= n_cycles; ++cycle) {
        cycle_figures fig;
        fig.cycle = static_cast<int>(cycle);
        const auto before = history.all().size();
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        for (int c = 0; c < clients; ++c)
            threads.emplace_back([&, c, seed = ctx.rng()()] {
                crash_client cl(ctx, history, c, static_cast<int>(cycle), seed, agents[c], tag,
                                operator_token);
                cl.run(stop);
            });
        // SIGKILL at a random moment of the writes.
        fig.killed_after =
            std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 900)(ctx.rng()));
        std::this_thread::sleep_for(fig.killed_after);
        proc.kill_now();
        stop = true;
        for (auto& th : threads)
            th.join();
        auto ops = history.all();
        // Restart on the same data directory; time to ready from the start.
        const auto ready = start_again(ctx, proc, "LIFE-006");
        fig.time_to_ready = ready.since_start;
        retry_unknown(ctx, ops, static_cast<int>(cycle));
        history.replace(ops);
        for (std::size_t i = before; i < ops.size(); ++i) {
            ++fig.sent;
            switch (ops[i].result) {
            case outcome::acknowledged:
                ++fig.acknowledged;
                break;
            case outcome::refused:
                ++fig.refused;
                break;
            case outcome::unknown:
                ++fig.unknown;
                break;
            }
        }
        totals.sent += fig.sent;
        totals.acknowledged += fig.acknowledged;
        totals.refused += fig.refused;
        totals.unknown += fig.unknown;
        if (cycle == n_cycles) logs = log_digest{events_from, audit_from, {}, {}, {}, {}};
        verify_state(ctx, http, ops, tag, logs, totals, fig);
        cycles.push_back(fig);
        ctx.progress("crash cycle " + std::to_string(cycle) + "/" + std::to_string(n_cycles) +
                     ": " + std::to_string(fig.acknowledged) + " acknowledged, " +
                     std::to_string(fig.unknown) + " unknown, ready in " +
                     ms_text(fig.time_to_ready) + " ms; so far lost " +
                     std::to_string(totals.lost) + ", phantoms " + std::to_string(totals.phantoms) +
                     ", duplicates " + std::to_string(totals.duplicates) + ", gaps " +
                     std::to_string(totals.gaps));
        // Each unknown move leaves an agent out of the workload; the unknown outcome of the
        // others stays to be judged at every later cycle.
    }
    const auto ops = history.all();
    if (ctx.has_feature("tasks")) {
        await_tasks(ctx, http, ops, totals);
        count_task_duplicates(ctx, http, ops, totals);
    }
    // The report: per cycle, totals, time to ready.
    std::vector<double> ready_ms;
    std::string table = "cycle | killed after ms | sent | ack | refused | unknown | ready ms | "
                        "lost | phantoms | duplicates | gaps";
    for (const auto& c : cycles) {
        ready_ms.push_back(static_cast<double>(c.time_to_ready.count()) / 1000.0);
        table += "\n" + std::to_string(c.cycle) + " | " + std::to_string(c.killed_after.count()) +
                 " | " + std::to_string(c.sent) + " | " + std::to_string(c.acknowledged) + " | " +
                 std::to_string(c.refused) + " | " + std::to_string(c.unknown) + " | " +
                 ms_text(c.time_to_ready) + " | " + std::to_string(c.lost) + " | " +
                 std::to_string(c.phantoms) + " | " + std::to_string(c.duplicates) + " | " +
                 std::to_string(c.gaps);
    }
    ctx.note(table);
    char pct[200];
    std::snprintf(pct, sizeof pct,
                  "time to ready after SIGKILL: p50 %.1f ms, p90 %.1f ms, p99 "
                  "%.1f ms, max %.1f ms over %zu restarts",
                  percentile(ready_ms, 50), percentile(ready_ms, 90), percentile(ready_ms, 99),
                  percentile(ready_ms, 100), ready_ms.size());
    ctx.note(pct);
    ctx.note(
        "totals over " + std::to_string(cycles.size()) + " cycles: " + std::to_string(totals.sent) +
        " operations sent, " + std::to_string(totals.acknowledged) + " acknowledged, " +
        std::to_string(totals.refused) + " refused, " + std::to_string(totals.unknown) +
        " unknown; lost " + std::to_string(totals.lost) + ", phantoms " +
        std::to_string(totals.phantoms) + ", duplicates " + std::to_string(totals.duplicates) +
        ", gaps " + std::to_string(totals.gaps) + ", partial " + std::to_string(totals.partial) +
        ", event mismatches " + std::to_string(totals.event_mismatches) + ", audit mismatches " +
        std::to_string(totals.audit_mismatches) + ", tasks lost " +
        std::to_string(totals.tasks_lost) + ", tasks unfinished " +
        std::to_string(totals.tasks_unfinished));
    ctx.figure("Time to ready after each SIGKILL", ready_chart(cycles));
    std::string first;
    for (const auto& p : totals.problems)
        first += (first.empty() ? "" : "; ") + p;
    if (totals.acknowledged == 0)
        ctx.fail("no operation was acknowledged before a SIGKILL, so durability was not shown",
                 "acknowledged writes in every cycle", std::to_string(totals.sent) + " sent");
    if (totals.lost + totals.phantoms + totals.duplicates + totals.partial > 0)
        fail_on("LIFE-006",
                "after SIGKILL and a restart: " + std::to_string(totals.lost) + " lost, " +
                    std::to_string(totals.phantoms) + " phantoms, " +
                    std::to_string(totals.duplicates) + " duplicates, " +
                    std::to_string(totals.partial) + " partly applied",
                "0 lost, 0 phantoms, 0 duplicates, 0 partial", first);
    if (totals.gaps + totals.event_mismatches > 0)
        fail_on("LIFE-007",
                "after SIGKILL and a restart the event log has " + std::to_string(totals.gaps) +
                    " gaps and " + std::to_string(totals.event_mismatches) +
                    " changes without exactly one event",
                "gapless, one event per acknowledged change", first);
    if (totals.audit_mismatches > 0)
        fail_on("LIFE-008",
                std::to_string(totals.audit_mismatches) +
                    " acknowledged requests without exactly one audit record after SIGKILL",
                "one audit record per acknowledged mutation", first);
    if (totals.tasks_lost + totals.tasks_unfinished > 0)
        fail_on("LIFE-009",
                std::to_string(totals.tasks_lost) + " accepted tasks lost, " +
                    std::to_string(totals.tasks_unfinished) + " never completed after SIGKILL",
                "every accepted task completes (at least once)", first);
}

// --- graceful shutdown --------------------------------------------------------------------

/// One request of the drain load: when it was written, what came back.
struct drain_request {
    steady::time_point written{};
    steady::time_point ended{}; ///< answered or failed
    int status = 0;             ///< 0: no response
    std::string what;
};

void sigterm_drains(context& ctx) {
    auto& proc = owned(ctx);
    ensure_running(ctx, proc);
    const auto drain = drain_timeout(ctx);
    // Fixtures: agents to read and move, subscribers, running tasks.
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i)
        ids.push_back(id_of(ctx, ctx.create_agent("operator")));
    std::vector<std::unique_ptr<client::ws_client>> subscribers;
    if (ctx.has_feature("websocket")) {
        client::header_list h{{"Authorization", "Bearer " + ctx.token("viewer")}};
        for (const auto& path :
             {std::string("/events/stream"), std::string("/agents/") + ids.front() + "/status"}) {
            response refused;
            auto ws = client::ws_client::open(ctx.target(), path, h, {}, &refused);
            if (!ws)
                ctx.fail("the WebSocket upgrade of " + path + " was refused", "101",
                         describe(refused));
            subscribers.push_back(std::move(ws));
        }
    }
    std::vector<std::string> tasks;
    if (ctx.has_feature("tasks")) {
        for (int i = 0; i < 3; ++i) {
            auto req = authed(ctx, "operator", "POST", "/tasks");
            req.json({{"type", "sleep"}, {"payload", {{"ms", 1500}}}});
            const auto r = ctx.send(req);
            const auto j = r.json();
            if (r.status != 202 || !j || !j->contains("id"))
                ctx.fail("POST /tasks (sleep) was not accepted", "202", describe(r));
            tasks.push_back((*j)["id"].get<std::string>());
        }
        // Wait until one runs, so that SIGTERM meets a running task.
        const auto until = steady::now() + ctx.scaled(3s);
        bool running = false;
        while (!running && steady::now() < until) {
            const auto r = ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + tasks.front()));
            const auto j = r.json();
            running = j && j->value("status", std::string()) != "queued";
            if (!running) std::this_thread::sleep_for(10ms);
        }
    }
    // Steady load: reads and creates on kept-alive connections.
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<drain_request> requests;
    std::vector<std::thread> load;
    const auto viewer = ctx.token("viewer");
    const auto op_token = ctx.token("operator");
    // The created names end with a fixture's whole id, fresh in every attempt: a prefix of it
    // is not (time-ordered UUIDs share their first digits for a minute), and a retry would
    // meet its first attempt's names (409).
    std::string stem = ids.front();
    std::transform(stem.begin(), stem.end(), stem.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    for (int c = 0; c < 3; ++c) {
        load.emplace_back([&, c] {
            std::unique_ptr<client::connection> conn;
            for (int n = 0; !stop.load(); ++n) {
                request req;
                if (n % 4 == 3) {
                    req = request("POST", "/agents");
                    req.bearer(op_token);
                    req.json({{"name", "ac-drain-" + std::to_string(c) + "-" + std::to_string(n) +
                                           "-" + stem},
                              {"version", "1.0.0"},
                              {"capabilities", json::array()},
                              {"metadata", json::object()}});
                } else {
                    req =
                        request("GET", "/agents/" + ids[static_cast<std::size_t>(n) % ids.size()]);
                    req.bearer(viewer);
                }
                drain_request d;
                try {
                    if (!conn)
                        conn = std::make_unique<client::connection>(ctx.target(), ctx.scaled(2s));
                } catch (const client::transport_exception&) {
                    std::this_thread::sleep_for(5ms);
                    continue; // nothing written: not a request in flight
                }
                try {
                    conn->set_timeout(drain + ctx.scaled(5s));
                    conn->write_raw(conn->serialize(req));
                    d.written = steady::now();
                    const auto r = conn->read_response();
                    d.ended = steady::now();
                    d.status = r.status;
                    d.what = req.method + " " + req.target + " answered " + describe(r);
                    const auto close = r.header("Connection");
                    if (close && lower(*close) == "close") conn.reset();
                } catch (const client::transport_exception& e) {
                    if (d.written == steady::time_point{}) d.written = steady::now();
                    d.ended = steady::now();
                    d.what = req.method + " " + req.target + ": " + e.what();
                    conn.reset();
                }
                std::lock_guard lock(mutex);
                requests.push_back(std::move(d));
            }
        });
    }
    // Subscribers read all along (a reader that stops reading is another rule, §5), until
    // the agent closes the stream; "" when that close was 1001.
    std::vector<std::string> closes(subscribers.size());
    std::vector<std::thread> readers;
    std::atomic<bool> give_up{false};
    for (std::size_t i = 0; i < subscribers.size(); ++i)
        readers.emplace_back([&, i] {
            while (!give_up.load()) {
                const auto ev = subscribers[i]->read(100ms);
                if (ev.what == client::ws_event::kind::message) continue;
                if (ev.what == client::ws_event::kind::timeout) continue;
                if (ev.close_code != 1001)
                    closes[i] = "closed with " + std::to_string(ev.close_code) +
                                (ev.close_code == 1006 ? " (no close frame)" : "");
                return;
            }
            closes[i] = "still open when the process had exited";
        });
    std::this_thread::sleep_for(ctx.scaled(300ms));
    const auto term_at = steady::now();
    proc.signal(SIGTERM);
    // Readiness while draining, on fresh connections, until the process is gone.
    std::map<std::string, int> probes; // "200 late" / "503" / "refused"
    std::string late_200;
    const auto settle = ctx.scaled(100ms);
    std::optional<exit_info> exit;
    while (!(exit = proc.wait_exit(0ms)) && steady::now() - term_at < drain + ctx.scaled(5s)) {
        const auto sent = steady::now();
        try {
            client::http_client probe(ctx.target(), ctx.scaled(1s));
            const auto r = probe.send(make("GET", "/readyz"));
            if (r.status == 200 && sent - term_at >= settle) {
                ++probes["200"];
                if (late_200.empty())
                    late_200 = "GET /readyz sent " +
                               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  sent - term_at)
                                                  .count()) +
                               " ms after SIGTERM answered 200";
            } else {
                ++probes[std::to_string(r.status)];
            }
        } catch (const client::transport_exception&) {
            ++probes["no connection"];
        }
        std::this_thread::sleep_for(10ms);
    }
    if (!exit) exit = proc.wait_exit(0ms);
    const auto exited_after =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - term_at);
    stop = true;
    for (auto& t : load)
        t.join();
    if (!exit) proc.kill_now();
    give_up = true;
    // Subscribers: each got a close frame 1001 (going away).
    for (auto& t : readers)
        t.join();
    std::vector<std::string> bad_close;
    for (const auto& c : closes)
        if (!c.empty()) bad_close.push_back(c);
    if (!exit) proc.kill_now();
    // Restart: the tasks that were running finish or run again, never lost.
    start_again(ctx, proc, "LIFE-003");
    std::vector<std::string> lost_tasks;
    for (const auto& id : tasks) {
        const auto until = steady::now() + ctx.scaled(20s);
        std::string status;
        while (steady::now() < until) {
            const auto r = ctx.send(authed(ctx, "viewer", "GET", "/tasks/" + id));
            const auto j = r.json();
            if (r.status != 200 || !j) {
                status = "GET answered " + std::to_string(r.status);
                break;
            }
            status = j->value("status", std::string());
            if (status == "succeeded" || status == "dead_lettered") break;
            std::this_thread::sleep_for(50ms);
        }
        if (status != "succeeded") lost_tasks.push_back(id + ": " + status);
    }
    // Verdicts.
    std::size_t before_term = 0, in_flight = 0, in_flight_failed = 0, after_term = 0;
    std::size_t limited = 0;
    std::string first_failed;
    for (const auto& r : requests) {
        if (r.written < term_at) {
            ++before_term;
            if (r.ended >= term_at) ++in_flight;
            // An agent with rate limits on answers part of this load 429 (§8) whether or not
            // it is draining: a whole answer, which says nothing of the drain. A request the
            // drain cut off gets no answer, or a 5xx.
            if (r.status == 429) ++limited;
            const bool ok = (r.status >= 200 && r.status < 300) || r.status == 429;
            if (!ok) {
                ++in_flight_failed;
                if (first_failed.empty()) first_failed = r.what;
            }
        } else {
            ++after_term;
        }
    }
    std::string probe_text;
    for (const auto& [k, n] : probes)
        probe_text += (probe_text.empty() ? "" : ", ") + std::to_string(n) + " × " + k;
    ctx.note(
        "SIGTERM under load: " + std::to_string(before_term) + " requests written before it, " +
        std::to_string(in_flight) + " of them still in flight when it came (" +
        std::to_string(in_flight_failed) + " failed" +
        (limited > 0 ? ", " + std::to_string(limited) + " answered 429 by the rate limits"
                     : std::string()) +
        "), " + std::to_string(after_term) +
        " written after; /readyz probes after it: " + (probe_text.empty() ? "none" : probe_text) +
        "; " + std::to_string(subscribers.size()) + " WebSocket subscribers; " +
        std::to_string(tasks.size()) + " sleeping tasks; exited after " +
        std::to_string(exited_after.count()) + " ms (" +
        (exit ? exit->describe() : std::string("still running: killed")) + ", drain timeout " +
        std::to_string(drain.count()) + " ms)");
    if (!late_200.empty())
        fail_on("LIFE-002", "readiness stayed on after SIGTERM",
                "/readyz 503 (or no connection) once SIGTERM is received", late_200);
    if (in_flight_failed > 0)
        fail_on("LIFE-003",
                std::to_string(in_flight_failed) + " of the " + std::to_string(before_term) +
                    " requests written before SIGTERM did not get a 2xx answer (nor a 429 "
                    "from the rate limits)",
                "every request in flight at SIGTERM finishes", first_failed);
    if (!bad_close.empty())
        fail_on("LIFE-003", "a WebSocket subscriber was not closed with 1001 (going away)",
                "close 1001", bad_close.front());
    if (!lost_tasks.empty())
        fail_on("LIFE-003",
                "a task running at SIGTERM neither finished nor ran again after the "
                "restart",
                "succeeded", lost_tasks.front());
    if (!exit || !exit->exited || exit->code != 0)
        fail_on("LIFE-004", "the process did not exit 0 after SIGTERM", "exit 0",
                exit ? exit->describe() : "still running after the drain timeout");
    if (exited_after > drain + ctx.scaled(1s))
        fail_on("LIFE-004", "the process took longer than its drain timeout to exit",
                "<= " + std::to_string(drain.count()) + " ms",
                std::to_string(exited_after.count()) + " ms");
    if (before_term == 0)
        ctx.fail("no request was written before SIGTERM, so draining was not shown",
                 "requests under way when SIGTERM comes", "none");
}

// --- start-up and restart ------------------------------------------------------------------

void not_ready_while_starting(context& ctx) {
    auto& proc = owned(ctx);
    ensure_running(ctx, proc);
    stop_gracefully(proc, drain_timeout(ctx) + ctx.scaled(5s));
    proc.start();
    const auto ready = proc.wait_ready(ctx.target(), ctx.scaled(30s));
    if (!ready.ready)
        fail_on("LIFE-005", "the agent did not become ready after a restart: " + ready.why,
                "GET /readyz 200", proc.log_tail(800));
    // Ready means serving: the first request after the first 200 is served.
    const auto r = ctx.send(authed(ctx, "viewer", "GET", "/agents?limit=1"));
    std::string before;
    for (const auto& [status, n] : ready.before)
        before += (before.empty() ? "" : ", ") + std::to_string(n) + " × " +
                  (status == 0 ? std::string("no connection") : std::to_string(status));
    ctx.note("ready " + ms_text(ready.since_start) +
             " ms after the start; /readyz before that: " + (before.empty() ? "no probe" : before));
    for (const auto& [status, n] : ready.before)
        if (status != 0 && status != 503)
            fail_on("LIFE-005", "while starting, /readyz answered " + std::to_string(status),
                    "503 (or no connection yet)", before);
    if (r.status != 200)
        fail_on("LIFE-005", "/readyz said 200 but the agent did not serve the next request", "200",
                describe(r));
}

/// A page of GET /agents through ctx (evidence): items' ids and next_cursor.
std::pair<std::vector<std::string>, std::optional<std::string>> page_ids(context& ctx,
                                                                         const std::string& q) {
    const auto p = expect_page(ctx, ctx.send(authed(ctx, "viewer", "GET", "/agents?" + q)));
    std::vector<std::string> ids;
    for (const auto& a : p.items)
        ids.push_back(a.value("id", std::string()));
    return {ids, p.next_cursor};
}

void restart_keeps_state(context& ctx) {
    auto& proc = owned(ctx);
    ensure_running(ctx, proc);
    client::http_client http(ctx.target(), ctx.scaled(10s));
    auto a = ctx.create_agent("operator");
    const auto id = id_of(ctx, a);
    for (int i = 0; i < 3; ++i)
        ctx.create_agent("operator");
    const auto moved = put_status(ctx, id, "active");
    ctx.expect_status(moved, 200);
    const auto before = ctx.send(authed(ctx, "viewer", "GET", "/agents/" + id));
    ctx.expect_status(before, 200);
    const auto etag = ctx.expect_header_present(before, "ETag");
    const auto agent_before = ctx.expect_json(before);
    // A cursor issued before the restart, and the page it leads to.
    const auto first = page_ids(ctx, "limit=2");
    std::optional<std::vector<std::string>> next_before;
    if (first.second)
        next_before = page_ids(ctx, "limit=2&cursor=" + url_encode(*first.second)).first;
    const bool events = ctx.has_feature("events");
    std::vector<json> tail_before;
    long long seq_before = 0;
    if (events) {
        const auto all = read_log(http, ctx, "/events", 0, "LIFE-007");
        seq_before = all.empty() ? 0 : all.back()["seq"].get<long long>();
        for (std::size_t i = all.size() > 3 ? all.size() - 3 : 0; i < all.size(); ++i)
            tail_before.push_back(all[i]);
    }
    const auto stopped_how = stop_gracefully(proc, drain_timeout(ctx) + ctx.scaled(5s));
    start_again(ctx, proc, "LIFE-006");
    ctx.note("restarted (" + (stopped_how ? stopped_how->describe() : "?") + ")");
    // Revisions and ETags kept.
    const auto after = ctx.send(authed(ctx, "viewer", "GET", "/agents/" + id));
    if (after.status != 200)
        fail_on("LIFE-006", "the agent is gone after a restart", "200", describe(after));
    const auto agent_after = ctx.expect_json(after);
    if (after.header("ETag") != etag)
        fail_on("LIFE-006", "the ETag changed across the restart", etag,
                after.header("ETag").value_or("(none)"));
    for (const char* f : {"revision", "status", "name", "owner", "created_at", "updated_at"})
        if (agent_after.value(f, json()) != agent_before.value(f, json()))
            fail_on("LIFE-006", std::string("\"") + f + "\" changed across the restart",
                    agent_before.value(f, json()).dump(), agent_after.value(f, json()).dump());
    if (agent_after.contains("circuit")) {
        const auto c = agent_after.value("circuit", std::string());
        if (c != "closed" && c != "open" && c != "half_open")
            fail_on("LIFE-006", "the circuit state after the restart is not one of the protocol's",
                    "closed | open | half_open", agent_after["circuit"].dump());
    }
    auto cond = authed(ctx, "viewer", "GET", "/agents/" + id);
    cond.with("If-None-Match", etag);
    const auto not_modified = ctx.send(cond);
    if (not_modified.status != 304)
        fail_on("LIFE-006", "If-None-Match with the ETag from before the restart is not 304", "304",
                describe(not_modified));
    // The cursor from before the restart: the same page, or 400 — never other data.
    if (first.second) {
        const auto r = ctx.send(
            authed(ctx, "viewer", "GET", "/agents?limit=2&cursor=" + url_encode(*first.second)));
        if (r.status == 200) {
            const auto p = expect_page(ctx, r);
            std::vector<std::string> ids;
            for (const auto& it : p.items)
                ids.push_back(it.value("id", std::string()));
            if (next_before && ids != *next_before)
                fail_on("LIFE-006", "a cursor from before the restart leads to another page",
                        json(*next_before).dump(), json(ids).dump());
        } else if (r.status != 400) {
            fail_on("LIFE-006",
                    "a cursor from before the restart answered neither its page nor 400",
                    "200 with the same page, or 400", describe(r));
        }
    }
    if (!events) return;
    // seq continues, and the events before the restart are the same.
    const auto tail_after = read_log(
        http, ctx, "/events",
        tail_before.empty() ? 0 : tail_before.front()["seq"].get<long long>() - 1, "LIFE-007");
    for (std::size_t i = 0; i < tail_before.size(); ++i)
        if (i >= tail_after.size() || tail_after[i] != tail_before[i])
            fail_on("LIFE-007", "an event from before the restart changed", tail_before[i].dump(),
                    i < tail_after.size() ? tail_after[i].dump() : "gone");
    const auto moved_again = put_status(ctx, id, "inactive");
    ctx.expect_status(moved_again, 200);
    const auto later = read_log(http, ctx, "/events", seq_before, "LIFE-007");
    long long expect = seq_before + 1;
    bool found = false;
    for (const auto& e : later) {
        if (e["seq"].get<long long>() != expect)
            fail_on("LIFE-007", "seq does not continue by 1 across the restart",
                    std::to_string(expect), e.dump());
        ++expect;
        found = found || (e.value("type", std::string()) == "agent_status_changed" &&
                          e.value("agent_id", std::string()) == id);
    }
    if (!found)
        fail_on("LIFE-007", "the status move after the restart has no event",
                "agent_status_changed",
                std::to_string(later.size()) + " events after seq " + std::to_string(seq_before));
}

} // namespace

void register_s09_restart(check_registry& reg) {
    const auto add = [&](check c) {
        c.needs_process = true;
        reg.add(std::move(c));
    };
    add({"LIFE-005.not-ready-while-starting",
         {"LIFE-005"},
         layer::lifecycle,
         "Restart the agent: /readyz answers only 503 (or no connection) until its first 200, "
         "and the agent serves right after that 200",
         not_ready_while_starting});
    add({"LIFE-006.restart-keeps-state",
         {"LIFE-006", "LIFE-007"},
         layer::lifecycle,
         "After a restart: revision, ETag (If-None-Match 304) and status kept, circuit state "
         "valid, a cursor from before gives the same page or 400, events unchanged and seq "
         "continues by 1",
         restart_keeps_state});
    add({"LIFE-002.sigterm-drains",
         {"LIFE-002", "LIFE-003", "LIFE-004"},
         layer::lifecycle,
         "SIGTERM under steady load with WebSocket subscribers and sleeping tasks: /readyz stops "
         "answering 200, every request in flight gets its 2xx, subscribers get close 1001, the "
         "running tasks finish or run again after the restart, exit 0 within the drain timeout",
         sigterm_drains});
    add({"LIFE-006.crash-durability",
         {"LIFE-006", "LIFE-007", "LIFE-008", "LIFE-009"},
         layer::lifecycle,
         "Four clients create agents (Idempotency-Key), move statuses, enqueue tasks and publish "
         "events; SIGKILL at a random moment, restart (--crash-cycles times): 0 lost, 0 "
         "phantoms, 0 duplicates, unknown outcomes all or nothing, events gapless and one per "
         "change, one audit record per acknowledged mutation, every task completes",
         crash_durability});
}

} // namespace agentcheck
