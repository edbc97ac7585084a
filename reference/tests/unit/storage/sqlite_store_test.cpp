#include "reference/storage/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>
#include <random>
#include <thread>

namespace agent {
namespace {

std::string temp_db() {
    auto dir = std::filesystem::temp_directory_path() /
               ("store-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    return (dir / "t.db").string();
}

models::agent sample(const std::string& id, const std::string& name) {
    models::agent a;
    a.id = id;
    a.fields.name = name;
    a.fields.version = "1.0.0";
    a.owner = "o";
    a.created_at = a.updated_at = "2026-01-01T00:00:00.000Z";
    return a;
}

// Runs one op and waits for its completion.
std::optional<error> run(store& s, std::function<std::optional<error>(store_txn&)> apply) {
    std::promise<std::optional<error>> done;
    auto f = done.get_future();
    s.submit({std::move(apply), [&done](const std::optional<error>& e) { done.set_value(e); }});
    return f.get();
}

TEST(sqlite_store, writes_are_durable_and_reloaded_in_order) {
    manual_clock clk{std::chrono::system_clock::now()};
    auto path = temp_db();
    {
        sqlite_store s({path}, clk);
        for (int i = 0; i < 5; ++i) {
            auto a = sample("id" + std::to_string(i), "n" + std::to_string(i));
            EXPECT_FALSE(run(s, [a](store_txn& t) mutable { return t.insert_agent(a); }));
        }
        EXPECT_TRUE(s.healthy());
    }
    sqlite_store s({path}, clk);
    auto all = s.load_agents();
    ASSERT_EQ(all.size(), 5U);
    for (std::size_t i = 0; i < all.size(); ++i)
        EXPECT_EQ(all[i].fields.name, "n" + std::to_string(i));
    EXPECT_LT(all[0].seq, all[4].seq);
}

TEST(sqlite_store, constraint_and_missing_rows_are_errors) {
    manual_clock clk;
    sqlite_store s({temp_db()}, clk);
    auto a = sample("a", "same");
    EXPECT_FALSE(run(s, [a](store_txn& t) mutable { return t.insert_agent(a); }));
    auto dup = sample("b", "same");
    auto e = run(s, [dup](store_txn& t) mutable { return t.insert_agent(dup); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, errc::conflict);
    EXPECT_EQ(run(s, [](store_txn& t) { return t.delete_agent("nope"); })->code, errc::not_found);
    EXPECT_EQ(run(s, [](store_txn& t) { return t.update_agent(sample("nope", "x")); })->code,
              errc::not_found);
    auto c = sample("c", "other");
    EXPECT_FALSE(run(s, [c](store_txn& t) mutable { return t.insert_agent(c); }));
    auto rename = sample("c", "same");
    EXPECT_EQ(run(s, [rename](store_txn& t) { return t.update_agent(rename); })->code,
              errc::conflict);
}

TEST(sqlite_store, a_failed_op_rolls_back_only_itself) {
    manual_clock clk;
    sqlite_store s({temp_db()}, clk);
    // Queue several ops before the writer runs them so they share a batch.
    std::vector<std::promise<std::optional<error>>> done(3);
    auto a = sample("a", "a");
    auto b = sample("b", "b");
    s.submit({[a](store_txn& t) mutable { return t.insert_agent(a); },
              [&](const std::optional<error>& e) { done[0].set_value(e); }});
    s.submit({[b](store_txn& t) mutable -> std::optional<error> {
                  t.insert_agent(b); // written, then undone by the error below
                  return error{errc::conflict, "no", {}};
              },
              [&](const std::optional<error>& e) { done[1].set_value(e); }});
    s.submit({[](store_txn&) -> std::optional<error> { throw std::runtime_error("boom"); },
              [&](const std::optional<error>& e) { done[2].set_value(e); }});
    EXPECT_FALSE(done[0].get_future().get());
    EXPECT_EQ(done[1].get_future().get()->code, errc::conflict);
    EXPECT_EQ(done[2].get_future().get()->code, errc::internal);
    auto all = s.load_agents();
    ASSERT_EQ(all.size(), 1U);
    EXPECT_EQ(all[0].id, "a");
}

// Rows in the idempotency table, read through a separate connection (WAL allows it).
long long idempotency_rows(const std::string& path) {
    sqlite3* db = nullptr;
    long long n = -1;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM idempotency", -1, &st, nullptr) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

// Polls cond for up to five seconds (the writer runs on its own thread).
bool eventually(const std::function<bool()>& cond) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return cond();
}

TEST(sqlite_store, idempotency_records_expire_and_maintenance_purges_them) {
    manual_clock clk{std::chrono::system_clock::now()};
    const auto path = temp_db();
    sqlite_store s({path, "NORMAL", 16, std::chrono::seconds(60), std::chrono::milliseconds(10)},
                   clk);
    idempotency_record r{"p", "k", "fp", 201, "/agents/x", "\"1\"", "{}", 0};
    idempotency_record fresh{"p", "k2", "fp2", 201, "/agents/y", "\"1\"", "{}", 0};
    EXPECT_FALSE(run(s, [r](store_txn& t) { return t.put_idempotency(r); }));
    std::optional<idempotency_record> found;
    run(s, [&](store_txn& t) {
        found = t.find_idempotency("p", "k");
        return std::nullopt;
    });
    ASSERT_TRUE(found);
    EXPECT_EQ(found->fingerprint, "fp");
    EXPECT_EQ(found->location, "/agents/x");

    // The simulated clock has not moved: maintenance may run, but purges nothing.
    const auto runs_before = s.maintenance_runs();
    clk.advance(std::chrono::seconds(61));
    // An expired record is invisible at once, before any purge.
    run(s, [&](store_txn& t) {
        found = t.find_idempotency("p", "k");
        return std::nullopt;
    });
    EXPECT_FALSE(found);
    EXPECT_FALSE(run(s, [fresh](store_txn& t) { return t.put_idempotency(fresh); }));
    // Then maintenance deletes it from the table, and only it.
    ASSERT_TRUE(eventually([&] { return s.purged_idempotency_records() == 1; }))
        << "purged " << s.purged_idempotency_records();
    EXPECT_GT(s.maintenance_runs(), runs_before);
    EXPECT_EQ(idempotency_rows(path), 1);
    run(s, [&](store_txn& t) {
        found = t.find_idempotency("p", "k2");
        return std::nullopt;
    });
    ASSERT_TRUE(found);
    EXPECT_EQ(found->fingerprint, "fp2");
    EXPECT_TRUE(s.healthy());
}

TEST(sqlite_store, idle_writer_runs_maintenance_only_when_due) {
    // With a 10 ms interval and a simulated clock that never moves, the idle writer wakes
    // about every 10 ms but never finds maintenance due: it must not spin through rounds.
    manual_clock clk{std::chrono::system_clock::now()};
    sqlite_store s(
        {temp_db(), "NORMAL", 16, std::chrono::seconds(60), std::chrono::milliseconds(10)}, clk);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(s.maintenance_runs(), 0U);
    clk.advance(std::chrono::milliseconds(10));
    ASSERT_TRUE(eventually([&] { return s.maintenance_runs() >= 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(s.maintenance_runs(), 1U); // due once, run once, until the clock moves again
}

TEST(sqlite_store, non_positive_maintenance_interval_is_refused) {
    manual_clock clk;
    EXPECT_THROW(
        sqlite_store(
            {temp_db(), "NORMAL", 16, std::chrono::seconds(60), std::chrono::milliseconds(0)}, clk),
        std::invalid_argument);
}

TEST(sqlite_store, many_queued_writes_share_commits) {
    manual_clock clk;
    sqlite_store s({temp_db()}, clk);
    constexpr int n = 300;
    std::vector<std::promise<std::optional<error>>> done(n);
    for (int i = 0; i < n; ++i) {
        auto a = sample("id" + std::to_string(i), "n" + std::to_string(i));
        s.submit({[a](store_txn& t) mutable { return t.insert_agent(a); },
                  [&done, i](const std::optional<error>& e) { done[i].set_value(e); }});
    }
    for (auto& d : done)
        EXPECT_FALSE(d.get_future().get());
    EXPECT_EQ(s.committed_ops(), static_cast<std::uint64_t>(n));
    EXPECT_LT(s.commits(), static_cast<std::uint64_t>(n)); // grouped
    s.stop();
    EXPECT_EQ(s.submit({[](store_txn&) { return std::optional<error>(); }, nullptr})->code,
              errc::unavailable);
}

// The log is checkpointed by the background checkpointer once it passes ~1000 pages, not by
// the writer inside a commit; what was written reads back after a reopen.
TEST(sqlite_store, the_log_is_checkpointed_in_the_background) {
    manual_clock clk;
    const auto path = temp_db();
    {
        sqlite_store s({path}, clk);
        constexpr int n = 3000; // ~1.5 KiB each with its indexes: well past 1000 pages
        std::vector<std::promise<std::optional<error>>> done(n);
        const std::string pad(1000, 'x');
        for (int i = 0; i < n; ++i) {
            auto a = sample("id" + std::to_string(i), "n" + std::to_string(i));
            a.fields.metadata["pad"] = pad;
            s.submit({[a](store_txn& t) mutable { return t.insert_agent(a); },
                      [&done, i](const std::optional<error>& e) { done[i].set_value(e); }});
        }
        for (auto& d : done)
            EXPECT_FALSE(d.get_future().get());
        for (int i = 0; i < 200 && s.checkpoints() == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_GT(s.checkpoints(), 0U);
        // The checkpoints copied the log into the database: it is no longer an empty file.
        EXPECT_GT(std::filesystem::file_size(path), 1U << 20);
    }
    sqlite_store again({path}, clk);
    EXPECT_EQ(again.load_agents().size(), 3000U);
}

// Under writes that never pause, the checkpointer never reaches the log's end; past its bound
// the writer copies the rest itself and the log starts again from its beginning, so the file
// stays near the bound instead of growing with every write.
TEST(sqlite_store, the_log_stays_within_its_bound_under_unpaused_writes) {
    manual_clock clk;
    const auto path = temp_db();
    sqlite_settings settings{path};
    settings.log_bound_pages = 1500;
    constexpr int n = 30000; // ~1.5 KiB each with its indexes: over 11,000 pages of log
    {
        sqlite_store s(settings, clk);
        std::vector<std::promise<std::optional<error>>> done(n);
        const std::string pad(1000, 'x');
        for (int i = 0; i < n; ++i) { // queued at once: the writer never waits for work
            auto a = sample("id" + std::to_string(i), "n" + std::to_string(i));
            a.fields.metadata["pad"] = pad;
            s.submit({[a](store_txn& t) mutable { return t.insert_agent(a); },
                      [&done, i](const std::optional<error>& e) { done[i].set_value(e); }});
        }
        for (auto& d : done)
            EXPECT_FALSE(d.get_future().get());
        EXPECT_GT(s.bound_checkpoints(), 0U);
        // The bound, plus the commit that crossed it (512 writes, about 400 pages), plus the
        // pages the checkpointer may have been behind (2048): never the whole log.
        const auto wal = std::filesystem::file_size(path + "-wal");
        EXPECT_LT(wal, (1500U + 400U + 2048U) * 4120U) << "log of " << wal << " bytes";
    }
    sqlite_store again(settings, clk);
    EXPECT_EQ(again.load_agents().size(), static_cast<std::size_t>(n));
}

TEST(sqlite_store, a_log_bound_that_is_not_positive_is_refused) {
    manual_clock clk;
    sqlite_settings settings{temp_db()};
    settings.log_bound_pages = 0;
    EXPECT_THROW(sqlite_store(settings, clk), std::invalid_argument);
}

TEST(sqlite_store, unopenable_path_throws) {
    manual_clock clk;
    EXPECT_THROW(sqlite_store({"/proc/definitely/not/here.db"}, clk), std::runtime_error);
}

} // namespace
} // namespace agent

namespace agent {
namespace {

models::event custom(const std::string& type) {
    models::event e;
    e.id = "00000000-0000-4000-8000-000000000000";
    e.type = type;
    e.at = "2026-01-01T00:00:00.000Z";
    return e;
}

// seq is 1, 2, 3, … with no gap: an operation undone in the same batch gives its number
// back, and numbering continues after a reopen.
TEST(sqlite_store, event_seq_is_gapless_across_rollbacks_and_reopens) {
    manual_clock clk;
    const auto path = temp_db();
    {
        sqlite_store s({path}, clk);
        EXPECT_EQ(s.last_event_seq(), 0);
        std::vector<std::promise<std::optional<error>>> done(3);
        std::vector<std::int64_t> seqs(3, -1);
        for (int i = 0; i < 3; ++i) {
            s.submit({[i, &seqs](store_txn& t) -> std::optional<error> {
                          auto e = custom("x_" + std::to_string(i));
                          if (auto err = t.append_event(e)) return err;
                          seqs[static_cast<std::size_t>(i)] = e.seq;
                          if (i == 1) return error{errc::conflict, "undone", {}};
                          return std::nullopt;
                      },
                      [&done, i](const std::optional<error>& e) {
                          done[static_cast<std::size_t>(i)].set_value(e);
                      }});
        }
        EXPECT_FALSE(done[0].get_future().get());
        EXPECT_TRUE(done[1].get_future().get());
        EXPECT_FALSE(done[2].get_future().get());
        EXPECT_EQ(seqs[0], 1);
        EXPECT_EQ(seqs[2], 2) << "the undone operation's number was given back";
        EXPECT_EQ(s.last_event_seq(), 2);
    }
    sqlite_store s({path}, clk);
    EXPECT_EQ(s.last_event_seq(), 2);
    models::event e = custom("x_after_restart");
    EXPECT_FALSE(run(s, [&e](store_txn& t) { return t.append_event(e); }));
    EXPECT_EQ(e.seq, 3);
    auto all = s.read_events({});
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3U);
    EXPECT_EQ((*all)[0].type, "x_0");
    EXPECT_EQ((*all)[1].type, "x_2");
    EXPECT_EQ((*all)[2].type, "x_after_restart");
}

TEST(sqlite_store, read_events_filters_and_pages) {
    manual_clock clk;
    sqlite_store s({temp_db()}, clk);
    for (int i = 0; i < 6; ++i) {
        auto e = custom(i % 2 ? "x_odd" : "x_even");
        if (i < 2) e.agent_id = "agent-" + std::to_string(i);
        EXPECT_FALSE(run(s, [e](store_txn& t) mutable { return t.append_event(e); }));
    }
    auto page = s.read_events({2, 3, "", ""});
    ASSERT_TRUE(page);
    ASSERT_EQ(page->size(), 3U);
    EXPECT_EQ(page->front().seq, 3);
    EXPECT_EQ(page->back().seq, 5);
    auto odd = s.read_events({0, 50, "x_odd", ""});
    ASSERT_TRUE(odd);
    ASSERT_EQ(odd->size(), 3U);
    for (const auto& e : *odd)
        EXPECT_EQ(e.type, "x_odd");
    auto of_agent = s.read_events({0, 50, "", "agent-1"});
    ASSERT_TRUE(of_agent);
    ASSERT_EQ(of_agent->size(), 1U);
    EXPECT_EQ(of_agent->front().seq, 2);
    EXPECT_EQ(of_agent->front().agent_id, "agent-1");
}

} // namespace
} // namespace agent
