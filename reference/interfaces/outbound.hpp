#pragma once
// Outbound HTTP and timers, injected so that invoke's retries, backoff and breaker are tested
// without sockets and in simulated time. The real implementation runs on the agent's I/O
// threads (Beast), never blocking a thread per call.

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace agent {

struct outbound_request {
    std::string host;
    std::uint16_t port = 80;
    std::string target; ///< "/prefix/invoke"
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{2000};
};

struct outbound_result {
    enum class failure { none, connect, timeout, io };
    failure why = failure::none;
    int status = 0;
    std::string body;
    std::string detail; ///< what went wrong, when why != none
};

class outbound_http {
public:
    virtual ~outbound_http() = default;
    /// POSTs req; `done` is called once, on an I/O thread.
    virtual void post(outbound_request req, std::function<void(outbound_result)> done) = 0;
    /// Calls fn after d, on an I/O thread.
    virtual void after(std::chrono::milliseconds d, std::function<void()> fn) = 0;
};

} // namespace agent
