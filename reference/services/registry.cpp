#include "reference/services/registry.hpp"

#include "reference/util/failpoint.hpp"
#include "reference/util/text.hpp"
#include "reference/util/time.hpp"
#include "reference/util/uuid.hpp"

namespace agent {
namespace {

std::string quote(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

error forbidden_owner() {
    return error{errc::forbidden, "only the agent's owner or an admin may change it", {}};
}
error no_agent(const std::string& id) {
    return error{errc::not_found, "no agent with id " + id, {}};
}

// Splits an If-Match / If-None-Match list and calls f(tag, weak) for each entity tag.
template <class F> bool any_tag(std::string_view header, F&& f) {
    while (!header.empty()) {
        header = util::trim(header);
        if (header.empty()) break;
        bool weak = false;
        if (header.starts_with("W/")) {
            weak = true;
            header.remove_prefix(2);
        }
        if (header.empty() || header[0] != '"') return false;
        auto close = header.find('"', 1);
        if (close == std::string_view::npos) return false;
        if (f(header.substr(0, close + 1), weak)) return true;
        header.remove_prefix(close + 1);
        header = util::trim(header);
        if (!header.empty() && header[0] == ',')
            header.remove_prefix(1);
        else if (!header.empty())
            return false;
    }
    return false;
}

} // namespace

std::shared_ptr<agent_entry> make_entry(models::agent a) {
    auto e = std::make_shared<agent_entry>();
    e->body = models::to_json_text(a);
    e->etag = quote(std::to_string(a.revision));
    e->caps_body = models::capabilities_json_text(a);
    e->caps_etag = quote(util::sha256_hex(e->caps_body).substr(0, 32));
    e->agent = std::move(a);
    return e;
}

registry::registry(store& st, const clock& clk, event_log& events)
    : store_(st), clock_(clk), events_(events) {}

std::size_t registry::id_index::shard_of(const std::string& id) noexcept {
    // The tables use the same hash modulo their (prime) bucket counts; its top bits pick the
    // table, so the two do not correlate.
    return (std::hash<std::string>{}(id) >> 32) % shards;
}

entry_ptr registry::id_index::find(const std::string& id) const {
    const auto& m = maps_[shard_of(id)];
    auto it = m.find(id);
    return it == m.end() ? nullptr : it->second;
}

void registry::id_index::put(const entry_ptr& e) {
    maps_[shard_of(e->agent.id)][e->agent.id] = e;
}

entry_ptr registry::id_index::erase(const std::string& id) {
    auto& m = maps_[shard_of(id)];
    auto it = m.find(id);
    if (it == m.end()) return nullptr;
    entry_ptr e = std::move(it->second);
    m.erase(it);
    return e;
}

void registry::id_index::clear() {
    for (auto& m : maps_)
        m.clear();
}

void registry::load() {
    auto agents = store_.load_agents();
    std::unique_lock lock(index_mutex_);
    by_id_.clear();
    by_seq_.clear();
    for (auto& a : agents) {
        auto e = make_entry(std::move(a));
        by_id_.put(e);
        by_seq_[e->agent.seq] = e;
    }
}

entry_ptr registry::get(const std::string& id) const {
    std::shared_lock lock(index_mutex_);
    return by_id_.find(id);
}

std::size_t registry::size() const {
    std::shared_lock lock(index_mutex_);
    return by_seq_.size();
}

list_page registry::list(const list_query& q) const {
    list_page page;
    auto matches_capability = [&q](const agent_entry& e) {
        if (!q.capability) return true;
        const auto& caps = e.agent.fields.capabilities;
        return std::any_of(caps.begin(), caps.end(),
                           [&](const models::capability& c) { return c.name == *q.capability; });
    };
    auto matches = [&q, &matches_capability](const agent_entry& e) {
        if (q.status && e.agent.status != *q.status) return false;
        return matches_capability(e);
    };
    std::shared_lock lock(index_mutex_);
    for (auto it = by_seq_.upper_bound(q.after_seq); it != by_seq_.end(); ++it) {
        // REG-040: only agents of the requested status (the failpoint ignores the filter).
        if (AGENT_FAILPOINT("REG-040.status-filter-ignored") ? !matches_capability(*it->second)
                                                             : !matches(*it->second))
            continue;
        if (page.items.size() == q.limit) { // one more match exists: there is a next page
            // REG-042: the cursor is the last item returned. The failpoint's off-by-one makes
            // it the first item not returned, so the next page starts after it: one skipped.
            page.next_after = AGENT_FAILPOINT("REG-042.cursor-skips-one")
                                  ? it->second->agent.seq
                                  : page.items.back()->agent.seq;
            break;
        }
        page.items.push_back(it->second);
    }
    return page;
}

void registry::publish(const entry_ptr& e) {
    std::unique_lock lock(index_mutex_);
    by_id_.put(e);
    by_seq_[e->agent.seq] = e;
}

void registry::unpublish(const std::string& id) {
    std::unique_lock lock(index_mutex_);
    if (auto e = by_id_.erase(id)) by_seq_.erase(e->agent.seq);
}

std::string registry::now_text() const {
    // HTTP-023: times are RFC 3339 UTC with milliseconds (the failpoint drops them).
    if (AGENT_FAILPOINT("HTTP-023.times-without-ms")) {
        auto t = util::format_rfc3339_ms(clock_.now()); // "2026-11-24T15:10:00.123Z"
        return t.substr(0, t.size() - 5) + "Z";
    }
    return util::format_rfc3339_ms(clock_.now());
}

bool registry::may_modify(const principal& who, const models::agent& a) noexcept {
    // AUTH-024: an operator changes only its own agents (the failpoint forgets the owner).
    if (AGENT_FAILPOINT("AUTH-024.operator-any-agent")) return who.highest >= role::operator_;
    return who.highest == role::admin || (who.highest >= role::operator_ && a.owner == who.sub);
}

bool registry::if_match_matches(std::string_view header, std::string_view etag) noexcept {
    // REG-029: a stale If-Match is 412. The failpoint only checks that one was sent.
    if (AGENT_FAILPOINT("REG-029.if-match-not-compared")) return !util::trim(header).empty();
    if (util::trim(header) == "*") return true;
    return any_tag(header, [&](std::string_view tag, bool weak) { return !weak && tag == etag; });
}

bool registry::if_none_match_matches(std::string_view header, std::string_view etag) noexcept {
    if (util::trim(header) == "*") return true;
    return any_tag(header, [&](std::string_view tag, bool) { return tag == etag; });
}

void registry::submit(write_op op, const write_callback& cb) {
    if (auto err = store_.submit(std::move(op))) cb(util::unexpected(*err));
}

void registry::create(const principal& who, models::agent_input in,
                      std::optional<idempotency_request> idem, write_callback cb,
                      std::shared_ptr<audit_draft> audit) {
    std::string inflight_key;
    if (idem) {
        inflight_key = who.sub + '\n' + idem->key;
        std::lock_guard lock(inflight_mutex_);
        if (!inflight_.insert(inflight_key).second) {
            cb(util::unexpected(error{
                errc::conflict, "a request with this Idempotency-Key is still in flight", {}}));
            return;
        }
    }
    models::agent a;
    a.id = util::new_time_ordered_uuid(util::unix_ms(clock_.now()));
    a.fields = std::move(in);
    a.owner = who.sub;
    a.created_at = a.updated_at = now_text();
    a.revision = 1;

    auto outcome = std::make_shared<write_outcome>();
    auto ev = std::make_shared<models::event>(
        events_.make("agent_registered", a.id,
                     {{"name", a.fields.name}, {"version", a.fields.version}, {"owner", a.owner}}));
    // Everything that does not depend on the store is serialised here, on the request's
    // thread: the writer thread, which every durable write waits for, only binds it.
    auto entry = make_entry(std::move(a));
    auto ev_doc = models::to_stored_json(*ev).dump();
    write_op op;
    op.audit = audit;
    op.apply = [entry, ev_doc = std::move(ev_doc), idem, who_sub = who.sub, outcome, ev,
                audit = std::move(audit)](store_txn& tx) -> std::optional<error> {
        if (idem) {
            if (auto rec = tx.find_idempotency(who_sub, idem->key)) {
                if (rec->fingerprint != idem->fingerprint)
                    return error{errc::idempotency_mismatch,
                                 "this Idempotency-Key was used with a different request body",
                                 {}};
                if (audit) audit->record.resource = rec->location;
                outcome->replay = std::move(rec);
                return std::nullopt;
            }
        }
        if (auto err = tx.insert_agent(entry->agent, entry->body)) return err;
        if (auto err = tx.append_event(*ev, ev_doc)) return err;
        outcome->entry = entry;
        if (audit) audit->record.resource = "/agents/" + entry->agent.id; // what was created
        if (idem) {
            idempotency_record rec{who_sub,
                                   idem->key,
                                   idem->fingerprint,
                                   201,
                                   "/agents/" + entry->agent.id,
                                   outcome->entry->etag,
                                   outcome->entry->body,
                                   0};
            if (auto err = tx.put_idempotency(rec)) return err;
        }
        return std::nullopt;
    };
    op.done = [this, outcome, inflight_key, cb, ev](const std::optional<error>& err) {
        if (!err && outcome->entry) {
            publish(outcome->entry);
            events_.committed(*ev);
        }
        if (!inflight_key.empty()) {
            std::lock_guard lock(inflight_mutex_);
            inflight_.erase(inflight_key);
        }
        if (err)
            cb(util::unexpected(*err));
        else
            cb(std::move(*outcome));
    };
    if (auto err = store_.submit(std::move(op))) {
        if (!inflight_key.empty()) {
            std::lock_guard lock(inflight_mutex_);
            inflight_.erase(inflight_key);
        }
        cb(util::unexpected(*err));
    }
}

void registry::replace(const principal& who, const std::string& id, models::agent_input in,
                       std::string if_match, write_callback cb,
                       std::shared_ptr<audit_draft> audit) {
    auto outcome = std::make_shared<write_outcome>();
    auto ev = std::make_shared<models::event>(
        events_.make("agent_updated", id, nlohmann::json::object()));
    write_op op;
    op.audit = std::move(audit);
    op.apply = [this, who, id, in = std::move(in), if_match = std::move(if_match), outcome,
                ev](store_txn& tx) mutable -> std::optional<error> {
        auto cur = tx.find_agent(id);
        if (!cur) return no_agent(id);
        if (!may_modify(who, *cur)) return forbidden_owner();
        if (!if_match_matches(if_match, quote(std::to_string(cur->revision))))
            return error{errc::precondition_failed,
                         "If-Match does not match the current revision " +
                             std::to_string(cur->revision),
                         {}};
        cur->fields = std::move(in);
        cur->revision += 1;
        cur->updated_at = now_text();
        ev->data = {{"revision", cur->revision}};
        auto entry = make_entry(std::move(*cur)); // its body is the stored document too
        if (auto err = tx.update_agent(entry->agent, entry->body)) return err;
        if (auto err = tx.append_event(*ev)) return err;
        outcome->entry = std::move(entry);
        return std::nullopt;
    };
    op.done = [this, outcome, cb, ev](const std::optional<error>& err) {
        if (err) return cb(util::unexpected(*err));
        publish(outcome->entry);
        events_.committed(*ev);
        cb(std::move(*outcome));
    };
    submit(std::move(op), cb);
}

void registry::set_status(const principal& who, const std::string& id, models::status_change change,
                          write_callback cb, std::shared_ptr<audit_draft> audit) {
    auto outcome = std::make_shared<write_outcome>();
    auto changed = std::make_shared<bool>(false);
    auto ev = std::make_shared<models::event>(
        events_.make("agent_status_changed", id, nlohmann::json::object()));
    write_op op;
    op.audit = std::move(audit);
    op.apply = [this, who, id, change, outcome, changed,
                ev](store_txn& tx) -> std::optional<error> {
        auto cur = tx.find_agent(id);
        if (!cur) return no_agent(id);
        if (!may_modify(who, *cur)) return forbidden_owner();
        if (cur->status == change.status) { // same status: 200, nothing changes
            outcome->entry = make_entry(std::move(*cur));
            return std::nullopt;
        }
        // REG-047: a move not in the allowed list is 409 (the failpoint allows any move).
        if (!models::transition_allowed(cur->status, change.status) &&
            !AGENT_FAILPOINT("REG-047.any-status-move"))
            return error{errc::conflict,
                         std::string("cannot move from ") + models::to_string(cur->status) +
                             " to " + models::to_string(change.status),
                         {}};
        ev->data = {{"old_status", models::to_string(cur->status)},
                    {"new_status", models::to_string(change.status)}};
        if (change.reason) ev->data["reason"] = *change.reason;
        cur->status = change.status;
        cur->revision += 1;
        cur->updated_at = now_text();
        ev->data["revision"] = cur->revision;
        auto entry = make_entry(std::move(*cur));
        if (auto err = tx.update_agent(entry->agent, entry->body)) return err;
        if (auto err = tx.append_event(*ev)) return err;
        outcome->entry = std::move(entry);
        *changed = true;
        return std::nullopt;
    };
    op.done = [this, outcome, changed, cb, ev](const std::optional<error>& err) {
        if (err) return cb(util::unexpected(*err));
        if (*changed) {
            publish(outcome->entry);
            events_.committed(*ev);
        }
        cb(std::move(*outcome));
    };
    submit(std::move(op), cb);
}

void registry::remove(const principal& who, const std::string& id, write_callback cb,
                      std::shared_ptr<audit_draft> audit) {
    auto ev = std::make_shared<models::event>(
        events_.make("agent_deleted", id, nlohmann::json::object()));
    // EVT-008: a deletion emits agent_deleted, like every other change.
    const bool emits = !AGENT_FAILPOINT("EVT-008.no-deleted-event");
    write_op op;
    op.audit = std::move(audit);
    op.apply = [who, id, ev, emits](store_txn& tx) -> std::optional<error> {
        auto cur = tx.find_agent(id);
        if (!cur) return no_agent(id);
        if (!may_modify(who, *cur)) return forbidden_owner();
        if (auto err = tx.delete_agent(id)) return err;
        if (!emits) return std::nullopt;
        ev->data = {{"name", cur->fields.name}};
        return tx.append_event(*ev);
    };
    op.done = [this, id, cb, ev, emits](const std::optional<error>& err) {
        if (err) return cb(util::unexpected(*err));
        unpublish(id);
        if (emits) events_.committed(*ev);
        cb(write_outcome{});
    };
    submit(std::move(op), cb);
}

} // namespace agent
