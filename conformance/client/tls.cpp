#include "conformance/client/tls.hpp"

#include <map>
#include <mutex>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <openssl/x509v3.h>

namespace agentcheck::client {

namespace asio = boost::asio;

std::shared_ptr<asio::ssl::context> client_tls_context(const target_url& target) {
    static std::mutex mutex;
    static std::map<std::pair<std::string, bool>, std::shared_ptr<asio::ssl::context>> cache;
    std::lock_guard lock(mutex);
    auto& slot = cache[{target.ca_file, target.insecure}];
    if (slot) return slot;
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    if (target.insecure) {
        ctx->set_verify_mode(asio::ssl::verify_none);
    } else {
        boost::system::error_code ec;
        if (target.ca_file.empty())
            ctx->set_default_verify_paths(ec);
        else
            ctx->load_verify_file(target.ca_file, ec);
        if (ec)
            throw transport_exception(transport_error::connect,
                                      (target.ca_file.empty() ? std::string("the system's CAs")
                                                              : "--ca-file " + target.ca_file) +
                                          " cannot be loaded: " + ec.message());
        ctx->set_verify_mode(asio::ssl::verify_peer);
    }
    slot = std::move(ctx);
    return slot;
}

void configure_client_tls(SSL* ssl, const target_url& target) {
    boost::system::error_code ec;
    (void)asio::ip::make_address(target.host, ec);
    const bool is_address = !ec;
    if (!is_address) // SNI, for a name only (SSL_set_tlsext_host_name, without its C cast)
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(target.host.c_str()));
    if (target.insecure) return;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (is_address)
        X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str());
    else
        X509_VERIFY_PARAM_set1_host(param, target.host.c_str(), 0);
}

std::string tls_handshake_failure(SSL* ssl, const boost::system::error_code& ec) {
    const long verdict = SSL_get_verify_result(ssl);
    if (verdict != X509_V_OK)
        return std::string("the certificate was refused: ") +
               X509_verify_cert_error_string(verdict);
    return ec.message();
}

} // namespace agentcheck::client
