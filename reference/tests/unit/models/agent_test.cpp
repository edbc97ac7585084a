#include "reference/models/agent.hpp"

#include <gtest/gtest.h>

namespace agent::models {
namespace {

nlohmann::json valid() {
    return {{"name", "agent-1"}, {"version", "1.0.0"}};
}

std::vector<std::string> pointers(const nlohmann::json& body) {
    auto r = parse_agent_input(body);
    std::vector<std::string> out;
    if (r) return out;
    EXPECT_EQ(r.error().code, errc::validation_failed);
    for (const auto& f : r.error().fields)
        out.push_back(f.pointer);
    return out;
}

TEST(agent_model, minimal_body_is_valid_with_defaults) {
    auto r = parse_agent_input(valid());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->name, "agent-1");
    EXPECT_TRUE(r->capabilities.empty());
    EXPECT_TRUE(r->metadata.empty());
    EXPECT_FALSE(r->endpoint);
}

TEST(agent_model, names) {
    EXPECT_TRUE(is_valid_name("a"));
    EXPECT_TRUE(is_valid_name("a" + std::string(63, '-')));
    EXPECT_FALSE(is_valid_name("a" + std::string(64, 'b')));
    EXPECT_FALSE(is_valid_name(""));
    EXPECT_FALSE(is_valid_name("1a"));
    EXPECT_FALSE(is_valid_name("-a"));
    EXPECT_FALSE(is_valid_name("aB"));
    EXPECT_FALSE(is_valid_name("a_b"));
    EXPECT_TRUE(is_valid_capability_name("a.b_c-d9"));
    EXPECT_FALSE(is_valid_capability_name("_a"));
    EXPECT_FALSE(is_valid_capability_name("a" + std::string(64, 'b')));
    EXPECT_TRUE(is_valid_metadata_key("A.b_C-1"));
    EXPECT_FALSE(is_valid_metadata_key(""));
    EXPECT_FALSE(is_valid_metadata_key("a b"));
    EXPECT_FALSE(is_valid_metadata_key(std::string(65, 'k')));
}

TEST(agent_model, semver_follows_the_2_0_0_grammar) {
    for (const char* ok :
         {"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7",
          "1.0.0-x.7.z.92", "1.0.0-alpha+001", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85",
          "1.0.0-x-y-z.--", "1.0.0--"})
        EXPECT_TRUE(is_valid_semver(ok)) << ok;
    for (const char* bad :
         {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-01", "1.2.3-", "1.2.3+",
          "1.2.3-a..b", "1.2.3+a..b", "v1.2.3", "1.2.3-a b", "-1.2.3", "1.2.3-é"})
        EXPECT_FALSE(is_valid_semver(bad)) << bad;
    EXPECT_FALSE(is_valid_semver("1.0.0-" + std::string(59, 'a'))); // 65 chars
    EXPECT_TRUE(is_valid_semver("1.0.0-" + std::string(58, 'a')));  // 64 chars
}

TEST(agent_model, endpoints) {
    for (const char* ok : {"http://a", "https://a.b:8080/x?y=1#z", "HTTP://A", "http://127.0.0.1:1",
                           "http://[::1]:8080/", "http://user:pw@host/p", "http://h/%20"})
        EXPECT_TRUE(is_valid_endpoint(ok)) << ok;
    for (const char* bad :
         {"", "ftp://a", "http://", "http:///x", "//a", "/rel", "http://a:0", "http://a:65536",
          "http://a:x", "http://a b", "http://h/%2", "http://h/%zz", "http://[::1",
          "http://a:", "http://h/\x01", "mailto:a@b"})
        EXPECT_FALSE(is_valid_endpoint(bad)) << bad;
    EXPECT_TRUE(is_valid_endpoint("http://h/" + std::string(2039, 'p')));
    EXPECT_FALSE(is_valid_endpoint("http://h/" + std::string(2040, 'p')));
}

TEST(agent_model, every_problem_is_reported_with_its_pointer) {
    EXPECT_EQ(pointers({{"name", 5}, {"version", "x"}}),
              (std::vector<std::string>{"/name", "/version"}));
    EXPECT_EQ(pointers(nlohmann::json::object()), (std::vector<std::string>{"/name", "/version"}));
    EXPECT_EQ(pointers("string"), (std::vector<std::string>{""}));
    auto b = valid();
    b["a/b~c"] = 1;
    EXPECT_EQ(pointers(b), (std::vector<std::string>{"/a~1b~0c"}));
    b = valid();
    b["capabilities"] = "x";
    EXPECT_EQ(pointers(b), (std::vector<std::string>{"/capabilities"}));
    b["capabilities"] = {1, {{"version", ""}}, {{"name", "ok"}, {"description", 5}}};
    EXPECT_EQ(pointers(b),
              (std::vector<std::string>{"/capabilities/0", "/capabilities/1/version",
                                        "/capabilities/1/name", "/capabilities/2/description"}));
    b = valid();
    b["metadata"] = {1};
    EXPECT_EQ(pointers(b), (std::vector<std::string>{"/metadata"}));
    b["metadata"] = {{"k", std::string(257, 'v')}};
    EXPECT_EQ(pointers(b), (std::vector<std::string>{"/metadata/k"}));
    b = valid();
    b["endpoint"] = nullptr; // explicit null: no endpoint
    EXPECT_TRUE(parse_agent_input(b));
    b["endpoint"] = 3;
    EXPECT_EQ(pointers(b), (std::vector<std::string>{"/endpoint"}));
}

TEST(agent_model, status_machine) {
    using enum agent_status;
    EXPECT_TRUE(transition_allowed(registered, active));
    EXPECT_TRUE(transition_allowed(registered, inactive));
    EXPECT_FALSE(transition_allowed(registered, degraded));
    EXPECT_FALSE(transition_allowed(registered, draining));
    EXPECT_TRUE(transition_allowed(active, degraded));
    EXPECT_FALSE(transition_allowed(active, registered));
    EXPECT_TRUE(transition_allowed(inactive, draining));
    EXPECT_FALSE(transition_allowed(inactive, degraded));
    EXPECT_TRUE(transition_allowed(degraded, inactive));
    EXPECT_TRUE(transition_allowed(draining, inactive));
    EXPECT_FALSE(transition_allowed(draining, active));
    EXPECT_FALSE(transition_allowed(active, active));
    EXPECT_EQ(parse_status("degraded"), degraded);
    EXPECT_FALSE(parse_status("Degraded"));
    EXPECT_STREQ(to_string(draining), "draining");
}

TEST(agent_model, status_change_body) {
    auto ok = parse_status_change({{"status", "active"}, {"reason", "up"}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, agent_status::active);
    EXPECT_EQ(ok->reason, "up");
    EXPECT_TRUE(parse_status_change({{"status", "active"}, {"reason", nullptr}}));
    EXPECT_FALSE(parse_status_change({{"status", "active"}, {"reason", std::string(257, 'r')}}));
    EXPECT_FALSE(parse_status_change({{"status", 1}}));
    EXPECT_FALSE(parse_status_change({{"status", "active"}, {"extra", 1}}));
    EXPECT_FALSE(parse_status_change({{"status", "active"}, {"reason", 1}}));
    EXPECT_FALSE(parse_status_change(nlohmann::json::array()));
}

TEST(agent_model, json_round_trip) {
    agent a;
    a.id = "00000000-0000-4000-8000-000000000001";
    a.fields = *parse_agent_input(
        {{"name", "n"},
         {"version", "1.0.0"},
         {"endpoint", "http://h"},
         {"capabilities", {{{"name", "c"}, {"version", "1"}, {"description", "d"}}}},
         {"metadata", {{"k", "v"}}}});
    a.status = agent_status::degraded;
    a.owner = "o";
    a.created_at = "2026-01-01T00:00:00.000Z";
    a.updated_at = "2026-01-02T00:00:00.000Z";
    a.revision = 7;
    auto j = to_json(a);
    auto back = from_json(j);
    ASSERT_TRUE(back);
    EXPECT_EQ(to_json(*back), j);
    EXPECT_EQ(capabilities_json(a)["agent_id"], a.id);
    j["status"] = "weird";
    EXPECT_FALSE(from_json(j));
    EXPECT_FALSE(from_json({{"id", 1}}));
}

} // namespace
} // namespace agent::models
