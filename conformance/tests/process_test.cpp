// managed_process: the agent's process when the harness owns it (--launch, soak).

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "conformance/harness/process.hpp"

namespace agentcheck {
namespace {

using namespace std::chrono_literals;

class scratch_dir {
public:
    scratch_dir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "agentcheck-process-XXXXXX").string();
        path_ = ::mkdtemp(tmpl.data());
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(managed_process, replaces_data_dir_exports_it_and_logs_output) {
    scratch_dir dir;
    const auto data = dir.path() + "/data";
    // The command is exec'd: a compound line goes through a shell of its own.
    managed_process p(
        {"sh -c 'echo \"$AGENTCHECK_DATA_DIR\" > {data_dir}/seen; echo hello; exit 3'", data,
         dir.path() + "/agent.log"});
    p.start();
    const auto e = p.wait_exit(10s);
    ASSERT_TRUE(e.has_value());
    EXPECT_TRUE(e->exited);
    EXPECT_EQ(e->code, 3);
    EXPECT_EQ(e->describe(), "exit 3");
    EXPECT_EQ(read_all(data + "/seen"), data + "\n"); // created, replaced, exported
    EXPECT_EQ(p.log_tail(), "hello\n");
    EXPECT_FALSE(p.running());
    EXPECT_EQ(p.starts(), 1);
}

TEST(managed_process, signals_reach_the_command_itself_not_a_shell) {
    scratch_dir dir;
    managed_process p({"sleep 30", dir.path(), ""});
    p.start();
    ASSERT_TRUE(p.running());
    // exec: the pid is sleep's, so the sample is of the command and SIGTERM ends it.
    const auto s = p.sample();
    EXPECT_GT(s.rss_kib, 0);
    EXPECT_GE(s.fds, 3);
    ASSERT_TRUE(p.signal(SIGTERM));
    const auto e = p.wait_exit(10s);
    ASSERT_TRUE(e.has_value());
    EXPECT_FALSE(e->exited);
    EXPECT_EQ(e->signal, SIGTERM);
    EXPECT_EQ(e->describe(), "killed by SIGTERM");
    EXPECT_FALSE(p.signal(SIGTERM)); // nothing left to signal
}

TEST(managed_process, kill_now_ends_the_whole_group_and_it_can_start_again) {
    scratch_dir dir;
    const auto marker = dir.path() + "/child-alive";
    // The command leaves a child behind; SIGKILL to the group takes it too.
    managed_process p({"sh -c 'sleep 1; touch " + marker + "' & sleep 30", dir.path(), ""});
    p.start();
    std::this_thread::sleep_for(100ms);
    const auto e = p.kill_now();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->signal, SIGKILL);
    std::this_thread::sleep_for(1500ms);
    EXPECT_FALSE(std::filesystem::exists(marker)) << "a child of the command outlived SIGKILL";
    p.start();
    EXPECT_TRUE(p.running());
    EXPECT_EQ(p.starts(), 2);
    EXPECT_THROW(p.start(), std::runtime_error); // already running
}

TEST(managed_process, wait_ready_reports_a_process_that_ends_before_it_is_ready) {
    scratch_dir dir;
    managed_process p({"sh -c 'exit 7'", dir.path(), ""});
    p.start();
    client::target_url t;
    t.port = 1; // nothing listens there
    const auto r = p.wait_ready(t, 10s);
    EXPECT_FALSE(r.ready);
    ASSERT_TRUE(r.exited.has_value());
    EXPECT_EQ(r.exited->code, 7);
    EXPECT_NE(r.why.find("exit 7"), std::string::npos) << r.why;
}

TEST(managed_process, wait_ready_times_out_counting_refused_connections) {
    scratch_dir dir;
    managed_process p({"sleep 30", dir.path(), ""});
    p.start();
    client::target_url t;
    t.port = 1;
    const auto r = p.wait_ready(t, 200ms);
    EXPECT_FALSE(r.ready);
    EXPECT_FALSE(r.exited.has_value());
    ASSERT_TRUE(r.before.contains(0));
    EXPECT_GT(r.before.at(0), 1);
    EXPECT_NE(r.why.find("no connection"), std::string::npos) << r.why;
}

} // namespace
} // namespace agentcheck
