#pragma once
// The load engine: HTTP/1.1 keep-alive connections on Asio (many per thread, never a thread
// per connection), an open model (constant arrival rate with a ramp; latency measured from each
// request's intended start, so a stalled server cannot hide its queue: coordinated omission
// corrected, as wrk2 does) and a closed model (C connections, no think time).

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conformance/client/http.hpp"
#include "conformance/load/histogram.hpp"
#include "conformance/load/scenario.hpp"

namespace agentcheck::load {

/// Latency histograms hold microseconds from 1 µs to 1 hour with 3 significant digits (one
/// layout everywhere, so every run's histograms merge).
histogram latency_histogram();

enum class model { open, closed };

/// How a request failed (the client's transport breakdown, plus a refused status).
enum class failure { connect, write, read, timeout, status, unsent };
inline constexpr std::array<failure, 6> all_failures = {failure::connect, failure::write,
                                                        failure::read,    failure::timeout,
                                                        failure::status,  failure::unsent};
const char* to_string(failure f) noexcept;

struct engine_options {
    client::target_url target;
    model mdl = model::closed;
    double rate = 0;                   ///< open model: requests per second (this shard's share)
    std::chrono::milliseconds ramp{0}; ///< open model: rate grows linearly from 0 over this
    int connections = 64;              ///< closed: this many; open: the pool's size
    std::chrono::milliseconds duration{10000};
    std::uint64_t requests = 0; ///< 0 = bounded by duration only
    int threads = 1;
    std::chrono::milliseconds timeout{5000};
    std::uint64_t seed = 1;
    std::uint32_t shard_index = 0;
    std::uint32_t shard_count = 1;
    std::uint32_t run_nonce = 0; ///< distinguishes this run's {uniq} values from other runs'
    /// The operations, compiled, with their weights; {agent} is drawn from `agents`.
    std::vector<operation> operations;
    std::vector<std::shared_ptr<const compiled_request>> compiled;
    std::vector<std::string> agents;
    /// Records every operation on the first `history_agents` of `agents` (--record-history):
    /// its call and answer times, what it asked and what came back.
    std::size_t history_agents = 0;
    /// Called once a second (from the engine's reporting thread) with the second just ended.
    std::function<void(const struct second_stats&)> on_second;
};

/// What one operation did.
struct operation_stats {
    std::string name;
    std::uint64_t requests = 0; ///< sent and answered or failed
    std::uint64_t ok = 0;       ///< answered with an expected status
    std::map<int, std::uint64_t> statuses;
    std::map<failure, std::uint64_t> failures;
    histogram corrected = latency_histogram();   ///< from the intended start
    histogram uncorrected = latency_histogram(); ///< from the moment it was written
    /// Adds another's counts and histograms (another thread's, or another shard's).
    void add(const operation_stats& other);
};

/// One second of the run (all threads).
struct second_stats {
    std::uint32_t second = 0; ///< 0 = the first second after the start
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    histogram corrected = latency_histogram();
};

/// One recorded operation on a sampled agent (--record-history).
struct history_entry {
    int client = 0;           ///< the connection (worker * 100000 + index)
    std::int64_t call_ns = 0; ///< when it was written, from the run's start
    std::int64_t ret_ns = 0;  ///< when its answer was read (0 when none came)
    bool answered = false;    ///< false: a timeout or a lost connection (indeterminate)
    std::string agent;        ///< the agent's id
    std::string method;
    std::string path;         ///< the path as sent
    std::string request_body; ///< as sent
    int status = 0;
    std::string response_body; ///< of a 200 (up to 64 KiB)
};

struct engine_result {
    std::vector<history_entry> history; ///< --record-history, in no particular order
    std::vector<operation_stats> operations;
    std::vector<second_stats> seconds;
    histogram schedule_lag = latency_histogram(); ///< how late the generator took each arrival
    std::uint64_t intended = 0;           ///< arrivals scheduled (open model) or requests started
    std::uint64_t unsent = 0;             ///< arrivals never written (no connection before the end)
    std::uint64_t connects = 0;           ///< connections opened
    std::uint64_t connect_errors = 0;     ///< attempts to connect that failed
    std::vector<std::string> created_ids; ///< ids from Location of 201 answers (for teardown)
    std::chrono::microseconds elapsed{0}; ///< from the start to the last answer
    std::chrono::microseconds measured{0}; ///< the issuing window (duration or until done)
};

/// Runs the load. Blocking; stops by itself at the bound (duration or request count), waits
/// for answers in flight up to the timeout, and returns. `stop` (if set) ends it early.
engine_result run_engine(const engine_options& options, const std::atomic<bool>* stop = nullptr);

} // namespace agentcheck::load
