// The queue's scheduling core and the retry backoff, in simulated time (no sleeps).
#include <gtest/gtest.h>

#include <set>

#include "reference/services/backoff.hpp"
#include "reference/services/task_queue.hpp"

namespace agent {
namespace {

using std::chrono::milliseconds;

TEST(task_schedule, hands_out_due_tasks_in_due_order_then_insertion_order) {
    task_schedule s;
    s.add("late", 500);
    s.add("a", 100);
    s.add("b", 100);
    EXPECT_EQ(s.next_due(), 100);
    EXPECT_EQ(s.take_due(99), std::nullopt) << "nothing is due before its time";
    EXPECT_EQ(s.take_due(100), "a");
    EXPECT_EQ(s.take_due(100), "b");
    EXPECT_EQ(s.take_due(499), std::nullopt);
    EXPECT_EQ(s.next_due(), 500);
    EXPECT_EQ(s.take_due(10'000), "late");
    EXPECT_EQ(s.next_due(), std::nullopt);
    EXPECT_EQ(s.size(), 0U);
}

TEST(task_schedule, adding_a_task_again_moves_it) {
    task_schedule s;
    s.add("t", 100);
    s.add("t", 50);
    EXPECT_EQ(s.size(), 1U);
    EXPECT_EQ(s.take_due(60), "t");
    EXPECT_EQ(s.take_due(1000), std::nullopt);
}

TEST(backoff, doubles_from_the_base_up_to_the_cap) {
    const milliseconds base(100), cap(1000);
    EXPECT_EQ(backoff_ceiling(1, base, cap), milliseconds(100));
    EXPECT_EQ(backoff_ceiling(2, base, cap), milliseconds(200));
    EXPECT_EQ(backoff_ceiling(4, base, cap), milliseconds(800));
    EXPECT_EQ(backoff_ceiling(5, base, cap), milliseconds(1000));
    EXPECT_EQ(backoff_ceiling(60, base, cap), milliseconds(1000)) << "no overflow";
    EXPECT_EQ(backoff_ceiling(0, base, cap), milliseconds(100));
}

TEST(backoff, jitter_stays_within_half_and_full_and_is_not_constant) {
    seeded_random rnd(42);
    std::set<long long> seen;
    for (int i = 0; i < 2000; ++i) {
        const auto d = backoff_delay(3, milliseconds(100), milliseconds(10'000), rnd).count();
        ASSERT_GE(d, 200);
        ASSERT_LE(d, 400);
        seen.insert(d);
    }
    EXPECT_GT(seen.size(), 150U) << "the jitter spreads the waits";
    EXPECT_TRUE(seen.count(200) || seen.count(201)) << "the low end is reached";
    EXPECT_TRUE(seen.count(400) || seen.count(399)) << "the high end is reached";
    // The same seed gives the same waits.
    seeded_random a(7), b(7);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(backoff_delay(2, milliseconds(50), milliseconds(500), a),
                  backoff_delay(2, milliseconds(50), milliseconds(500), b));
}

} // namespace
} // namespace agent
