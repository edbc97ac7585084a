// Page cursors round-trip, are bound to their list, and nothing else decodes.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "reference/handlers/app.hpp"

namespace agent::handlers {
namespace {

RC_GTEST_PROP(cursor, a_cursor_decodes_to_its_seq_for_its_own_list_only, ()) {
    const auto seq = *rc::gen::inRange<std::int64_t>(0, std::numeric_limits<std::int64_t>::max());
    const auto c = encode_cursor("a", seq);
    RC_ASSERT(decode_cursor("a", c) == seq);
    RC_ASSERT(!decode_cursor("t", c)); // a task list refuses an agent list's cursor
    RC_ASSERT(decode_cursor("t", encode_cursor("t", seq)) == seq);
}

RC_GTEST_PROP(cursor, any_other_text_is_refused_or_is_a_cursor_this_agent_issued,
              (std::string text)) {
    if (auto seq = decode_cursor("a", text)) RC_ASSERT(encode_cursor("a", *seq) == text);
}

} // namespace
} // namespace agent::handlers
