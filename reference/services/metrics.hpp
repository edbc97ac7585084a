#pragma once
// The agent's metrics (PROTOCOL.md §8, feature `metrics`), kept with prometheus-cpp's core
// library (its registry, metric types and text serialiser; Debian's prometheus-cpp-dev) and
// served as Prometheus text format 0.0.4 by GET /metrics.
//
//   agent_request_duration_seconds{method,route,code}  histogram  every HTTP answer
//   agent_active_connections                           gauge      open client connections
//   agent_errors_total{error_type}                     counter    problem answers, by type
//   agent_registered_agents                            gauge      agents in the registry
//   agent_tasks_total{status}                          counter    tasks submitted / finished
//   agent_queue_depth                                  gauge      tasks queued or running
//
// Labels are bounded: `route` is the route template ("/agents/{id}", "unmatched"), `method`
// one of the methods HTTP defines (others are "other"), `code` a status code, `error_type`
// the problem type's slug, `status` one of submitted, succeeded, dead_lettered. No label value
// is ever an id or anything a client chose freely.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Histogram;
class Counter;
class Gauge;
template <typename T> class Family;
} // namespace prometheus

namespace agent {

/// Thread-safe. The request path costs one cached lookup and one histogram observation.
class metrics {
public:
    /// The histogram's upper bounds, in seconds: 0.5 ms to 10 s, for an HTTP service whose
    /// reads take well under a millisecond and whose durable writes take milliseconds.
    static const std::vector<double>& duration_buckets();

    metrics();
    ~metrics();
    metrics(const metrics&) = delete;
    metrics& operator=(const metrics&) = delete;

    /// One answered request.
    void observe_request(std::string_view method, std::string_view route, int code,
                         double seconds);
    /// One problem answer of the given type slug ("validation-failed").
    void count_error(std::string_view error_type);
    /// Makes the series of an error type exist at 0 (so that the family is there from the
    /// start and a first error is not mistaken for a counter reset).
    void declare_error_type(std::string_view error_type);
    void connection_opened() noexcept;
    void connection_closed() noexcept;
    /// A task submitted, or finished (status "succeeded" or "dead_lettered").
    void count_task(std::string_view status);

    /// What the gauges read at scrape time: the registry's size, the queue's depth.
    struct sources {
        std::function<std::size_t()> registered_agents;
        std::function<std::size_t()> queue_depth;
    };
    void set_sources(sources s);

    /// Every family in Prometheus text format 0.0.4.
    [[nodiscard]] std::string scrape() const;

private:
    prometheus::Counter& error_series(std::string_view error_type);
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// A method as a bounded label value: the methods HTTP defines, else "other".
std::string_view method_label(std::string_view method) noexcept;

} // namespace agent
