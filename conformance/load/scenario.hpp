#pragma once
// What a load run sends: weighted operations with placeholders, the agents set up before and
// deleted after. Scenarios are data (fixtures/load/*.json); a bad one is refused with the
// field and the reason.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/client/http.hpp"

namespace agentcheck::load {

/// A scenario, an option or a threshold that cannot be used: the message names the field or
/// flag and the reason (the CLI reports it as a usage error, exit 2).
struct spec_error : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

/// One weighted operation. In `path` and `body` (any string inside it), "{agent}" becomes
/// the id of one of the agents created in setup (chosen at random), "{uniq}" a string unique
/// to the request (16 hex digits: the run, the shard, the thread and a counter).
struct operation {
    std::string name;
    double weight = 1;
    std::string method = "GET";
    std::string path = "/";
    std::optional<nlohmann::json> body;
    std::string identity;         ///< "" = no Authorization; else viewer, operator, admin, …
    std::vector<int> expect;      ///< statuses that count as success; empty = any 2xx
    std::string requires_feature; ///< skipped (with a note) unless discovery declares it
    [[nodiscard]] bool expected(int status) const;
};

struct scenario {
    std::string name = "default";
    std::string description;
    std::size_t setup_agents = 0; ///< agents created before the run (split across shards)
    bool delete_created = true;   ///< teardown deletes the setup agents and any made by the run
    int event_subscribers = 0;    ///< WebSocket clients held open on /events/stream
    std::vector<operation> operations;
};

/// Parses a scenario document; spec_error naming the field (e.g. "operations[2].weight: must
/// be a positive number") on anything wrong or unknown.
scenario parse_scenario(const nlohmann::json& doc);
/// Reads and parses a scenario file; spec_error names the file too.
scenario load_scenario_file(const std::string& path);
/// The scenario used without --scenario: GET /health only (what every agent has).
scenario default_scenario();

/// A request template with its placeholders found once: rendering one request is joining
/// pieces, with the Content-Length of the rendered body.
class compiled_request {
public:
    compiled_request(const client::target_url& target, const operation& op,
                     const std::string& token);
    /// The bytes to send. `agent` replaces {agent}, `uniq` replaces {uniq}.
    void render(std::string& out, std::string_view agent, std::string_view uniq) const;
    [[nodiscard]] bool uses_agent() const noexcept { return uses_agent_; }

private:
    struct piece {
        enum class kind { literal, agent, uniq } k = kind::literal;
        std::string text;
    };
    static std::vector<piece> split(std::string_view s);
    static void append(std::string& out, const std::vector<piece>& pieces, std::string_view agent,
                       std::string_view uniq);
    std::vector<piece> head_; ///< up to and including "Content-Length: " (or the whole head)
    std::vector<piece> tail_; ///< the rest of the head after the length
    std::vector<piece> body_;
    bool has_length_ = false;
    bool uses_agent_ = false;
};

} // namespace agentcheck::load
