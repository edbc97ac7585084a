#pragma once
// TLS for the harness's clients (HTTP and WebSocket): one client context per trust setting,
// the target's name or address checked against its certificate (RFC 6125, by OpenSSL), and
// a failed handshake said in words.

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/ssl.h>

#include "conformance/client/http.hpp"

namespace agentcheck::client {

/// The client context for target's ca_file and insecure (cached: loading a CA bundle costs
/// milliseconds, and a run opens thousands of connections): TLS 1.2 or newer, the peer's
/// certificate verified unless insecure. Throws transport_exception(connect) when the CAs
/// cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> client_tls_context(const target_url& target);

/// Sets SNI (for a name, not an address) and, unless insecure, the name or IP address the
/// certificate must carry.
void configure_client_tls(SSL* ssl, const target_url& target);

/// Why a handshake failed: OpenSSL's verdict on the certificate when it was refused
/// ("the certificate was refused: certificate has expired"), else the error's message.
std::string tls_handshake_failure(SSL* ssl, const boost::system::error_code& ec);

} // namespace agentcheck::client
