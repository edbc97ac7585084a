#include "reference/storage/sqlite_store.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "reference/util/failpoint.hpp"

namespace agent {
namespace {

constexpr int busy_timeout_ms = 5000;
/// How long a connection that finds the database locked sleeps before it tries again.
/// SQLite's own busy handler (`sqlite3_busy_timeout`) sleeps 1, 2, 5, 10, 15, 20, 25 … ms: a
/// writer held up for 3 ms by a checkpoint's final step would sleep 33 ms before it
/// retried, and every request in its queue with it.
constexpr auto busy_retry = std::chrono::microseconds(100);

/// Retries every `busy_retry` until `busy_timeout_ms` has passed, then gives up
/// (SQLITE_BUSY, which the caller reports).
int retry_when_busy(void* /*unused*/, int attempts) {
    constexpr auto limit = std::chrono::milliseconds(busy_timeout_ms) / busy_retry;
    if (attempts >= limit) return 0;
    std::this_thread::sleep_for(busy_retry);
    return 1;
}
/// WAL pages (4 KiB) not yet copied into the database after which the checkpointer copies
/// them once the writer is quiet (SQLite's own auto-checkpoint size) ...
constexpr int checkpoint_pages = 1000;
/// ... how long "quiet" is (no commit) ...
constexpr auto checkpoint_quiet = std::chrono::milliseconds(20);
/// ... after which they are copied anyway, without blocking the writer (8 MiB): each
/// checkpoint ends with an fsync of the database, which holds up the log's own fsyncs on the
/// same disk, so under writes they come often and small (about 3 ms of copying and flushing;
/// at 32 MiB, p99 at half the maximum write rate was 5-7 ms, at 8 MiB 3-4 ms) ...
constexpr int checkpoint_pages_busy = 2048;
/// ... and past the log's bound (sqlite_settings::log_bound_pages, 256 MiB) the writer itself
/// copies what is left. A checkpoint running beside the writer never reaches the log's end,
/// and only a log that was wholly copied starts again from its beginning: without this, the
/// log would grow as long as the writes never pause. The writer does it in its commit hook, right
/// after the checkpointer has caught up (at most `checkpoint_pages_busy` behind; twice the bound at
/// the latest), so it waits for one small copy. A RESTART checkpoint from the other thread would do
/// the same, but it holds the writer back for the whole copy and then for the readers, and measured
/// 60 ms.

const char* const schema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents(
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  id       TEXT NOT NULL UNIQUE,
  name     TEXT NOT NULL UNIQUE,
  owner    TEXT NOT NULL,
  status   TEXT NOT NULL,
  revision INTEGER NOT NULL,
  doc      TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency(
  principal   TEXT NOT NULL,
  key         TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status      INTEGER NOT NULL,
  location    TEXT NOT NULL,
  etag        TEXT NOT NULL,
  body        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY(principal, key));
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_at);
CREATE TABLE IF NOT EXISTS events(
  seq      INTEGER PRIMARY KEY,
  type     TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  doc      TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_type ON events(type, seq);
CREATE INDEX IF NOT EXISTS events_agent ON events(agent_id, seq);
CREATE TABLE IF NOT EXISTS tasks(
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  id     TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  doc    TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status, seq);
CREATE TABLE IF NOT EXISTS audit(
  seq         INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  resource    TEXT NOT NULL,
  status      INTEGER NOT NULL,
  request_id  TEXT NOT NULL,
  remote_addr TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');
)sql";

// A prepared statement, reset after each use.
class statement {
public:
    statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
            SQLITE_OK)
            throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
    ~statement() { sqlite3_finalize(stmt_); }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;

    statement& bind(int i, const std::string& s) {
        sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        return *this;
    }
    statement& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    /// Steps once: SQLITE_ROW, SQLITE_DONE or an error code.
    int step() { return sqlite3_step(stmt_); }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    std::string text(int col) const {
        const auto* p = sqlite3_column_text(stmt_, col);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string();
    }
    std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
    [[nodiscard]] sqlite3* db() const noexcept { return db_; }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement at scope exit.
struct reset_guard {
    statement& s;
    ~reset_guard() { s.reset(); }
};

void exec(sqlite3* db, const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
        std::string m = msg ? msg : "unknown error";
        sqlite3_free(msg);
        throw std::runtime_error("sqlite: " + m + " (in: " + std::string(sql).substr(0, 60) + ")");
    }
}

error storage_error(sqlite3* db, const char* what) {
    return error{errc::storage_failure, std::string(what) + ": " + sqlite3_errmsg(db), {}};
}

std::optional<models::agent> agent_from_row(const statement& s) {
    auto doc = nlohmann::json::parse(s.text(1), nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    auto a = models::from_json(doc);
    if (a) a->seq = s.int64(0);
    return a;
}

std::optional<models::task> task_from_row(const statement& s) {
    auto doc = nlohmann::json::parse(s.text(1), nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    auto t = models::task_from_stored_json(doc);
    if (t) t->seq = s.int64(0);
    return t;
}

} // namespace

class sqlite_store::txn final : public store_txn {
public:
    txn(sqlite3* db, const clock& clk, std::chrono::seconds ttl)
        : db_(db), clock_(clk), ttl_(ttl),
          insert_(db, "INSERT INTO agents(id, name, owner, status, revision, doc) VALUES(?1, ?2, "
                      "?3, ?4, ?5, ?6)"),
          update_(db, "UPDATE agents SET name = ?2, owner = ?3, status = ?4, revision = ?5, doc = "
                      "?6 WHERE id = ?1"),
          delete_(db, "DELETE FROM agents WHERE id = ?1"),
          find_(db, "SELECT seq, doc FROM agents WHERE id = ?1"),
          find_idem_(db, "SELECT fingerprint, status, location, etag, body, created_at FROM "
                         "idempotency WHERE principal = ?1 AND key = ?2"),
          put_idem_(db, "INSERT OR REPLACE INTO idempotency(principal, key, fingerprint, status, "
                        "location, etag, body, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
          free_seq_(db, "SELECT COALESCE(MAX(seq), 0) + 1 FROM events"),
          insert_event_(db, "INSERT INTO events(seq, type, agent_id, doc) VALUES(?1, ?2, ?3, ?4)"),
          insert_task_(db, "INSERT INTO tasks(id, status, doc) VALUES(?1, ?2, ?3)"),
          update_task_(db, "UPDATE tasks SET status = ?2, doc = ?3 WHERE id = ?1"),
          find_task_(db, "SELECT seq, doc FROM tasks WHERE id = ?1"),
          // seq: SQLite's next rowid, the largest + 1 (no AUTOINCREMENT: a record undone
          // gives its number back, so the log has no gaps).
          insert_audit_(db, "INSERT INTO audit(at, actor, action, resource, status, request_id, "
                            "remote_addr) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
          begin_(db, "BEGIN IMMEDIATE"), commit_(db, "COMMIT"), rollback_(db, "ROLLBACK"),
          savepoint_(db, "SAVEPOINT op"), release_(db, "RELEASE op"),
          rollback_to_(db, "ROLLBACK TO op") {}

    // The transaction and its per-operation savepoints, as prepared statements (the writer
    // runs them for every operation).
    bool begin() { return run(begin_); }
    bool commit() { return run(commit_); }
    void rollback() {
        run(rollback_);
        next_seq_.reset(); // what was appended is gone; read the number again
    }
    /// Opens an operation's savepoint; returns the mark to undo it with.
    std::optional<std::int64_t> savepoint() {
        run(savepoint_);
        return next_seq_;
    }
    void release() { run(release_); }
    void rollback_to(std::optional<std::int64_t> mark) {
        run(rollback_to_);
        next_seq_ = mark; // the operation's event numbers are given back
    }

    std::optional<error> insert_task(models::task& t) override {
        reset_guard g{insert_task_};
        insert_task_.bind(1, t.id)
            .bind(2, std::string(models::to_string(t.status)))
            .bind(3, models::to_stored_json(t).dump());
        if (insert_task_.step() != SQLITE_DONE) return storage_error(db_, "insert task");
        t.seq = sqlite3_last_insert_rowid(db_);
        return std::nullopt;
    }

    std::optional<error> update_task(const models::task& t) override {
        reset_guard g{update_task_};
        update_task_.bind(1, t.id)
            .bind(2, std::string(models::to_string(t.status)))
            .bind(3, models::to_stored_json(t).dump());
        if (update_task_.step() != SQLITE_DONE) return storage_error(db_, "update task");
        if (sqlite3_changes(db_) == 0) return error{errc::not_found, "no task with id " + t.id, {}};
        return std::nullopt;
    }

    std::optional<models::task> find_task(const std::string& id) override {
        reset_guard g{find_task_};
        find_task_.bind(1, id);
        if (find_task_.step() != SQLITE_ROW) return std::nullopt;
        return task_from_row(find_task_);
    }

    std::optional<error> append_audit(audit_record& r) override {
        reset_guard g{insert_audit_};
        insert_audit_.bind(1, r.at)
            .bind(2, r.actor)
            .bind(3, r.action)
            .bind(4, r.resource)
            .bind(5, std::int64_t{r.status})
            .bind(6, r.request_id)
            .bind(7, r.remote_addr);
        if (insert_audit_.step() != SQLITE_DONE) return storage_error(db_, "append audit record");
        r.seq = sqlite3_last_insert_rowid(db_);
        return std::nullopt;
    }

    using store_txn::append_event;
    std::optional<error> append_event(models::event& e, const std::string& doc) override {
        if (!next_seq_) { // once per transaction outcome: the writer is the log's only writer
            reset_guard g{free_seq_};
            if (free_seq_.step() != SQLITE_ROW) return storage_error(db_, "next event seq");
            next_seq_ = free_seq_.int64(0);
        }
        e.seq = *next_seq_;
        reset_guard g{insert_event_};
        insert_event_.bind(1, e.seq)
            .bind(2, e.type)
            .bind(3, e.agent_id.value_or(std::string()))
            .bind(4, doc);
        if (insert_event_.step() != SQLITE_DONE) return storage_error(db_, "append event");
        // EVT-002: the next event takes the next number, exactly one more.
        *next_seq_ += AGENT_FAILPOINT("EVT-002.seq-gap") ? 2 : 1;
        return std::nullopt;
    }

    using store_txn::insert_agent;
    std::optional<error> insert_agent(models::agent& a, const std::string& doc) override {
        reset_guard g{insert_};
        bind_agent(insert_, a, doc);
        int rc = insert_.step();
        if (rc == SQLITE_CONSTRAINT)
            return error{
                errc::conflict, "an agent named '" + a.fields.name + "' already exists", {}};
        if (rc != SQLITE_DONE) return storage_error(db_, "insert agent");
        a.seq = sqlite3_last_insert_rowid(db_);
        return std::nullopt;
    }

    using store_txn::update_agent;
    std::optional<error> update_agent(const models::agent& a, const std::string& doc) override {
        reset_guard g{update_};
        bind_agent(update_, a, doc);
        int rc = update_.step();
        if (rc == SQLITE_CONSTRAINT)
            return error{
                errc::conflict, "an agent named '" + a.fields.name + "' already exists", {}};
        if (rc != SQLITE_DONE) return storage_error(db_, "update agent");
        if (sqlite3_changes(db_) == 0)
            return error{errc::not_found, "no agent with id " + a.id, {}};
        return std::nullopt;
    }

    std::optional<error> delete_agent(const std::string& id) override {
        reset_guard g{delete_};
        delete_.bind(1, id);
        if (delete_.step() != SQLITE_DONE) return storage_error(db_, "delete agent");
        if (sqlite3_changes(db_) == 0) return error{errc::not_found, "no agent with id " + id, {}};
        return std::nullopt;
    }

    std::optional<models::agent> find_agent(const std::string& id) override {
        reset_guard g{find_};
        find_.bind(1, id);
        if (find_.step() != SQLITE_ROW) return std::nullopt;
        return agent_from_row(find_);
    }

    std::optional<idempotency_record> find_idempotency(const std::string& principal,
                                                       const std::string& key) override {
        reset_guard g{find_idem_};
        find_idem_.bind(1, principal).bind(2, key);
        if (find_idem_.step() != SQLITE_ROW) return std::nullopt;
        idempotency_record r{principal,          key,
                             find_idem_.text(0), static_cast<int>(find_idem_.int64(1)),
                             find_idem_.text(2), find_idem_.text(3),
                             find_idem_.text(4), find_idem_.int64(5)};
        if (r.created_at_s + ttl_.count() <= now_s()) return std::nullopt;
        return r;
    }

    std::optional<error> put_idempotency(const idempotency_record& r) override {
        reset_guard g{put_idem_};
        put_idem_.bind(1, r.principal)
            .bind(2, r.key)
            .bind(3, r.fingerprint)
            .bind(4, std::int64_t{r.status})
            .bind(5, r.location)
            .bind(6, r.etag)
            .bind(7, r.body)
            .bind(8, r.created_at_s ? r.created_at_s : now_s());
        if (put_idem_.step() != SQLITE_DONE) return storage_error(db_, "save idempotency record");
        return std::nullopt;
    }

    std::int64_t now_s() const {
        return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch())
            .count();
    }

private:
    static void bind_agent(statement& s, const models::agent& a, const std::string& doc) {
        // REG-012: names are unique across owners (the name column is UNIQUE). The failpoint
        // keys the column by owner too, so two owners may take the same name.
        s.bind(1, a.id)
            .bind(2, AGENT_FAILPOINT("REG-012.names-unique-per-owner")
                         ? a.owner + "\n" + a.fields.name
                         : a.fields.name)
            .bind(3, a.owner)
            .bind(4, std::string(models::to_string(a.status)))
            .bind(5, a.revision)
            .bind(6, doc);
    }
    bool run(statement& s) {
        reset_guard g{s};
        return s.step() == SQLITE_DONE;
    }

    sqlite3* db_;
    const clock& clock_;
    std::chrono::seconds ttl_;
    statement insert_, update_, delete_, find_, find_idem_, put_idem_, free_seq_, insert_event_,
        insert_task_, update_task_, find_task_, insert_audit_, begin_, commit_, rollback_,
        savepoint_, release_, rollback_to_;
    std::optional<std::int64_t> next_seq_; ///< the next event's seq, once read in this run
};

sqlite_store::sqlite_store(sqlite_settings settings, const clock& clk)
    : settings_(std::move(settings)), clock_(clk) {
    if (settings_.maintenance_interval <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("sqlite_store: maintenance_interval must be positive");
    if (settings_.log_bound_pages <= 0)
        throw std::invalid_argument("sqlite_store: log_bound_pages must be positive");
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(settings_.path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw std::runtime_error("cannot open database '" + settings_.path + "': " + msg);
    }
    try {
        sqlite3_busy_handler(db_, &retry_when_busy, nullptr);
        exec(db_, "PRAGMA journal_mode=WAL");
        exec(db_, ("PRAGMA synchronous=" + settings_.synchronous).c_str());
        exec(db_, schema);
        txn_ = std::make_unique<txn>(db_, clock_, settings_.idempotency_ttl);
        // Readers (GET /events) use their own connection: in WAL mode they see the last
        // commit and never wait for the writer.
        if (sqlite3_open_v2(settings_.path.c_str(), &reader_,
                            SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
            throw std::runtime_error("cannot open database '" + settings_.path +
                                     "' for reading: " + sqlite3_errmsg(reader_));
        sqlite3_busy_handler(reader_, &retry_when_busy, nullptr);
        if (sqlite3_open_v2(settings_.path.c_str(), &checkpoint_db_,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
            throw std::runtime_error("cannot open database '" + settings_.path +
                                     "' for checkpoints: " + sqlite3_errmsg(checkpoint_db_));
        sqlite3_busy_handler(checkpoint_db_, &retry_when_busy, nullptr);
        // A connection learns that the database is in WAL mode on its first read; until then
        // a checkpoint through it does nothing.
        exec(checkpoint_db_, "SELECT value FROM meta WHERE key = 'schema_version'");
        exec(db_, "PRAGMA wal_autocheckpoint=0"); // the checkpointer's job (see the header)
        sqlite3_wal_hook(db_, &sqlite_store::on_wal_commit, this);
    } catch (...) {
        txn_.reset();
        sqlite3_close(checkpoint_db_);
        sqlite3_close(reader_);
        sqlite3_close(db_);
        throw;
    }
    // LIFE-006: a write is answered only once committed (synchronous=FULL: durable).
    ack_before_commit_ = AGENT_FAILPOINT("LIFE-006.ack-before-commit");
    checkpointer_ = std::thread([this] { run_checkpointer(); });
    writer_ = std::thread([this] { run_writer(); });
}

int sqlite_store::on_wal_commit(void* self, sqlite3* db, const char* name, int pages) {
    auto* store = static_cast<sqlite_store*>(self);
    store->last_commit_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                                 std::memory_order_relaxed);
    store->wal_pages_.store(pages, std::memory_order_relaxed);
    int copied = store->copied_pages_.load(std::memory_order_relaxed);
    if (pages < copied) { // the log started again from its beginning
        copied = 0;
        store->copied_pages_.store(0, std::memory_order_relaxed);
    }
    const int behind = pages - copied;
    const int bound = store->settings_.log_bound_pages;
    if (pages >= bound && (behind <= checkpoint_pages_busy || pages >= 2 * bound)) {
        // On the writer's own connection nothing is appended meanwhile: the copy reaches the
        // log's end, and the next write starts the log again.
        int log_frames = 0;
        int done_frames = 0;
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done_frames);
        store->copied_pages_.store(done_frames, std::memory_order_relaxed);
        store->checkpoints_.fetch_add(1);
        store->bound_checkpoints_.fetch_add(1);
        return SQLITE_OK;
    }
    if (behind < checkpoint_pages) return SQLITE_OK;
    {
        std::lock_guard lock(store->checkpoint_mutex_);
        if (store->checkpoint_wanted_) return SQLITE_OK;
        store->checkpoint_wanted_ = true;
    }
    store->checkpoint_cv_.notify_one();
    return SQLITE_OK;
}

void sqlite_store::run_checkpointer() {
    std::unique_lock lock(checkpoint_mutex_);
    while (true) {
        checkpoint_cv_.wait(lock, [this] { return checkpoint_wanted_ || checkpoint_stop_; });
        if (checkpoint_stop_) return;
        // Wait for a pause in the writes, unless the log is far enough ahead of the database.
        const auto quiet =
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(checkpoint_quiet)
                .count();
        const auto since_commit = [this] {
            return std::chrono::steady_clock::now().time_since_epoch().count() -
                   last_commit_ns_.load(std::memory_order_relaxed);
        };
        const auto behind = [this] {
            return wal_pages_.load(std::memory_order_relaxed) -
                   copied_pages_.load(std::memory_order_relaxed);
        };
        if (since_commit() < quiet && behind() < checkpoint_pages_busy) {
            checkpoint_cv_.wait_for(lock, checkpoint_quiet, [this] { return checkpoint_stop_; });
            continue;
        }
        checkpoint_wanted_ = false;
        lock.unlock();
        int log_frames = 0;
        int done_frames = 0;
        // PASSIVE: copies what no reader needs, blocking no one (the writer keeps appending).
        // Then, if the writer is still quiet, RESTART: the next write starts the log again
        // from its beginning (it holds the writer back, but there is none).
        sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                  &done_frames);
        if (since_commit() >= quiet)
            sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_RESTART,
                                      &log_frames, &done_frames);
        // The log may have started again meanwhile (a smaller size than what was copied is
        // read as that by the hook).
        if (done_frames <= wal_pages_.load(std::memory_order_relaxed))
            copied_pages_.store(done_frames, std::memory_order_relaxed);
        checkpoints_.fetch_add(1);
        lock.lock();
    }
}

sqlite_store::~sqlite_store() {
    stop();
    txn_.reset();
    sqlite3_close(reader_);
    sqlite3_close(checkpoint_db_);
    sqlite3_close(db_); // the last connection: SQLite checkpoints the log as it closes
}

util::expected<std::vector<models::event>, error> sqlite_store::read_events(const event_query& q) {
    std::lock_guard lock(reader_mutex_);
    std::string sql = "SELECT seq, doc FROM events WHERE seq > ?1 AND (?2 = '' OR type = ?2) "
                      "AND (?3 = '' OR agent_id = ?3)";
    if (!q.types.empty()) {
        sql += " AND type IN (";
        for (std::size_t i = 0; i < q.types.size(); ++i)
            sql += (i ? ", ?" : "?") + std::to_string(5 + i);
        sql += ")";
    }
    sql += " ORDER BY seq LIMIT ?4";
    statement s(reader_, sql.c_str());
    s.bind(1, q.after)
        .bind(2, q.type)
        .bind(3, q.agent_id)
        .bind(4, static_cast<std::int64_t>(q.limit));
    for (std::size_t i = 0; i < q.types.size(); ++i)
        s.bind(static_cast<int>(5 + i), q.types[i]);
    std::vector<models::event> out;
    int rc = SQLITE_ROW;
    while ((rc = s.step()) == SQLITE_ROW) {
        auto doc = nlohmann::json::parse(s.text(1), nullptr, false);
        if (!doc.is_object()) continue;
        doc["seq"] = s.int64(0); // kept beside the document (see models::to_stored_json)
        if (auto e = models::event_from_json(doc)) out.push_back(std::move(*e));
    }
    if (rc != SQLITE_DONE) return util::unexpected(storage_error(reader_, "read events"));
    return out;
}

util::expected<std::vector<models::task>, error> sqlite_store::read_tasks(const task_query& q) {
    std::lock_guard lock(reader_mutex_);
    statement s(reader_, "SELECT seq, doc FROM tasks WHERE seq > ?1 AND (?2 = '' OR status = ?2) "
                         "ORDER BY seq LIMIT ?3");
    s.bind(1, q.after_seq)
        .bind(2, q.status ? std::string(models::to_string(*q.status)) : std::string())
        .bind(3, static_cast<std::int64_t>(q.limit));
    std::vector<models::task> out;
    int rc = SQLITE_ROW;
    while ((rc = s.step()) == SQLITE_ROW)
        if (auto t = task_from_row(s)) out.push_back(std::move(*t));
    if (rc != SQLITE_DONE) return util::unexpected(storage_error(reader_, "read tasks"));
    return out;
}

util::expected<std::vector<audit_record>, error> sqlite_store::read_audit(std::int64_t after,
                                                                          std::size_t limit) {
    std::lock_guard lock(reader_mutex_);
    statement s(reader_, "SELECT seq, at, actor, action, resource, status, request_id, "
                         "remote_addr FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    s.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    std::vector<audit_record> out;
    int rc = SQLITE_ROW;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4),
                       static_cast<int>(s.int64(5)), s.text(6), s.text(7)});
    if (rc != SQLITE_DONE) return util::unexpected(storage_error(reader_, "read audit"));
    return out;
}

std::optional<models::task> sqlite_store::read_task(const std::string& id) {
    std::lock_guard lock(reader_mutex_);
    statement s(reader_, "SELECT seq, doc FROM tasks WHERE id = ?1");
    s.bind(1, id);
    if (s.step() != SQLITE_ROW) return std::nullopt;
    return task_from_row(s);
}

std::vector<models::task> sqlite_store::load_unfinished_tasks() {
    std::lock_guard lock(mutex_);
    statement s(db_,
                "SELECT seq, doc FROM tasks WHERE status IN ('queued', 'running') ORDER BY seq");
    std::vector<models::task> out;
    while (s.step() == SQLITE_ROW)
        if (auto t = task_from_row(s)) out.push_back(std::move(*t));
    return out;
}

std::int64_t sqlite_store::last_event_seq() {
    std::lock_guard lock(reader_mutex_);
    statement s(reader_, "SELECT COALESCE(MAX(seq), 0) FROM events");
    return s.step() == SQLITE_ROW ? s.int64(0) : 0;
}

std::vector<models::agent> sqlite_store::load_agents() {
    std::lock_guard lock(mutex_); // the connection is the writer's; borrow it between batches
    statement s(db_, "SELECT seq, doc FROM agents ORDER BY seq");
    std::vector<models::agent> out;
    while (s.step() == SQLITE_ROW)
        if (auto a = agent_from_row(s)) out.push_back(std::move(*a));
    return out;
}

std::optional<error> sqlite_store::submit(write_op op) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return error{errc::unavailable, "the store is shutting down", {}};
        queue_.push_back(std::move(op));
    }
    cv_.notify_one();
    return std::nullopt;
}

void sqlite_store::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !writer_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_one();
    if (writer_.joinable()) writer_.join();
    {
        std::lock_guard lock(checkpoint_mutex_);
        checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_one();
    if (checkpointer_.joinable()) checkpointer_.join();
}

void sqlite_store::run_writer() {
    std::unique_lock lock(mutex_);
    auto next_maintenance = clock_.steady_now() + settings_.maintenance_interval;
    // LIFE-006.ack-before-commit: the open transaction is committed every quarter second.
    constexpr auto late_commit = std::chrono::milliseconds(250);
    const auto sleep = ack_before_commit_
                           ? std::min<std::chrono::milliseconds>(settings_.maintenance_interval,
                                                                 std::chrono::milliseconds(50))
                           : settings_.maintenance_interval;
    while (true) {
        // Sleeps until work arrives, stop is asked, or the maintenance interval passes.
        cv_.wait_for(lock, sleep, [this] { return stopping_ || !queue_.empty(); });
        if (open_transaction_ &&
            (stopping_ || std::chrono::steady_clock::now() - opened_at_ >= late_commit)) {
            lock.unlock();
            commit_open_transaction();
            lock.lock();
        }
        if (queue_.empty() && stopping_) return;
        if (!queue_.empty()) {
            std::deque<write_op> batch;
            while (!queue_.empty() && batch.size() < settings_.batch_max) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            lock.unlock();
            run_batch(batch);
            lock.lock();
        }
        // Due maintenance also runs under a steady stream of writes, between batches.
        if (clock_.steady_now() >= next_maintenance) {
            maintenance(); // under the lock: load_agents cannot race with it
            next_maintenance = clock_.steady_now() + settings_.maintenance_interval;
        }
    }
}

void sqlite_store::commit_open_transaction() {
    open_transaction_ = false;
    if (!txn_->commit()) txn_->rollback();
}

void sqlite_store::run_batch(std::deque<write_op>& batch) {
    std::vector<std::optional<error>> results(batch.size());
    bool committed = false;
    if (open_transaction_ || txn_->begin()) {
        if (ack_before_commit_ && !open_transaction_) {
            open_transaction_ = true;
            opened_at_ = std::chrono::steady_clock::now();
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto mark = txn_->savepoint();
            try {
                results[i] = batch[i].apply(*txn_);
            } catch (const std::exception& e) {
                results[i] = error{errc::internal, std::string("write failed: ") + e.what(), {}};
            }
            if (results[i]) txn_->rollback_to(mark);
            if (auto& audit = batch[i].audit) {
                // The record goes in the operation's savepoint: with its change, or alone
                // when the change was refused and undone.
                auto& r = audit->record;
                if (results[i])
                    r.status = audit->failed_status ? audit->failed_status(results[i]->code) : 500;
                if (auto err = txn_->append_audit(r)) {
                    txn_->rollback_to(mark); // a change is never kept without its record
                    results[i] = std::move(err);
                    r.seq = 0;
                }
            }
            txn_->release();
        }
        if (ack_before_commit_) {
            committed = true; // answered now; committed by run_writer within 250 ms
        } else {
            committed = txn_->commit();
            if (!committed) txn_->rollback();
        }
    }
    healthy_.store(committed, std::memory_order_relaxed);
    if (committed) {
        commits_.fetch_add(1);
        committed_ops_.fetch_add(batch.size());
    }
    std::optional<error> failure;
    if (!committed) failure = storage_error(db_, "commit");
    for (std::size_t i = 0; i < batch.size(); ++i) {
        std::optional<error> outcome = committed ? results[i] : failure;
        if (auto& audit = batch[i].audit) audit->committed = committed && audit->record.seq != 0;
        try {
            if (batch[i].done) batch[i].done(outcome);
        } catch (...) { // a completion must never take the writer down
        }
    }
}

void sqlite_store::maintenance() {
    // Probe: the database answers a read; purge expired idempotency records.
    statement probe(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
    bool ok = probe.step() == SQLITE_ROW;
    statement purge(db_, "DELETE FROM idempotency WHERE created_at < ?1");
    purge.bind(1, txn_->now_s() - settings_.idempotency_ttl.count());
    ok = (purge.step() == SQLITE_DONE) && ok;
    if (ok) purged_.fetch_add(static_cast<std::uint64_t>(sqlite3_changes(db_)));
    healthy_.store(ok, std::memory_order_relaxed);
    maintenance_runs_.fetch_add(1);
}

} // namespace agent
