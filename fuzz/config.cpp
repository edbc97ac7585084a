// agentd's configuration: a --config file (CLI11's TOML/INI reader) and command-line flags.
// The first byte picks which: even, the rest is the file's text (agentd --config FILE); odd,
// the rest is the arguments, separated by NUL bytes (agentd ARG...).
//
// Whatever the text, parse_config either returns a configuration that passes its own checks
// or throws agent::config_error (which agentd prints, naming the option) — never another
// exception, a crash or undefined behaviour.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/support.hpp"
#include "reference/config/config.hpp"

namespace {

/// A scratch file for the config text, made once per process and removed at exit.
const std::string& scratch_path() {
    static const std::string path = [] {
        const char* dir = std::getenv("TMPDIR");
        std::string tmpl = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") +
                           "/agentd-fuzz-config-XXXXXX";
        const int fd = ::mkstemp(tmpl.data());
        fuzz::require(fd >= 0, "a scratch file can be made");
        ::close(fd);
        static const std::string keep = tmpl;
        std::atexit([] { ::unlink(keep.c_str()); });
        return tmpl;
    }();
    return path;
}

} // namespace

/// libFuzzer entry point.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto text = fuzz::as_text(data + 1, size - 1);
    std::vector<std::string> args{"agentd"};
    if ((data[0] & 1) == 0) {
        {
            std::ofstream out(scratch_path(), std::ios::binary | std::ios::trunc);
            out.write(text.data(), static_cast<std::streamsize>(text.size()));
        }
        args.emplace_back("--config");
        args.push_back(scratch_path());
    } else {
        std::string arg;
        for (const char c : text) {
            if (c == '\0') {
                args.push_back(arg);
                arg.clear();
            } else {
                arg.push_back(c);
            }
        }
        if (!arg.empty()) args.push_back(arg);
    }
    std::vector<const char*> argv;
    for (const auto& a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    try {
        const auto outcome = agent::parse_config(static_cast<int>(args.size()), argv.data());
        if (!outcome.exit_now) {
            // What parse_config returns has passed its value checks: a second check agrees.
            try {
                agent::validate(outcome.cfg);
            } catch (const agent::config_error& e) {
                // Only the key rule may fail here (no key configured is checked at start-up).
                fuzz::require(std::string(e.what()).find("JWT") != std::string::npos ||
                                  std::string(e.what()).find("secret") != std::string::npos,
                              "a parsed configuration passes its own value checks");
            }
        }
    } catch (const agent::config_error&) {
        // A clear refusal naming the option: what agentd prints.
    }
    return 0;
}
