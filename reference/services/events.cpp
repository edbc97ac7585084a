#include "reference/services/events.hpp"

#include <memory>
#include <vector>

#include "reference/util/time.hpp"
#include "reference/util/uuid.hpp"

namespace agent {

event_log::event_log(store& st, const clock& clk)
    : store_(st), clock_(clk), last_seq_(st.last_event_seq()) {}

models::event event_log::make(std::string type, std::optional<std::string> agent_id,
                              nlohmann::json data) const {
    models::event e;
    e.id = util::new_uuid();
    e.type = std::move(type);
    e.at = util::format_rfc3339_ms(clock_.now());
    e.agent_id = std::move(agent_id);
    e.data = std::move(data);
    return e;
}

util::expected<std::vector<models::event>, error> event_log::list(const event_query& q) const {
    return store_.read_events(q);
}

void event_log::publish(models::event_input in,
                        std::function<void(util::expected<models::event, error>)> cb,
                        std::shared_ptr<audit_draft> audit) {
    auto ev = std::make_shared<models::event>(make(in.type, in.agent_id, std::move(in.data)));
    write_op op;
    op.audit = std::move(audit);
    op.apply = [ev](store_txn& tx) -> std::optional<error> {
        if (ev->agent_id && !tx.find_agent(*ev->agent_id)) {
            return error{errc::validation_failed,
                         "the request body breaks the event schema",
                         {{"/agent_id", "no agent with this id"}}};
        }
        return tx.append_event(*ev);
    };
    op.done = [this, ev, cb](const std::optional<error>& err) {
        if (err) return cb(util::unexpected(*err));
        committed(*ev);
        cb(*ev);
    };
    if (auto err = store_.submit(std::move(op))) cb(util::unexpected(*err));
}

void event_log::committed(const models::event& e) {
    std::vector<event_subscriber> targets;
    {
        std::lock_guard lock(mutex_);
        if (e.seq > last_seq_) last_seq_ = e.seq;
        targets.reserve(subscribers_.size());
        for (const auto& [handle, s] : subscribers_)
            targets.push_back(s);
    }
    for (const auto& s : targets) {
        try {
            s(e);
        } catch (...) { // a subscriber must never take the writer down
        }
    }
}

std::uint64_t event_log::subscribe(event_subscriber s) {
    std::lock_guard lock(mutex_);
    const auto h = next_handle_++;
    subscribers_.emplace(h, std::move(s));
    return h;
}

void event_log::unsubscribe(std::uint64_t handle) {
    std::lock_guard lock(mutex_);
    subscribers_.erase(handle);
}

std::int64_t event_log::last_seq() const {
    std::lock_guard lock(mutex_);
    return last_seq_;
}

} // namespace agent
