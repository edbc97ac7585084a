#include "reference/storage/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <random>

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

TEST(sqlite_store, idempotency_records_expire) {
    manual_clock clk{std::chrono::system_clock::now()};
    sqlite_store s(
        {temp_db(), "NORMAL", 16, std::chrono::seconds(60), std::chrono::milliseconds(10)}, clk);
    idempotency_record r{"p", "k", "fp", 201, "/agents/x", "\"1\"", "{}", 0};
    EXPECT_FALSE(run(s, [r](store_txn& t) { return t.put_idempotency(r); }));
    std::optional<idempotency_record> found;
    run(s, [&](store_txn& t) {
        found = t.find_idempotency("p", "k");
        return std::nullopt;
    });
    ASSERT_TRUE(found);
    EXPECT_EQ(found->fingerprint, "fp");
    EXPECT_EQ(found->location, "/agents/x");
    clk.advance(std::chrono::seconds(61));
    run(s, [&](store_txn& t) {
        found = t.find_idempotency("p", "k");
        return std::nullopt;
    });
    EXPECT_FALSE(found);
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // maintenance purges
    EXPECT_TRUE(s.healthy());
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

TEST(sqlite_store, unopenable_path_throws) {
    manual_clock clk;
    EXPECT_THROW(sqlite_store({"/proc/definitely/not/here.db"}, clk), std::runtime_error);
}

} // namespace
} // namespace agent
