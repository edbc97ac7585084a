#include "conformance/harness/replay.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

#include "conformance/client/jwt.hpp"
#include "conformance/harness/identities.hpp"
#include "conformance/harness/run_context.hpp"
#include "conformance/harness/runner.hpp"
#include "conformance/harness/text.hpp"
#include "conformance/harness/token_variants.hpp"

namespace agentcheck {

namespace {

using json = nlohmann::json;

constexpr std::string_view replay_format = "agentcheck-replay/1";
constexpr int status_created = 201;
/// How long the last GET of a poll is repeated, and how often, until the recorded status.
constexpr auto poll_patience = std::chrono::seconds(10);
constexpr auto poll_interval = std::chrono::milliseconds(50);

/// True when nlohmann can write s as a JSON string (valid UTF-8).
bool is_utf8(const std::string& s) {
    try {
        (void)json(s).dump();
        return true;
    } catch (const json::exception&) {
        return false;
    }
}

/// The request line of a step's bytes, for printing ("POST /agents").
std::string request_line(std::string_view bytes) {
    auto line = bytes.substr(0, std::min(bytes.find("\r\n"), bytes.find('\n')));
    if (const auto v = line.rfind(" HTTP/"); v != std::string_view::npos) line = line.substr(0, v);
    return text::truncate(std::string(line), 120);
}

/// A status, or "no response" for none (-1).
std::string outcome_text(int status) {
    return status >= 0 ? std::to_string(status) : std::string("no response");
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    if (from.empty() || from == to) return;
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

long long now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// "now+3600" → seconds since the epoch (the claims of a replayed bad token).
json resolve_relative(json claims, long long now) {
    for (const char* k : {"exp", "nbf", "iat"}) {
        if (!claims.contains(k) || !claims[k].is_string()) continue;
        const auto t = claims[k].get<std::string>();
        if (t.rfind("now", 0) != 0) continue;
        try {
            claims[k] = now + (t.size() > 3 ? std::stoll(t.substr(3)) : 0);
        } catch (const std::exception&) {
        }
    }
    return claims;
}

/// Mints a step's credential again.
std::string mint_again(const json& spec, const identity_set& ids, const json& discovery,
                       const std::string& secret) {
    const long long now = now_seconds();
    if (spec.contains("variant")) {
        return mint_token_variant(spec["variant"].get<std::string>(),
                                  ids.claims(spec.value("identity", std::string("admin"))),
                                  discovery, now, secret)
            .token;
    }
    if (spec.contains("claims")) {
        const auto header =
            spec.contains("header") && spec["header"].is_object() && !spec["header"].empty()
                ? spec["header"]
                : json{{"alg", "HS256"}, {"typ", "JWT"}};
        return client::mint(header, resolve_relative(spec["claims"], now), secret);
    }
    return ids.token(spec.value("identity", std::string("viewer")));
}

} // namespace

json replay_document(const check_result& r, const client::target_url& target, std::uint64_t seed) {
    json steps = json::array();
    std::size_t missing = r.dropped_exchanges;
    for (const auto& ex : r.exchanges) {
        if (!ex.replay) {
            ++missing;
            continue;
        }
        const auto& s = *ex.replay;
        json step = {{"request", request_line(s.bytes)}};
        if (is_utf8(s.bytes))
            step["bytes"] = s.bytes;
        else
            step["bytes_b64url"] = client::b64url(s.bytes);
        if (!s.credential.is_null()) step["credential"] = s.credential;
        step["connection"] = s.own_connection ? "own" : "kept";
        if (s.hold.count() > 0) step["hold_s"] = s.hold.count();
        if (s.head) step["head"] = true;
        step["recorded_status"] = s.status ? json(*s.status) : json(nullptr);
        if (!s.id.empty()) step["recorded_id"] = s.id;
        if (!s.etag.empty()) step["recorded_etag"] = s.etag;
        if (!s.state.empty()) step["recorded_state"] = s.state;
        step["at_ms"] = s.at.count();
        steps.push_back(std::move(step));
    }
    return {{"format", replay_format},  {"check", r.id},
            {"title", r.title},         {"verdict", to_string(r.outcome)},
            {"target", target.base()},  {"seed", seed},
            {"missing_steps", missing}, {"concurrent", r.concurrent},
            {"alone", r.alone},         {"depends_on", r.depends_on},
            {"steps", std::move(steps)}};
}

std::filesystem::path replay_path(const std::filesystem::path& report_dir,
                                  const std::string& check_id) {
    return report_dir / "replay" / (check_id + ".json");
}

replay_outcome replay(const json& doc, const replay_options& opts, std::ostream& out) {
    if (!doc.is_object() || doc.value("format", std::string()) != replay_format ||
        !doc.contains("steps") || !doc["steps"].is_array()) {
        throw std::invalid_argument("not an agentcheck-replay/1 document");
    }
    client::target_url target;
    if (opts.target) {
        target = *opts.target;
    } else {
        const auto parsed = client::target_url::parse(doc.value("target", std::string()));
        if (!parsed) throw std::invalid_argument("the document's \"target\" is not a URL");
        target = *parsed;
    }
    if (!target.tls() && (!opts.ca_file.empty() || opts.insecure))
        throw std::invalid_argument("--ca-file and --insecure apply to https:// targets only");
    target.ca_file = opts.ca_file;
    target.insecure = opts.insecure;
    if (!target.is_loopback() && !opts.allow_non_loopback)
        throw std::invalid_argument("the target " + target.base() +
                                    " is not loopback (--allow-non-loopback to allow it)");
    const auto discovered = fetch_discovery(target, opts.timeout);
    if (!discovered.document)
        throw client::transport_exception(client::transport_error::connect, discovered.error);
    const json& discovery = *discovered.document;
    const identity_set ids(opts.secret, "replay" + random_run_id(), discovery, now_seconds());

    out << "replaying " << doc.value("check", std::string("?")) << " against " << target.base()
        << " (" << doc["steps"].size() << " steps";
    if (doc.value("missing_steps", 0) > 0)
        out << "; the first " << doc.value("missing_steps", 0) << " were not kept";
    out << ")\n";
    if (!doc.value("depends_on", std::string()).empty())
        out << "  note: the agent's answers depended on " << doc.value("depends_on", std::string())
            << ", which this replay does not run: they may differ\n";
    if (doc.value("concurrent", false))
        out << "  note: the check sent these requests at the same time; one after another, "
               "the agent may answer them otherwise\n";

    std::map<std::string, std::string> server_values; // recorded → this replay's
    std::vector<std::string> created;
    std::unique_ptr<client::connection> kept;
    replay_outcome result;
    std::size_t n = 0;
    std::size_t polls = 0;
    std::string previous_line;
    const bool settles =
        doc.value("depends_on", std::string()).empty() && !doc.value("concurrent", false);
    const auto started = std::chrono::steady_clock::now();
    for (const auto& step : doc["steps"]) {
        ++n;
        std::string bytes;
        if (step.contains("bytes")) {
            bytes = step["bytes"].get<std::string>();
        } else {
            auto decoded = client::b64url_decode(step.value("bytes_b64url", std::string()));
            if (!decoded) throw std::invalid_argument("step " + std::to_string(n) + ": bad bytes");
            bytes = std::move(*decoded);
        }
        for (const auto& [from, to] : server_values)
            replace_all(bytes, from, to);
        if (step.contains("credential")) {
            replace_all(bytes, std::string(replay_token_placeholder),
                        mint_again(step["credential"], ids, discovery, opts.secret));
        }
        const bool head = step.value("head", false);
        const auto hold = std::chrono::seconds(step.value("hold_s", 0));
        // Keep the recorded pace: a step is not sent before its time from the first.
        if (step.contains("at_ms") && step["at_ms"].is_number_integer())
            std::this_thread::sleep_until(
                started + std::chrono::milliseconds(step["at_ms"].get<long long>()));
        std::optional<client::response> resp;
        std::string failure;
        auto send_once = [&] {
            resp.reset();
            failure.clear();
            try {
                if (step.value("connection", std::string("kept")) == "own") {
                    const auto wait = std::max(opts.timeout, std::chrono::milliseconds(hold) +
                                                                 std::chrono::seconds(2));
                    client::connection c(target, wait);
                    try {
                        c.write_raw(bytes);
                    } catch (const client::transport_exception&) {
                        // An agent may answer and close before it has taken the whole request
                        // (a body over its limit): what it answered is still to be read.
                    }
                    resp = c.read_response(head);
                } else {
                    for (int attempt = 0; attempt < 2 && !resp; ++attempt) {
                        if (!kept)
                            kept = std::make_unique<client::connection>(target, opts.timeout);
                        try {
                            kept->write_raw(bytes);
                            resp = kept->read_response(head);
                        } catch (const client::transport_exception&) {
                            const bool stale = kept->closed_before_response();
                            kept.reset();
                            if (!stale || attempt == 1) throw;
                        }
                    }
                    if (resp && text::lower(resp->header("Connection").value_or("")) == "close")
                        kept.reset();
                }
            } catch (const client::transport_exception& e) {
                failure = std::string(client::to_string(e.kind())) + ": " + e.what();
            }
        };
        send_once();
        // The last of a run of the same GET is a poll that ended when the resource reached the
        // recorded "status" (a task dead-lettered, say): ask again until it has here too.
        const std::string line = step.value("request", request_line(bytes));
        const auto* next = n < doc["steps"].size() ? &doc["steps"][n] : nullptr;
        // (Not when the answers depended on something the replay does not run, or on
        // requests sent at the same time: the status may never come.)
        const bool last_poll = settles && bytes.rfind("GET ", 0) == 0 && line == previous_line &&
                               step.contains("recorded_state") &&
                               (next == nullptr || next->value("request", std::string()) != line);
        if (last_poll) {
            const auto want = step["recorded_state"].get<std::string>();
            const auto patience = std::chrono::steady_clock::now() + poll_patience;
            auto state_of = [&] {
                auto b = resp ? resp->json() : std::nullopt;
                return b && b->is_object() && b->contains("status") && (*b)["status"].is_string()
                           ? (*b)["status"].get<std::string>()
                           : std::string();
            };
            while (resp && state_of() != want && std::chrono::steady_clock::now() < patience) {
                std::this_thread::sleep_for(poll_interval);
                send_once();
                ++polls;
            }
        }
        previous_line = line;
        // -1: no response (an int, not an optional: GCC's -O3 warns falsely on the latter).
        const int recorded =
            step.contains("recorded_status") && step["recorded_status"].is_number_integer()
                ? step["recorded_status"].get<int>()
                : -1;
        const int got = resp ? resp->status : -1;
        const bool same = got == recorded;
        ++result.steps;
        (same ? result.same : result.different) += 1;
        out << "  " << n << ". " << step.value("request", request_line(bytes)) << " → "
            << outcome_text(got);
        if (!failure.empty()) out << " (" << failure << ")";
        out << (same ? "  (as recorded)" : "  (recorded: " + outcome_text(recorded) + ")") << "\n";
        if (!resp) continue;
        // Values the server made: this replay's stand in for the recorded ones from now on.
        const auto body = resp->json();
        const std::string new_id =
            body && body->is_object() && body->contains("id") && (*body)["id"].is_string()
                ? (*body)["id"].get<std::string>()
                : std::string();
        if (step.contains("recorded_id") && !new_id.empty())
            server_values[step["recorded_id"].get<std::string>()] = new_id;
        if (step.contains("recorded_etag") && resp->header("ETag"))
            server_values[step["recorded_etag"].get<std::string>()] = *resp->header("ETag");
        if (resp->status == status_created && !new_id.empty() && bytes.rfind("POST ", 0) == 0)
            created.push_back(new_id);
    }
    if (!opts.keep_agents && !created.empty()) {
        try {
            client::http_client admin(target, opts.timeout);
            for (const auto& id : created) {
                client::request req("DELETE", "/agents/" + id);
                req.bearer(ids.token("admin"));
                (void)admin.send(req);
            }
        } catch (const client::transport_exception& e) {
            out << "  (could not delete the agents the replay created: " << e.what() << ")\n";
        }
    }
    if (polls > 0)
        out << "  (" << polls << " poll" << (polls == 1 ? "" : "s")
            << " repeated until the resource reached its recorded status)\n";
    out << (result.different == 0
                ? "every step answered as recorded"
                : std::to_string(result.different) + " of " + std::to_string(result.steps) +
                      " steps answered otherwise than recorded")
        << "\n";
    return result;
}

} // namespace agentcheck
