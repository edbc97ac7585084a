#pragma once
// outbound_http on the server's io_context (Beast): one async exchange per call, a deadline
// over the whole exchange, no thread blocked.

#include <boost/asio/io_context.hpp>

#include "reference/interfaces/outbound.hpp"

namespace agent::server {

class beast_outbound final : public outbound_http {
public:
    explicit beast_outbound(boost::asio::io_context& io) : io_(io) {}
    void post(outbound_request req, std::function<void(outbound_result)> done) override;
    void after(std::chrono::milliseconds d, std::function<void()> fn) override;

private:
    boost::asio::io_context& io_;
};

} // namespace agent::server
