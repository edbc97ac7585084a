// WebSocket frames (RFC 6455) as both programs read them: agentd reads a client's frames on
// its streams (masked; 64 KiB messages at most, as reference/server/ws_session.cpp sets), and
// agentcheck reads an agent's frames in its stream checks (unmasked; as
// conformance/client/ws.cpp sets). Both parse them with Boost.Beast's websocket::stream, so
// the target drives that parser with the same settings over an in-memory connection: a real
// handshake between two ends, then the input's bytes as raw frames from one end to the other,
// then end of stream. The first byte picks the reader (even: agentd's side, odd: agentcheck's).
//
// Whatever the bytes, the reader ends (a message, a close or an error for each read, never a
// hang), a message never exceeds the configured limit, and nothing leaks (ASan).
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "fuzz/support.hpp"

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using ws_stream = websocket::stream<beast::test::stream>;

constexpr std::size_t agentd_message_max = 64 * 1024;

} // namespace

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool agentd_reads = (data[0] & 1) == 0;
    const auto frames = fuzz::as_text(data + 1, size - 1);

    boost::asio::io_context io;
    ws_stream server(io);
    ws_stream client(io);
    server.next_layer().connect(client.next_layer());
    server.read_message_max(agentd_message_max);

    bool accepted = false;
    bool handshaken = false;
    server.async_accept([&](beast::error_code ec) { accepted = !ec; });
    client.async_handshake("localhost", "/events/stream",
                           [&](beast::error_code ec) { handshaken = !ec; });
    io.run();
    fuzz::require(accepted && handshaken, "the in-memory handshake succeeds");

    ws_stream& reader = agentd_reads ? server : client;
    ws_stream& writer = agentd_reads ? client : server;
    beast::error_code ec;
    boost::asio::write(writer.next_layer(), boost::asio::buffer(frames.data(), frames.size()), ec);
    fuzz::require(!ec, "the raw frames are written");
    writer.next_layer().close(); // the reader sees end of stream after the bytes

    // Every read completes with a message or an error; at most one message per two bytes
    // (the smallest frame) plus the close, so the loop is bounded by the input.
    beast::flat_buffer buffer;
    std::size_t reads = 0;
    bool done = false;
    while (!done) {
        fuzz::require(++reads <= frames.size() / 2 + 2, "the reader ends within the input");
        bool completed = false;
        reader.async_read(buffer, [&](beast::error_code read_ec, std::size_t n) {
            completed = true;
            if (read_ec) {
                done = true;
                return;
            }
            fuzz::require(n == buffer.size(), "a message's size is what was read");
            if (agentd_reads)
                fuzz::require(n <= agentd_message_max, "a message is at most read_message_max");
            buffer.consume(buffer.size());
        });
        io.restart();
        io.run();
        fuzz::require(completed, "a read completes (no hang on a finished stream)");
    }
    return 0;
}
