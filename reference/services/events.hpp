#pragma once
// The event log (PROTOCOL.md §4): built-in events are appended by the writes that cause them,
// in the same transaction; custom ones are published through POST /events. After each
// commit the events are handed, in seq order, to the live subscribers (WebSocket streams).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "reference/interfaces/clock.hpp"
#include "reference/interfaces/store.hpp"
#include "reference/models/event.hpp"
#include "reference/services/auth.hpp"

namespace agent {

/// Receives every committed event once, in seq order, on the store's writer thread. Must
/// not block.
using event_subscriber = std::function<void(const models::event&)>;

/// The event log service. Thread-safe.
class event_log {
public:
    event_log(store& st, const clock& clk);

    /// A new event of `type` (id and time set; seq is set when it is appended).
    [[nodiscard]] models::event make(std::string type, std::optional<std::string> agent_id,
                                     nlohmann::json data) const;

    /// Committed events matching q, oldest first.
    [[nodiscard]] util::expected<std::vector<models::event>, error>
    list(const event_query& q) const;

    /// POST /events: appends a custom event (its agent, when named, must exist: else
    /// errc::validation_failed on /agent_id) and calls cb after the commit.
    void publish(models::event_input in,
                 std::function<void(util::expected<models::event, error>)> cb,
                 std::shared_ptr<audit_draft> audit = nullptr);

    /// Called after the transaction holding e committed (writer thread, seq order).
    void committed(const models::event& e);

    /// Adds a subscriber; returns its handle.
    std::uint64_t subscribe(event_subscriber s);
    /// Removes a subscriber. A delivery already under way may still call it once, so a
    /// subscriber must hold only weak references to what it feeds.
    void unsubscribe(std::uint64_t handle);

    /// The seq of the last committed event.
    [[nodiscard]] std::int64_t last_seq() const;

private:
    store& store_;
    const clock& clock_;
    mutable std::mutex mutex_;
    std::int64_t last_seq_ = 0;
    std::uint64_t next_handle_ = 1;
    std::map<std::uint64_t, event_subscriber> subscribers_;
};

} // namespace agent
