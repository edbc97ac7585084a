// The failpoint table and the code agree: each failpoint is named after the requirement it
// breaks, is set in exactly one place under reference/, and nothing else is set.
#include "reference/util/failpoint.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fp = agent::failpoint;

namespace {

#ifdef AGENT_FAILPOINTS
/// Every AGENT_FAILPOINT("…") call in agentd's sources (tests excluded): name → files.
std::map<std::string, std::vector<std::string>> call_sites() {
    namespace fs = std::filesystem;
    const std::regex call(R"re(AGENT_FAILPOINT\("([^"]*)"\))re");
    std::map<std::string, std::vector<std::string>> out;
    const fs::path root = AGENT_REFERENCE_DIR;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        const auto rel = fs::relative(entry.path(), root).generic_string();
        if (!entry.is_regular_file() || rel.starts_with("tests/") ||
            rel.starts_with("util/failpoint"))
            continue;
        const auto ext = entry.path().extension();
        if (ext != ".cpp" && ext != ".hpp") continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        const std::string s = text.str();
        for (std::sregex_iterator it(s.begin(), s.end(), call), end; it != end; ++it)
            out[(*it)[1].str()].push_back(rel);
    }
    return out;
}
#endif

} // namespace

#ifdef AGENT_FAILPOINTS

TEST(Failpoint, NamesAreRequirementIdsAndUnique) {
    const std::regex shape(R"([A-Z]+-[0-9]{3}\.[a-z0-9]+(-[a-z0-9]+)*)");
    std::set<std::string_view> seen;
    // The self-test's promise: at least 50 defects, across every section of the protocol.
    ASSERT_GE(fp::all().size(), 50u);
    std::set<std::string> prefixes;
    for (const auto& f : fp::all())
        prefixes.insert(std::string(f.name.substr(0, f.name.find('-'))));
    for (const char* p : {"HTTP", "DISC", "HLTH", "REG", "AUTH", "EVT", "WS", "TASK", "INV", "AUD",
                          "RATE", "MET", "TRC", "LIFE"})
        EXPECT_EQ(prefixes.count(p), 1u) << "no failpoint breaks a " << p << " requirement";
    for (const auto& f : fp::all()) {
        EXPECT_TRUE(std::regex_match(std::string(f.name), shape)) << f.name;
        EXPECT_TRUE(seen.insert(f.name).second) << "listed twice: " << f.name;
        EXPECT_FALSE(f.breaks.empty()) << f.name;
        EXPECT_EQ(fp::requirement_of(f.name), f.name.substr(0, f.name.find('.')));
    }
}

TEST(Failpoint, EachIsSetInExactlyOnePlaceAndNothingElseIs) {
    const auto sites = call_sites();
    for (const auto& f : fp::all()) {
        auto it = sites.find(std::string(f.name));
        ASSERT_NE(it, sites.end()) << f.name << " is listed but never set in reference/";
        EXPECT_EQ(it->second.size(), 1u)
            << f.name << " is set in " << it->second.size() << " places";
    }
    for (const auto& [name, files] : sites) {
        bool listed = false;
        for (const auto& f : fp::all())
            listed = listed || f.name == name;
        EXPECT_TRUE(listed) << name << " is set in " << files.front() << " but not listed";
    }
}

TEST(Failpoint, OnlyTheEnabledOneIsOn) {
    const auto first = fp::all().front().name;
    EXPECT_FALSE(fp::enable("NOPE-000.nothing"));
    EXPECT_EQ(fp::active(), "");
    EXPECT_FALSE(fp::on(first));
    ASSERT_TRUE(fp::enable(first));
    EXPECT_EQ(fp::active(), first);
    EXPECT_TRUE(fp::on(first));
    if (fp::all().size() > 1) {
        EXPECT_FALSE(fp::on(fp::all()[1].name));
    }
}

TEST(Failpoint, TableJsonListsEveryFailpoint) {
    const auto doc = nlohmann::json::parse(fp::table_json());
    ASSERT_EQ(doc.size(), fp::all().size());
    for (std::size_t i = 0; i < doc.size(); ++i) {
        EXPECT_EQ(doc[i]["name"], std::string(fp::all()[i].name));
        EXPECT_EQ(doc[i]["requirement"], std::string(fp::requirement_of(fp::all()[i].name)));
        EXPECT_EQ(doc[i]["args"], std::string(fp::all()[i].extra_args));
    }
}

#else

TEST(Failpoint, NoneWithoutTheBuildOption) {
    EXPECT_TRUE(fp::all().empty());
    EXPECT_FALSE(fp::enable("HTTP-018.no-allow-header"));
    EXPECT_FALSE(fp::on("HTTP-018.no-allow-header"));
    EXPECT_FALSE(AGENT_FAILPOINT("HTTP-018.no-allow-header"));
    EXPECT_EQ(nlohmann::json::parse(fp::table_json()).size(), 0u);
}

#endif
