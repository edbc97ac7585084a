// §9 Lifecycle, the parts that need no restart: the agent stays live and ready while it serves,
// also under concurrent writes. (SIGTERM draining and SIGKILL durability need the harness to
// own the process: planned.)

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using namespace std::chrono_literals;

/// A background writer whose thread is always joined (also when the check throws) and
/// whose failures, transport errors included, are kept for the check to report.
class concurrent_writer {
public:
    concurrent_writer() = default;
    concurrent_writer(const concurrent_writer&) = delete;
    concurrent_writer& operator=(const concurrent_writer&) = delete;
    ~concurrent_writer() { stop(); }

    void start(std::function<void()> body) {
        running_ = true;
        thread_ = std::thread([this, body = std::move(body)] {
            try {
                body();
            } catch (const std::exception& e) {
                failed(std::string("transport error: ") + e.what());
            } catch (...) {
                failed("unknown error");
            }
            running_ = false;
        });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    [[nodiscard]] bool stopping() const { return stop_.load(); }
    [[nodiscard]] bool running() const { return running_.load(); }
    void round_done() { ++rounds_; }
    [[nodiscard]] int rounds() const { return rounds_.load(); }
    void failed(std::string why) {
        std::lock_guard lock(mutex_);
        if (error_.empty()) error_ = std::move(why);
    }
    /// The writer could not write because another rule is broken (see context::block).
    void blocked(std::string why) {
        std::lock_guard lock(mutex_);
        if (blocked_.empty()) blocked_ = std::move(why);
    }
    /// Why the writer was blocked ("" if it was not); read after stop().
    [[nodiscard]] std::string blocked_by() const {
        std::lock_guard lock(mutex_);
        return blocked_;
    }
    /// The first failure; read after stop().
    [[nodiscard]] std::string error() const {
        std::lock_guard lock(mutex_);
        return error_;
    }

private:
    std::atomic<bool> stop_{false};
    std::atomic<bool> running_{false};
    std::atomic<int> rounds_{0};
    mutable std::mutex mutex_;
    std::string error_;
    std::string blocked_;
    std::thread thread_;
};

} // namespace

void register_s09_lifecycle(check_registry& reg) {
    reg.add({"LIFE-001.ready-and-live",
             {"LIFE-001", "HLTH-005", "HLTH-006"},
             layer::unit,
             "GET /readyz and GET /livez both answer 200 while the agent serves",
             [](context& ctx) {
                 ctx.expect_status(ctx.send(make("GET", "/readyz")), 200);
                 ctx.expect_status(ctx.send(make("GET", "/livez")), 200);
             }});
    reg.add({"LIFE-001.ready-under-writes",
             {"LIFE-001"},
             layer::integration,
             "GET /readyz and /livez stay 200 (20 times each) while a second client creates and "
             "deletes agents",
             [](context& ctx) {
                 std::vector<std::string> names;
                 for (int i = 0; i < 200; ++i)
                     names.push_back(ctx.unique_name("life"));
                 const std::string token = ctx.token("operator");
                 auto conn = ctx.open_connection();
                 concurrent_writer writer;
                 writer.start([&] {
                     for (std::size_t n = 0; n < names.size() && !writer.stopping(); ++n) {
                         request c("POST", "/agents");
                         c.bearer(token);
                         c.json(json{{"name", names[n]},
                                     {"version", "1.0.0"},
                                     {"capabilities", json::array()},
                                     {"metadata", json::object()}});
                         auto r = conn.send(c);
                         auto j = r.json();
                         if (r.status >= 200 && r.status < 300 && r.status != 201)
                             return writer.blocked(create_blocked_reason(r.status));
                         if (r.status != 201 || !j || !j->contains("id") || !(*j)["id"].is_string())
                             return writer.failed("POST /agents answered " + describe(r));
                         request d("DELETE", "/agents/" + (*j)["id"].get<std::string>());
                         d.bearer(token);
                         if (auto rd = conn.send(d); rd.status != 204)
                             return writer.failed("DELETE answered " + describe(rd));
                         writer.round_done();
                     }
                 });
                 // Probe only while writes are happening: wait for the first round.
                 const auto first_deadline = std::chrono::steady_clock::now() + ctx.scaled(5s);
                 while (writer.rounds() == 0 && writer.running() &&
                        std::chrono::steady_clock::now() < first_deadline)
                     std::this_thread::sleep_for(1ms);
                 std::string bad;
                 int probes = 0;
                 for (int i = 0; i < 20 && bad.empty() && writer.running(); ++i) {
                     for (const char* p : {"/readyz", "/livez"}) {
                         auto r = ctx.send(make("GET", p));
                         ++probes;
                         if (r.status != 200) bad = std::string(p) + " answered " + describe(r);
                     }
                     std::this_thread::sleep_for(5ms);
                 }
                 const auto rounds_during = writer.rounds();
                 writer.stop();
                 ctx.note("concurrent writer made " + std::to_string(writer.rounds()) +
                          " create+delete rounds; " + std::to_string(probes) + " probes");
                 if (!bad.empty())
                     ctx.fail("the agent stopped being ready or live while serving", "200", bad);
                 if (!writer.blocked_by().empty()) ctx.block("REG-020", writer.blocked_by());
                 if (!writer.error().empty())
                     ctx.fail("the concurrent writer could not write, so readiness under writes "
                              "was not shown",
                              "201 for POST /agents and 204 for DELETE", writer.error());
                 if (rounds_during == 0 || probes < 40)
                     ctx.fail("the probes did not overlap the writes",
                              "40 probes while create+delete rounds run",
                              std::to_string(probes) + " probes, " + std::to_string(rounds_during) +
                                  " rounds by then");
             }});
}

} // namespace agentcheck
