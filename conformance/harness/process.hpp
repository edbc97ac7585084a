#pragma once
// The agent's process when the harness owns it (`agentcheck run --launch`, `agentcheck soak`):
// started by a shell command, waited for until /readyz answers 200, signalled, killed and
// started again on the same data directory, sampled (RSS, open descriptors) from /proc.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "conformance/client/http.hpp"

namespace agentcheck {

/// How to start the agent.
struct launch_spec {
    /// A shell command line, run as `/bin/sh -c 'exec COMMAND'` in a process group of its
    /// own; "{data_dir}" in it is replaced by data_dir (when data_dir is not empty).
    std::string command;
    /// The agent's data directory, the same at every start (created when missing; also
    /// exported as AGENTCHECK_DATA_DIR).
    std::string data_dir;
    /// Where the agent's stdout and stderr go, appended across starts ("" = /dev/null).
    std::string log_file;
};

/// How a process ended.
struct exit_info {
    bool exited = false; ///< exited by itself (code), else killed by `signal`
    int code = 0;
    int signal = 0;
    /// "exit 0", "killed by SIGKILL".
    [[nodiscard]] std::string describe() const;
};

/// What waiting for readiness saw.
struct ready_outcome {
    bool ready = false;
    /// From the process's start to the first 200 of /readyz.
    std::chrono::microseconds since_start{0};
    /// The answers /readyz gave before its first 200: status → count (0 = no connection).
    std::map<int, int> before;
    /// Set when the process ended while it was awaited.
    std::optional<exit_info> exited;
    /// Why not ready ("" when ready).
    std::string why;
};

/// One sample of the process's resources, from /proc/PID.
struct process_sample {
    long long rss_kib = -1; ///< VmRSS (-1: unknown)
    int fds = -1;           ///< entries of /proc/PID/fd (-1: unknown)
};

/// A process the harness owns. A process still running when this is destroyed is killed
/// (SIGKILL to its group). Thread-safe.
class managed_process {
public:
    explicit managed_process(launch_spec spec);
    ~managed_process();
    managed_process(const managed_process&) = delete;
    managed_process& operator=(const managed_process&) = delete;

    /// Starts the command. Throws std::runtime_error when it is already running or cannot be
    /// started at all (a command that starts and fails is seen by wait_ready).
    void start();
    /// Sends sig to the process (not to its group). False when it is not running.
    bool signal(int sig);
    /// Waits up to `timeout` for the process to end; nullopt when it still runs.
    std::optional<exit_info> wait_exit(std::chrono::milliseconds timeout);
    /// SIGKILL to the process group, then reaps it. The exit, or nullopt when none was running.
    std::optional<exit_info> kill_now();
    /// Polls GET /readyz every few milliseconds until it answers 200, the process ends, or
    /// `timeout` passes.
    ready_outcome wait_ready(const client::target_url& target, std::chrono::milliseconds timeout);
    /// True while the process runs (reaps it when it has ended).
    [[nodiscard]] bool running();
    /// The process's id (0 when not running).
    [[nodiscard]] pid_t pid() const;
    /// How many times start() ran.
    [[nodiscard]] int starts() const;
    /// RSS and descriptors of the running process.
    [[nodiscard]] process_sample sample() const;
    /// The last `bytes` of the log file (for messages when the agent does not start).
    [[nodiscard]] std::string log_tail(std::size_t bytes = 2000) const;
    [[nodiscard]] const launch_spec& spec() const noexcept { return spec_; }
    /// The command as started (with {data_dir} replaced).
    [[nodiscard]] std::string command() const;

private:
    std::optional<exit_info> reap(bool block);

    launch_spec spec_;
    mutable std::mutex mutex_;
    pid_t pid_ = 0;
    int starts_ = 0;
    std::chrono::steady_clock::time_point started_at_{};
    std::optional<exit_info> last_exit_;
};

/// Reads VmRSS and counts descriptors of any process (what managed_process::sample does).
process_sample sample_process(pid_t pid);

} // namespace agentcheck
