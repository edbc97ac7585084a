#include "conformance/load/engine.hpp"

#include <cmath>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace agentcheck::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr std::int64_t highest_latency_us = 3'600'000'000; // one hour
constexpr std::uint64_t body_limit = 64ULL << 20;          // answers are read whole, then dropped
constexpr std::chrono::milliseconds sweep_every{10};
constexpr std::chrono::milliseconds reconnect_after{100};
constexpr int uniq_digits = 16;

std::int64_t micros(steady::duration d) {
    return std::max<std::int64_t>(0,
                                  std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

/// The arrival schedule of one thread: arrival k (fractional, so that threads interleave) at
/// t(k) seconds, for a rate that grows linearly from 0 to `rate` over `ramp` seconds.
struct schedule {
    double rate;
    double ramp_s;
    [[nodiscard]] double at(double k) const {
        const double ramp_arrivals = rate * ramp_s / 2;
        if (ramp_s > 0 && k < ramp_arrivals) return std::sqrt(2 * ramp_s * k / rate);
        return ramp_s + (k - ramp_arrivals) / rate;
    }
};

/// The seconds of the run, merged across threads as each thread finishes each one.
class second_collector {
public:
    second_collector(int threads, std::function<void(const second_stats&)> cb)
        : threads_(threads), cb_(std::move(cb)) {}

    void add(std::uint32_t second, std::uint64_t requests, std::uint64_t errors,
             const histogram& h) {
        std::unique_lock lock(mutex_);
        while (slots_.size() <= second)
            slots_.push_back(slot{second_stats{static_cast<std::uint32_t>(slots_.size())}, 0});
        auto& s = slots_[second];
        s.stats.requests += requests;
        s.stats.errors += errors;
        s.stats.corrected.merge(h);
        if (++s.reported == threads_ && cb_) {
            const second_stats copy = s.stats;
            lock.unlock();
            cb_(copy);
        }
    }
    std::vector<second_stats> take() {
        std::lock_guard lock(mutex_);
        std::vector<second_stats> out;
        for (auto& s : slots_)
            out.push_back(std::move(s.stats));
        return out;
    }

private:
    struct slot {
        second_stats stats;
        int reported = 0;
    };
    std::mutex mutex_;
    int threads_;
    std::function<void(const second_stats&)> cb_;
    std::deque<slot> slots_;
};

struct arrival {
    steady::time_point intended;
    std::uint32_t op = 0;
};

struct connection {
    explicit connection(asio::io_context& ioc) : sock(ioc), retry(ioc) {}
    tcp::socket sock;
    asio::steady_timer retry;
    beast::flat_buffer buf;
    std::optional<http::response_parser<http::string_body>> parser;
    std::string out;
    bool open = false;
    bool busy = false; ///< connecting, or a request in flight
    bool has_request = false;
    bool timed_out = false;
    std::uint64_t uses = 0; ///< answers read on this connection since it was opened
    arrival cur;
    std::string_view agent; ///< the {agent} of the request in flight ("" when none)
    int index = 0;          ///< this connection's number in its worker
    steady::time_point sent;
    steady::time_point deadline;
};

class worker {
public:
    worker(const engine_options& o, int index, tcp::endpoint ep, second_collector& seconds,
           const std::atomic<bool>* stop, steady::time_point start)
        : o_(o), index_(index), ep_(ep), seconds_(seconds), stop_(stop), start_(start),
          end_(start + o.duration), arrivals_(ioc_), sweep_(ioc_), tick_(ioc_),
          rng_(o.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(index) * 7919 +
               o.shard_index * 104729ULL) {
        std::vector<double> weights;
        for (const auto& op : o.operations)
            weights.push_back(op.weight);
        pick_ = std::discrete_distribution<std::uint32_t>(weights.begin(), weights.end());
        if (!o.agents.empty())
            pick_agent_ = std::uniform_int_distribution<std::size_t>(0, o.agents.size() - 1);
        for (const auto& op : o.operations) {
            operation_stats s;
            s.name = op.name;
            stats_.push_back(std::move(s));
            head_.push_back(op.method == "HEAD");
        }
        const auto threads = static_cast<std::uint64_t>(o.threads);
        if (o.requests) {
            quota_ =
                o.requests / threads + (static_cast<std::uint64_t>(index) < o.requests % threads);
            if (quota_ == 0) issuing_ = false;
        }
        const int conns = o.connections / o.threads + (index < o.connections % o.threads ? 1 : 0);
        for (int i = 0; i < std::max(conns, 1); ++i) {
            conns_.push_back(std::make_unique<connection>(ioc_));
            conns_.back()->index = i;
        }
        sched_ = schedule{o.rate / static_cast<double>(o.threads),
                          std::chrono::duration<double>(o.ramp).count()};
        phase_ = static_cast<double>(index) / static_cast<double>(o.threads);
    }

    void run() {
        for (auto& c : conns_)
            connect(c.get());
        if (o_.mdl == model::open && issuing_) next_arrivals();
        sweep();
        tick();
        ioc_.run();
    }

    // Results, read after run().
    std::vector<operation_stats> stats_;
    histogram lag_ = latency_histogram();
    std::uint64_t intended_ = 0, unsent_ = 0, connects_ = 0, connect_errors_ = 0;
    std::vector<std::string> created_;
    std::vector<history_entry> history_;
    steady::time_point last_answer_{};
    steady::time_point issue_end_{};

private:
    void connect(connection* c) {
        c->busy = true;
        c->open = false;
        c->timed_out = false; // the sweep times the connect out too
        c->deadline = steady::now() + o_.timeout;
        c->sock.async_connect(ep_, [this, c](const boost::system::error_code& ec) {
            if (ec) {
                c->sock.close();
                ++connect_errors_;
                ++interval_errors_;
                if (c->has_request) { // its request fails with the connection
                    auto& s = stats_[c->cur.op];
                    ++s.requests;
                    ++s.failures[failure::connect];
                    c->has_request = false;
                }
                if (finishing() || stopped_) {
                    c->busy = false;
                    return maybe_finish();
                }
                c->retry.expires_after(reconnect_after);
                c->retry.async_wait([this, c](const boost::system::error_code& e) {
                    if (!e && !stopped_) connect(c);
                });
                return;
            }
            ++connects_;
            c->sock.set_option(tcp::no_delay(true));
            c->open = true;
            c->busy = false;
            c->uses = 0;
            c->buf.clear();
            if (c->has_request) return send(c, c->cur); // a request that must be sent again
            idle_.push_back(c);
            dispatch();
        });
    }

    [[nodiscard]] bool finishing() const { return !issuing_ && backlog_.empty(); }

    std::uint32_t pick_op() { return pick_(rng_); }

    void next_arrivals() {
        const auto now = steady::now();
        while (issuing_) {
            if (stop_ && stop_->load()) {
                stop_issuing(now);
                break;
            }
            const double k = static_cast<double>(k_) + phase_;
            const auto when = start_ + std::chrono::duration_cast<steady::duration>(
                                           std::chrono::duration<double>(sched_.at(k)));
            if (when >= end_ || (quota_ && issued_ >= quota_)) {
                stop_issuing(now);
                break;
            }
            if (when > now) {
                arrivals_.expires_at(when);
                arrivals_.async_wait([this](const boost::system::error_code& ec) {
                    if (!ec) next_arrivals();
                });
                break;
            }
            backlog_.push_back({when, pick_op()});
            lag_.record(micros(now - when));
            ++k_;
            ++issued_;
            ++intended_;
        }
        dispatch();
    }

    void stop_issuing(steady::time_point now) {
        if (!issuing_) return;
        issuing_ = false;
        issue_end_ = now;
        drain_deadline_ = now + o_.timeout;
        maybe_finish();
    }

    void dispatch() {
        if (stopped_) return;
        if (o_.mdl == model::open) {
            while (!idle_.empty() && !backlog_.empty()) {
                auto* c = idle_.back();
                idle_.pop_back();
                const auto a = backlog_.front();
                backlog_.pop_front();
                send(c, a);
            }
        } else {
            while (!idle_.empty() && issuing_) {
                const auto now = steady::now();
                if (now >= end_ || (quota_ && issued_ >= quota_) || (stop_ && stop_->load())) {
                    stop_issuing(now);
                    break;
                }
                auto* c = idle_.back();
                idle_.pop_back();
                ++issued_;
                ++intended_;
                send(c, arrival{now, pick_op()});
            }
        }
        maybe_finish();
    }

    void send(connection* c, const arrival& a) {
        c->busy = true;
        c->has_request = true;
        c->cur = a;
        c->timed_out = false;
        const auto& op = *o_.compiled[a.op];
        char uniq[uniq_digits + 1];
        std::snprintf(uniq, sizeof uniq, "%04x%02x%02x%08llx", o_.run_nonce & 0xffffU,
                      o_.shard_index & 0xffU, static_cast<unsigned>(index_) & 0xffU,
                      static_cast<unsigned long long>(++counter_ & 0xffffffffULL));
        std::string_view agent;
        std::size_t agent_index = 0;
        if (op.uses_agent()) {
            agent_index = pick_agent_(rng_);
            agent = o_.agents[agent_index];
        }
        c->agent = op.uses_agent() && agent_index < o_.history_agents ? agent : std::string_view{};
        op.render(c->out, agent, std::string_view(uniq, uniq_digits));
        c->sent = steady::now();
        c->deadline = c->sent + o_.timeout;
        asio::async_write(c->sock, asio::buffer(c->out),
                          [this, c](const boost::system::error_code& ec, std::size_t) {
                              if (ec)
                                  return fail(c, c->timed_out ? failure::timeout : failure::write);
                              c->parser.emplace();
                              c->parser->body_limit(body_limit);
                              if (head_[c->cur.op]) c->parser->skip(true);
                              http::async_read(c->sock, c->buf, *c->parser,
                                               [this, c](const boost::system::error_code& e,
                                                         std::size_t) { on_read(c, e); });
                          });
    }

    void on_read(connection* c, const boost::system::error_code& ec) {
        if (ec) {
            // A kept-alive connection the server had closed before this request: send it
            // again on a fresh one, as every HTTP client does (not an error of the target).
            const bool stale = !c->timed_out && c->uses > 0 && !c->parser->got_some() &&
                               (ec == http::error::end_of_stream ||
                                ec == asio::error::connection_reset || ec == asio::error::eof);
            if (stale) {
                c->sock.close();
                return connect(c);
            }
            return fail(c, c->timed_out ? failure::timeout : failure::read);
        }
        const auto now = steady::now();
        last_answer_ = now;
        auto& res = c->parser->get();
        const int status = res.result_int();
        auto& s = stats_[c->cur.op];
        ++s.requests;
        ++s.statuses[status];
        const bool ok = o_.operations[c->cur.op].expected(status);
        if (ok) {
            ++s.ok;
        } else {
            ++s.failures[failure::status];
            ++interval_errors_;
        }
        if (!c->agent.empty()) remember(c, now, status, &res);
        const auto corrected = micros(now - c->cur.intended);
        s.corrected.record(corrected);
        s.uncorrected.record(micros(now - c->sent));
        interval_.record(corrected);
        ++interval_requests_;
        if (status == 201) {
            auto loc = res[http::field::location];
            const auto slash = loc.rfind('/');
            if (slash != beast::string_view::npos &&
                loc.find("/agents/") != beast::string_view::npos)
                created_.emplace_back(loc.substr(slash + 1));
        }
        c->has_request = false;
        ++c->uses;
        if (!res.keep_alive()) {
            c->sock.close();
            if (finishing()) {
                c->busy = false;
                c->open = false;
                return maybe_finish();
            }
            return connect(c);
        }
        c->busy = false;
        idle_.push_back(c);
        dispatch();
    }

    /// Records the operation in flight on `c` (its agent is sampled): `res` null when no
    /// answer came.
    void remember(connection* c, steady::time_point now, int status,
                  const http::response<http::string_body>* res) {
        history_entry h;
        h.client = index_ * 100000 + c->index;
        h.call_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(c->sent - start_).count();
        h.answered = res != nullptr;
        if (res) {
            h.ret_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count();
            h.status = status;
            if (status == 200 && res->body().size() <= 65536) h.response_body = res->body();
        }
        h.agent = std::string(c->agent);
        // The request as written: method, path and body from its bytes.
        const std::string_view out = c->out;
        const auto sp1 = out.find(' ');
        const auto sp2 = out.find(' ', sp1 + 1);
        h.method = std::string(out.substr(0, sp1));
        h.path = std::string(out.substr(sp1 + 1, sp2 - sp1 - 1));
        if (const auto body = out.find("\r\n\r\n"); body != std::string_view::npos)
            h.request_body = std::string(out.substr(body + 4));
        history_.push_back(std::move(h));
        c->agent = {};
    }

    void fail(connection* c, failure kind) {
        if (!c->agent.empty()) remember(c, steady::now(), 0, nullptr);
        last_answer_ = steady::now();
        auto& s = stats_[c->cur.op];
        ++s.requests;
        ++s.failures[kind];
        ++interval_errors_;
        c->has_request = false;
        c->sock.close();
        c->open = false;
        if (finishing() || stopped_) {
            c->busy = false;
            return maybe_finish();
        }
        connect(c);
    }

    void sweep() {
        const auto now = steady::now();
        if (stop_ && stop_->load() && issuing_) stop_issuing(now);
        for (auto& c : conns_) {
            if (c->busy && !c->timed_out && now > c->deadline) {
                c->timed_out = true;
                c->sock.close(); // the pending operation ends with operation_aborted
            }
        }
        if (!issuing_ && now >= drain_deadline_) {
            // Arrivals that never found a connection before the end.
            for (const auto& a : backlog_) {
                ++stats_[a.op].failures[failure::unsent];
                ++stats_[a.op].requests;
                ++unsent_;
            }
            backlog_.clear();
            for (auto& c : conns_)
                if (c->busy && !c->has_request) { // still connecting
                    c->retry.cancel();
                    c->sock.close();
                    c->busy = false;
                }
        }
        maybe_finish();
        if (stopped_) return;
        sweep_.expires_after(sweep_every);
        sweep_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) sweep();
        });
    }

    void tick() {
        const auto at = start_ + std::chrono::seconds(second_ + 1);
        tick_.expires_at(at);
        tick_.async_wait([this](const boost::system::error_code& ec) {
            // A tick already due when maybe_finish cancelled the timer still runs, with no
            // error: without the stopped_ test it armed the next one, and the next, and the
            // run never ended (seen as a load test hanging one time in a few under CPU load).
            if (ec || stopped_) return;
            report_second();
            tick();
        });
    }

    void report_second() {
        seconds_.add(second_, interval_requests_, interval_errors_, interval_);
        interval_.reset();
        interval_requests_ = interval_errors_ = 0;
        ++second_;
    }

    void maybe_finish() {
        if (stopped_ || issuing_ || !backlog_.empty()) return;
        for (const auto& c : conns_)
            if (c->busy) return;
        stopped_ = true;
        report_second(); // the last, partial second
        for (auto& c : conns_) {
            boost::system::error_code ignored;
            c->sock.close(ignored);
            c->retry.cancel();
        }
        arrivals_.cancel();
        sweep_.cancel();
        tick_.cancel();
    }

    const engine_options& o_;
    int index_;
    tcp::endpoint ep_;
    second_collector& seconds_;
    const std::atomic<bool>* stop_;
    steady::time_point start_, end_;
    steady::time_point drain_deadline_ = steady::time_point::max();
    asio::io_context ioc_{1};
    asio::steady_timer arrivals_, sweep_, tick_;
    std::mt19937_64 rng_;
    std::discrete_distribution<std::uint32_t> pick_;
    std::uniform_int_distribution<std::size_t> pick_agent_;
    std::vector<bool> head_;
    std::vector<std::unique_ptr<connection>> conns_;
    std::vector<connection*> idle_;
    std::deque<arrival> backlog_;
    schedule sched_{1, 0};
    double phase_ = 0;
    std::uint64_t k_ = 0, issued_ = 0, quota_ = 0, counter_ = 0;
    bool issuing_ = true;
    bool stopped_ = false;
    histogram interval_ = latency_histogram();
    std::uint64_t interval_requests_ = 0, interval_errors_ = 0;
    std::uint32_t second_ = 0;
};

} // namespace

void operation_stats::add(const operation_stats& o) {
    requests += o.requests;
    ok += o.ok;
    for (const auto& [k, v] : o.statuses)
        statuses[k] += v;
    for (const auto& [k, v] : o.failures)
        failures[k] += v;
    corrected.merge(o.corrected);
    uncorrected.merge(o.uncorrected);
}

histogram latency_histogram() {
    return histogram(1, highest_latency_us, 3);
}

const char* to_string(failure f) noexcept {
    switch (f) {
    case failure::connect:
        return "connect";
    case failure::write:
        return "write";
    case failure::read:
        return "read";
    case failure::timeout:
        return "timeout";
    case failure::status:
        return "status";
    case failure::unsent:
        return "unsent";
    }
    return "?";
}

engine_result run_engine(const engine_options& o, const std::atomic<bool>* stop) {
    if (o.operations.empty() || o.operations.size() != o.compiled.size())
        throw spec_error("the load needs at least one operation");
    if (o.threads < 1) throw spec_error("--threads: at least 1");
    if (o.connections < o.threads)
        throw spec_error("--connections: at least one per thread (" + std::to_string(o.threads) +
                         ")");
    if (o.mdl == model::open && !(o.rate > 0)) throw spec_error("--rate: must be positive");
    tcp::endpoint ep;
    {
        asio::io_context ioc;
        tcp::resolver resolver(ioc);
        boost::system::error_code ec;
        auto results = resolver.resolve(o.target.host, std::to_string(o.target.port), ec);
        if (ec || results.empty())
            throw std::runtime_error("cannot resolve " + o.target.host + ": " + ec.message());
        ep = results.begin()->endpoint();
    }
    second_collector seconds(o.threads, o.on_second);
    const auto start = steady::now();
    std::vector<std::unique_ptr<worker>> workers;
    for (int i = 0; i < o.threads; ++i)
        workers.push_back(std::make_unique<worker>(o, i, ep, seconds, stop, start));
    std::vector<std::thread> threads;
    for (auto& w : workers)
        threads.emplace_back([&w] { w->run(); });
    for (auto& t : threads)
        t.join();

    engine_result r;
    for (const auto& op : o.operations) {
        operation_stats s;
        s.name = op.name;
        r.operations.push_back(std::move(s));
    }
    steady::time_point last = start, issue_end = start;
    for (auto& w : workers) {
        for (std::size_t i = 0; i < w->stats_.size(); ++i)
            r.operations[i].add(w->stats_[i]);
        r.schedule_lag.merge(w->lag_);
        r.intended += w->intended_;
        r.unsent += w->unsent_;
        r.connects += w->connects_;
        r.connect_errors += w->connect_errors_;
        r.created_ids.insert(r.created_ids.end(), w->created_.begin(), w->created_.end());
        r.history.insert(r.history.end(), std::make_move_iterator(w->history_.begin()),
                         std::make_move_iterator(w->history_.end()));
        last = std::max(last, w->last_answer_);
        issue_end = std::max(issue_end, w->issue_end_);
    }
    r.seconds = seconds.take();
    r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(last - start);
    r.measured =
        std::chrono::duration_cast<std::chrono::microseconds>(std::max(issue_end, last) - start);
    if (o.mdl == model::open && !o.requests) // the schedule's window, not the drain after it
        r.measured = std::chrono::duration_cast<std::chrono::microseconds>(o.duration);
    return r;
}

} // namespace agentcheck::load
