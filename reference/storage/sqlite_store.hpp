#pragma once
// SQLite implementation of agent::store: WAL journal, configurable synchronous level, one
// writer thread that groups queued writes into one transaction per commit.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "reference/interfaces/clock.hpp"
#include "reference/interfaces/store.hpp"

struct sqlite3;

namespace agent {

/// How to open the database.
struct sqlite_settings {
    std::string path;                 ///< database file
    std::string synchronous = "FULL"; ///< OFF | NORMAL | FULL | EXTRA
    std::size_t batch_max = 512;      ///< most operations per commit
    std::chrono::seconds idempotency_ttl{86400};
    std::chrono::milliseconds maintenance_interval{5000}; ///< probe + purge when idle
    /// The log's size (4 KiB pages) past which the writer copies the rest of it into the
    /// database itself, so that it starts again from its beginning (256 MiB).
    int log_bound_pages = 65536;
};

/// The SQLite store. Construction opens (or creates) the database and starts the writer;
/// it throws std::runtime_error with SQLite's message when it cannot, and
/// std::invalid_argument when maintenance_interval is not positive (the idle writer would
/// busy-wait). The writer sleeps while the queue is empty. Thread-safe.
class sqlite_store final : public store {
public:
    sqlite_store(sqlite_settings settings, const clock& clk);
    ~sqlite_store() override;
    sqlite_store(const sqlite_store&) = delete;
    sqlite_store& operator=(const sqlite_store&) = delete;

    std::vector<models::agent> load_agents() override;
    std::optional<error> submit(write_op op) override;
    util::expected<std::vector<models::event>, error> read_events(const event_query& q) override;
    std::int64_t last_event_seq() override;
    util::expected<std::vector<models::task>, error> read_tasks(const task_query& q) override;
    std::optional<models::task> read_task(const std::string& id) override;
    util::expected<std::vector<audit_record>, error> read_audit(std::int64_t after,
                                                                std::size_t limit) override;
    std::vector<models::task> load_unfinished_tasks() override;
    [[nodiscard]] bool healthy() const override { return healthy_.load(std::memory_order_relaxed); }
    void stop() override;

    /// Number of commits so far and operations they carried (group-commit statistics).
    [[nodiscard]] std::uint64_t commits() const noexcept { return commits_.load(); }
    [[nodiscard]] std::uint64_t committed_ops() const noexcept { return committed_ops_.load(); }
    /// Checkpoints the background checkpointer has run (each after ~4 MiB of log).
    [[nodiscard]] std::uint64_t checkpoints() const noexcept { return checkpoints_.load(); }
    /// Of which the writer ran itself, the log having reached `log_bound_pages`.
    [[nodiscard]] std::uint64_t bound_checkpoints() const noexcept {
        return bound_checkpoints_.load();
    }
    /// Number of maintenance rounds run so far (each: probe + purge of expired records).
    [[nodiscard]] std::uint64_t maintenance_runs() const noexcept {
        return maintenance_runs_.load();
    }
    /// Expired idempotency records deleted by maintenance so far.
    [[nodiscard]] std::uint64_t purged_idempotency_records() const noexcept {
        return purged_.load();
    }

private:
    class txn;
    void run_writer();
    void run_batch(std::deque<write_op>& batch);
    void commit_open_transaction();
    void maintenance();
    void run_checkpointer();
    /// SQLite's WAL hook on the writer's connection: wakes the checkpointer when the log is
    /// checkpoint_pages ahead of the database, and copies the rest itself when the log has
    /// reached its bound (sqlite_settings::log_bound_pages).
    static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);

    sqlite_settings settings_;
    const clock& clock_;
    sqlite3* db_ = nullptr;
    std::unique_ptr<txn> txn_;
    sqlite3* reader_ = nullptr;
    std::mutex reader_mutex_;

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<write_op> queue_;
    bool stopping_ = false;
    std::atomic<bool> healthy_{true};
    std::atomic<std::uint64_t> commits_{0};
    std::atomic<std::uint64_t> committed_ops_{0};
    std::atomic<std::uint64_t> maintenance_runs_{0};
    std::atomic<std::uint64_t> purged_{0};
    std::thread writer_;
    /// LIFE-006.ack-before-commit: writes are answered when applied, and the transaction
    /// they are in is committed later (writer thread only).
    bool ack_before_commit_ = false;
    bool open_transaction_ = false;
    std::chrono::steady_clock::time_point opened_at_{};

    // Checkpoints run on their own connection and thread (PASSIVE: they never block the
    // writer), instead of inside whichever commit crosses SQLite's auto-checkpoint size: a
    // checkpoint of a large database took hundreds of milliseconds, and every write waiting
    // on that commit waited with it.
    sqlite3* checkpoint_db_ = nullptr;
    std::mutex checkpoint_mutex_;
    std::condition_variable checkpoint_cv_;
    bool checkpoint_wanted_ = false;
    bool checkpoint_stop_ = false;
    std::atomic<std::uint64_t> checkpoints_{0};
    std::atomic<std::uint64_t> bound_checkpoints_{0};
    std::atomic<std::int64_t> last_commit_ns_{0}; ///< steady clock, from the WAL hook
    std::atomic<int> wal_pages_{0};               ///< the log's size after the last commit
    std::atomic<int> copied_pages_{0}; ///< of which the last checkpoint copied into the database
    std::thread checkpointer_;
};

} // namespace agent
