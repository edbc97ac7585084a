#pragma once
// The HTTP robustness corpus (fixtures/requests/*.json, embedded in agentcheck): malformed and
// hostile requests with the answers RFC 9110/9112 allow, and the raw-socket exchange that
// sends one and observes what comes back.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentcheck::robustness {

/// One case of the corpus (fixtures/requests/README.md describes the format).
struct request_case {
    std::string id;       ///< "smuggling.cl-and-te"
    std::string category; ///< compliance | smuggling | malformed | normalisation
    std::string title;
    std::string rfc;             ///< the clause it rests on
    std::string bytes;           ///< the template (placeholders not expanded)
    std::vector<int> statuses;   ///< the answers allowed
    bool close_required = false; ///< the connection must be closed after the answer
    bool no_response_ok = false; ///< closing without any answer is also allowed
    bool pipeline = true;        ///< may be sent behind another request
    int trickle_ms = 0;          ///< send one byte every trickle_ms
    bool hold = false;           ///< the bytes never complete the request
};

/// Parses one corpus file (schema agentcheck-requests/1). Throws std::invalid_argument
/// naming the case and field that is wrong.
std::vector<request_case> parse_corpus(std::string_view json_text);

/// Every case of the embedded corpus, in file then case order.
const std::vector<request_case>& embedded_corpus();

/// What a template's placeholders stand for.
struct expansion {
    std::string host;  ///< {host}
    std::string token; ///< {token}
    std::string name;  ///< {name}
};

/// The bytes of a template: {host}, {token}, {name}, {repeat:TEXT:N}, {headers:N},
/// {nested:N} and {byte:HH} expanded; every other brace is a byte like any other.
std::string expand(std::string_view tmpl, const expansion& e);

/// One response read off the wire.
struct wire_response {
    int status = 0;
    std::string head; ///< status line and headers
};

/// What came back for bytes written on a fresh connection.
struct observation {
    std::vector<wire_response> responses; ///< in order
    bool closed = false;                  ///< the peer closed (or reset) the connection
    bool timed_out = false;               ///< nothing more came and the connection stayed open
    bool write_failed = false;            ///< the peer stopped reading before all bytes were sent
    std::string garbage;                  ///< bytes that were not an HTTP/1.1 response
    std::chrono::milliseconds elapsed{0};
};

/// How to send.
struct send_options {
    int trickle_ms = 0; ///< one byte every trickle_ms (0: all at once)
    /// How long to wait for the first response (or close) after the last byte.
    std::chrono::milliseconds answer_timeout{5000};
    /// After a response, how long to wait for more bytes or the close.
    std::chrono::milliseconds linger{600};
    /// The index of the (final) response that answers a HEAD request: it has no body
    /// whatever its Content-Length says (-1: none).
    int head_response = -1;
    /// How many responses are awaited before the linger time applies (the answer timeout
    /// applies until then).
    std::size_t awaited = 1;
};

/// Connects to host:port, writes `bytes` (reading while writing, so that an early answer is
/// not lost), and reads every response until the peer closes or is silent for the linger
/// time. Throws std::runtime_error when the connection cannot be made.
observation exchange(const std::string& host, std::uint16_t port, std::string_view bytes,
                     const send_options& opts);

} // namespace agentcheck::robustness
