#include "conformance/harness/spec.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck {
namespace {

TEST(spec, lists_every_rule_with_level_feature_and_checks) {
    check_registry reg;
    const auto noop = [](context&) {};
    reg.add({"REG-001.create", {"REG-001"}, layer::unit, "t", noop});
    reg.add({"REG-001.again", {"REG-001", "HTTP-001"}, layer::unit, "t", noop});
    const auto spec = generate_spec(testing::small_catalogue(), reg);
    EXPECT_EQ(spec.rfind("# Agent service protocol", 0), 0U);
    EXPECT_NE(spec.find("## Levels"), std::string::npos);
    EXPECT_NE(spec.find("## 2. Registry"), std::string::npos);
    EXPECT_NE(spec.find("| <a id=\"reg-001\"></a>REG-001 | MUST | core | **Create is 201.** POST "
                        "/agents answers 201. | "
                        "`REG-001.create`<br>`REG-001.again` |"),
              std::string::npos)
        << spec;
    EXPECT_NE(spec.find("EVT-001 | MUST | events |"), std::string::npos);
    EXPECT_NE(spec.find("Not checked yet. | *planned* |"), std::string::npos);
    EXPECT_NE(spec.find("Names may be pretty. | — |"), std::string::npos);
    EXPECT_NE(spec.find("| 2. Registry | 2 | 1 | 1 | 1 of 4 |"), std::string::npos);
    EXPECT_EQ(spec, generate_spec(testing::small_catalogue(), reg)) << "deterministic";

    const auto empty_section = parse_catalogue(
        R"({"version": 1, "protocol": "agent-service/1", "sections": [{"id": "5", "title": "Streams"}], "requirements": []})");
    EXPECT_NE(generate_spec(empty_section, reg).find("No rules yet."), std::string::npos);
}

TEST(spec, committed_spec_md_matches_the_catalogue_and_checks) {
    const std::filesystem::path path = std::filesystem::path(AGENTCHECK_SOURCE_DIR) / "SPEC.md";
    ASSERT_TRUE(std::filesystem::exists(path))
        << path << " is missing: generate it with `agentcheck spec > conformance/SPEC.md`";
    std::ifstream in(path, std::ios::binary);
    std::stringstream committed;
    committed << in.rdbuf();
    check_registry reg;
    register_all_suites(reg);
    EXPECT_TRUE(committed.str() == generate_spec(builtin_catalogue(), reg))
        << "conformance/SPEC.md is stale: regenerate it with `agentcheck spec > "
           "conformance/SPEC.md`";
}

} // namespace
} // namespace agentcheck
