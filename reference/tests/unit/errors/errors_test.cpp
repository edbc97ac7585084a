#include "reference/errors/errors.hpp"

#include <gtest/gtest.h>

#include <set>

namespace {

using agent::errc;

TEST(errors, category_is_named_agent) {
    EXPECT_STREQ(agent::agent_category().name(), "agent");
}

TEST(errors, category_is_a_singleton) {
    EXPECT_EQ(&agent::agent_category(), &agent::make_error_code(errc::conflict).category());
}

TEST(errors, every_errc_has_its_own_message) {
    std::set<std::string> messages;
    const int last = static_cast<int>(errc::internal);
    for (int v = 0; v <= last; ++v) {
        const std::error_code ec = agent::make_error_code(static_cast<errc>(v));
        const std::string m = ec.message();
        EXPECT_FALSE(m.empty()) << v;
        EXPECT_EQ(m.find("unknown"), std::string::npos) << v;
        messages.insert(m);
    }
    EXPECT_EQ(messages.size(), static_cast<std::size_t>(last + 1));
}

TEST(errors, specific_messages) {
    EXPECT_EQ(agent::make_error_code(errc::not_found).message(), "not found");
    EXPECT_EQ(agent::make_error_code(errc::invalid_token).message(), "invalid token");
}

TEST(errors, unknown_value_is_described) {
    const std::error_code ec(999, agent::agent_category());
    EXPECT_NE(ec.message().find("999"), std::string::npos);
}

TEST(errors, converts_implicitly_and_compares) {
    const std::error_code ec = errc::precondition_failed;
    EXPECT_EQ(ec, errc::precondition_failed);
    EXPECT_NE(ec, errc::precondition_required);
    EXPECT_EQ(ec.category(), agent::agent_category());
    EXPECT_EQ(ec.value(), static_cast<int>(errc::precondition_failed));
    EXPECT_FALSE(agent::make_error_code(errc::ok));
}

} // namespace
