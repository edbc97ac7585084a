#include "conformance/properties/linearizability.hpp"
#include "conformance/load/svg_chart.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_set>

namespace agentcheck::lin {

const char* to_string(outcome o) noexcept {
    switch (o) {
    case outcome::linearizable:
        return "linearizable";
    case outcome::not_linearizable:
        return "not linearizable";
    case outcome::undecided:
        return "undecided";
    }
    return "?";
}

namespace {

/// The call and return events of the operations, in a doubly linked list ordered by time
/// (calls before returns at the same instant: such operations count as concurrent, which can
/// only accept more histories, never reject a correct one).
struct entry {
    bool is_call = true;
    std::size_t op = 0; ///< index into the key's operations
    std::int64_t time = 0;
    entry* match = nullptr; ///< a call's return entry (null for an indeterminate operation)
    entry* prev = nullptr;
    entry* next = nullptr;
};

struct search {
    const model& m;
    const std::vector<const operation*>& ops;
    std::uint64_t budget;
    std::uint64_t steps = 0;

    /// A set of linearised operations, as bits.
    using bits = std::vector<std::uint64_t>;

    struct cache_key {
        bits linearized;
        std::string state;
        bool operator==(const cache_key& o) const {
            return linearized == o.linearized && state == o.state;
        }
    };
    struct cache_hash {
        std::size_t operator()(const cache_key& k) const noexcept {
            std::size_t h = std::hash<std::string>{}(k.state);
            for (auto w : k.linearized)
                h = h * 1099511628211ULL ^ std::hash<std::uint64_t>{}(w);
            return h;
        }
    };

    outcome run() {
        const std::size_t n = ops.size();
        std::vector<entry> entries;
        entries.reserve(2 * n);
        std::size_t determinate = 0;
        for (std::size_t i = 0; i < n; ++i) {
            entries.push_back({true, i, ops[i]->call});
            if (!ops[i]->unknown) {
                entries.push_back({false, i, ops[i]->ret});
                ++determinate;
            }
        }
        std::vector<entry*> order;
        for (auto& e : entries)
            order.push_back(&e);
        std::stable_sort(order.begin(), order.end(), [](const entry* a, const entry* b) {
            if (a->time != b->time) return a->time < b->time;
            return a->is_call && !b->is_call;
        });
        std::vector<entry*> call_of(n, nullptr);
        for (auto* e : order)
            if (e->is_call) call_of[e->op] = e;
        for (auto* e : order)
            if (!e->is_call) call_of[e->op]->match = e;
        entry head;
        entry* last = &head;
        for (auto* e : order) {
            last->next = e;
            e->prev = last;
            last = e;
        }

        auto lift = [](entry* call) {
            call->prev->next = call->next;
            if (call->next) call->next->prev = call->prev;
            if (entry* r = call->match) {
                r->prev->next = r->next;
                if (r->next) r->next->prev = r->prev;
            }
        };
        auto unlift = [](entry* call) {
            if (entry* r = call->match) {
                r->prev->next = r;
                if (r->next) r->next->prev = r;
            }
            call->prev->next = call;
            if (call->next) call->next->prev = call;
        };

        struct frame {
            entry* call;
            nlohmann::json state;
        };
        std::vector<frame> stack;
        std::unordered_set<cache_key, cache_hash> cache;
        bits linearized((n + 63) / 64, 0);
        nlohmann::json state = m.init;
        std::size_t remaining = determinate;
        entry* e = head.next;
        while (remaining > 0) {
            if (++steps > budget) return outcome::undecided;
            // Past the end (only indeterminate calls left, none could go next), or at a return
            // whose call is not linearised yet: undo the last choice and try that call's other
            // possible states, if any (the cache skips those tried).
            if (e == nullptr || !e->is_call) {
                if (stack.empty()) return outcome::not_linearizable;
                auto top = std::move(stack.back());
                stack.pop_back();
                state = std::move(top.state);
                linearized[top.call->op / 64] &= ~(1ULL << (top.call->op % 64));
                if (!ops[top.call->op]->unknown) ++remaining;
                unlift(top.call);
                e = top.call;
                continue;
            }
            {
                const operation& op = *ops[e->op];
                bool moved = false;
                for (auto& next :
                     m.step(state, op.input, op.unknown ? nlohmann::json() : op.output)) {
                    bits with = linearized;
                    with[e->op / 64] |= 1ULL << (e->op % 64);
                    if (!cache.insert({with, next.dump()}).second) continue;
                    stack.push_back({e, state});
                    state = std::move(next);
                    linearized = std::move(with);
                    if (!op.unknown) --remaining;
                    lift(e);
                    e = head.next;
                    moved = true;
                    break;
                }
                if (!moved) e = e->next;
            }
        }
        return outcome::linearizable;
    }
};

outcome check_ops(const model& m, const std::vector<const operation*>& ops, std::uint64_t budget,
                  std::uint64_t& steps) {
    search s{m, ops, budget};
    auto r = s.run();
    steps += s.steps;
    return r;
}

} // namespace

result check(const model& m, const std::vector<operation>& history, std::uint64_t step_budget) {
    std::map<std::string, std::vector<std::size_t>> by_key;
    for (std::size_t i = 0; i < history.size(); ++i)
        by_key[m.key(history[i].input)].push_back(i);
    result out;
    for (auto& [key, indices] : by_key) {
        key_result k;
        k.key = key;
        k.operations = indices.size();
        std::vector<const operation*> ops;
        for (auto i : indices)
            ops.push_back(&history[i]);
        k.result = check_ops(m, ops, step_budget, k.steps);
        if (k.result == outcome::not_linearizable) {
            // Shrink to a witness by relaxing, not deleting: each operation in turn (latest
            // first) is made indeterminate, and stays so while the history still has no valid
            // order. Relaxing only removes constraints, so what is left determinate is a set
            // of answers that cannot all be right, whatever the other operations did.
            // (Deleting operations would not do: without a write, a read of its value looks
            // impossible for the wrong reason.)
            // Each attempt has a share of the budget; one that cannot decide leaves the
            // operation as it was (the witness is then larger, never wrong).
            std::vector<operation> work;
            for (auto i : indices)
                work.push_back(history[i]);
            const std::uint64_t attempt_budget = std::max<std::uint64_t>(step_budget / 20, 1000);
            std::uint64_t spent = 0;
            for (std::size_t j = work.size(); j-- > 0;) {
                if (work[j].unknown || spent > step_budget) continue;
                auto relaxed = work;
                relaxed[j].unknown = true;
                relaxed[j].output = nullptr;
                std::vector<const operation*> ptrs;
                for (const auto& o : relaxed)
                    ptrs.push_back(&o);
                std::uint64_t used = 0;
                if (check_ops(m, ptrs, attempt_budget, used) == outcome::not_linearizable)
                    work = std::move(relaxed);
                spent += used;
                k.steps += used;
            }
            std::int64_t last_answer = std::numeric_limits<std::int64_t>::min();
            for (std::size_t j = 0; j < work.size(); ++j)
                if (!work[j].unknown) {
                    k.witness.push_back(indices[j]);
                    last_answer = std::max(last_answer, work[j].ret);
                }
            // The others that could have changed the state before the last of those answers.
            for (std::size_t j = 0; j < work.size(); ++j) {
                if (!work[j].unknown || work[j].call >= last_answer) continue;
                const auto next = m.step(m.init, work[j].input, nlohmann::json());
                const bool changes =
                    std::any_of(next.begin(), next.end(),
                                [&](const nlohmann::json& st) { return st != m.init; });
                if (changes) k.context.push_back(indices[j]);
            }
            out.overall = outcome::not_linearizable;
        } else if (k.result == outcome::undecided && out.overall == outcome::linearizable) {
            out.overall = outcome::undecided;
        }
        out.steps += k.steps;
        out.keys.push_back(std::move(k));
    }
    return out;
}

namespace {

std::vector<std::size_t> by_call(const std::vector<operation>& history,
                                 std::vector<std::size_t> ids) {
    std::stable_sort(ids.begin(), ids.end(), [&](std::size_t a, std::size_t b) {
        return history[a].call < history[b].call;
    });
    return ids;
}

} // namespace

namespace {
std::vector<std::size_t> witness_and_context(const key_result& k) {
    auto all = k.witness;
    all.insert(all.end(), k.context.begin(), k.context.end());
    return all;
}
bool in_context(const key_result& k, std::size_t i) {
    return std::find(k.context.begin(), k.context.end(), i) != k.context.end();
}
} // namespace

std::string render_witness(const model& m, const std::vector<operation>& history,
                           const key_result& k) {
    const auto ids = by_call(history, witness_and_context(k));
    if (ids.empty()) return {};
    std::int64_t t0 = history[ids.front()].call;
    std::int64_t t1 = t0;
    for (auto i : ids)
        t1 = std::max(t1, history[i].unknown ? history[i].call : history[i].ret);
    const double span = static_cast<double>(std::max<std::int64_t>(t1 - t0, 1));
    constexpr int width = 40;
    std::ostringstream out;
    out << "key " << k.key << ": these " << k.witness.size()
        << " answers cannot all be right, in any order the protocol allows";
    if (!k.context.empty())
        out << " (with the " << k.context.size()
            << " operations marked ?, which may or may not have taken effect)";
    out << "; times from the first call:\n";
    for (auto i : ids) {
        operation op = history[i];
        if (in_context(k, i)) op.unknown = true;
        const int from = static_cast<int>((op.call - t0) / span * (width - 1));
        const int to = op.unknown
                           ? width - 1
                           : std::max(from, static_cast<int>((op.ret - t0) / span * (width - 1)));
        std::string bar(width, ' ');
        for (int x = from; x <= to; ++x)
            bar[static_cast<std::size_t>(x)] = '-';
        bar[static_cast<std::size_t>(from)] = '[';
        bar[static_cast<std::size_t>(to)] = op.unknown ? '?' : ']';
        out << "  |" << bar << "| c" << op.client << " " << m.describe(op) << "  ("
            << (op.call - t0) << ".."
            << (op.unknown ? std::string("?") : std::to_string(op.ret - t0)) << ")\n";
    }
    return out.str();
}

std::string witness_svg(const model& m, const std::vector<operation>& history,
                        const key_result& k) {
    const auto ids = by_call(history, witness_and_context(k));
    if (ids.empty()) return {};
    std::int64_t t0 = history[ids.front()].call;
    std::int64_t t1 = t0 + 1;
    std::vector<int> clients;
    for (auto i : ids) {
        t1 = std::max(t1, history[i].unknown ? history[i].call + 1 : history[i].ret);
        if (std::find(clients.begin(), clients.end(), history[i].client) == clients.end())
            clients.push_back(history[i].client);
    }
    std::sort(clients.begin(), clients.end());
    const int lane = 26;
    const int left = 60;
    const int plot = 560;
    const int height = 30 + lane * static_cast<int>(ids.size());
    const double span = static_cast<double>(t1 - t0);
    std::ostringstream svg;
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + plot + 20
        << "\" height=\"" << height << "\" font-family=\"sans-serif\" font-size=\"11\">";
    svg << "<text x=\"4\" y=\"14\">key " << load::svg::esc(k.key)
        << ": no order the protocol allows</text>";
    int row = 0;
    for (auto i : ids) {
        operation op = history[i];
        if (in_context(k, i)) op.unknown = true;
        const double x0 = left + (static_cast<double>(op.call - t0) / span) * plot;
        const double x1 =
            op.unknown ? left + plot : left + (static_cast<double>(op.ret - t0) / span) * plot;
        const int y = 24 + row * lane;
        svg << "<text x=\"4\" y=\"" << y + 13 << "\">client " << op.client << "</text>";
        svg << "<rect x=\"" << x0 << "\" y=\"" << y << "\" width=\"" << std::max(x1 - x0, 2.0)
            << "\" height=\"18\" fill=\"" << (op.unknown ? "#fde2a8" : "#b7d4f5")
            << "\" stroke=\"#345\"/>";
        svg << "<text x=\"" << x0 + 3 << "\" y=\"" << y + 13 << "\">" << load::svg::esc(m.describe(op))
            << (op.unknown ? " (no answer)" : "") << "</text>";
        ++row;
    }
    svg << "</svg>";
    return svg.str();
}

} // namespace agentcheck::lin
