#include "reference/services/log_sink.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace agent {
namespace {

std::string drain(int fd) {
    std::string out;
    char buf[4096];
    while (true) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

TEST(log_sink, lines_from_many_threads_arrive_whole_and_once) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::string out;
    std::thread reader([&] { out = drain(fds[0]); });
    {
        log_sink sink(fds[1], true);
        std::vector<std::thread> ts;
        for (int t = 0; t < 4; ++t)
            ts.emplace_back([&sink, t] {
                for (int i = 0; i < 500; ++i)
                    sink.write("t" + std::to_string(t) + "-" + std::to_string(i));
            });
        for (auto& t : ts)
            t.join();
        sink.flush();
    }
    ::close(fds[1]);
    reader.join();
    ::close(fds[0]);
    // Every line exactly once and whole: the multiset of lines equals what was written, and
    // each thread's lines keep their order.
    std::multiset<std::string> got;
    std::map<int, int> last_seen;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        got.insert(line);
        int t = -1;
        int i = -1;
        ASSERT_EQ(std::sscanf(line.c_str(), "t%d-%d", &t, &i), 2) << "garbled line: " << line;
        auto [it, fresh] = last_seen.emplace(t, i);
        if (!fresh) {
            EXPECT_GT(i, it->second) << "thread " << t << " out of order";
            it->second = i;
        }
    }
    std::multiset<std::string> want;
    for (int t = 0; t < 4; ++t)
        for (int i = 0; i < 500; ++i)
            want.insert("t" + std::to_string(t) + "-" + std::to_string(i));
    EXPECT_TRUE(got == want) << got.size() << " lines, want 2000";
    EXPECT_EQ(out.back(), '\n');
}

// flush() returns only once everything written before it is out, also while the writer
// would otherwise still be gathering lines.
TEST(log_sink, flush_writes_pending_lines_before_returning) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0); // a read finds only what is there
    log_sink sink(fds[1], true);
    for (int round = 0; round < 20; ++round) {
        const std::string line = "round-" + std::to_string(round);
        sink.write(line);
        sink.flush();
        // The pipe now holds the line: a non-blocking read finds it at once.
        char buf[64];
        const auto n = ::read(fds[0], buf, sizeof buf);
        ASSERT_EQ(n, static_cast<long>(line.size() + 1)) << "round " << round;
        EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)), line + "\n");
    }
    sink.flush(); // nothing pending: returns at once
    ::close(fds[1]);
    ::close(fds[0]);
}

TEST(log_sink, a_line_is_written_without_a_flush_while_the_sink_runs) {
    // Operators tail the log of a running agentd: a line must not wait for shutdown or for
    // 64 KiB of company. The sink gathers lines for 50 ms; 10 s is a bound for a loaded
    // machine, not a speed target: a sink that writes only on flush() never writes here.
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    log_sink sink(fds[1], true);
    for (int round = 0; round < 3; ++round) {
        const std::string line = "alone-" + std::to_string(round);
        sink.write(line);
        pollfd p{fds[0], POLLIN, 0};
        ASSERT_EQ(::poll(&p, 1, 10000), 1) << "round " << round << ": nothing written in 10 s";
        char buf[64];
        const auto n = ::read(fds[0], buf, sizeof buf);
        ASSERT_EQ(std::string(buf, static_cast<std::size_t>(std::max<long>(n, 0))), line + "\n");
    }
    ::close(fds[1]);
    ::close(fds[0]);
}

TEST(log_sink, disabled_sink_writes_nothing) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    {
        log_sink sink(fds[1], false);
        EXPECT_FALSE(sink.enabled());
        sink.write("x");
        sink.flush();
    }
    ::close(fds[1]);
    EXPECT_EQ(drain(fds[0]), "");
    ::close(fds[0]);
}

} // namespace
} // namespace agent
