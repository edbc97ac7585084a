#pragma once
// `agentcheck replay FILE`: a check's requests saved beside the report (format
// agentcheck-replay/1) and sent again, byte for byte, in order — for the checks whose
// reproduction is more than one curl line (sequences, raw connections, held heads).

#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "conformance/client/http.hpp"
#include "conformance/harness/results.hpp"

namespace agentcheck {

/// The replay document of a check's last attempt. Steps whose bytes were not kept (over
/// replay_bytes_max) or dropped (past recorded_exchanges_max) are counted in "missing".
nlohmann::json replay_document(const check_result& r, const client::target_url& target,
                               std::uint64_t seed);

/// Where a check's replay document is written under a report directory:
/// DIR/replay/<check id>.json.
std::filesystem::path replay_path(const std::filesystem::path& report_dir,
                                  const std::string& check_id);

/// What `agentcheck replay` was asked.
struct replay_options {
    /// Where to send; unset = the target the document was recorded against.
    std::optional<client::target_url> target;
    bool allow_non_loopback = false;
    std::string secret; ///< the HS256 secret the credentials are minted with
    std::chrono::milliseconds timeout{10000};
    bool keep_agents = false; ///< do not delete the agents the replay created
    std::string ca_file;      ///< https: the CAs to trust (--ca-file)
    bool insecure = false;    ///< https: no certificate check (--insecure)
};

/// What a replay found.
struct replay_outcome {
    std::size_t steps = 0;
    std::size_t same = 0;      ///< steps answered with the recorded status (or none, as recorded)
    std::size_t different = 0; ///< steps answered otherwise
};

/// Sends every step of `doc` again, in order: server-made values of earlier answers (the
/// "id" of a created agent, an ETag) are replaced by the ones this replay received, each
/// credential is minted again with opts.secret, and each step's status is printed beside the
/// recorded one. Agents the replay created are deleted after it (as admin) unless
/// opts.keep_agents. Throws std::invalid_argument on a document that is not
/// agentcheck-replay/1 and client::transport_exception when the target cannot be reached.
replay_outcome replay(const nlohmann::json& doc, const replay_options& opts, std::ostream& out);

} // namespace agentcheck
