// The robustness layer: every case of the request corpus sent over a raw socket alone,
// pipelined behind a valid request and from several connections at once; after each, the
// agent must still answer GET /health on a fresh connection.

#include "conformance/robustness/robustness.hpp"

#include <algorithm>
#include <sstream>
#include <thread>

#include "conformance/robustness/corpus.hpp"

namespace agentcheck {
namespace {

using robustness::observation;
using robustness::request_case;

constexpr int concurrent_copies = 4;

std::string statuses_text(const std::vector<int>& v) {
    std::string out;
    for (int s : v)
        out += (out.empty() ? "" : " or ") + std::to_string(s);
    return out.empty() ? "none" : out;
}

std::string seen(const observation& o) {
    std::ostringstream out;
    if (o.responses.empty()) {
        out << "no response";
    } else {
        out << o.responses.size() << " response(s): ";
        for (std::size_t i = 0; i < o.responses.size(); ++i)
            out << (i ? ", " : "") << o.responses[i].status;
    }
    out << (o.closed ? "; connection closed" : "; connection left open");
    if (o.timed_out) out << " (silent until the timeout)";
    if (o.write_failed) out << "; the agent stopped reading before the request was sent";
    if (!o.garbage.empty()) out << "; bytes that are not HTTP: " << o.garbage.substr(0, 60);
    out << " after " << o.elapsed.count() << " ms";
    return out.str();
}

/// A broken rule: which requirement, and what was seen.
struct finding {
    std::string requirement;
    std::string what;
};

/// Judges what came back for a case (its answer being responses[first]).
std::optional<finding> judge(const request_case& c, observation o, std::size_t first,
                             const std::string& mode) {
    // Interim responses (100 Continue) are not answers.
    o.responses.erase(
        std::remove_if(o.responses.begin(), o.responses.end(),
                       [](const auto& r) { return r.status < 200 && r.status != 101; }),
        o.responses.end());
    const bool smuggling = c.category == "smuggling";
    const auto where = c.id + " (" + mode + "): ";
    if (o.responses.size() <= first) {
        if (o.timed_out)
            return finding{"HTTP-035",
                           where + "no answer and the connection still open: " + seen(o)};
        if (c.no_response_ok) return std::nullopt;
        if (c.statuses.empty()) return std::nullopt;
        return finding{"HTTP-037",
                       where + "no answer; expected " + statuses_text(c.statuses) + ": " + seen(o)};
    }
    const int status = o.responses[first].status;
    if (status >= 500 && status != 501 && status != 505)
        return finding{"HTTP-035", where + "answered " + std::to_string(status) +
                                       " (a server error) to a malformed request: " + seen(o)};
    if (smuggling && o.responses.size() > first + 1)
        return finding{"HTTP-036", where +
                                       "a second response came back (the rest of the bytes "
                                       "were read as another request): " +
                                       seen(o)};
    const bool allowed =
        std::find(c.statuses.begin(), c.statuses.end(), status) != c.statuses.end();
    if (!allowed)
        return finding{smuggling && status / 100 == 2 ? "HTTP-036" : "HTTP-037",
                       where + "answered " + std::to_string(status) + ", expected " +
                           statuses_text(c.statuses) + " (" + c.rfc + "): " + seen(o)};
    if (c.close_required && !o.closed)
        return finding{smuggling ? "HTTP-036" : "HTTP-037",
                       where +
                           "the connection stayed open after the answer to a request whose "
                           "framing was wrong (" +
                           c.rfc + "): " + seen(o)};
    return std::nullopt;
}

void run_case(context& ctx, const request_case& original) {
    const auto& t = ctx.target();
    if (ctx.target().scheme != "http")
        ctx.skip("the robustness corpus is sent over plain TCP (http://)");
    const robustness::expansion e{t.host + ":" + std::to_string(t.port), ctx.token("admin"),
                                  ctx.unique_name("rb")};
    const std::string bytes = robustness::expand(original.bytes, e);
    const auto header_timeout = std::chrono::milliseconds(ctx.limit("header_timeout_ms", 10000));
    request_case c = original;
    // A head trickled for longer than the agent's declared header timeout may not complete.
    if (c.trickle_ms > 0 && !c.hold &&
        std::chrono::milliseconds(static_cast<long long>(bytes.size()) * c.trickle_ms) >=
            header_timeout) {
        c.statuses = {408};
        c.no_response_ok = true;
        c.close_required = true;
        ctx.note("trickled for longer than header_timeout_ms (" +
                 std::to_string(header_timeout.count()) + " ms): 408 or a close expected");
    }
    robustness::send_options opts;
    opts.trickle_ms = c.trickle_ms;
    // A case whose answer may be a 408 may be answered only when the agent's header timeout
    // ends (it waits for bytes that never come, as a chunk line's CRLF): wait that long too.
    const bool may_time_out =
        std::find(c.statuses.begin(), c.statuses.end(), 408) != c.statuses.end();
    opts.answer_timeout = c.hold || c.trickle_ms > 0 || may_time_out
                              ? header_timeout + ctx.scaled(std::chrono::milliseconds(3000))
                              // A large body takes longer to read and parse, the more so
                              // when several copies arrive at once: 1 s more per 64 KiB.
                              : ctx.scaled(std::chrono::milliseconds(
                                    5000 + static_cast<long long>(bytes.size() / 65536) * 1000));
    opts.linger = ctx.scaled(std::chrono::milliseconds(500));
    const bool head = bytes.rfind("HEAD ", 0) == 0;
    if (head) opts.head_response = 0;

    client::request shown("RAW", c.id);
    std::vector<finding> found;
    auto record = [&](const std::string& mode, const std::string& sent, const observation& o) {
        ctx.record_raw(shown, sent.size() > 4096 ? sent.substr(0, 4096) : sent, nullptr,
                       mode + ": " + seen(o));
    };

    // Alone.
    auto alone = robustness::exchange(t.host, t.port, bytes, opts);
    record("alone", bytes, alone);
    if (auto f = judge(c, alone, 0, "alone")) found.push_back(*f);

    // Pipelined behind a valid request: the valid one is answered 200 first.
    if (c.pipeline && !c.hold && c.trickle_ms == 0) {
        const std::string valid = "GET /health HTTP/1.1\r\nHost: " + e.host + "\r\n\r\n";
        auto piped_opts = opts;
        if (head) piped_opts.head_response = 1;
        piped_opts.awaited = 2;
        auto piped = robustness::exchange(t.host, t.port, valid + bytes, piped_opts);
        record("pipelined", valid + bytes, piped);
        if (piped.responses.empty() || piped.responses[0].status != 200)
            found.push_back({"HTTP-035", c.id +
                                             " (pipelined): the valid GET /health before it "
                                             "was not answered 200: " +
                                             seen(piped)});
        else if (auto f = judge(c, piped, 1, "pipelined"))
            found.push_back(*f);
    }

    // From several connections at once.
    if (!c.hold && c.trickle_ms == 0) {
        std::vector<observation> obs(concurrent_copies);
        std::vector<std::thread> threads;
        std::vector<std::string> errors(concurrent_copies);
        for (int i = 0; i < concurrent_copies; ++i)
            threads.emplace_back([&, i] {
                try {
                    obs[static_cast<std::size_t>(i)] =
                        robustness::exchange(t.host, t.port, bytes, opts);
                } catch (const std::exception& x) {
                    errors[static_cast<std::size_t>(i)] = x.what();
                }
            });
        for (auto& th : threads)
            th.join();
        ctx.mark_concurrent();
        for (int i = 0; i < concurrent_copies; ++i) {
            if (!errors[static_cast<std::size_t>(i)].empty()) {
                found.push_back(
                    {"HTTP-035", c.id + " (concurrent): " + errors[static_cast<std::size_t>(i)]});
                continue;
            }
            if (auto f = judge(c, obs[static_cast<std::size_t>(i)], 0, "concurrent")) {
                found.push_back(*f);
                break; // one copy's finding says it
            }
        }
    }

    // Still alive?
    auto health = robustness::exchange(
        t.host, t.port, "GET /health HTTP/1.1\r\nHost: " + e.host + "\r\nConnection: close\r\n\r\n",
        robustness::send_options{});
    if (health.responses.empty() || health.responses[0].status != 200)
        found.push_back({"HTTP-035", c.id + ": afterwards, GET /health on a fresh connection got " +
                                         seen(health)});

    if (found.empty()) return;
    // The strictest finding is the failure; the others are notes.
    std::stable_sort(found.begin(), found.end(), [](const finding& a, const finding& b) {
        auto rank = [](const std::string& r) {
            return r == "HTTP-035" ? 0 : r == "HTTP-036" ? 1 : 2;
        };
        return rank(a.requirement) < rank(b.requirement);
    });
    for (std::size_t i = 1; i < found.size(); ++i)
        ctx.note(found[i].what);
    ctx.note(c.title + " — " + c.rfc);
    check_failed f(found[0].what, statuses_text(c.statuses), "see the message");
    f.requirement = found[0].requirement;
    throw f;
}

} // namespace

void register_robustness(check_registry& registry) {
    for (const auto& c : robustness::embedded_corpus()) {
        std::vector<std::string> reqs{"HTTP-035"};
        if (c.category == "smuggling") reqs.push_back("HTTP-036");
        reqs.push_back("HTTP-037");
        registry.add({"ROB." + c.id, reqs, layer::robustness, c.title + " (" + c.rfc + ")",
                      [c](context& ctx) { run_case(ctx, c); }});
    }
}

} // namespace agentcheck
