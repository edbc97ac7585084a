// LD_PRELOAD probe for durability tests: records when fsync/fdatasync of a SQLite
// write-ahead log completes. The OS page cache survives a killed process, so a SIGKILL
// test alone cannot tell `synchronous=FULL` from `synchronous=OFF`; this probe can: an
// acknowledged write is durable only if a WAL sync completed between the request being
// sent and the answer arriving.
//
// Enabled by AGENTD_FSYNC_LOG=<file>: one line per completed sync of a "*-wal" file,
// "<CLOCK_MONOTONIC ns>\n", appended with one write(2) (atomic under O_APPEND).
//
// AGENTD_FSYNC_TIMES=<file> (bench/compare.sh's FSYNC_TIMES): one line per sync of any file,
// "<start, CLOCK_MONOTONIC ns> <duration µs> <path>\n" — how long durable writes wait for the
// disk.
#include <dlfcn.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using sync_fn = int (*)(int);

bool is_wal(int fd) {
    char link[64];
    char path[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, path, sizeof path - 1);
    if (n < 4) return false;
    path[n] = '\0';
    return std::strcmp(path + n - 4, "-wal") == 0;
}

void record(int fd) {
    const char* log = std::getenv("AGENTD_FSYNC_LOG");
    if (log == nullptr || !is_wal(fd)) return;
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    char line[32];
    const int len = std::snprintf(line, sizeof line, "%lld\n",
                                  static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec);
    const int out = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) return;
    if (::write(out, line, static_cast<size_t>(len)) < 0) { /* best effort */
    }
    ::close(out);
}

long long monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

void time_sync(int fd, long long start_ns) {
    const char* log = std::getenv("AGENTD_FSYNC_TIMES");
    if (log == nullptr) return;
    const long long took_us = (monotonic_ns() - start_ns) / 1000;
    char link[64];
    char path[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    char line[4200];
    const int len = std::snprintf(line, sizeof line, "%lld %lld %s\n", start_ns, took_us, path);
    const int out = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) return;
    if (::write(out, line, static_cast<size_t>(std::min(len, static_cast<int>(sizeof line) - 1))) <
        0) { /* best effort */
    }
    ::close(out);
}

template <class F> F next(const char* name) {
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" int fsync(int fd) {
    static const auto real = next<sync_fn>("fsync");
    const long long start = monotonic_ns();
    const int rc = real(fd);
    time_sync(fd, start);
    if (rc == 0) record(fd);
    return rc;
}

extern "C" int fdatasync(int fd) {
    static const auto real = next<sync_fn>("fdatasync");
    const long long start = monotonic_ns();
    const int rc = real(fd);
    time_sync(fd, start);
    if (rc == 0) record(fd);
    return rc;
}
