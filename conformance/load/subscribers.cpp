#include "conformance/load/subscribers.hpp"

#include <stdexcept>

#include "conformance/client/ws.hpp"
#include "conformance/load/engine.hpp"

namespace agentcheck::load {
namespace {

constexpr auto read_slice = std::chrono::milliseconds(100);

int digits(std::string_view s, std::size_t at, std::size_t n, bool& ok) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (i >= s.size() || s[i] < '0' || s[i] > '9') {
            ok = false;
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

} // namespace

subscriber_stats::subscriber_stats() : delivery(latency_histogram()) {}

void subscriber_stats::merge(const subscriber_stats& o) {
    subscribers += o.subscribers;
    messages += o.messages;
    gaps += o.gaps;
    duplicates += o.duplicates;
    closed_early += o.closed_early;
    unreadable += o.unreadable;
    delivery.merge(o.delivery);
}

nlohmann::json subscriber_stats::to_json() const {
    return {{"subscribers", subscribers},
            {"messages", messages},
            {"gaps", gaps},
            {"duplicates", duplicates},
            {"closed_early", closed_early},
            {"unreadable", unreadable},
            {"histogram", delivery.to_json()}};
}

subscriber_stats subscriber_stats::from_json(const nlohmann::json& j) {
    subscriber_stats s;
    s.subscribers = j.value("subscribers", 0U);
    s.messages = j.value("messages", std::uint64_t{0});
    s.gaps = j.value("gaps", std::uint64_t{0});
    s.duplicates = j.value("duplicates", std::uint64_t{0});
    s.closed_early = j.value("closed_early", std::uint64_t{0});
    s.unreadable = j.value("unreadable", std::uint64_t{0});
    if (j.contains("histogram")) {
        std::string why;
        auto h = histogram::from_json(j["histogram"], &why);
        if (!h) throw spec_error("subscribers.histogram: " + why);
        s.delivery = *h;
    }
    return s;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339_utc(std::string_view t) {
    // YYYY-MM-DDTHH:MM:SS.mmmZ
    if (t.size() != 24 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
        t[16] != ':' || t[19] != '.' || t[23] != 'Z')
        return std::nullopt;
    bool ok = true;
    const int y = digits(t, 0, 4, ok), mo = digits(t, 5, 2, ok), d = digits(t, 8, 2, ok);
    const int h = digits(t, 11, 2, ok), mi = digits(t, 14, 2, ok), s = digits(t, 17, 2, ok);
    const int ms = digits(t, 20, 3, ok);
    if (!ok) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year(y),
                                          std::chrono::month(static_cast<unsigned>(mo)),
                                          std::chrono::day(static_cast<unsigned>(d))};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
    return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(s) + std::chrono::milliseconds(ms);
}

struct subscriber_pool::reader {
    std::unique_ptr<client::ws_client> ws;
    subscriber_stats stats;
    std::optional<std::int64_t> last_seq;
};

subscriber_pool::subscriber_pool(client::target_url target, std::string path, std::string token,
                                 int count)
    : target_(std::move(target)), path_(std::move(path)), token_(std::move(token)), count_(count) {}

subscriber_pool::~subscriber_pool() {
    stopping_.store(true);
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

void subscriber_pool::start() {
    for (int i = 0; i < count_; ++i) {
        auto r = std::make_unique<reader>();
        client::response refused;
        client::header_list headers;
        if (!token_.empty()) headers.push_back({"Authorization", "Bearer " + token_});
        r->ws = client::ws_client::open(target_, path_, headers, {}, &refused);
        if (!r->ws)
            throw std::runtime_error("subscriber: GET " + path_ + " was not upgraded (" +
                                     std::to_string(refused.status) + ")");
        r->stats.subscribers = 1;
        readers_.push_back(std::move(r));
    }
    for (auto& r : readers_) {
        threads_.emplace_back([this, rd = r.get()] {
            while (!stopping_.load()) {
                const auto ev = rd->ws->read(read_slice);
                if (ev.what == client::ws_event::kind::timeout) continue;
                if (ev.what == client::ws_event::kind::closed) {
                    if (!stopping_.load()) ++rd->stats.closed_early; // 1008: it fell behind
                    return;
                }
                const auto now = std::chrono::system_clock::now();
                const auto doc = nlohmann::json::parse(ev.text, nullptr, false);
                if (!doc.is_object() || !doc.contains("seq") || !doc["seq"].is_number_integer() ||
                    !doc.contains("at") || !doc["at"].is_string()) {
                    ++rd->stats.unreadable;
                    continue;
                }
                const auto at = parse_rfc3339_utc(doc["at"].get<std::string>());
                if (!at) {
                    ++rd->stats.unreadable;
                    continue;
                }
                ++rd->stats.messages;
                // "at" has millisecond precision: the delivery time is known to within 1 ms.
                rd->stats.delivery.record(std::max<std::int64_t>(
                    0, std::chrono::duration_cast<std::chrono::microseconds>(now - *at).count()));
                const auto seq = doc["seq"].get<std::int64_t>();
                if (rd->last_seq) {
                    if (seq <= *rd->last_seq)
                        ++rd->stats.duplicates;
                    else if (seq > *rd->last_seq + 1)
                        ++rd->stats.gaps;
                }
                rd->last_seq = std::max(seq, rd->last_seq.value_or(seq));
            }
        });
    }
}

subscriber_stats subscriber_pool::stop(std::chrono::milliseconds grace) {
    std::this_thread::sleep_for(grace);
    stopping_.store(true);
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
    subscriber_stats all;
    for (auto& r : readers_) {
        try {
            r->ws->close();
        } catch (const std::exception&) { // a stream that is already gone
        }
        all.merge(r->stats);
    }
    readers_.clear();
    return all;
}

} // namespace agentcheck::load
