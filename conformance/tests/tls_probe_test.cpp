// client::probe_tls, which TLS-002 decides with, against `openssl s_server` (the openssl
// command line that make deps installs): it must see a server that still speaks TLS 1.1 as
// one, and a server of TLS 1.2 and up refuse a TLS 1.1-only hello. Without the first half,
// TLS-002 could pass every agent.
#include "conformance/client/http.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using agentcheck::client::probe_tls;
using agentcheck::client::target_url;

/// A port nothing listens on now (bound, then released).
unsigned short free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

/// `openssl s_server` on a port of its own with the given protocol flags; killed at the end.
class s_server {
public:
    s_server(const fs::path& dir, std::vector<std::string> flags) : port_(free_port()) {
        pid_ = ::fork();
        if (pid_ == 0) {
            const auto cert = (dir / "cert.pem").string();
            const auto key = (dir / "key.pem").string();
            const auto port = std::to_string(port_);
            std::vector<std::string> args = {
                "openssl", "s_server", "-quiet", "-naccept", "10",      "-accept",        port,
                "-cert",   cert,       "-key",   key,        "-cipher", "ALL:@SECLEVEL=0"};
            args.insert(args.end(), flags.begin(), flags.end());
            std::vector<char*> argv;
            for (auto& a : args)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            const int quiet = ::open("/dev/null", O_WRONLY);
            ::dup2(quiet, STDOUT_FILENO);
            ::dup2(quiet, STDERR_FILENO);
            ::execvp("openssl", argv.data());
            ::_exit(127);
        }
        // Ready when it accepts a TCP connection.
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < until) {
            boost::asio::io_context io;
            boost::asio::ip::tcp::socket s(io);
            boost::system::error_code ec;
            s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
            if (!ec) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    ~s_server() {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
    s_server(const s_server&) = delete;
    s_server& operator=(const s_server&) = delete;
    [[nodiscard]] target_url target() const {
        return *target_url::parse("https://127.0.0.1:" + std::to_string(port_));
    }

private:
    unsigned short port_;
    pid_t pid_ = -1;
};

class tls_probe : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("agentcheck_tls_probe_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        const auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                         "-keyout " +
                         (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() +
                         " 2>/dev/null";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl req";
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(tls_probe, sees_a_server_that_still_speaks_tls_1_1) {
    s_server server(dir_, {"-tls1_1"});
    const auto r =
        probe_tls(server.target(), TLS1_1_VERSION, TLS1_1_VERSION, std::chrono::milliseconds(5000));
    EXPECT_TRUE(r.established) << r.error;
    EXPECT_EQ(r.version, "TLSv1.1");
}

TEST_F(tls_probe, a_tls_1_2_server_refuses_older_hellos_and_takes_newer_ones) {
    s_server server(dir_, {"-no_tls1", "-no_tls1_1"});
    for (int old : {TLS1_VERSION, TLS1_1_VERSION}) {
        const auto r = probe_tls(server.target(), old, old, std::chrono::milliseconds(5000));
        EXPECT_FALSE(r.established) << "version " << old << " negotiated " << r.version;
        EXPECT_FALSE(r.error.empty());
    }
    const auto r =
        probe_tls(server.target(), TLS1_2_VERSION, TLS1_3_VERSION, std::chrono::milliseconds(5000));
    EXPECT_TRUE(r.established) << r.error;
    EXPECT_TRUE(r.version == "TLSv1.2" || r.version == "TLSv1.3") << r.version;
}

} // namespace
