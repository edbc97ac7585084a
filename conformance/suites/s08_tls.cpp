// §8 TLS: with a certificate and key configured the agent serves HTTPS only, and only TLS 1.2
// or newer is negotiated. Both need an https:// target: an agent that declares `tls` but is
// reached over http:// fails TLS-001 (it serves plain HTTP), and the handshake checks have
// nothing to shake hands with.

#include <string>

#include <openssl/ssl.h>

#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;

void add_tls_checks(check_registry& reg) {
    reg.add({"TLS-001.no-plain-http",
             {"TLS-001"},
             layer::integration,
             "GET /health in plain HTTP to the agent's HTTPS port gets no 2xx answer (the "
             "connection is closed or refused, or an error comes back), while the same request "
             "over TLS is answered",
             [](context& ctx) {
                 if (!ctx.target().tls()) {
                     // The agent says it speaks TLS, and it answered this run in plain HTTP.
                     auto r = ctx.send(make("GET", "/health"));
                     ctx.fail("the agent declares tls, yet it answered " + ctx.target().base() +
                                  " in plain HTTP",
                              "HTTPS only (run agentcheck against its https:// URL)", describe(r));
                 }
                 auto tls_answer = ctx.send(make("GET", "/health"));
                 if (tls_answer.status != 200 && tls_answer.status != 503)
                     ctx.block("HLTH-001", "GET /health over TLS answered " +
                                               std::to_string(tls_answer.status));
                 auto plain = ctx.target();
                 plain.scheme = "http";
                 plain.ca_file.clear();
                 plain.insecure = false;
                 std::optional<client::response> answer;
                 std::string ended;
                 try {
                     client::connection c(plain, ctx.scaled(std::chrono::milliseconds(5000)));
                     auto req = make("GET", "/health");
                     c.write_raw(c.serialize(req));
                     answer = c.read_response();
                 } catch (const client::transport_exception& e) {
                     ended = e.what();
                 }
                 if (answer) {
                     ctx.record(make("GET", "/health"), &*answer,
                                "plain HTTP to " + plain.origin());
                     if (answer->status >= 200 && answer->status < 300)
                         ctx.fail("plain HTTP to the HTTPS port was served",
                                  "no answer, or a refusal", describe(*answer));
                     ctx.note("plain HTTP was answered " + std::to_string(answer->status));
                 } else {
                     ctx.note("plain HTTP got no HTTP answer: " + ended);
                 }
             }});
    reg.add({"TLS-002.no-tls-1.0-or-1.1",
             {"TLS-002"},
             layer::integration,
             "A client offering only TLS 1.0, or only TLS 1.1, gets no handshake; a client "
             "offering TLS 1.2 and 1.3 gets one (of 1.2 or newer)",
             [](context& ctx) {
                 if (!ctx.target().tls())
                     ctx.skip("the target is " + ctx.target().base() +
                              ": the handshakes need its https:// URL");
                 const auto wait = ctx.scaled(std::chrono::milliseconds(5000));
                 const auto modern =
                     client::probe_tls(ctx.target(), TLS1_2_VERSION, TLS1_3_VERSION, wait);
                 if (!modern.established)
                     ctx.block("TLS-001", "a TLS 1.2/1.3 handshake failed: " + modern.error);
                 if (modern.version != "TLSv1.2" && modern.version != "TLSv1.3")
                     ctx.fail("a handshake offering TLS 1.2 and 1.3 settled on " + modern.version,
                              "TLSv1.2 or TLSv1.3", modern.version);
                 for (const auto& [version, name] :
                      {std::pair{TLS1_VERSION, "TLS 1.0"}, std::pair{TLS1_1_VERSION, "TLS 1.1"}}) {
                     const auto old = client::probe_tls(ctx.target(), version, version, wait);
                     if (old.established)
                         ctx.fail(std::string("a client offering only ") + name +
                                      " completed a handshake",
                                  "the handshake refused", old.version);
                 }
                 ctx.note("negotiated " + modern.version + "; TLS 1.0 and 1.1 refused");
             }});
}

} // namespace

void register_s08_tls(check_registry& registry) {
    add_tls_checks(registry);
}

} // namespace agentcheck
