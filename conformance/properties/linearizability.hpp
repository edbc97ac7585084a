#pragma once
// A linearizability checker in the Wing–Gong style with Lowe's memoisation (as Porcupine and
// Knossos check histories): is there an order of the operations, each taking effect at one
// instant between its call and its return, that a sequential model accepts with the answers
// the clients saw?
//
// Operations on different keys are checked apart (linearizability is compositional). An
// operation whose answer never came (a timeout, a lost connection) is indeterminate, as
// Knossos' :info: it may have taken effect at any time after its call, or never. The search
// is bounded: a history it cannot decide within the budget is reported as such, never as a
// pass.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentcheck::lin {

/// One operation of a history, as one client saw it.
struct operation {
    int client = 0;
    std::int64_t call = 0; ///< when it was sent (any monotonic unit, the same for all)
    std::int64_t ret = 0;  ///< when its answer came (ignored when `unknown`)
    bool unknown = false;  ///< no answer: it may or may not have taken effect
    nlohmann::json input;  ///< what was asked ({"op": "get", "key": ...})
    nlohmann::json output; ///< what was answered (null when `unknown`)
};

/// A sequential specification.
struct model {
    /// The state every key starts in.
    nlohmann::json init;
    /// The key an operation is on (operations on different keys are checked apart).
    std::function<std::string(const nlohmann::json& input)> key;
    /// The states `state` may move to when `input` is applied and answered `output`; empty
    /// when that answer is impossible there. `output` is null for an indeterminate operation:
    /// every state any answer could lead to.
    std::function<std::vector<nlohmann::json>(
        const nlohmann::json& state, const nlohmann::json& input, const nlohmann::json& output)>
        step;
    /// One line for an operation in a witness ("c1 get -> 200 rev 3").
    std::function<std::string(const operation& op)> describe;
};

enum class outcome { linearizable, not_linearizable, undecided };
const char* to_string(outcome o) noexcept;

/// What the checker found for one key.
struct key_result {
    std::string key;
    outcome result = outcome::linearizable;
    std::size_t operations = 0;
    std::uint64_t steps = 0; ///< search steps spent
    /// For not_linearizable: operations (indices into the history given to check()) whose
    /// answers cannot all be right: with every other operation of the key made indeterminate
    /// (it may or may not have taken effect) there is still no valid order, and making any
    /// one of these indeterminate too gives one.
    std::vector<std::size_t> witness;
    /// The other operations that could have changed the state before the witness's last
    /// answer, shown beside it as indeterminate (their answers are not needed).
    std::vector<std::size_t> context;
};

/// What the checker found for a whole history.
struct result {
    outcome overall = outcome::linearizable; ///< not_linearizable if any key is; else undecided
                                             ///< if any key is
    std::vector<key_result> keys;            ///< in key order
    std::uint64_t steps = 0;
};

/// Checks `history` against `m`. `step_budget` bounds the search for each key (and for each
/// attempt while the witness is minimised): past it the key is undecided. Thread-safe (no
/// shared state).
result check(const model& m, const std::vector<operation>& history,
             std::uint64_t step_budget = 2'000'000);

/// The witness of a key as text: one line per operation, ordered by call time, with its
/// client, its interval and its description, and a timeline drawn with characters.
std::string render_witness(const model& m, const std::vector<operation>& history,
                           const key_result& k);

/// The witness of a key as an SVG timeline (one lane per client, one bar per operation from
/// its call to its return, open-ended for an indeterminate one).
std::string witness_svg(const model& m, const std::vector<operation>& history, const key_result& k);

} // namespace agentcheck::lin
