#pragma once
// The registry (PROTOCOL.md §2): an in-memory index of every agent for lock-light reads,
// kept in step with the durable store, whose writer thread applies every change.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "reference/interfaces/clock.hpp"
#include "reference/interfaces/store.hpp"
#include "reference/models/agent.hpp"
#include "reference/services/auth.hpp"
#include "reference/services/events.hpp"

namespace agent {

/// An agent with its wire forms computed once per revision (reads only copy strings).
struct agent_entry {
    models::agent agent;
    std::string body;      ///< to_json(agent).dump()
    std::string etag;      ///< "\"<revision>\""
    std::string caps_body; ///< capabilities_json(agent).dump()
    std::string caps_etag; ///< strong tag of the capabilities' content
};
using entry_ptr = std::shared_ptr<const agent_entry>;

/// Builds an entry (serialises once). Mutable until published: a new agent's seq is
/// filled in by the store.
std::shared_ptr<agent_entry> make_entry(models::agent a);

/// A page of GET /agents.
struct list_query {
    std::size_t limit = 50;
    std::int64_t after_seq = 0; ///< 0: from the start
    std::optional<models::agent_status> status;
    std::optional<std::string> capability;
};
struct list_page {
    std::vector<entry_ptr> items;
    std::optional<std::int64_t> next_after; ///< seq to continue after, if more
};

/// An Idempotency-Key accompanying a create.
struct idempotency_request {
    std::string key;
    std::string fingerprint; ///< hash of method, route and canonical body
};

/// What a write produced: a fresh entry, or a replay of an earlier answer.
struct write_outcome {
    entry_ptr entry;
    std::optional<idempotency_record> replay;
};
using write_callback = std::function<void(util::expected<write_outcome, error>)>;

/// The registry service. Reads are thread-safe and never wait for writes to commit;
/// writes complete through callbacks on the store's writer thread.
class registry {
public:
    /// Every change appends its event to `events` in the same transaction.
    registry(store& st, const clock& clk, event_log& events);

    /// Loads the index from the store (start-up).
    void load();

    /// The agent with this id, or null.
    [[nodiscard]] entry_ptr get(const std::string& id) const;
    /// One page, in creation order.
    [[nodiscard]] list_page list(const list_query& q) const;
    /// How many agents exist.
    [[nodiscard]] std::size_t size() const;

    // Each write takes the request's audit record (null: none), committed with the change.

    /// POST /agents. errc::conflict on a duplicate name or an idempotency key in flight,
    /// errc::idempotency_mismatch on a reused key with another body.
    void create(const principal& who, models::agent_input in,
                std::optional<idempotency_request> idem, write_callback cb,
                std::shared_ptr<audit_draft> audit = nullptr);
    /// PUT /agents/{id}. `if_match` is the raw If-Match value. errc::not_found, forbidden,
    /// precondition_failed, conflict.
    void replace(const principal& who, const std::string& id, models::agent_input in,
                 std::string if_match, write_callback cb,
                 std::shared_ptr<audit_draft> audit = nullptr);
    /// PUT /agents/{id}/status. errc::conflict on a forbidden move.
    void set_status(const principal& who, const std::string& id, models::status_change change,
                    write_callback cb, std::shared_ptr<audit_draft> audit = nullptr);
    /// DELETE /agents/{id}.
    void remove(const principal& who, const std::string& id, write_callback cb,
                std::shared_ptr<audit_draft> audit = nullptr);

    /// True when `who` may change `a` (its owner, or an admin).
    static bool may_modify(const principal& who, const models::agent& a) noexcept;
    /// RFC 9110 If-Match (strong comparison) against an entity tag.
    static bool if_match_matches(std::string_view header, std::string_view etag) noexcept;
    /// RFC 9110 If-None-Match (weak comparison) against an entity tag.
    static bool if_none_match_matches(std::string_view header, std::string_view etag) noexcept;

private:
    void submit(write_op op, const write_callback& cb);
    void publish(const entry_ptr& e);
    void unpublish(const std::string& id);
    std::string now_text() const;

    store& store_;
    const clock& clock_;
    event_log& events_;
    /// Agents by id, spread over many hash tables: a table that grows rehashes only its own
    /// share. One table for every agent rehashed them all at once when it grew, under the
    /// index lock on the writer's thread (40 ms at 330,000 agents, and every request waited).
    class id_index {
    public:
        [[nodiscard]] entry_ptr find(const std::string& id) const;
        void put(const entry_ptr& e);
        /// Removes the agent and returns it (null when there was none).
        entry_ptr erase(const std::string& id);
        void clear();

    private:
        static constexpr std::size_t shards = 256;
        static std::size_t shard_of(const std::string& id) noexcept;
        std::array<std::unordered_map<std::string, entry_ptr>, shards> maps_;
    };

    mutable std::shared_mutex index_mutex_;
    id_index by_id_;
    std::map<std::int64_t, entry_ptr> by_seq_;

    std::mutex inflight_mutex_;
    std::set<std::string> inflight_; ///< sub + '\n' + idempotency key
};

} // namespace agent
