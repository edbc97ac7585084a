#include "conformance/harness/process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace agentcheck {

namespace {

constexpr auto ready_poll_interval = std::chrono::milliseconds(5);
constexpr auto exit_poll_interval = std::chrono::milliseconds(5);
constexpr auto ready_request_timeout = std::chrono::milliseconds(1000);

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

exit_info from_wait_status(int st) {
    exit_info e;
    if (WIFEXITED(st)) {
        e.exited = true;
        e.code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        e.signal = WTERMSIG(st);
    }
    return e;
}

} // namespace

std::string exit_info::describe() const {
    if (exited) return "exit " + std::to_string(code);
    const char* name = sigabbrev_np(signal);
    return std::string("killed by ") +
           (name != nullptr ? std::string("SIG") + name : "signal " + std::to_string(signal));
}

managed_process::managed_process(launch_spec spec) : spec_(std::move(spec)) {}

managed_process::~managed_process() {
    kill_now();
}

std::string managed_process::command() const {
    if (spec_.data_dir.empty()) return spec_.command; // nothing to put there: left as written
    return replace_all(spec_.command, "{data_dir}", spec_.data_dir);
}

void managed_process::start() {
    std::lock_guard lock(mutex_);
    if (pid_ != 0) throw std::runtime_error("the agent's process is already running");
    if (!spec_.data_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(spec_.data_dir, ec);
        if (ec)
            throw std::runtime_error("--data-dir: cannot create \"" + spec_.data_dir +
                                     "\": " + ec.message());
    }
    // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
    const std::string shell_line = "exec " + command();
    std::vector<std::string> env_strings;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
        if (std::strncmp(*e, "AGENTCHECK_DATA_DIR=", 20) != 0) env_strings.emplace_back(*e);
    if (!spec_.data_dir.empty()) env_strings.push_back("AGENTCHECK_DATA_DIR=" + spec_.data_dir);
    std::vector<char*> envp;
    for (auto& s : env_strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    const char* log = spec_.log_file.empty() ? "/dev/null" : spec_.log_file.c_str();
    const int log_fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
        throw std::runtime_error("cannot open the agent's log \"" + std::string(log) +
                                 "\": " + std::strerror(errno));
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const pid_t child = ::fork();
    if (child < 0) {
        const int err = errno;
        ::close(log_fd);
        if (null_fd >= 0) ::close(null_fd);
        throw std::runtime_error(std::string("fork: ") + std::strerror(err));
    }
    if (child == 0) {
        ::setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT})
            ::signal(sig, SIG_DFL);
        if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        const char* argv[] = {"sh", "-c", shell_line.c_str(), nullptr};
        ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
        ::_exit(127);
    }
    ::setpgid(child, child); // also here: whichever runs first, the group exists before use
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    pid_ = child;
    ++starts_;
    started_at_ = std::chrono::steady_clock::now();
    last_exit_.reset();
}

std::optional<exit_info> managed_process::reap(bool block) {
    // mutex_ held by the caller
    if (pid_ == 0) return std::nullopt;
    int st = 0;
    pid_t r = 0;
    do {
        r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return std::nullopt;
    exit_info e = r < 0 ? exit_info{true, -1, 0} : from_wait_status(st);
    // The group may still hold children the command started: they go with it.
    ::kill(-pid_, SIGKILL);
    pid_ = 0;
    last_exit_ = e;
    return e;
}

bool managed_process::running() {
    std::lock_guard lock(mutex_);
    reap(false);
    return pid_ != 0;
}

bool managed_process::signal(int sig) {
    std::lock_guard lock(mutex_);
    reap(false);
    if (pid_ == 0) return false;
    return ::kill(pid_, sig) == 0;
}

std::optional<exit_info> managed_process::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        {
            std::lock_guard lock(mutex_);
            if (pid_ == 0) return last_exit_;
            if (auto e = reap(false)) return e;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(exit_poll_interval);
    }
}

std::optional<exit_info> managed_process::kill_now() {
    std::lock_guard lock(mutex_);
    if (pid_ == 0) return std::nullopt;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    return reap(true);
}

ready_outcome managed_process::wait_ready(const client::target_url& target,
                                          std::chrono::milliseconds timeout) {
    ready_outcome out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::chrono::steady_clock::time_point started;
    {
        std::lock_guard lock(mutex_);
        started = started_at_;
    }
    while (true) {
        {
            std::lock_guard lock(mutex_);
            reap(false);
            if (pid_ == 0) {
                out.exited = last_exit_;
                out.why = "the process ended before it was ready (" +
                          (last_exit_ ? last_exit_->describe() : std::string("not started")) + ")";
                return out;
            }
        }
        int status = 0;
        try {
            client::http_client http(target, ready_request_timeout);
            status = http.send(client::request("GET", "/readyz")).status;
        } catch (const client::transport_exception&) {
            status = 0;
        }
        if (status == 200) {
            out.ready = true;
            out.since_start = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - started);
            return out;
        }
        ++out.before[status];
        if (std::chrono::steady_clock::now() >= deadline) {
            out.why = "GET /readyz did not answer 200 within " + std::to_string(timeout.count()) +
                      " ms (last: " +
                      (status == 0 ? std::string("no connection") : std::to_string(status)) + ")";
            return out;
        }
        std::this_thread::sleep_for(ready_poll_interval);
    }
}

pid_t managed_process::pid() const {
    std::lock_guard lock(mutex_);
    return pid_;
}

int managed_process::starts() const {
    std::lock_guard lock(mutex_);
    return starts_;
}

process_sample managed_process::sample() const {
    const pid_t p = pid();
    return p == 0 ? process_sample{} : sample_process(p);
}

std::string managed_process::log_tail(std::size_t bytes) const {
    if (spec_.log_file.empty()) return {};
    std::ifstream in(spec_.log_file, std::ios::binary);
    if (!in) return {};
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(in.tellg());
    const auto from = size > bytes ? size - bytes : 0;
    in.seekg(static_cast<std::streamoff>(from));
    std::string out(size - from, '\0');
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    return out;
}

process_sample sample_process(pid_t pid) {
    process_sample s;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            try {
                s.rss_kib = std::stoll(line.substr(6));
            } catch (const std::exception&) {
                s.rss_kib = -1;
            }
            break;
        }
    }
    std::error_code ec;
    int n = 0;
    for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
         !ec && it != end; it.increment(ec))
        ++n;
    if (!ec) s.fds = n;
    return s;
}

} // namespace agentcheck
