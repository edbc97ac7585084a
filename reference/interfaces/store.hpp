#pragma once
// The durable store. Writes are submitted as operations that run on one writer thread
// inside a shared transaction; many operations commit together (group commit), and each
// learns the outcome only after its data is durable.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference/errors/errors.hpp"
#include "reference/models/agent.hpp"
#include "reference/models/event.hpp"
#include "reference/models/task.hpp"

namespace agent {

/// A stored answer to a request made with an Idempotency-Key.
struct idempotency_record {
    std::string principal; ///< the caller's sub
    std::string key;
    std::string fingerprint; ///< hash of method, route and canonical body
    int status = 0;
    std::string location; ///< Location header, if any
    std::string etag;     ///< ETag header, if any
    std::string body;
    std::int64_t created_at_s = 0;
};

/// One record of the audit log (PROTOCOL.md §8): who did what to which resource, with what
/// answer. Never holds a token, a secret or a request body.
struct audit_record {
    std::int64_t seq = 0;    ///< filled when appended
    std::string at;          ///< RFC 3339 UTC, milliseconds
    std::string actor;       ///< the token's sub; "" when the caller was not authenticated
    std::string action;      ///< "METHOD /route/{template}"
    std::string resource;    ///< the path acted on (a created resource's own path)
    int status = 0;          ///< the HTTP status answered
    std::string request_id;  ///< the request's X-Request-ID
    std::string remote_addr; ///< the client's address
};

/// The audit record a write_op appends in its own transaction, so that a change and its
/// record are committed together or not at all. When apply fails, its changes are undone but
/// the record is kept, with status `failed_status(error)`.
struct audit_draft {
    audit_record record;                  ///< status: the answer when apply succeeds
    int (*failed_status)(errc) = nullptr; ///< the answer for an error (null: 500)
    /// Set on the writer thread once the record is committed (read after the op's done).
    bool committed = false;
};

/// Reads and writes inside the writer's transaction. Only valid during write_op::apply.
class store_txn {
public:
    virtual ~store_txn() = default;
    /// Inserts a new agent stored as doc (models::to_json(a), serialised by the caller so
    /// that the writer thread does not); fills a.seq. errc::conflict when the name or id
    /// exists.
    virtual std::optional<error> insert_agent(models::agent& a, const std::string& doc) = 0;
    std::optional<error> insert_agent(models::agent& a) {
        return insert_agent(a, models::to_json_text(a));
    }
    /// Replaces an existing agent (same id), stored as doc. errc::conflict when the new name
    /// is taken, errc::not_found when it does not exist.
    virtual std::optional<error> update_agent(const models::agent& a, const std::string& doc) = 0;
    std::optional<error> update_agent(const models::agent& a) {
        return update_agent(a, models::to_json_text(a));
    }
    /// Deletes an agent. errc::not_found when it does not exist.
    virtual std::optional<error> delete_agent(const std::string& id) = 0;
    /// The current stored agent, as this transaction sees it.
    virtual std::optional<models::agent> find_agent(const std::string& id) = 0;
    /// The stored idempotency record for (principal, key), if any and not expired.
    virtual std::optional<idempotency_record> find_idempotency(const std::string& principal,
                                                               const std::string& key) = 0;
    /// Saves an idempotency record (replacing an expired one).
    virtual std::optional<error> put_idempotency(const idempotency_record& r) = 0;
    /// Appends an event to the log in this transaction; fills e.seq with the next number
    /// (the last committed or appended one + 1: an operation undone gives its number back,
    /// so the log has no gaps). doc is models::to_stored_json(e): the event without its seq,
    /// which the store keeps beside it; a caller that knows the event before the write
    /// serialises it outside the writer thread.
    virtual std::optional<error> append_event(models::event& e, const std::string& doc) = 0;
    std::optional<error> append_event(models::event& e) {
        return append_event(e, models::to_stored_json(e).dump());
    }
    /// Inserts a new task; fills t.seq.
    virtual std::optional<error> insert_task(models::task& t) = 0;
    /// Replaces a stored task (same id); errc::not_found when there is none.
    virtual std::optional<error> update_task(const models::task& t) = 0;
    /// The stored task, as this transaction sees it.
    virtual std::optional<models::task> find_task(const std::string& id) = 0;
    /// Appends an audit record; fills r.seq (the last one + 1: no gaps).
    virtual std::optional<error> append_audit(audit_record& r) = 0;
};

/// A page of tasks.
struct task_query {
    std::int64_t after_seq = 0;
    std::size_t limit = 50;
    std::optional<models::task_status> status;
};

/// A page of the event log.
struct event_query {
    std::int64_t after = 0; ///< events with seq > after
    std::size_t limit = 50;
    std::string type;                    ///< "" = any
    std::string agent_id;                ///< "" = any
    std::vector<std::string> types = {}; ///< any of these (empty = any)
};

/// One write. apply runs on the writer thread inside its own savepoint: return an error to
/// undo just this operation. done runs on the writer thread after the batch committed
/// (with apply's error, if any) or failed to commit (errc::storage_failure).
struct write_op {
    std::function<std::optional<error>(store_txn&)> apply;
    std::function<void(const std::optional<error>&)> done;
    /// The audit record of the request that made this write (null: none). Appended after
    /// apply in the same savepoint; if it cannot be, the write is undone (errc::storage_failure).
    std::shared_ptr<audit_draft> audit = nullptr;
};

/// The durable store. Thread-safe.
class store {
public:
    virtual ~store() = default;
    /// Every stored agent in creation order (start-up: builds the in-memory index).
    virtual std::vector<models::agent> load_agents() = 0;
    /// Committed events matching q, oldest first. Thread-safe; never waits for the writer.
    virtual util::expected<std::vector<models::event>, error> read_events(const event_query& q) = 0;
    /// The seq of the last committed event (0 when the log is empty).
    virtual std::int64_t last_event_seq() = 0;
    /// Committed tasks matching q, in creation order. Thread-safe.
    virtual util::expected<std::vector<models::task>, error> read_tasks(const task_query& q) = 0;
    /// Committed audit records with seq > after, oldest first, at most limit. Thread-safe.
    virtual util::expected<std::vector<audit_record>, error> read_audit(std::int64_t after,
                                                                        std::size_t limit) = 0;
    /// One committed task. Thread-safe.
    virtual std::optional<models::task> read_task(const std::string& id) = 0;
    /// Every task still queued or running (start-up: running ones run again).
    virtual std::vector<models::task> load_unfinished_tasks() = 0;
    /// Queues a write. Returns errc::unavailable when the store is stopping.
    virtual std::optional<error> submit(write_op op) = 0;
    /// True while the last commit and the last probe succeeded.
    [[nodiscard]] virtual bool healthy() const = 0;
    /// Finishes queued writes, then stops the writer. Idempotent.
    virtual void stop() = 0;
};

} // namespace agent
