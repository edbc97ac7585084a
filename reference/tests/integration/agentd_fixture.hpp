#pragma once
// Starts the real agentd on an ephemeral port with a temporary data directory, and speaks
// HTTP to it with a small blocking Beast client. Used by every integration test.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd_test {

/// A response as received.
struct reply {
    int status = 0;
    std::multimap<std::string, std::string> headers; ///< names lowercased
    std::string body;
    [[nodiscard]] std::string header(const std::string& lower_name) const;
    [[nodiscard]] bool has(const std::string& lower_name) const {
        return headers.count(lower_name) > 0;
    }
    [[nodiscard]] nlohmann::json json() const { return nlohmann::json::parse(body); }
};

/// One kept-alive TCP connection to agentd.
class conn {
public:
    explicit conn(unsigned short port);
    ~conn();
    conn(const conn&) = delete;
    conn& operator=(const conn&) = delete;
    /// Sends a request (adds Host and Content-Length) and reads the response.
    reply send(const std::string& method, const std::string& target, const std::string& body = {},
               const std::vector<std::pair<std::string, std::string>>& headers = {});
    /// Writes raw bytes.
    void write_raw(const std::string& bytes);
    /// Reads one response.
    reply read();
    /// True when the server closed the connection within `wait`.
    bool closed_within(std::chrono::milliseconds wait);

private:
    struct impl;
    impl* impl_;
};

/// HS256 JWT for claims.
std::string mint(const nlohmann::json& claims, const std::string& secret,
                 const std::string& alg = "HS256");

/// A running agentd. Stops it with SIGTERM in the destructor (so coverage data is written).
class agentd_process {
public:
    /// How the secret reaches agentd.
    enum class secret_via { file, environment };
    /// Starts agentd with extra flags and environment entries ("NAME=value"); waits until
    /// the bound port is published. Throws if agentd exits or does not start in 15 s.
    explicit agentd_process(std::vector<std::string> extra_args = {}, std::string data_dir = {},
                            std::vector<std::string> env = {},
                            secret_via secret = secret_via::file);
    ~agentd_process();
    agentd_process(const agentd_process&) = delete;
    agentd_process& operator=(const agentd_process&) = delete;

    [[nodiscard]] unsigned short port() const { return port_; }
    [[nodiscard]] const std::string& secret() const { return secret_; }
    [[nodiscard]] const std::string& data_dir() const { return data_dir_; }
    [[nodiscard]] int pid() const { return pid_; }
    /// A token for sub with roles, valid for an hour.
    [[nodiscard]] std::string token(const std::string& sub,
                                    const std::vector<std::string>& roles) const;
    /// Sends SIGTERM and waits; returns the exit status (or -signal).
    int terminate(std::chrono::milliseconds wait = std::chrono::seconds(15));
    /// Sends SIGKILL and waits.
    void kill_hard();
    /// CPU time (user + system) the process has used so far, from /proc/PID/stat.
    [[nodiscard]] std::chrono::milliseconds cpu_time() const;
    /// What agentd wrote to stdout and stderr so far.
    [[nodiscard]] std::string log() const;

private:
    int pid_ = -1;
    unsigned short port_ = 0;
    std::string dir_;
    std::string data_dir_;
    std::string secret_;
    bool own_data_dir_ = true;
};

/// Runs agentd with args to completion; returns (exit code, stderr+stdout).
std::pair<int, std::string> run_agentd(const std::vector<std::string>& args,
                                       const std::vector<std::string>& env = {});

/// A fresh temporary directory.
std::string temp_dir();

/// Shared fixture: one agentd per test suite, tokens for the usual identities.
class agentd_suite : public ::testing::Test {
protected:
    static void SetUpTestSuite();
    static void TearDownTestSuite();
    static agentd_process& agentd() { return *process_; }
    static std::string viewer() { return process_->token("viewer-1", {"viewer"}); }
    static std::string op() { return process_->token("operator-1", {"operator"}); }
    static std::string op2() { return process_->token("operator-2", {"operator"}); }
    static std::string admin() { return process_->token("admin-1", {"admin"}); }
    static std::string bearer(const std::string& t) { return "Bearer " + t; }
    /// A unique valid agent name.
    static std::string unique_name(const std::string& hint = "a");
    /// Creates an agent as `token`; asserts 201; returns the body.
    static nlohmann::json create(const std::string& token, nlohmann::json body = {});
    /// Extra agentd flags for this suite (override by defining a suite-specific SetUp).
    static std::vector<std::string> extra_args_;
    static agentd_process* process_;
};

} // namespace agentd_test
