#include "conformance/robustness/corpus.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace agentcheck::robustness {

std::vector<std::string_view> embedded_corpus_files(); // generated (conformance/CMakeLists.txt)

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& why) {
    throw std::invalid_argument("request corpus: " + where + ": " + why);
}

std::string str(const json& c, const std::string& where, const char* field, bool required = true) {
    if (!c.contains(field)) {
        if (required) bad(where, std::string("\"") + field + "\" is missing");
        return {};
    }
    if (!c[field].is_string()) bad(where, std::string("\"") + field + "\" is not a string");
    return c[field].get<std::string>();
}

} // namespace

std::vector<request_case> parse_corpus(std::string_view json_text) {
    json doc = json::parse(json_text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) bad("file", "not a JSON object");
    if (doc.value("schema", std::string()) != "agentcheck-requests/1")
        bad("file", "\"schema\" is not \"agentcheck-requests/1\"");
    const std::string category = str(doc, "file", "category");
    if (!doc.contains("cases") || !doc["cases"].is_array())
        bad(category, "\"cases\" is not an array");
    std::vector<request_case> out;
    for (const auto& c : doc["cases"]) {
        request_case r;
        r.id = str(c, category + " case", "id");
        const std::string where = r.id;
        if (r.id.rfind(category + ".", 0) != 0)
            bad(where, "the id does not start with " + category + ".");
        r.category = category;
        r.title = str(c, where, "title");
        r.rfc = str(c, where, "rfc");
        r.bytes = str(c, where, "bytes");
        if (!c.contains("expect") || !c["expect"].is_object())
            bad(where, "\"expect\" is not an object");
        const auto& e = c["expect"];
        if (!e.contains("status") || !e["status"].is_array())
            bad(where, "\"expect.status\" is not an array");
        for (const auto& s : e["status"]) {
            if (!s.is_number_integer() || s.get<int>() < 100 || s.get<int>() > 599)
                bad(where, "\"expect.status\" holds " + s.dump() + ", not a status code");
            r.statuses.push_back(s.get<int>());
        }
        const std::string close = e.value("close", std::string("allowed"));
        if (close != "required" && close != "allowed")
            bad(where, "\"expect.close\" is not required|allowed");
        r.close_required = close == "required";
        r.no_response_ok = e.value("no_response_ok", false);
        r.pipeline = c.value("pipeline", true);
        r.trickle_ms = c.value("trickle_ms", 0);
        r.hold = c.value("hold", false);
        if (r.trickle_ms < 0 || r.trickle_ms > 5000) bad(where, "\"trickle_ms\" is not 0..5000");
        out.push_back(std::move(r));
    }
    return out;
}

const std::vector<request_case>& embedded_corpus() {
    static const std::vector<request_case> all = [] {
        std::vector<request_case> v;
        for (auto text : embedded_corpus_files()) {
            auto part = parse_corpus(text);
            v.insert(v.end(), std::make_move_iterator(part.begin()),
                     std::make_move_iterator(part.end()));
        }
        return v;
    }();
    return all;
}

namespace {

std::optional<long> number(std::string_view s) {
    long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

} // namespace

std::string expand(std::string_view t, const expansion& e) {
    std::string out;
    std::size_t i = 0;
    while (i < t.size()) {
        if (t[i] != '{') {
            out += t[i++];
            continue;
        }
        const auto close = t.find('}', i);
        if (close == std::string_view::npos) {
            out += t.substr(i);
            break;
        }
        const auto inner = t.substr(i + 1, close - i - 1);
        auto arg = [&](std::string_view prefix) -> std::optional<std::string_view> {
            if (inner.substr(0, prefix.size()) != prefix) return std::nullopt;
            return inner.substr(prefix.size());
        };
        bool done = true;
        if (inner == "host") {
            out += e.host;
        } else if (inner == "token") {
            out += e.token;
        } else if (inner == "name") {
            out += e.name;
        } else if (auto a = arg("headers:"); a && number(*a)) {
            for (long n = 0; n < *number(*a); ++n)
                out += "X-Hdr-" + std::to_string(n) + ": v\r\n";
        } else if (auto b = arg("nested:"); b && number(*b)) {
            out.append(static_cast<std::size_t>(*number(*b)), '[');
            out.append(static_cast<std::size_t>(*number(*b)), ']');
        } else if (auto c = arg("byte:"); c && c->size() == 2 &&
                                          std::isxdigit(static_cast<unsigned char>((*c)[0])) &&
                                          std::isxdigit(static_cast<unsigned char>((*c)[1]))) {
            out += static_cast<char>(std::stoi(std::string(*c), nullptr, 16));
        } else if (auto d = arg("repeat:"); d) {
            const auto colon = d->rfind(':');
            auto count =
                colon == std::string_view::npos ? std::nullopt : number(d->substr(colon + 1));
            if (count) {
                const auto text = d->substr(0, colon);
                for (long n = 0; n < *count; ++n)
                    out += text;
            } else {
                done = false;
            }
        } else {
            done = false;
        }
        if (done) {
            i = close + 1;
        } else {
            out += t[i++]; // a brace that is a byte of the request
        }
    }
    return out;
}

namespace {

/// A connected TCP socket, closed on destruction.
struct socket_fd {
    int fd = -1;
    ~socket_fd() {
        if (fd >= 0) ::close(fd);
    }
};

int connect_to(const std::string& host, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0)
        throw std::runtime_error("cannot resolve " + host);
    int fd = -1;
    for (auto* p = res; p; p = p->ai_next) {
        fd = ::socket(p->ai_family, p->ai_socktype, p->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, p->ai_addr, p->ai_addrlen) == 0) break;
        ::close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port));
    return fd;
}

/// Takes complete responses off the front of `buf` (status line, headers, and a body framed
/// by Content-Length or chunked). Returns false when what is there is not a response.
bool take_responses(std::string& buf, std::vector<wire_response>& out, std::string& garbage,
                    int head_response) {
    while (!buf.empty()) {
        if (buf.size() >= 5 && buf.compare(0, 5, "HTTP/") != 0) {
            garbage = buf.substr(0, 200);
            buf.clear();
            return false;
        }
        const auto end = buf.find("\r\n\r\n");
        if (end == std::string::npos) return true; // incomplete head
        wire_response r;
        r.head = buf.substr(0, end);
        const auto sp = r.head.find(' ');
        r.status = sp == std::string::npos
                       ? 0
                       : static_cast<int>(number(r.head.substr(sp + 1, 3)).value_or(0));
        std::string lower;
        for (char c : r.head)
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t body_end = end + 4;
        const auto cl = lower.find("\r\ncontent-length:");
        // Interim (1xx) responses do not count; the final ones are numbered from 0.
        int finals = 0;
        for (const auto& r0 : out)
            finals += r0.status >= 200 ? 1 : 0;
        if (r.status < 200 || finals == head_response) {
            // no body
        } else if (lower.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
            const auto last = buf.find("\r\n0\r\n\r\n", end);
            const auto first =
                buf.compare(end + 4, 5, "0\r\n\r\n") == 0 ? end + 4 : std::string::npos;
            if (first != std::string::npos) {
                body_end = first + 5;
            } else if (last != std::string::npos) {
                body_end = last + 7;
            } else {
                return true;
            }
        } else if (cl != std::string::npos) {
            auto v = lower.substr(cl + 17, lower.find("\r\n", cl + 2) - cl - 17);
            while (!v.empty() && v.front() == ' ')
                v.erase(0, 1);
            const auto n = number(v).value_or(0);
            if (buf.size() < end + 4 + static_cast<std::size_t>(n)) return true;
            body_end = end + 4 + static_cast<std::size_t>(n);
        }
        out.push_back(std::move(r));
        buf.erase(0, body_end);
    }
    return true;
}

} // namespace

observation exchange(const std::string& host, std::uint16_t port, std::string_view bytes,
                     const send_options& opts) {
    using clock = std::chrono::steady_clock;
    const auto started = clock::now();
    socket_fd s{connect_to(host, port)};
    observation obs;
    std::string buf;
    std::size_t sent = 0;
    auto next_byte = started;
    auto last_progress = started; // the last byte sent or received
    char chunk[65536];
    while (true) {
        const auto now = clock::now();
        const bool writing = sent < bytes.size() && !obs.write_failed && !obs.closed;
        // Silent for too long: after an answer, the linger time; else the answer timeout.
        const auto quiet_limit =
            last_progress + (obs.responses.size() < opts.awaited || writing
                                 ? std::chrono::duration_cast<clock::duration>(opts.answer_timeout)
                                 : std::chrono::duration_cast<clock::duration>(opts.linger));
        if (now >= quiet_limit && !(writing && opts.trickle_ms > 0)) {
            obs.timed_out = obs.responses.size() < opts.awaited;
            break;
        }
        auto wake = quiet_limit;
        const bool byte_due = writing && (opts.trickle_ms == 0 || now >= next_byte);
        if (writing && opts.trickle_ms > 0 && !byte_due) wake = std::min(wake, next_byte);
        if (writing && opts.trickle_ms > 0) wake = std::max(now, std::min(wake, next_byte));
        const int timeout_ms = static_cast<int>(std::max<long long>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count()));
        pollfd p{s.fd, static_cast<short>(POLLIN | (byte_due ? POLLOUT : 0)), 0};
        const int n = ::poll(&p, 1, byte_due ? std::min(timeout_ms, 1000) : timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            const auto got = ::recv(s.fd, chunk, sizeof chunk, 0);
            if (got <= 0) {
                obs.closed = true;
                take_responses(buf, obs.responses, obs.garbage, opts.head_response);
                if (!buf.empty() && obs.garbage.empty()) obs.garbage = buf.substr(0, 200);
                break;
            }
            buf.append(chunk, static_cast<std::size_t>(got));
            take_responses(buf, obs.responses, obs.garbage, opts.head_response);
            last_progress = clock::now();
            continue;
        }
        if (byte_due && (p.revents & POLLOUT)) {
            const std::size_t len =
                opts.trickle_ms > 0 ? 1 : std::min<std::size_t>(bytes.size() - sent, sizeof chunk);
            const auto w = ::send(s.fd, bytes.data() + sent, len, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno != EAGAIN && errno != EINTR) obs.write_failed = true;
                continue;
            }
            sent += static_cast<std::size_t>(w);
            last_progress = clock::now();
            next_byte = last_progress + std::chrono::milliseconds(opts.trickle_ms);
        }
    }
    obs.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started);
    return obs;
}

} // namespace agentcheck::robustness
