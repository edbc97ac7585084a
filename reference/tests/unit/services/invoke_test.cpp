// The circuit breaker and invoke's retries, in simulated time with a scripted transport.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <future>
#include <random>

#include "reference/services/invoke.hpp"
#include "reference/storage/sqlite_store.hpp"

namespace agent {
namespace {

using std::chrono::milliseconds;
using tp = std::chrono::steady_clock::time_point;

TEST(circuit_breaker, opens_after_the_threshold_and_lets_one_trial_through_after_recovery) {
    circuit_breaker b(3, milliseconds(1000));
    const tp t0{};
    EXPECT_TRUE(b.allow(t0));
    EXPECT_FALSE(b.on_failure(t0));
    EXPECT_FALSE(b.on_failure(t0));
    EXPECT_FALSE(b.on_success()) << "a success while closed resets the count";
    EXPECT_FALSE(b.on_failure(t0));
    EXPECT_FALSE(b.on_failure(t0));
    EXPECT_TRUE(b.on_failure(t0)) << "the third consecutive failure opens it";
    EXPECT_EQ(b.state(t0), circuit_state::open);
    EXPECT_FALSE(b.allow(t0 + milliseconds(999)));
    EXPECT_EQ(b.retry_after_s(t0 + milliseconds(100)), 1);
    // Half-open: exactly one trial while its outcome is unknown.
    EXPECT_EQ(b.state(t0 + milliseconds(1000)), circuit_state::half_open);
    EXPECT_TRUE(b.allow(t0 + milliseconds(1000)));
    EXPECT_FALSE(b.allow(t0 + milliseconds(1001)));
    EXPECT_TRUE(b.on_failure(t0 + milliseconds(1002))) << "a failed trial opens it again";
    EXPECT_FALSE(b.allow(t0 + milliseconds(1500)));
    EXPECT_TRUE(b.allow(t0 + milliseconds(2002)));
    EXPECT_TRUE(b.on_success()) << "a good trial closes it";
    EXPECT_EQ(b.state(t0 + milliseconds(2003)), circuit_state::closed);
    EXPECT_TRUE(b.allow(t0 + milliseconds(2003)));
}

TEST(invoke, child_traceparent_keeps_a_valid_trace_and_replaces_an_invalid_one) {
    const std::string in = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    auto out = invoke_service::child_traceparent(in);
    EXPECT_EQ(out.substr(0, 36), in.substr(0, 36));
    EXPECT_NE(out.substr(36, 16), in.substr(36, 16)) << "a new span id";
    for (const std::string bad :
         {"", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
          "00-00000000000000000000000000000000-b7ad6b7169203331-01",
          "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", "00-abc-def-01"}) {
        auto fresh = invoke_service::child_traceparent(bad);
        EXPECT_EQ(fresh.size(), 55U) << bad;
        EXPECT_NE(fresh.substr(3, 32), std::string(bad.size() > 35 ? bad.substr(3, 32) : ""));
    }
}

/// A transport that answers from a script and runs timers at once (recording the waits).
struct scripted_transport final : outbound_http {
    std::deque<outbound_result> script;
    std::vector<outbound_request> sent;
    std::vector<milliseconds> waits;
    void post(outbound_request req, std::function<void(outbound_result)> done) override {
        sent.push_back(req);
        auto r = script.empty() ? outbound_result{} : script.front();
        if (!script.empty()) script.pop_front();
        done(r);
    }
    void after(milliseconds d, std::function<void()> fn) override {
        waits.push_back(d);
        fn();
    }
};

outbound_result answer(int status, std::string body = "{}") {
    outbound_result r;
    r.status = status;
    r.body = std::move(body);
    return r;
}
outbound_result failure(outbound_result::failure why) {
    outbound_result r;
    r.why = why;
    r.detail = "scripted";
    return r;
}

class invoke_fixture : public ::testing::Test {
protected:
    invoke_fixture()
        : dir_(std::filesystem::temp_directory_path() /
               ("invoke-test-" + std::to_string(std::random_device{}()))),
          store_(
              (std::filesystem::create_directories(dir_), sqlite_settings{(dir_ / "db").string()}),
              clk_),
          events_(store_, clk_), agents_(store_, clk_, events_),
          invoker_(agents_, events_, store_, clk_, rnd_, endpoint_allowlist({"127.0.0.1:*"}),
                   invoke_settings{milliseconds(100), 3, milliseconds(100), milliseconds(1000), 4,
                                   milliseconds(5000)}) {
        invoker_.set_transport(&transport_);
        models::agent_input in;
        in.name = "target";
        in.version = "1.0.0";
        in.endpoint = "http://127.0.0.1:9/base";
        in.capabilities = {{"sum", std::nullopt, std::nullopt}};
        std::promise<std::string> made;
        agents_.create({"owner", role::operator_, {"operator"}}, in, std::nullopt,
                       [&](util::expected<write_outcome, error> r) {
                           made.set_value(r ? r->entry->agent.id : "");
                       });
        id_ = made.get_future().get();
    }
    ~invoke_fixture() override {
        store_.stop();
        std::filesystem::remove_all(dir_);
    }
    util::expected<invoke_output, error> call(const nlohmann::json& body) {
        // The answer comes at once, or after the commit of a circuit event.
        auto done = std::make_shared<std::promise<util::expected<invoke_output, error>>>();
        auto result = done->get_future();
        invoker_.invoke(id_, body, "rid-1", "", [done](util::expected<invoke_output, error> r) {
            done->set_value(std::move(r));
        });
        return result.get();
    }
    static nlohmann::json sum() { return {{"capability", "sum"}, {"input", {1, 2}}}; }

    manual_clock clk_;
    seeded_random rnd_{1};
    std::filesystem::path dir_;
    sqlite_store store_;
    event_log events_;
    registry agents_;
    scripted_transport transport_;
    invoke_service invoker_;
    std::string id_;
};

TEST_F(invoke_fixture, forwards_and_answers_the_targets_json) {
    transport_.script = {answer(200, R"({"total":3})")};
    auto r = call(sum());
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->output, (nlohmann::json{{"total", 3}}));
    EXPECT_EQ(r->attempts, 1);
    ASSERT_EQ(transport_.sent.size(), 1U);
    EXPECT_EQ(transport_.sent[0].target, "/base/invoke");
    EXPECT_EQ(transport_.sent[0].port, 9);
    EXPECT_EQ(nlohmann::json::parse(transport_.sent[0].body), sum());
    EXPECT_EQ(transport_.sent[0].headers[0],
              (std::pair<std::string, std::string>{"X-Request-ID", "rid-1"}));
}

TEST_F(invoke_fixture, retries_5xx_timeouts_and_connection_errors_with_backoff_but_not_4xx) {
    transport_.script = {answer(503), failure(outbound_result::failure::connect), answer(200)};
    auto ok = call(sum());
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->attempts, 3);
    ASSERT_EQ(transport_.waits.size(), 2U);
    EXPECT_GE(transport_.waits[0], milliseconds(50));
    EXPECT_LE(transport_.waits[0], milliseconds(100));
    EXPECT_GE(transport_.waits[1], milliseconds(100));
    EXPECT_LE(transport_.waits[1], milliseconds(200));
    transport_.script = {answer(404)};
    auto four = call(sum());
    ASSERT_FALSE(four);
    EXPECT_EQ(four.error().code, errc::bad_gateway);
    EXPECT_EQ(transport_.sent.size(), 4U) << "a 4xx is not retried";
    transport_.script = {answer(500), answer(500), failure(outbound_result::failure::timeout)};
    auto timed_out = call(sum());
    ASSERT_FALSE(timed_out);
    EXPECT_EQ(timed_out.error().code, errc::gateway_timeout) << "the last attempt timed out";
    EXPECT_EQ(timed_out.error().members.at(0), (std::pair<std::string, long long>{"attempts", 3}));
}

TEST_F(invoke_fixture, an_open_circuit_does_not_contact_the_target) {
    transport_.script = {answer(500), answer(500), answer(500), answer(500)};
    auto first = call(sum()); // three failed attempts
    EXPECT_EQ(first.error().code, errc::bad_gateway);
    auto second = call(sum()); // the fourth failure opens it; no more attempts go out
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, errc::circuit_open);
    EXPECT_EQ(transport_.sent.size(), 4U);
    auto refused = call(sum());
    EXPECT_EQ(refused.error().code, errc::circuit_open);
    EXPECT_GE(refused.error().retry_after_s, 1);
    EXPECT_EQ(transport_.sent.size(), 4U) << "while open, not one call reaches the target";
    EXPECT_EQ(invoker_.circuit(id_), circuit_state::open);
    clk_.advance(milliseconds(5000));
    EXPECT_EQ(invoker_.circuit(id_), circuit_state::half_open);
    transport_.script = {answer(200)};
    EXPECT_TRUE(call(sum()));
    EXPECT_EQ(invoker_.circuit(id_), circuit_state::closed);
}

TEST_F(invoke_fixture, refuses_what_it_cannot_call) {
    EXPECT_EQ(call({{"capability", "other"}, {"input", 1}}).error().code, errc::validation_failed);
    EXPECT_EQ(call({{"capability", "sum"}}).error().code, errc::validation_failed);
    EXPECT_EQ(call({{"capability", "sum"}, {"input", 1}, {"x", 1}}).error().code,
              errc::validation_failed);
    EXPECT_TRUE(transport_.sent.empty());
}

} // namespace
} // namespace agent
