#include "reference/tests/integration/agentd_fixture.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "reference/tests/support/mint.hpp"

namespace agentd_test {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

std::string reply::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
}

struct conn::impl {
    net::io_context ioc;
    tcp::socket socket{ioc};
    boost::beast::flat_buffer buffer;
};

conn::conn(unsigned short port) : impl_(new impl) {
    try {
        impl_->socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    } catch (...) {
        delete impl_; // the destructor does not run when the constructor throws
        throw;
    }
    timeval tv{10, 0};
    setsockopt(impl_->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

conn::~conn() {
    delete impl_;
}

void conn::write_raw(const std::string& bytes) {
    net::write(impl_->socket, net::buffer(bytes));
}

reply conn::read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(false);
    http::read(impl_->socket, impl_->buffer, parser);
    reply r;
    auto& msg = parser.get();
    r.status = msg.result_int();
    for (const auto& f : msg) {
        std::string name(f.name_string());
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers.emplace(name, std::string(f.value()));
    }
    r.body = msg.body();
    return r;
}

reply conn::send(const std::string& method, const std::string& target, const std::string& body,
                 const std::vector<std::pair<std::string, std::string>>& headers) {
    std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    bool has_ct = false;
    for (const auto& [n, v] : headers) {
        raw += n + ": " + v + "\r\n";
        if (n == "Content-Type") has_ct = true;
    }
    (void)has_ct;
    if (!body.empty() || method == "POST" || method == "PUT")
        raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    raw += "\r\n" + body;
    write_raw(raw);
    if (method == "HEAD") {
        http::response_parser<http::empty_body> p;
        p.skip(true);
        http::read(impl_->socket, impl_->buffer, p);
        reply r;
        r.status = p.get().result_int();
        for (const auto& f : p.get()) {
            std::string name(f.name_string());
            for (auto& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers.emplace(name, std::string(f.value()));
        }
        return r;
    }
    return read();
}

bool conn::closed_within(std::chrono::milliseconds wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
        timeval tv{0, 50000};
        setsockopt(impl_->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        auto n = ::recv(impl_->socket.native_handle(), &c, 1, 0);
        if (n == 0) return true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;
    }
    return false;
}

std::string mint(const nlohmann::json& claims, const std::string& secret, const std::string& alg) {
    return agent::test_support::mint_hs256(claims, secret, alg);
}

std::string temp_dir() {
    static std::atomic<int> counter{0};
    std::mt19937_64 rng{std::random_device{}()};
    auto p = std::filesystem::temp_directory_path() /
             ("agentd-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
              std::to_string(rng() % 1000000));
    std::filesystem::create_directories(p);
    return p.string();
}

namespace {

std::string random_secret() {
    std::mt19937_64 rng{std::random_device{}()};
    std::string s;
    for (int i = 0; i < 48; ++i)
        s += static_cast<char>('a' + rng() % 26);
    return s;
}

int spawn(const std::vector<std::string>& args, const std::string& out_file,
          const std::vector<std::string>& env) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (!out_file.empty()) {
            FILE* f = std::fopen(out_file.c_str(), "w");
            if (f) {
                ::dup2(fileno(f), 1);
                ::dup2(fileno(f), 2);
            }
        }
        for (const auto& e : env)
            ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(AGENTD_PATH));
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(AGENTD_PATH, argv.data());
        ::_exit(127);
    }
    return pid;
}

int wait_exit(int pid, std::chrono::milliseconds wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1000; // did not exit in time
}

} // namespace

std::pair<int, std::string> run_agentd(const std::vector<std::string>& args,
                                       const std::vector<std::string>& env) {
    auto dir = temp_dir();
    auto out = dir + "/out.txt";
    int pid = spawn(args, out, env);
    int code = wait_exit(pid, std::chrono::seconds(20));
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    std::filesystem::remove_all(dir);
    return {code, ss.str()};
}

agentd_process::agentd_process(std::vector<std::string> extra_args, std::string data_dir,
                               std::vector<std::string> env, secret_via secret) {
    dir_ = temp_dir();
    own_data_dir_ = data_dir.empty();
    data_dir_ = own_data_dir_ ? dir_ + "/data" : std::move(data_dir);
    secret_ = random_secret();
    std::ofstream(dir_ + "/secret") << secret_ << "\n";
    std::vector<std::string> args = {"--port",     "0",       "--port-file", dir_ + "/port",
                                     "--data-dir", data_dir_, "--threads",   "2"};
    if (secret == secret_via::file) {
        args.emplace_back("--jwt-secret-file");
        args.push_back(dir_ + "/secret");
    } else {
        env.push_back("AGENT_JWT_SECRET=" + secret_);
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = spawn(args, dir_ + "/log.txt", env);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream pf(dir_ + "/port");
        unsigned p = 0;
        if (pf >> p && p) {
            port_ = static_cast<unsigned short>(p);
            break;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("agentd exited during start-up; see " + dir_ + "/log.txt");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!port_) throw std::runtime_error("agentd did not start within 15 s");
}

agentd_process::~agentd_process() {
    if (pid_ > 0) terminate();
    // A data directory given by the caller lives outside dir_ and is the caller's to remove.
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string agentd_process::token(const std::string& sub,
                                  const std::vector<std::string>& roles) const {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    return mint({{"sub", sub}, {"roles", roles}, {"iat", now}, {"exp", now + 3600}}, secret_);
}

int agentd_process::terminate(std::chrono::milliseconds wait) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int code = wait_exit(pid_, wait);
    pid_ = -1;
    return code;
}

std::chrono::milliseconds agentd_process::cpu_time() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    auto close = stat.rfind(')');
    if (close == std::string::npos) throw std::runtime_error("cannot read /proc/PID/stat");
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    long long utime = 0;
    long long stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoll(field);
        if (i == 15) stime = std::stoll(field);
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    return std::chrono::milliseconds((utime + stime) * 1000 / ticks);
}

std::string agentd_process::log() const {
    std::ifstream in(dir_ + "/log.txt");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void agentd_process::kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::vector<std::string> agentd_suite::extra_args_;
agentd_process* agentd_suite::process_ = nullptr;

void agentd_suite::SetUpTestSuite() {
    if (!process_) process_ = new agentd_process(extra_args_);
}

void agentd_suite::TearDownTestSuite() {
    delete process_;
    process_ = nullptr;
}

std::string agentd_suite::unique_name(const std::string& hint) {
    static std::mt19937_64 rng{std::random_device{}()};
    std::ostringstream os;
    os << hint << "-" << std::hex << rng();
    return os.str();
}

nlohmann::json agentd_suite::create(const std::string& token, nlohmann::json body) {
    if (!body.is_object()) body = nlohmann::json::object();
    if (!body.contains("name")) body["name"] = unique_name();
    if (!body.contains("version")) body["version"] = "1.0.0";
    conn c(process_->port());
    auto r = c.send("POST", "/agents", body.dump(),
                    {{"Authorization", bearer(token)}, {"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? r.json() : nlohmann::json();
}

} // namespace agentd_test
