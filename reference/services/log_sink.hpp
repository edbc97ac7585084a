#pragma once
// Structured log lines, written to a file descriptor by a background thread in batches so
// that request threads never block on a write(2) per request.

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace agent {

/// An asynchronous line writer. Thread-safe.
class log_sink {
public:
    /// Writes to fd (2 = stderr); when !enabled, write() drops lines.
    explicit log_sink(int fd = 2, bool enabled = true);
    ~log_sink();
    log_sink(const log_sink&) = delete;
    log_sink& operator=(const log_sink&) = delete;

    /// Queues one line (a newline is added).
    void write(std::string_view line);
    /// Writes everything queued so far before returning.
    void flush();
    [[nodiscard]] bool enabled() const noexcept { return enabled_; }

private:
    void run();
    void write_out(const std::string& data) const;

    int fd_;
    bool enabled_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::condition_variable flushed_;
    std::string pending_;
    bool flush_wanted_ = false;  ///< flush() is waiting: write without gathering more
    std::size_t generation_ = 0; ///< batches taken
    std::size_t written_ = 0;    ///< batches written
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace agent
