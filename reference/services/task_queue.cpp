#include "reference/services/task_queue.hpp"

#include <future>

#include "reference/services/backoff.hpp"
#include "reference/util/failpoint.hpp"
#include "reference/util/time.hpp"
#include "reference/util/uuid.hpp"

namespace agent {

// --- task_schedule ------------------------------------------------------------------------

void task_schedule::add(const std::string& id, std::int64_t due_ms) {
    if (auto it = where_.find(id); it != where_.end()) {
        by_due_.erase(it->second);
        where_.erase(it);
    }
    where_[id] = by_due_.emplace(due_ms, id);
}

std::optional<std::string> task_schedule::take_due(std::int64_t now_ms) {
    if (by_due_.empty() || by_due_.begin()->first > now_ms) return std::nullopt;
    auto id = by_due_.begin()->second;
    by_due_.erase(by_due_.begin());
    where_.erase(id);
    return id;
}

std::optional<std::int64_t> task_schedule::next_due() const {
    if (by_due_.empty()) return std::nullopt;
    return by_due_.begin()->first;
}

// --- task_queue ---------------------------------------------------------------------------

namespace {

const principal system_principal{"agentd", role::admin, {"admin"}};

std::optional<std::string> agent_of(const models::task& t) {
    if (t.type == "agent_health_check" && t.payload.contains("agent_id") &&
        t.payload["agent_id"].is_string())
        return t.payload["agent_id"].get<std::string>();
    return std::nullopt;
}

} // namespace

task_queue::task_queue(store& st, const clock& clk, random_source& rnd, event_log& events,
                       registry& agents, task_settings settings, health_prober prober)
    : store_(st), clock_(clk), random_(rnd), events_(events), agents_(agents), settings_(settings),
      prober_(std::move(prober)) {}

task_queue::~task_queue() {
    stop();
}

std::int64_t task_queue::now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
        .count();
}

void task_queue::start() {
    {
        std::lock_guard lock(mutex_);
        for (const auto& t : store_.load_unfinished_tasks()) {
            // A task that was running when the process stopped runs again.
            schedule_.add(t.id, t.status == models::task_status::running ? 0 : t.next_attempt_ms);
            ++depth_;
        }
        stopping_ = false;
    }
    for (std::size_t i = 0; i < std::max<std::size_t>(1, settings_.workers); ++i)
        workers_.emplace_back([this] { worker_loop(); });
}

void task_queue::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_)
        if (w.joinable()) w.join();
    workers_.clear();
}

std::size_t task_queue::depth() const {
    std::lock_guard lock(mutex_);
    return depth_;
}

std::optional<models::task> task_queue::get(const std::string& id) const {
    return store_.read_task(id);
}

util::expected<std::vector<models::task>, error> task_queue::list(const task_query& q) const {
    return store_.read_tasks(q);
}

std::optional<error> task_queue::commit(write_op op) {
    auto done = std::make_shared<std::promise<std::optional<error>>>();
    auto result = done->get_future();
    auto inner = std::move(op.done);
    op.done = [done, inner](const std::optional<error>& err) {
        if (inner) inner(err);
        done->set_value(err);
    };
    if (auto err = store_.submit(std::move(op))) return err;
    return result.get();
}

void task_queue::submit(const principal& who, models::task_input in,
                        std::optional<idempotency_request> idem, task_submit_callback cb,
                        std::shared_ptr<audit_draft> audit) {
    std::string inflight_key;
    {
        std::lock_guard lock(mutex_);
        if (idem) {
            inflight_key = who.sub + '\n' + idem->key;
            if (!inflight_keys_.insert(inflight_key).second)
                return cb(util::unexpected(error{
                    errc::conflict, "a request with this Idempotency-Key is still in flight", {}}));
        }
        // TASK-004: a full queue refuses (503), it never takes more than max_queue_depth.
        if (depth_ >= settings_.max_queue_depth && !AGENT_FAILPOINT("TASK-004.queue-never-full")) {
            inflight_keys_.erase(inflight_key);
            return cb(util::unexpected(error{errc::unavailable,
                                             "the task queue is full (" +
                                                 std::to_string(settings_.max_queue_depth) +
                                                 " tasks queued or running): try again later",
                                             {}}));
        }
        ++depth_; // reserved; given back if the task is not stored
    }
    auto t = std::make_shared<models::task>();
    t->id = util::new_time_ordered_uuid(util::unix_ms(clock_.now())); // appends to the index
    t->type = std::move(in.type);
    t->payload = std::move(in.payload);
    t->max_attempts = in.max_attempts;
    t->owner = who.sub;
    t->created_at = t->updated_at = util::format_rfc3339_ms(clock_.now());
    t->next_attempt_ms = now_ms();
    auto outcome = std::make_shared<task_outcome>();
    write_op op;
    op.audit = audit;
    op.apply = [t, idem, sub = who.sub, outcome,
                audit = std::move(audit)](store_txn& tx) -> std::optional<error> {
        if (idem) {
            if (auto rec = tx.find_idempotency(sub, idem->key)) {
                if (rec->fingerprint != idem->fingerprint)
                    return error{errc::idempotency_mismatch,
                                 "this Idempotency-Key was used with a different request body",
                                 {}};
                if (audit) audit->record.resource = rec->location;
                outcome->replay = std::move(rec);
                return std::nullopt;
            }
        }
        if (auto err = tx.insert_task(*t)) return err;
        outcome->task = *t;
        if (audit) audit->record.resource = "/tasks/" + t->id; // what was created
        if (idem) {
            idempotency_record rec{sub,
                                   idem->key,
                                   idem->fingerprint,
                                   202,
                                   "/tasks/" + t->id,
                                   "",
                                   models::to_json(*t).dump(),
                                   0};
            if (auto err = tx.put_idempotency(rec)) return err;
        }
        return std::nullopt;
    };
    op.done = [this, outcome, cb, inflight_key, t](const std::optional<error>& err) {
        {
            std::lock_guard lock(mutex_);
            inflight_keys_.erase(inflight_key);
            if (err || !outcome->task) {
                --depth_; // nothing new was queued
            } else {
                schedule_.add(t->id, t->next_attempt_ms);
            }
        }
        cv_.notify_one();
        if (err) return cb(util::unexpected(*err));
        cb(std::move(*outcome));
    };
    if (auto err = store_.submit(std::move(op))) {
        std::lock_guard lock(mutex_);
        inflight_keys_.erase(inflight_key);
        --depth_;
        cb(util::unexpected(*err));
    }
}

void task_queue::retry(const principal& who, const std::string& id, task_callback cb,
                       std::shared_ptr<audit_draft> audit) {
    auto result = std::make_shared<models::task>();
    write_op op;
    op.audit = std::move(audit);
    op.apply = [this, who, id, result](store_txn& tx) -> std::optional<error> {
        auto t = tx.find_task(id);
        if (!t) return error{errc::not_found, "no task with id " + id, {}};
        // TASK-014: the owner or an admin retries a task.
        if (who.highest != role::admin && t->owner != who.sub &&
            !AGENT_FAILPOINT("TASK-014.any-operator-retries"))
            return error{errc::forbidden, "only the task's owner or an admin may retry it", {}};
        // TASK-011: only a dead-lettered task is requeued; any other status is 409.
        if (t->status != models::task_status::dead_lettered &&
            !AGENT_FAILPOINT("TASK-011.retry-any-status"))
            return error{errc::conflict,
                         std::string("only a dead-lettered task can be retried; this one is ") +
                             models::to_string(t->status),
                         {}};
        t->status = models::task_status::queued;
        t->attempts = 0;
        t->updated_at = util::format_rfc3339_ms(clock_.now());
        t->next_attempt_ms = now_ms();
        if (auto err = tx.update_task(*t)) return err;
        *result = *t;
        return std::nullopt;
    };
    op.done = [this, result, cb](const std::optional<error>& err) {
        if (err) return cb(util::unexpected(*err));
        {
            std::lock_guard lock(mutex_);
            ++depth_;
            schedule_.add(result->id, result->next_attempt_ms);
        }
        cv_.notify_one();
        cb(*result);
    };
    if (auto err = store_.submit(std::move(op))) cb(util::unexpected(*err));
}

void task_queue::worker_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const auto now = now_ms();
        if (auto id = schedule_.take_due(now)) {
            lock.unlock();
            try {
                run(*id);
            } catch (...) { // a task must never take a worker down
            }
            lock.lock();
            continue;
        }
        if (auto next = schedule_.next_due())
            cv_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(1, *next - now)));
        else
            cv_.wait(lock);
    }
}

util::expected<nlohmann::json, std::string> task_queue::execute(const models::task& t) {
    if (t.type == "noop") return nlohmann::json(nullptr);
    if (t.type == "echo") return t.payload;
    if (t.type == "fail") return util::unexpected(std::string("the fail task always fails"));
    if (t.type == "flaky") {
        const int fail_times = t.payload.value("fail_times", 0);
        if (t.attempts <= fail_times)
            return util::unexpected("flaky: attempt " + std::to_string(t.attempts) + " of the " +
                                    std::to_string(fail_times) + " that fail");
        return nlohmann::json{{"attempts", t.attempts}};
    }
    if (t.type == "sleep") {
        const auto ms = t.payload.value("ms", 0LL);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return nlohmann::json{{"slept_ms", ms}};
    }
    if (t.type == "agent_health_check") {
        const auto id = agent_of(t).value_or("");
        auto e = agents_.get(id);
        if (!e) return util::unexpected("no agent with id " + id);
        if (!e->agent.fields.endpoint)
            return util::unexpected(std::string("the agent has no endpoint"));
        auto status = prober_(*e->agent.fields.endpoint);
        if (!status)
            return util::unexpected("GET " + *e->agent.fields.endpoint +
                                    "/health: " + status.error());
        if (*status < 200 || *status > 299)
            return util::unexpected("GET " + *e->agent.fields.endpoint + "/health answered " +
                                    std::to_string(*status));
        return nlohmann::json{{"status", *status}};
    }
    return util::unexpected("unknown task type " + t.type);
}

void task_queue::run(const std::string& id) {
    // 1. Claim: running, one more attempt (durable before the work starts).
    auto claimed = std::make_shared<std::optional<models::task>>();
    write_op claim;
    claim.apply = [this, id, claimed](store_txn& tx) -> std::optional<error> {
        auto t = tx.find_task(id);
        if (!t ||
            (t->status != models::task_status::queued && t->status != models::task_status::running))
            return std::nullopt; // finished meanwhile: nothing to run
        t->status = models::task_status::running;
        t->attempts += 1;
        t->updated_at = util::format_rfc3339_ms(clock_.now());
        if (auto err = tx.update_task(*t)) return err;
        *claimed = *t;
        return std::nullopt;
    };
    if (auto err = commit(std::move(claim)); err || !*claimed) {
        if (err) { // could not claim (storage): try again later
            std::lock_guard lock(mutex_);
            schedule_.add(id, now_ms() + settings_.retry_cap.count());
        } else {
            std::lock_guard lock(mutex_);
            --depth_;
        }
        return;
    }
    models::task t = **claimed;
    // 2. Work.
    auto outcome = execute(t);
    // 3. Record the outcome (with its event, in the same transaction).
    const bool ok = outcome.has_value();
    // TASK-009: after max_attempts failed attempts the task is dead-lettered.
    const bool dead =
        !ok && (AGENT_FAILPOINT("TASK-009.one-attempt-too-many") ? t.attempts > t.max_attempts
                                                                 : t.attempts >= t.max_attempts);
    t.updated_at = util::format_rfc3339_ms(clock_.now());
    if (ok) {
        t.status = models::task_status::succeeded;
        t.result = *outcome;
    } else {
        t.last_error = outcome.error();
        if (dead) {
            t.status = models::task_status::dead_lettered;
        } else {
            t.status = models::task_status::queued;
            // TASK-008: the retry waits the jittered backoff.
            t.next_attempt_ms = now_ms() + (AGENT_FAILPOINT("TASK-008.no-backoff")
                                                ? 0
                                                : backoff_delay(t.attempts, settings_.retry_base,
                                                                settings_.retry_cap, random_)
                                                      .count());
        }
    }
    std::optional<models::event> ev;
    if (ok || dead)
        ev = events_.make(ok ? "task_succeeded" : "task_dead_lettered", agent_of(t),
                          {{"task_id", t.id}, {"type", t.type}, {"attempts", t.attempts}});
    // A health check's verdict moves the agent's status before the task is recorded as done:
    // a client that sees the task succeeded must see the agent active (recorded the other way
    // round, a GET between the two writes read the old status). Should the outcome then fail
    // to commit, the task runs again and finds the status already moved.
    if (t.type == "agent_health_check" && (ok || dead)) after_health_check(t, ok);
    auto stored_event = std::make_shared<std::optional<models::event>>(ev);
    write_op finish;
    finish.apply = [t, stored_event](store_txn& tx) -> std::optional<error> {
        if (auto err = tx.update_task(t)) return err;
        if (*stored_event) return tx.append_event(**stored_event);
        return std::nullopt;
    };
    finish.done = [this, stored_event](const std::optional<error>& err) {
        if (!err && *stored_event) events_.committed(**stored_event);
    };
    if (auto err = commit(std::move(finish))) {
        // The outcome was not recorded: the task is still "running" in the store and runs
        // again (at least once).
        std::lock_guard lock(mutex_);
        schedule_.add(id, now_ms() + settings_.retry_cap.count());
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (ok || dead)
            --depth_;
        else
            schedule_.add(t.id, t.next_attempt_ms);
    }
    cv_.notify_one();
}

void task_queue::after_health_check(const models::task& t, bool healthy) {
    const auto id = agent_of(t);
    if (!id) return;
    auto e = agents_.get(*id);
    if (!e) return;
    const auto current = e->agent.status;
    std::optional<models::agent_status> next;
    if (healthy &&
        (current == models::agent_status::registered || current == models::agent_status::degraded))
        next = models::agent_status::active;
    if (!healthy && current == models::agent_status::active) next = models::agent_status::degraded;
    if (!next) return;
    std::promise<void> done;
    agents_.set_status(system_principal, *id,
                       models::status_change{*next, healthy ? "health check passed"
                                                            : "health check dead-lettered"},
                       [&done](util::expected<write_outcome, error>) { done.set_value(); });
    done.get_future().wait();
}

} // namespace agent
