#include "reference/services/log_sink.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

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
    std::size_t lines = 0;
    for (char c : out)
        lines += c == '\n';
    EXPECT_EQ(lines, 2000U);
    EXPECT_NE(out.find("t3-499\n"), std::string::npos);
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
