#include "reference/server/ws_session.hpp"

#include <algorithm>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "reference/util/failpoint.hpp"

namespace agent::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
constexpr std::size_t replay_page_size = 200;
constexpr auto force_close_after = std::chrono::seconds(30);
constexpr int small_send_buffer = 64 * 1024;

bool wanted(const handlers::stream_plan& plan, const models::event& e) {
    if (plan.what == handlers::stream_plan::kind::agent_status)
        return e.agent_id == plan.agent_id &&
               (e.type == "agent_status_changed" || e.type == "agent_deleted");
    return plan.types.empty() ||
           std::find(plan.types.begin(), plan.types.end(), e.type) != plan.types.end();
}
} // namespace

template <class NextLayer>
ws_session<NextLayer>::ws_session(NextLayer&& stream, handlers::stream_plan plan,
                                  const handlers::services& svc)
    : ws_(std::move(stream)), plan_(std::move(plan)), svc_(svc), force_close_(ws_.get_executor()) {
    beast::get_lowest_layer(ws_).expires_never();
    // Bound what the kernel holds for a client that does not read, too.
    boost::system::error_code ec;
    beast::get_lowest_layer(ws_).socket().set_option(
        net::socket_base::send_buffer_size(small_send_buffer), ec);
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [rid = plan_.request_id, trace = plan_.traceresponse](websocket::response_type& res) {
            res.set(beast::http::field::server, "agentd");
            res.set("X-Request-ID", rid);
            if (!trace.empty()) res.set("traceresponse", trace);
        }));
    ws_.read_message_max(64 * 1024);
    if (svc_.stats != nullptr) svc_.stats->connection_opened();
}

template <class NextLayer> ws_session<NextLayer>::~ws_session() {
    if (subscription_ != 0) svc_.events.unsubscribe(subscription_);
    if (svc_.stats != nullptr) svc_.stats->connection_closed();
}

template <class NextLayer> void ws_session<NextLayer>::start() {
    // Subscribe before the snapshot or the replay: nothing committed meanwhile is missed
    // (what arrives twice is told apart by seq).
    std::weak_ptr<ws_session> weak = this->shared_from_this();
    subscription_ = svc_.events.subscribe([weak](const models::event& e) {
        if (auto self = weak.lock()) self->on_event(e);
    });
    ws_.async_accept(plan_.req, [self = this->shared_from_this()](beast::error_code ec) {
        self->on_accept(ec);
    });
}

template <class NextLayer> void ws_session<NextLayer>::on_accept(beast::error_code ec) {
    if (ec) return;
    // WS-007: reading is what answers the client's pings (Beast sends the pong); with the
    // failpoint the stream only writes.
    if (!AGENT_FAILPOINT("WS-007.pings-unanswered")) do_read();
    if (plan_.what == handlers::stream_plan::kind::agent_status) {
        // The agent as it is now; changes committed from here on follow it.
        auto now = svc_.agents.get(plan_.agent_id);
        if (!now) now = plan_.snapshot;
        if (!now) // only with WS-002.unknown-agent-upgraded: there was no agent to upgrade for
            return close_with(websocket::close_code::policy_error, "no such agent");
        last_seq_ = svc_.events.last_seq();
        const auto& a = now->agent;
        snapshot_revision_ = a.revision;
        // WS-003: the snapshot is the first message.
        if (!AGENT_FAILPOINT("WS-003.no-snapshot"))
            send(nlohmann::json{{"type", "snapshot"},
                                {"agent_id", a.id},
                                {"status", models::to_string(a.status)},
                                {"revision", a.revision},
                                {"seq", last_seq_}}
                     .dump());
        replaying_ = false;
        auto pending = std::move(pending_);
        for (const auto& e : pending)
            deliver(e);
        return;
    }
    if (!plan_.after) {
        // No `after`: live only, from the last event committed before the upgrade.
        last_seq_ = svc_.events.last_seq();
        return end_replay();
    }
    last_seq_ = *plan_.after;
    replay_page();
}

// One page at a time, the next only once the client has taken this one: a long replay never
// fills the queue (a client that reads is never cut off) nor holds the I/O thread.
template <class NextLayer> void ws_session<NextLayer>::replay_page() {
    if (closing_) return;
    event_query q;
    q.after = last_seq_;
    q.limit = replay_page_size;
    q.types = plan_.types;
    auto page = svc_.events.list(q);
    if (!page) return close_with(websocket::close_code::internal_error, "the log is unreadable");
    bool stopped_early = false;
    for (const auto& e : *page) {
        auto message = models::to_json(e).dump();
        // Keep half the buffer for live events; the rest of the page follows once drained.
        if (!queue_.empty() && queued_bytes_ + message.size() > svc_.cfg.ws_buffer_bytes / 2) {
            stopped_early = true;
            break;
        }
        send(std::move(message));
        last_seq_ = e.seq;
    }
    if (!stopped_early && page->size() < replay_page_size) return end_replay();
    replay_more_ = true;
    if (!writing_ && queue_.empty()) {
        replay_more_ = false;
        net::post(ws_.get_executor(), [self = this->shared_from_this()] { self->replay_page(); });
    }
}

template <class NextLayer> void ws_session<NextLayer>::end_replay() {
    replaying_ = false;
    auto pending = std::move(pending_);
    for (const auto& e : pending)
        deliver(e);
}

template <class NextLayer> void ws_session<NextLayer>::on_event(const models::event& e) {
    if (!wanted(plan_, e)) return;
    net::post(ws_.get_executor(), [self = this->shared_from_this(), e] {
        if (self->replaying_)
            self->pending_.push_back(e);
        else
            self->deliver(e);
    });
}

template <class NextLayer> void ws_session<NextLayer>::deliver(const models::event& e) {
    if (closing_ || e.seq <= last_seq_) return; // replayed, or already in the snapshot
    last_seq_ = e.seq;
    if (plan_.what == handlers::stream_plan::kind::events) return send(models::to_json(e).dump());
    // A change the snapshot already shows (committed while it was taken) is not sent again.
    if (e.type == "agent_status_changed" && e.data.value("revision", 0LL) != 0 &&
        e.data.value("revision", 0LL) <= snapshot_revision_)
        return;
    if (e.type == "agent_deleted") {
        send(nlohmann::json{{"type", "deleted"}, {"agent_id", plan_.agent_id}, {"seq", e.seq}}
                 .dump());
        // WS-005: the deletion ends the stream (close 1000).
        if (AGENT_FAILPOINT("WS-005.deleted-not-closed")) return;
        return close_with(websocket::close_code::normal, "the agent was deleted");
    }
    // WS-004: every change is streamed, in order, without gaps.
    if (AGENT_FAILPOINT("WS-004.every-third-dropped") && ++status_messages_ % 3 == 0) return;
    nlohmann::json m = {{"type", "status_changed"},
                        {"agent_id", plan_.agent_id},
                        {"old_status", e.data.value("old_status", "")},
                        {"new_status", e.data.value("new_status", "")},
                        {"seq", e.seq},
                        {"at", e.at}};
    if (e.data.contains("reason")) m["reason"] = e.data["reason"];
    send(m.dump());
}

template <class NextLayer> void ws_session<NextLayer>::send(std::string message) {
    if (closing_) return;
    // WS-008: a client that does not read is closed once its bounded buffer is full.
    if (queued_bytes_ + message.size() > svc_.cfg.ws_buffer_bytes &&
        !AGENT_FAILPOINT("WS-008.unbounded-buffer")) {
        // A consumer that does not read: drop what it has not taken and close, so that
        // memory never grows without bound (the message being written stays until its
        // write completes).
        const std::size_t keep = writing_ ? 1 : 0;
        while (queue_.size() > keep) {
            queued_bytes_ -= queue_.back().size();
            queue_.pop_back();
        }
        return close_with(websocket::close_code::policy_error,
                          "the client does not read fast enough (ws_buffer_bytes)");
    }
    queued_bytes_ += message.size();
    queue_.push_back(std::move(message));
    do_write();
}

template <class NextLayer> void ws_session<NextLayer>::do_write() {
    if (writing_ || closed_) return;
    if (queue_.empty()) {
        if (closing_) return do_close();
        if (replay_more_) {
            replay_more_ = false;
            net::post(ws_.get_executor(),
                      [self = this->shared_from_this()] { self->replay_page(); });
        }
        return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (ec) {
                            self->closed_ = true;
                            return;
                        }
                        self->queued_bytes_ -= self->queue_.front().size();
                        self->queue_.pop_front();
                        self->do_write();
                    });
}

template <class NextLayer> void ws_session<NextLayer>::do_read() {
    ws_.async_read(
        read_buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) { // closed by the client, or the connection is gone
                self->closed_ = true;
                self->closing_ = true;
                self->force_close_.cancel();
                return;
            }
            self->read_buffer_.consume(self->read_buffer_.size()); // client messages are ignored
            self->do_read();
        });
}

template <class NextLayer>
void ws_session<NextLayer>::close_with(websocket::close_code code, std::string reason) {
    if (closing_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(code, reason);
    // If the client never takes the write in flight, the connection is cut after a while.
    force_close_.expires_after(force_close_after);
    force_close_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (ec || self->closed_) return;
        self->closed_ = true;
        beast::get_lowest_layer(self->ws_).close();
    });
    do_write(); // sends what is queued, then the close frame
}

template <class NextLayer> void ws_session<NextLayer>::do_close() {
    if (closed_) return;
    closed_ = true;
    ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code) {
        self->force_close_.cancel();
    });
}

template <class NextLayer> void ws_session<NextLayer>::going_away() {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] {
        self->close_with(websocket::close_code::going_away, "the agent is shutting down");
    });
}

// The two transports a stream runs on: plain TCP and TLS (wss).
template class ws_session<beast::tcp_stream>;
template class ws_session<net::ssl::stream<beast::tcp_stream>>;

} // namespace agent::server
