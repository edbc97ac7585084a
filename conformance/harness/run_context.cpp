#include "conformance/harness/run_context.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <thread>

#include "conformance/client/jwt.hpp"
#include "conformance/harness/text.hpp"
#include "conformance/harness/token_variants.hpp"

namespace agentcheck {

namespace {

constexpr int status_created = 201;
constexpr int status_no_content = 204;
constexpr int status_not_found = 404;
constexpr std::size_t name_suffix_hex = 8;
constexpr std::uint32_t name_suffix_mask = 0xffffffffU;
constexpr std::string_view name_prefix = "ac-";
/// Keeps the name sequence apart from the check's own random choices (same seed).
constexpr std::uint64_t names_stream = 0x9e3779b97f4a7c15ULL;
/// Time the cleanup of fixtures may take after the check's own deadline.
constexpr std::chrono::milliseconds cleanup_grace{5000};
/// How much of a body a fixture failure quotes.
constexpr std::size_t fixture_body_excerpt = 512;

std::string sanitize_hint(std::string_view hint) {
    std::string out;
    for (char ch : hint) {
        const auto c = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(ch)));
        out.push_back(std::isalnum(c) != 0 && c < 0x80 ? static_cast<char>(c) : '-');
    }
    while (!out.empty() && out.back() == '-')
        out.pop_back();
    return out.empty() ? std::string("agent") : out;
}

} // namespace

namespace {

/// A body too large for a command line as a shell process substitution, when it is mostly
/// one repeated byte (the over-limit bodies the checks send): prefix, N times c, suffix.
std::optional<std::string> generated_body(std::string_view body) {
    std::size_t best_start = 0;
    std::size_t best_len = 0;
    for (std::size_t i = 0; i < body.size();) {
        std::size_t j = i;
        while (j < body.size() && body[j] == body[i])
            ++j;
        if (j - i > best_len) {
            best_start = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len + curl_body_bytes < body.size()) return std::nullopt; // not mostly one byte
    std::array<char, 8> octal{};
    std::snprintf(octal.data(), octal.size(), "\\%03o",
                  static_cast<unsigned>(static_cast<unsigned char>(body[best_start])));
    return "@<(printf '%s' " + text::shell_quote(std::string(body.substr(0, best_start))) +
           "; head -c " + std::to_string(best_len) + " /dev/zero | tr '\\000' '" + octal.data() +
           "'; printf '%s' " + text::shell_quote(std::string(body.substr(best_start + best_len))) +
           ")";
}

} // namespace

exchange make_exchange(const client::target_url& target, const client::request& req,
                       const client::response* resp, std::string note, bool hide_tokens) {
    exchange ex;
    if (!client::curl_can_send(req)) {
        // curl would add a Host header or chunk the body again: send the exact bytes.
        ex.curl = client::to_raw_repro(target, client::serialize_request(target, req));
    } else if (req.body.size() <= curl_body_bytes) {
        ex.curl = client::to_curl(target, req, hide_tokens);
    } else if (auto generated = generated_body(req.body)) {
        auto without = req;
        without.body.clear();
        ex.curl = client::to_curl(target, without, hide_tokens) + " --data-binary " + *generated;
    } else {
        auto shortened = req;
        shortened.body = req.body.substr(0, curl_body_bytes);
        ex.curl = client::to_curl(target, shortened, hide_tokens) + "  # body cut from " +
                  std::to_string(req.body.size()) + " bytes";
    }
    auto step = std::make_shared<replay_step>();
    step->bytes = client::serialize_request(target, req);
    step->head = req.method == "HEAD";
    if (resp != nullptr) {
        step->status = resp->status;
        if (auto etag = resp->header("ETag")) step->etag = *etag;
        if (auto body = resp->json();
            body && body->is_object() && body->contains("id") && (*body)["id"].is_string())
            step->id = (*body)["id"].get<std::string>();
        if (auto body = resp->json();
            body && body->is_object() && body->contains("status") && (*body)["status"].is_string())
            step->state = (*body)["status"].get<std::string>();
    }
    if (step->bytes.size() <= replay_bytes_max) ex.replay = std::move(step);
    ex.request = client::redacted(req);
    ex.request.body = text::truncate(ex.request.body, recorded_body_bytes);
    if (resp != nullptr) {
        ex.response = *resp;
        ex.response->body = text::truncate(resp->body, recorded_body_bytes);
        ex.duration = resp->elapsed;
    }
    ex.note = std::move(note);
    return ex;
}

run_context::run_context(const run_environment& env, const check& c,
                         std::chrono::steady_clock::time_point deadline)
    : env_(env), check_(c), deadline_(deadline), http_(env.target, env.request_timeout),
      rng_(env.seed ^ text::fnv1a(c.id)),
      // Names follow --seed too, so a re-run with the same seed sends the same bytes; the
      // agents a check made are deleted after it (whatever the create answered), so a
      // re-run does not meet its own names.
      names_(env.seed ^ text::fnv1a(c.id) ^ names_stream) {}

run_context::~run_context() = default;

const client::target_url& run_context::target() const {
    return env_.target;
}

const nlohmann::json& run_context::discovery() const {
    return env_.discovery;
}

bool run_context::has_feature(std::string_view name) const {
    const auto it = env_.discovery.find("features");
    if (it == env_.discovery.end() || !it->is_array()) return false;
    return std::any_of(it->begin(), it->end(), [&](const nlohmann::json& f) {
        return f.is_string() && f.get<std::string>() == name;
    });
}

long long run_context::limit(std::string_view name, long long fallback) const {
    const auto limits = env_.discovery.find("limits");
    if (limits == env_.discovery.end() || !limits->is_object()) return fallback;
    const auto it = limits->find(std::string(name));
    if (it == limits->end() || !it->is_number_integer()) return fallback;
    return it->get<long long>();
}

std::chrono::milliseconds run_context::operation_timeout() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
        throw client::transport_exception(client::transport_error::timeout,
                                          "check " + check_.id + " ran past its time limit");
    }
    return std::min(env_.request_timeout, left);
}

namespace {

/// "now+3600" for a time claim minted at `at`, so that a replay later means the same.
nlohmann::json relative_times(nlohmann::json claims, long long at) {
    for (const char* k : {"exp", "nbf", "iat"}) {
        if (!claims.contains(k) || !claims[k].is_number()) continue;
        const auto delta = static_cast<long long>(std::llround(claims[k].get<double>())) - at;
        claims[k] = "now" + std::string(delta < 0 ? "-" : "+") + std::to_string(std::llabs(delta));
    }
    return claims;
}

} // namespace

void run_context::keep(exchange ex, const client::request& original, const raw_bytes* raw) {
    // Say how to make the token $AGENTCHECK_TOKEN stands for, so the reproduction replays.
    if (const auto auth = original.header("Authorization"); auth && !ex.curl.empty()) {
        const auto space = auth->find(' ');
        const std::string credential = space == std::string::npos ? *auth : auth->substr(space + 1);
        std::string how;
        nlohmann::json spec; // how replay mints it again
        for (const auto name : identities) {
            if (credential == env_.identities.token(name)) {
                how = "agentcheck token --identity " + std::string(name);
                spec = {{"identity", name}};
                break;
            }
        }
        if (const auto it = minted_.find(credential);
            how.empty() && it != minted_.end() && !it->second.variant.empty()) {
            how = "agentcheck token --variant " + it->second.variant +
                  (it->second.identity == "admin" ? std::string()
                                                  : " --identity " + it->second.identity) +
                  " --target " + text::shell_quote(env_.target.base());
            spec = {{"variant", it->second.variant}, {"identity", it->second.identity}};
        } else if (how.empty() && it != minted_.end()) {
            how = "agentcheck token --claims " +
                  text::shell_quote(relative_times(it->second.claims, it->second.at).dump()) +
                  (it->second.header.is_object() && !it->second.header.empty()
                       ? " --header " + text::shell_quote(it->second.header.dump())
                       : std::string());
            spec = {{"claims", relative_times(it->second.claims, it->second.at)},
                    {"header", it->second.header}};
        }
        if (how.empty()) {
            // Not a credential the harness can mint again (a made-up or tampered value):
            // the reproduction carries it as it was sent.
            ex.curl = raw != nullptr
                          ? client::to_raw_repro(env_.target, raw->bytes, raw->hold, false)
                          : make_exchange(env_.target, original, nullptr, {}, false).curl;
        } else {
            const std::string file =
                env_.secret_file.empty()
                    ? std::string() // AGENTCHECK_JWT_SECRET
                    : " --jwt-secret-file " + text::shell_quote(env_.secret_file);
            ex.curl = "AGENTCHECK_TOKEN=$(" + how + file + "); " + ex.curl;
            if (ex.replay) {
                auto step = std::make_shared<replay_step>(*ex.replay);
                const auto at = step->bytes.find(credential);
                if (at != std::string::npos)
                    step->bytes.replace(at, credential.size(), replay_token_placeholder);
                step->credential = std::move(spec);
                ex.replay = std::move(step);
            }
        }
    }
    if (ex.replay) {
        // Sent when its answer began to take: now less the time it took.
        const auto sent =
            std::chrono::steady_clock::now() -
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(ex.duration);
        if (!first_sent_) first_sent_ = sent;
        auto step = std::make_shared<replay_step>(*ex.replay);
        step->at =
            std::max(std::chrono::milliseconds(0),
                     std::chrono::duration_cast<std::chrono::milliseconds>(sent - *first_sent_));
        ex.replay = std::move(step);
    }
    exchanges_.push_back(std::move(ex));
    if (exchanges_.size() > recorded_exchanges_max) {
        exchanges_.pop_front();
        ++dropped_;
    }
}

client::response run_context::send(const client::request& req) {
    http_.set_timeout(operation_timeout());
    try {
        auto resp = http_.send(req);
        keep(make_exchange(env_.target, req, &resp, {}), req);
        // The agent's rate limit (§8) refused a request of a check about something else: it
        // waits as Retry-After asks and sends it again, as any client should, so that an
        // agent's limits slow a run down but never fail a check of another rule. (A check of
        // a RATE requirement sees every 429 itself.)
        for (int again = 0;
             resp.status == 429 && again < rate_limit_retries_max && !checks_rate_limits();
             ++again) {
            const long long wait_s = client::retry_after_seconds(resp, rate_limit_wait_max_s);
            if (std::chrono::steady_clock::now() + std::chrono::seconds(wait_s) >= deadline_) break;
            if (again == 0 && !rate_limited_noted_) {
                rate_limited_noted_ = true;
                note("the agent's rate limit answered 429: waited Retry-After (" +
                     std::to_string(wait_s) + " s) and sent the request again");
            }
            std::this_thread::sleep_for(std::chrono::seconds(wait_s));
            http_.set_timeout(operation_timeout());
            resp = http_.send(req);
            keep(make_exchange(env_.target, req, &resp, {}), req);
        }
        return resp;
    } catch (const client::transport_exception& e) {
        keep(make_exchange(env_.target, req, nullptr,
                           std::string("no response: ") + client::to_string(e.kind()) + ": " +
                               e.what()),
             req);
        throw;
    }
}

client::connection run_context::open_connection() {
    return client::connection(env_.target, operation_timeout());
}

void run_context::record(const client::request& req, const client::response* resp,
                         std::string note) {
    auto ex = make_exchange(env_.target, req, resp, std::move(note));
    if (ex.replay) {
        auto step = std::make_shared<replay_step>(*ex.replay);
        step->own_connection = true;
        ex.replay = std::move(step);
    }
    keep(std::move(ex), req);
}

void run_context::record_raw(const client::request& shown, std::string_view bytes,
                             const client::response* resp, std::string note,
                             std::chrono::seconds hold) {
    auto ex = make_exchange(env_.target, shown, resp, std::move(note));
    ex.curl = client::to_raw_repro(env_.target, bytes, hold);
    if (ex.replay || bytes.size() <= replay_bytes_max) {
        auto step = std::make_shared<replay_step>(ex.replay ? *ex.replay : replay_step{});
        step->bytes = std::string(bytes);
        step->own_connection = true;
        step->hold = hold;
        ex.replay = bytes.size() <= replay_bytes_max ? std::move(step) : nullptr;
    }
    // The credential as the bytes carry it, for keep() to recognise.
    auto with_auth = shown;
    if (const auto at = bytes.find("\r\nAuthorization: "); at != std::string_view::npos) {
        const auto start = at + 17;
        const auto end = bytes.find("\r\n", start);
        with_auth.headers.push_back(
            {"Authorization", std::string(bytes.substr(start, end - start))});
    }
    const raw_bytes raw{std::string(bytes), hold};
    keep(std::move(ex), with_auth, &raw);
}

void run_context::note(std::string text) {
    notes_.push_back(std::move(text));
}

std::string run_context::token(std::string_view identity) {
    return env_.identities.token(identity);
}

std::string run_context::subject(std::string_view identity) {
    return env_.identities.claims(identity).at("sub").get<std::string>();
}

nlohmann::json run_context::claims(std::string_view identity) {
    return env_.identities.claims(identity);
}

std::string run_context::mint(const nlohmann::json& claims, const nlohmann::json& header) {
    const bool default_header = header.is_null() || (header.is_object() && header.empty());
    auto token =
        client::mint(default_header ? nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}} : header,
                     claims, env_.secret);
    minted_[token] = {claims, default_header ? nlohmann::json::object() : header, now_s(), {}, {}};
    return token;
}

std::string run_context::variant_token(std::string_view variant, std::string_view identity) {
    try {
        auto v = mint_token_variant(variant, env_.identities.claims(identity), env_.discovery,
                                    now_s(), env_.secret);
        minted_[v.token] = {std::move(v.claims), std::move(v.header), now_s(), std::string(variant),
                            std::string(identity)};
        return v.token;
    } catch (const std::invalid_argument& e) {
        // A variant the target's discovery cannot support (no auth.issuer) does not apply;
        // an unknown name is a bug in the check.
        if (std::string_view(e.what()).find("declares no") != std::string_view::npos)
            skip(e.what());
        throw;
    }
}

const std::string& run_context::hs256_secret() const {
    return env_.secret;
}

long long run_context::now_s() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string run_context::unique_name(std::string_view hint) {
    std::array<char, name_suffix_hex + 1> suffix{};
    std::snprintf(suffix.data(), suffix.size(), "%08x",
                  static_cast<unsigned>(names_() & name_suffix_mask));
    const std::size_t room = agent_name_max - name_prefix.size() - 1 - name_suffix_hex;
    std::string h = sanitize_hint(hint).substr(0, room);
    while (!h.empty() && h.back() == '-')
        h.pop_back();
    return std::string(name_prefix) + (h.empty() ? "agent" : h) + "-" + suffix.data();
}

nlohmann::json run_context::agent_body(const nlohmann::json& overrides) {
    nlohmann::json body = {
        {"name", unique_name("agent")},
        {"version", "1.0.0"},
        {"capabilities",
         {{{"name", "echo"}, {"version", "1.0.0"}, {"description", "Echoes its input"}}}},
        {"metadata", {{"origin", "agentcheck"}}}};
    if (overrides.is_object()) body.merge_patch(overrides);
    return body;
}

std::optional<fixture_registry::failure> fixture_registry::find(const std::string& fixture) const {
    const std::lock_guard lock(mutex_);
    const auto it = failures_.find(fixture);
    if (it == failures_.end()) return std::nullopt;
    return it->second;
}

void fixture_registry::record(const std::string& fixture, std::string reason,
                              std::string check_id) {
    const std::lock_guard lock(mutex_);
    failures_.emplace(fixture, failure{std::move(reason), std::move(check_id)});
}

nlohmann::json run_context::create_agent(std::string_view identity,
                                         const nlohmann::json& overrides) {
    const std::string requirement(create_requirement);
    // A plain fixture that could not be made earlier in the run is not asked for again.
    const bool plain = !overrides.is_object() || overrides.empty();
    const std::string fixture = "a valid agent created as " + std::string(identity);
    if (plain && env_.fixtures) {
        if (auto known = env_.fixtures->find(fixture)) {
            note("not sent again: " + fixture + " failed first in " + known->first_check);
            block(requirement, known->reason);
        }
    }
    client::request req("POST", "/agents");
    req.bearer(token(identity)).json(agent_body(overrides));
    const auto resp = send(req);
    auto body = resp.json();
    const bool has_id =
        body && body->is_object() && body->contains("id") && (*body)["id"].is_string();
    // Whatever the status, an agent that was made is removed after the check.
    if (has_id) created_.push_back((*body)["id"].get<std::string>());
    std::string why;
    if (resp.status != status_created) {
        why = create_blocked_reason(resp.status);
    } else if (!has_id) {
        why = "POST /agents answered 201 without a JSON agent carrying a string \"id\": " +
              text::truncate(resp.body, fixture_body_excerpt);
    }
    if (!why.empty()) {
        if (plain && env_.fixtures) env_.fixtures->record(fixture, why, check_.id);
        block(requirement, why);
    }
    return *body;
}

void run_context::cleanup() {
    if (created_.empty()) return;
    const auto ids = std::move(created_);
    created_.clear();
    try {
        client::http_client admin(env_.target, std::min(env_.request_timeout, cleanup_grace));
        for (const auto& id : ids) {
            client::request req("DELETE", "/agents/" + id);
            req.bearer(env_.identities.token("admin"));
            const auto resp = admin.send(req);
            if (resp.status != status_no_content && resp.status != status_not_found) {
                notes_.push_back("cleanup: DELETE /agents/" + id + " answered " +
                                 std::to_string(resp.status));
            }
        }
    } catch (const std::exception& e) {
        notes_.push_back(std::string("cleanup failed: ") + e.what());
    }
}

std::vector<exchange> run_context::exchanges() const {
    return {exchanges_.begin(), exchanges_.end()};
}

std::string run_context::last_curl() const {
    return exchanges_.empty() ? std::string() : exchanges_.back().curl;
}

std::mt19937_64& run_context::rng() {
    return rng_;
}

std::chrono::milliseconds run_context::scaled(std::chrono::milliseconds d) const {
    return std::chrono::milliseconds(
        static_cast<long long>(std::llround(static_cast<double>(d.count()) * env_.timeout_scale)));
}

void run_context::fail(std::string message, std::string expected, std::string actual) {
    throw check_failed(std::move(message), std::move(expected), std::move(actual));
}

bool run_context::checks_rate_limits() const {
    return std::any_of(check_.requirements.begin(), check_.requirements.end(),
                       [](const std::string& r) { return r.rfind("RATE-", 0) == 0; });
}

bool run_context::names(std::string_view requirement) const {
    return std::find(check_.requirements.begin(), check_.requirements.end(), requirement) !=
           check_.requirements.end();
}

void run_context::block(std::string requirement, std::string reason) {
    // A check of the blocking rule itself has found that rule broken: that is its failure.
    if (std::find(check_.requirements.begin(), check_.requirements.end(), requirement) !=
        check_.requirements.end()) {
        // A failure of that rule only: the check's other rules are blocked by it.
        check_failed failed(std::move(reason), {}, {});
        failed.requirement = std::move(requirement);
        throw failed;
    }
    throw check_blocked(std::move(requirement), std::move(reason));
}

void run_context::skip(std::string reason) {
    throw check_skipped(reason);
}

} // namespace agentcheck
