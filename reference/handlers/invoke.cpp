// POST /agents/{id}/invoke (PROTOCOL.md §7).
#include "reference/handlers/app.hpp"

namespace agent::handlers {

void handle_invoke(const app& a, const exchange_ptr& x) {
    a.svc().invoker.invoke(
        x->route.agent_id, x->body, x->request_id, x->trace.header(), // the call is a child span
        [&a, x](util::expected<invoke_output, error> r) {
            if (!r) return a.fail(x, r.error());
            a.reply(x,
                    a.json_response(
                        *x, http::status::ok,
                        nlohmann::json{{"output", r->output}, {"attempts", r->attempts}}.dump()));
        });
}

} // namespace agent::handlers
