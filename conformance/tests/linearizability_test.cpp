#include "conformance/properties/linearizability.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

namespace agentcheck::lin {
namespace {

using nlohmann::json;

/// A register per key: read, write, compare-and-set. The classic model of the papers.
model register_model() {
    model m;
    m.init = 0;
    m.key = [](const json& in) { return in.value("key", std::string("x")); };
    m.step = [](const json& state, const json& in, const json& out) -> std::vector<json> {
        const std::string op = in["op"];
        if (op == "read") {
            if (out.is_null()) return {state};
            if (out == state) return {state};
            return {};
        }
        if (op == "write") return {in["value"]};
        if (op == "cas") { // out: true/false
            const bool match = state == in["from"];
            if (out.is_null())
                return match ? std::vector<json>{in["to"], state} : std::vector<json>{state};
            if (out.get<bool>() != match) return {};
            return {match ? in["to"] : state};
        }
        return {};
    };
    m.describe = [](const operation& o) {
        return o.input["op"].get<std::string>() + " " + o.input.value("value", json()).dump() +
               " -> " + (o.unknown ? std::string("?") : o.output.dump());
    };
    return m;
}

operation op(int client, std::int64_t call, std::int64_t ret, json input, json output) {
    return {client, call, ret, false, std::move(input), std::move(output)};
}
operation unknown_op(int client, std::int64_t call, json input) {
    return {client, call, 0, true, std::move(input), json()};
}
json read() {
    return {{"op", "read"}};
}
json write(int v) {
    return {{"op", "write"}, {"value", v}};
}

TEST(linearizability, a_sequential_history_that_follows_the_model_is_linearizable) {
    auto m = register_model();
    std::vector<operation> h{op(1, 0, 1, write(1), nullptr), op(1, 2, 3, read(), 1),
                             op(2, 4, 5, write(2), nullptr), op(1, 6, 7, read(), 2)};
    EXPECT_EQ(check(m, h).overall, outcome::linearizable);
}

TEST(linearizability, a_stale_read_after_a_completed_write_is_not_and_the_witness_is_the_pair) {
    auto m = register_model();
    std::vector<operation> h{op(1, 0, 1, write(1), nullptr), op(3, 0, 1, read(), 0),
                             op(2, 2, 3, read(), 0), op(1, 4, 5, read(), 1)};
    auto r = check(m, h);
    ASSERT_EQ(r.overall, outcome::not_linearizable);
    ASSERT_EQ(r.keys.size(), 1U);
    // Only the write and the stale read after it are needed to show the violation.
    EXPECT_EQ(r.keys[0].witness, (std::vector<std::size_t>{0, 2}));
    const auto text = render_witness(m, h, r.keys[0]);
    EXPECT_NE(text.find("c2 read"), std::string::npos) << text;
    EXPECT_NE(witness_svg(m, h, r.keys[0]).find("<svg"), std::string::npos);
}

TEST(linearizability, reads_overlapping_a_write_may_see_either_value) {
    auto m = register_model();
    // The write spans both reads: old then new is fine ...
    std::vector<operation> ok{op(1, 0, 10, write(1), nullptr), op(2, 1, 2, read(), 0),
                              op(3, 3, 4, read(), 1)};
    EXPECT_EQ(check(m, ok).overall, outcome::linearizable);
    // ... but new then old (the second read starting after the first ended) is not.
    std::vector<operation> inverted{op(1, 0, 10, write(1), nullptr), op(2, 1, 2, read(), 1),
                                    op(3, 3, 4, read(), 0)};
    auto r = check(m, inverted);
    EXPECT_EQ(r.overall, outcome::not_linearizable);
    // The two reads cannot both be right; the write is shown beside them, its answer not
    // needed (had it never taken effect, the first read would be wrong anyway).
    EXPECT_EQ(r.keys[0].witness, (std::vector<std::size_t>{1, 2}));
    EXPECT_EQ(r.keys[0].context, (std::vector<std::size_t>{0}));
    EXPECT_NE(render_witness(m, inverted, r.keys[0]).find("write 1 -> ?"), std::string::npos)
        << render_witness(m, inverted, r.keys[0]);
}

TEST(linearizability, an_indeterminate_write_may_have_taken_effect_or_not) {
    auto m = register_model();
    std::vector<operation> seen{unknown_op(1, 0, write(1)), op(2, 5, 6, read(), 1)};
    EXPECT_EQ(check(m, seen).overall, outcome::linearizable);
    std::vector<operation> never{unknown_op(1, 0, write(1)), op(2, 5, 6, read(), 0)};
    EXPECT_EQ(check(m, never).overall, outcome::linearizable);
    // Once seen, it cannot be undone.
    std::vector<operation> undone{unknown_op(1, 0, write(1)), op(2, 5, 6, read(), 1),
                                  op(2, 7, 8, read(), 0)};
    EXPECT_EQ(check(m, undone).overall, outcome::not_linearizable);
    // A value nobody wrote is never explained.
    std::vector<operation> invented{unknown_op(1, 0, write(1)), op(2, 5, 6, read(), 7)};
    EXPECT_EQ(check(m, invented).overall, outcome::not_linearizable);
}

TEST(linearizability, an_indeterminate_cas_explores_both_of_its_outcomes) {
    auto m = register_model();
    json cas{{"op", "cas"}, {"from", 0}, {"to", 5}};
    std::vector<operation> h{unknown_op(1, 0, cas), op(2, 3, 4, read(), 0), op(2, 5, 6, read(), 5)};
    EXPECT_EQ(check(m, h).overall, outcome::linearizable);
}

TEST(linearizability, keys_are_checked_apart) {
    auto m = register_model();
    json wa{{"op", "write"}, {"value", 1}, {"key", "a"}};
    json rb{{"op", "read"}, {"key", "b"}};
    json ra{{"op", "read"}, {"key", "a"}};
    std::vector<operation> h{op(1, 0, 1, wa, nullptr), op(2, 2, 3, rb, 0), op(2, 4, 5, ra, 0)};
    auto r = check(m, h);
    EXPECT_EQ(r.overall, outcome::not_linearizable);
    ASSERT_EQ(r.keys.size(), 2U);
    EXPECT_EQ(r.keys[0].key, "a");
    EXPECT_EQ(r.keys[0].result, outcome::not_linearizable);
    EXPECT_EQ(r.keys[1].result, outcome::linearizable);
}

TEST(linearizability, a_search_past_its_budget_is_undecided_not_passed) {
    auto m = register_model();
    // Many concurrent writes and a read of a value nobody wrote: the search must try every
    // order before it can say no.
    std::vector<operation> h;
    for (int i = 0; i < 12; ++i)
        h.push_back(op(i, 0, 100, write(i), nullptr));
    h.push_back(op(99, 0, 100, read(), 1000));
    auto r = check(m, h, 50);
    EXPECT_EQ(r.overall, outcome::undecided);
    EXPECT_EQ(check(m, h).overall, outcome::not_linearizable); // with the default budget
}

RC_GTEST_PROP(linearizability, histories_produced_by_the_model_are_linearizable, ()) {
    auto m = register_model();
    const auto n = *rc::gen::inRange(1, 40);
    json state = 0;
    std::vector<operation> h;
    for (int i = 0; i < n; ++i) {
        const std::int64_t at = 10 * i;
        const auto before = *rc::gen::inRange<std::int64_t>(0, 25);
        const auto after = *rc::gen::inRange<std::int64_t>(0, 25);
        const int client = *rc::gen::inRange(0, 4);
        const int kind = *rc::gen::inRange(0, 3);
        operation o{client, at - before, at + after, false, {}, {}};
        if (kind == 0) {
            o.input = read();
            o.output = state;
        } else if (kind == 1) {
            const int v = *rc::gen::inRange(0, 5);
            o.input = write(v);
            state = v;
        } else {
            const int from = *rc::gen::inRange(0, 5);
            const int to = *rc::gen::inRange(0, 5);
            o.input = {{"op", "cas"}, {"from", from}, {"to", to}};
            o.output = state == from;
            if (state == from) state = to;
        }
        o.unknown = *rc::gen::inRange(0, 10) == 0; // some answers lost
        if (o.unknown) o.output = nullptr;
        h.push_back(std::move(o));
    }
    RC_ASSERT(check(m, h).overall == outcome::linearizable);
}

RC_GTEST_PROP(linearizability, a_read_of_a_value_never_written_is_always_caught, ()) {
    auto m = register_model();
    const auto n = *rc::gen::inRange(1, 10);
    std::vector<operation> h;
    for (int i = 0; i < n; ++i)
        h.push_back(op(*rc::gen::inRange(0, 3), 10 * i, 10 * i + *rc::gen::inRange(1, 30),
                       write(*rc::gen::inRange(0, 5)), nullptr));
    h.push_back(op(9, *rc::gen::inRange(0, 10 * n), 10 * n + 40, read(), 77));
    auto r = check(m, h);
    RC_ASSERT(r.overall == outcome::not_linearizable);
    // The witness, with every other operation made indeterminate, still has no valid order,
    // and it holds the impossible read.
    auto relaxed = h;
    for (std::size_t i = 0; i < relaxed.size(); ++i)
        if (std::find(r.keys[0].witness.begin(), r.keys[0].witness.end(), i) ==
            r.keys[0].witness.end()) {
            relaxed[i].unknown = true;
            relaxed[i].output = nullptr;
        }
    RC_ASSERT(check(m, relaxed).overall == outcome::not_linearizable);
    RC_ASSERT(std::find(r.keys[0].witness.begin(), r.keys[0].witness.end(), h.size() - 1) !=
              r.keys[0].witness.end());
}

} // namespace
} // namespace agentcheck::lin
