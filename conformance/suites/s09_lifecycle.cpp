// §9 Lifecycle, the parts that need no restart: the agent stays live and ready while it serves,
// also under concurrent writes. (SIGTERM draining and SIGKILL durability need the harness to
// own the process: planned.)

#include <atomic>
#include <string>
#include <thread>

#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;
using namespace std::chrono_literals;

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
                 std::atomic<bool> stop{false};
                 std::atomic<int> writes{0};
                 std::thread writer([&] {
                     try {
                         for (std::size_t n = 0; n < names.size() && !stop.load(); ++n) {
                             request c("POST", "/agents");
                             c.bearer(token);
                             c.json(json{{"name", names[n]},
                                         {"version", "1.0.0"},
                                         {"capabilities", json::array()},
                                         {"metadata", json::object()}});
                             auto r = conn.send(c);
                             if (r.status == 201)
                                 if (auto j = r.json(); j && j->contains("id")) {
                                     request d("DELETE",
                                               "/agents/" + (*j)["id"].get<std::string>());
                                     d.bearer(token);
                                     (void)conn.send(d);
                                 }
                             ++writes;
                         }
                     } catch (...) {
                     }
                 });
                 std::string bad;
                 for (int i = 0; i < 20 && bad.empty(); ++i) {
                     for (const char* p : {"/readyz", "/livez"}) {
                         auto r = ctx.send(make("GET", p));
                         if (r.status != 200) bad = std::string(p) + " answered " + describe(r);
                     }
                     std::this_thread::sleep_for(5ms);
                 }
                 stop = true;
                 writer.join();
                 ctx.note("concurrent writer made " + std::to_string(writes.load()) +
                          " create+delete rounds");
                 if (!bad.empty())
                     ctx.fail("the agent stopped being ready or live while serving", "200", bad);
             }});
}

} // namespace agentcheck
