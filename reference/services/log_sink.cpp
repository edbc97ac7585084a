#include "reference/services/log_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace agent {
namespace {
constexpr std::size_t flush_threshold = 64 * 1024;
constexpr auto flush_interval = std::chrono::milliseconds(50);
} // namespace

log_sink::log_sink(int fd, bool enabled) : fd_(fd), enabled_(enabled) {
    if (enabled_) thread_ = std::thread([this] { run(); });
}

log_sink::~log_sink() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void log_sink::write(std::string_view line) {
    if (!enabled_) return;
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        // The writer sleeps until there is something to write: the first line of a batch
        // wakes it (it then gathers for flush_interval), as does a full batch.
        wake = pending_.empty();
        pending_.append(line);
        pending_.push_back('\n');
        wake = wake || pending_.size() >= flush_threshold;
    }
    if (wake) cv_.notify_one();
}

void log_sink::flush() {
    if (!enabled_) return;
    std::unique_lock lock(mutex_);
    const std::size_t target = generation_ + (pending_.empty() ? 0 : 1);
    if (target <= written_) return;
    flush_wanted_ = true;
    cv_.notify_one();
    flushed_.wait(lock, [&] { return written_ >= target || stopping_; });
}

void log_sink::write_out(const std::string& data) const {
    std::size_t off = 0;
    while (off < data.size()) {
        auto n = ::write(fd_, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return; // nowhere to report a failing log stream
        }
        off += static_cast<std::size_t>(n);
    }
}

void log_sink::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        // Sleeps while there is nothing to write (an idle agentd uses no CPU), then gathers
        // lines for up to flush_interval so that a burst becomes one write.
        cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
        cv_.wait_for(lock, flush_interval, [this] {
            return stopping_ || flush_wanted_ || pending_.size() >= flush_threshold;
        });
        flush_wanted_ = false;
        std::string batch;
        batch.swap(pending_);
        const bool stop = stopping_;
        ++generation_;
        lock.unlock();
        if (!batch.empty()) write_out(batch);
        lock.lock();
        written_ = generation_;
        flushed_.notify_all();
        if (stop && pending_.empty()) return;
    }
}

} // namespace agent
