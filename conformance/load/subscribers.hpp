#pragma once
// WebSocket subscribers held open on /events/stream while the load runs: how long each event
// took from its commit ("at") to the subscriber, and whether the stream stayed gapless and
// ordered under load. A handful of connections, each read by its own thread (the load itself
// never uses a thread per connection).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/client/http.hpp"
#include "conformance/load/histogram.hpp"

namespace agentcheck::load {

/// What the subscribers saw, all of them together.
struct subscriber_stats {
    std::uint32_t subscribers = 0;
    std::uint64_t messages = 0;
    std::uint64_t gaps = 0;         ///< a seq that skipped numbers since the previous one
    std::uint64_t duplicates = 0;   ///< a seq at or below the previous one
    std::uint64_t closed_early = 0; ///< streams the agent closed before the end
    std::uint64_t unreadable = 0;   ///< messages that were not an event with seq and at
    histogram delivery; ///< microseconds from the event's "at" to its arrival (ms resolution)
    subscriber_stats();
    void merge(const subscriber_stats& other);
    [[nodiscard]] nlohmann::json to_json() const;
    static subscriber_stats from_json(const nlohmann::json& j);
};

/// Milliseconds-precision RFC 3339 UTC ("2026-12-02T07:15:59.123Z") as a time point; nullopt
/// for anything else.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339_utc(std::string_view text);

/// N subscribers on a path (e.g. "/events/stream"), opened by start() and read until stop().
class subscriber_pool {
public:
    subscriber_pool(client::target_url target, std::string path, std::string token, int count);
    ~subscriber_pool();
    subscriber_pool(const subscriber_pool&) = delete;
    subscriber_pool& operator=(const subscriber_pool&) = delete;

    /// Opens every stream; throws std::runtime_error naming the refusal when one is refused.
    void start();
    /// Keeps reading for `grace` (the last events of the run), then closes and joins.
    subscriber_stats stop(std::chrono::milliseconds grace);

private:
    struct reader;
    client::target_url target_;
    std::string path_, token_;
    int count_;
    std::atomic<bool> stopping_{false};
    std::vector<std::unique_ptr<reader>> readers_;
    std::vector<std::thread> threads_;
};

} // namespace agentcheck::load
