#include "reference/services/metrics.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "reference/util/failpoint.hpp"

namespace agent {

const std::vector<double>& metrics::duration_buckets() {
    static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
    return b;
}

std::string_view method_label(std::string_view m) noexcept {
    static constexpr std::array<std::string_view, 9> known = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
    for (auto k : known)
        if (m == k) return k;
    return "other";
}

struct metrics::impl {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    prometheus::Family<prometheus::Histogram>& durations =
        prometheus::BuildHistogram()
            .Name("agent_request_duration_seconds")
            .Help("Time from a complete request to its answer, by method, route template and "
                  "status code.")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& errors =
        prometheus::BuildCounter()
            .Name("agent_errors_total")
            .Help("Problem answers, by the problem type's slug.")
            .Register(*registry);
    prometheus::Gauge& connections = prometheus::BuildGauge()
                                         .Name("agent_active_connections")
                                         .Help("Open client connections (HTTP and WebSocket).")
                                         .Register(*registry)
                                         .Add({});
    prometheus::Gauge& registered = prometheus::BuildGauge()
                                        .Name("agent_registered_agents")
                                        .Help("Agents in the registry.")
                                        .Register(*registry)
                                        .Add({});
    prometheus::Family<prometheus::Counter>& tasks =
        prometheus::BuildCounter()
            .Name("agent_tasks_total")
            .Help("Tasks submitted, and tasks finished by their final status.")
            .Register(*registry);
    // MET-003: the required families, agent_queue_depth among them.
    prometheus::Gauge& queue_depth =
        prometheus::BuildGauge()
            .Name(AGENT_FAILPOINT("MET-003.queue-depth-misnamed") ? "agent_task_queue_depth"
                                                                  : "agent_queue_depth")
            .Help("Tasks queued or running.")
            .Register(*registry)
            .Add({});

    // Family::Add hashes the labels and takes the family's lock: the series are found once
    // and kept here, under series_mutex, and each thread keeps the series it has used in a
    // cache of its own, so that the request path takes no lock shared by all requests.
    const std::uint64_t serial = next_serial.fetch_add(1);
    static inline std::atomic<std::uint64_t> next_serial{1};
    mutable std::mutex series_mutex;
    std::unordered_map<std::string, prometheus::Histogram*> duration_series;
    std::unordered_map<std::string, prometheus::Counter*> error_series;
    /// agent_tasks_total's three series, made at construction and never changed after: read
    /// without a lock.
    std::array<std::pair<std::string_view, prometheus::Counter*>, 3> task_series{};

    sources from;
    mutable std::mutex sources_mutex;
};

metrics::metrics() : impl_(std::make_unique<impl>()) {
    // The series every agent has from the start, so that a scrape before any task shows
    // them at 0 (a counter that appears late looks like a reset to rate()).
    const std::array<std::string_view, 3> statuses{"submitted", "succeeded", "dead_lettered"};
    for (std::size_t i = 0; i < statuses.size(); ++i)
        impl_->task_series[i] = {statuses[i],
                                 &impl_->tasks.Add({{"status", std::string(statuses[i])}})};
}

metrics::~metrics() = default;

void metrics::observe_request(std::string_view method, std::string_view route, int code,
                              double seconds) {
    // This thread's series, for the metrics instance it last served (tests make several).
    struct thread_cache {
        std::uint64_t owner = 0;
        std::unordered_map<std::string, prometheus::Histogram*> series;
        std::string key;
    };
    thread_local thread_cache cache;
    if (cache.owner != impl_->serial) {
        cache.series.clear();
        cache.owner = impl_->serial;
    }
    const auto m = method_label(method);
    auto& key = cache.key;
    key.clear();
    key.append(m).push_back(' ');
    key.append(route).push_back(' ');
    std::array<char, 8> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), code).ptr;
    key.append(digits.data(), end);
    auto found = cache.series.find(key);
    if (found == cache.series.end()) {
        prometheus::Histogram* h = nullptr;
        {
            std::lock_guard lock(impl_->series_mutex);
            auto it = impl_->duration_series.find(key);
            if (it == impl_->duration_series.end()) {
                auto& series = impl_->durations.Add({{"method", std::string(m)},
                                                     {"route", std::string(route)},
                                                     {"code", std::string(digits.data(), end)}},
                                                    duration_buckets());
                it = impl_->duration_series.emplace(key, &series).first;
            }
            h = it->second;
        }
        found = cache.series.emplace(key, h).first;
    }
    found->second->Observe(seconds);
}

prometheus::Counter& metrics::error_series(std::string_view error_type) {
    std::lock_guard lock(impl_->series_mutex);
    auto it = impl_->error_series.find(std::string(error_type));
    if (it == impl_->error_series.end())
        it = impl_->error_series
                 .emplace(std::string(error_type),
                          &impl_->errors.Add({{"error_type", std::string(error_type)}}))
                 .first;
    return *it->second;
}

void metrics::count_error(std::string_view error_type) {
    error_series(error_type).Increment();
}

void metrics::declare_error_type(std::string_view error_type) {
    (void)error_series(error_type);
}

void metrics::connection_opened() noexcept {
    impl_->connections.Increment();
}
void metrics::connection_closed() noexcept {
    impl_->connections.Decrement();
}

void metrics::count_task(std::string_view status) {
    for (const auto& [name, counter] : impl_->task_series)
        if (name == status) return counter->Increment();
    // only the three statuses are labels
}

void metrics::set_sources(sources s) {
    std::lock_guard lock(impl_->sources_mutex);
    impl_->from = std::move(s);
}

std::string metrics::scrape() const {
    {
        std::lock_guard lock(impl_->sources_mutex);
        if (impl_->from.registered_agents)
            impl_->registered.Set(static_cast<double>(impl_->from.registered_agents()));
        if (impl_->from.queue_depth)
            impl_->queue_depth.Set(static_cast<double>(impl_->from.queue_depth()));
    }
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
    return out.str();
}

} // namespace agent
