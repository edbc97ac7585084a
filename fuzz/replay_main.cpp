// A main() for a fuzz target without libFuzzer: runs LLVMFuzzerTestOneInput once on every file
// named on the command line (directories are walked, in name order), so that ctest replays the
// seeds and the crashes found so far with any compiler. Exits 1 when a path cannot be read
// or holds no file; a crashing input ends the process as it would under libFuzzer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

/// The fuzz target this executable is linked with.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

/// The regular files at path (itself, or every file below it), sorted; false if it is neither.
bool collect(const std::filesystem::path& path, std::vector<std::filesystem::path>& out) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) {
        out.push_back(path);
        return true;
    }
    if (!std::filesystem::is_directory(path, ec)) return false;
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec))
        if (entry.is_regular_file()) found.push_back(entry.path());
    if (ec) return false;
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
    return true;
}

} // namespace

/// Replays every input named on the command line; prints how many ran.
int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " FILE_OR_DIR...\n";
        return 2;
    }
    std::vector<std::filesystem::path> inputs;
    for (int i = 1; i < argc; ++i) {
        if (!collect(argv[i], inputs)) {
            std::cerr << argv[0] << ": " << argv[i] << " is not a readable file or directory\n";
            return 1;
        }
    }
    if (inputs.empty()) {
        std::cerr << argv[0] << ": no inputs found\n";
        return 1;
    }
    for (const auto& file : inputs) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << argv[0] << ": cannot read " << file.string() << "\n";
            return 1;
        }
        const std::string bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
        // Named first, so that the input that crashes is the last one shown.
        std::cerr << "input " << file.string() << "\n";
        // An empty string's data() is still a valid pointer, as libFuzzer's empty input is.
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    std::cout << argv[0] << ": ran " << inputs.size() << " input" << (inputs.size() == 1 ? "" : "s")
              << "\n";
    return 0;
}
