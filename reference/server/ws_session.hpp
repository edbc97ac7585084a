#pragma once
// A WebSocket stream (PROTOCOL.md §5) on the connection an upgrade request came in on:
// Beast's websocket::stream over the same strand, fed by the event log. Every message goes
// through a bounded queue; a client that does not read is closed with 1008 once the queue
// holds config::ws_buffer_bytes.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "reference/config/config.hpp"
#include "reference/handlers/app.hpp"

namespace agent::server {

/// What the server keeps of a stream, whatever its transport.
class stream_session {
public:
    virtual ~stream_session() = default;
    /// Closes with 1001 (going away): the server drains.
    virtual void going_away() = 0;
};

/// A stream over NextLayer: boost::beast::tcp_stream (ws://) or
/// boost::asio::ssl::stream<boost::beast::tcp_stream> (wss://, handshake done). Both are
/// instantiated in ws_session.cpp.
template <class NextLayer>
class ws_session final : public stream_session,
                         public std::enable_shared_from_this<ws_session<NextLayer>> {
public:
    ws_session(NextLayer&& stream, handlers::stream_plan plan, const handlers::services& svc);
    ~ws_session() override;
    ws_session(const ws_session&) = delete;
    ws_session& operator=(const ws_session&) = delete;

    /// Answers the handshake, then streams.
    void start();

    /// Closes with 1001 (going away): the server drains.
    void going_away() override;

private:
    void on_accept(boost::beast::error_code ec);
    void on_event(const models::event& e); // any thread
    void deliver(const models::event& e);  // strand
    void replay_page();                    // events: one page of the log after last_seq_
    void end_replay();                     // then live
    void send(std::string message);
    void do_write();
    void do_read();
    void close_with(boost::beast::websocket::close_code code, std::string reason);
    void do_close();

    boost::beast::websocket::stream<NextLayer> ws_;
    handlers::stream_plan plan_;
    const handlers::services& svc_;
    boost::asio::steady_timer force_close_;
    std::uint64_t subscription_ = 0;

    std::deque<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool replaying_ = true;
    bool replay_more_ = false; ///< a page was sent; the next is read once the queue drains
    std::vector<models::event> pending_; ///< live events that arrived during the replay
    std::int64_t last_seq_ = 0;          ///< the last event sent (or replayed past)
    std::int64_t snapshot_revision_ = 0; ///< agent_status: the revision the snapshot showed
    bool closing_ = false;
    bool closed_ = false;
    std::uint64_t status_messages_ = 0; ///< status_changed sent (WS-004.every-third-dropped)
    boost::beast::websocket::close_reason close_reason_;
    boost::beast::flat_buffer read_buffer_;
};

} // namespace agent::server
