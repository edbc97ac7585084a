#pragma once
// The task queue (PROTOCOL.md §6): durable tasks, a pool of workers, retries with jittered
// backoff, dead letters, the depth bound, and the agent_health_check type's effect on the
// agent's status. A task that was running when the process died runs again on start-up
// (delivery at least once).

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "reference/interfaces/clock.hpp"
#include "reference/interfaces/random.hpp"
#include "reference/interfaces/store.hpp"
#include "reference/services/events.hpp"
#include "reference/services/http_probe.hpp"
#include "reference/services/registry.hpp"

namespace agent {

struct task_settings {
    std::size_t workers = 2;
    std::size_t max_queue_depth = 1000;
    std::chrono::milliseconds retry_base{100};
    std::chrono::milliseconds retry_cap{5000};
    std::chrono::milliseconds health_timeout{2000};
};

/// When each waiting task is due. The scheduling core of the queue, without threads, so that
/// it is tested in simulated time. Not thread-safe (the queue locks around it).
class task_schedule {
public:
    /// Adds (or moves) a task, due at due_ms; ties keep the order of adding.
    void add(const std::string& id, std::int64_t due_ms);
    /// The earliest task due at or before now_ms, removed; nullopt when none is due.
    std::optional<std::string> take_due(std::int64_t now_ms);
    /// When the earliest task is due.
    [[nodiscard]] std::optional<std::int64_t> next_due() const;
    [[nodiscard]] std::size_t size() const noexcept { return by_due_.size(); }

private:
    std::multimap<std::int64_t, std::string> by_due_;
    std::map<std::string, std::multimap<std::int64_t, std::string>::iterator> where_;
};

/// Probes an agent's endpoint (GET endpoint + /health); injected so that tests need no server.
using health_prober = std::function<util::expected<int, std::string>(const std::string& endpoint)>;

using task_callback = std::function<void(util::expected<models::task, error>)>;

/// What POST /tasks produced: the task, or an earlier answer replayed.
struct task_outcome {
    std::optional<models::task> task;
    std::optional<idempotency_record> replay;
};
using task_submit_callback = std::function<void(util::expected<task_outcome, error>)>;

class task_queue {
public:
    task_queue(store& st, const clock& clk, random_source& rnd, event_log& events, registry& agents,
               task_settings settings, health_prober prober);
    ~task_queue();
    task_queue(const task_queue&) = delete;
    task_queue& operator=(const task_queue&) = delete;

    /// Loads what is still queued or running (running ones run again), starts the workers.
    void start();
    /// Lets each worker finish the attempt it is on, then joins them. Idempotent.
    void stop();

    /// POST /tasks: 202 with the task; errc::unavailable (503) when the queue is full.
    void submit(const principal& who, models::task_input in,
                std::optional<idempotency_request> idem, task_submit_callback cb,
                std::shared_ptr<audit_draft> audit = nullptr);
    /// POST /tasks/{id}/retry: a dead-lettered task goes back to the queue (attempts from 0).
    /// errc::not_found, errc::forbidden (not the owner), errc::conflict (another status).
    void retry(const principal& who, const std::string& id, task_callback cb,
               std::shared_ptr<audit_draft> audit = nullptr);

    [[nodiscard]] std::optional<models::task> get(const std::string& id) const;
    [[nodiscard]] util::expected<std::vector<models::task>, error> list(const task_query& q) const;
    /// Tasks queued or running.
    [[nodiscard]] std::size_t depth() const;
    [[nodiscard]] const task_settings& settings() const noexcept { return settings_; }

private:
    void worker_loop();
    void run(const std::string& id);
    util::expected<nlohmann::json, std::string> execute(const models::task& t);
    std::optional<error> commit(write_op op);
    void after_health_check(const models::task& t, bool healthy);
    std::int64_t now_ms() const;

    store& store_;
    const clock& clock_;
    random_source& random_;
    event_log& events_;
    registry& agents_;
    task_settings settings_;
    health_prober prober_;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    task_schedule schedule_;
    std::size_t depth_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
    std::set<std::string> inflight_keys_;
};

} // namespace agent
