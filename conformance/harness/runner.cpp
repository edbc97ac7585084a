#include "conformance/harness/runner.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/identities.hpp"
#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {

constexpr int status_ok = 200;
constexpr std::size_t run_id_hex = 8;
constexpr std::uint32_t run_id_mask = 0xffffffffU;
constexpr std::size_t discovery_body_excerpt = 200;
/// Time a check that owns the agent's process gets for each crash cycle, beyond its own.
constexpr std::chrono::milliseconds per_crash_cycle{30000};

std::chrono::milliseconds scale(std::chrono::milliseconds d, double factor) {
    return std::chrono::milliseconds(
        static_cast<long long>(std::llround(static_cast<double>(d.count()) * factor)));
}

long long epoch_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Requests of a sequence shown in a reproduction (the most recent ones).
constexpr std::size_t reproduction_steps_max = 12;

/// The check's reproduction: the one request, or the numbered sequence of them all.
std::string reproduction(const std::vector<exchange>& exchanges) {
    std::vector<const exchange*> steps;
    for (const auto& e : exchanges)
        if (!e.curl.empty()) steps.push_back(&e);
    if (steps.empty()) return {};
    if (steps.size() == 1) return steps.front()->curl;
    std::string out;
    const std::size_t first =
        steps.size() > reproduction_steps_max ? steps.size() - reproduction_steps_max : 0;
    if (first > 0)
        out += "# the first " + std::to_string(first) + " of " + std::to_string(steps.size()) +
               " requests are in report.json\n";
    for (std::size_t i = first; i < steps.size(); ++i) {
        out += "# " + std::to_string(i + 1) + "/" + std::to_string(steps.size()) +
               (steps[i]->note.empty() ? std::string() : " " + steps[i]->note) + "\n" +
               steps[i]->curl + (i + 1 < steps.size() ? "\n" : "");
    }
    return out;
}

/// One attempt of a check: its verdict and evidence.
check_result attempt(const check& c, const run_environment& env, const run_settings& settings) {
    check_result r;
    const auto started = std::chrono::steady_clock::now();
    // A check that kills and restarts the agent gets time for each cycle too.
    const auto limit =
        scale(settings.check_timeout + (c.needs_process ? per_crash_cycle * settings.crash_cycles
                                                        : std::chrono::milliseconds(0)),
              settings.timeout_scale);
    run_context ctx(env, c, started + limit);
    try {
        c.run(ctx);
        r.outcome = verdict::pass;
    } catch (const check_failed& e) {
        r.outcome = verdict::fail;
        r.message = e.what();
        r.expected = e.expected;
        r.actual = e.actual;
        r.failed_requirement = e.requirement;
    } catch (const check_skipped& e) {
        r.outcome = verdict::skip;
        r.message = e.what();
    } catch (const check_blocked& e) {
        r.outcome = verdict::blocked;
        r.message = e.what();
        r.blocked_by = e.blocked_by;
    } catch (const client::transport_exception& e) {
        r.outcome = verdict::error;
        r.error_kind = client::to_string(e.kind());
        r.message = std::string("transport error (") + r.error_kind + "): " + e.what();
    } catch (const std::exception& e) {
        r.outcome = verdict::error;
        r.error_kind = "exception";
        r.message = std::string("unexpected exception: ") + e.what();
    } catch (...) {
        r.outcome = verdict::error;
        r.error_kind = "exception";
        r.message = "unexpected exception of unknown type";
    }
    r.duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    ctx.cleanup();
    if (r.outcome == verdict::pass && r.duration > limit) {
        r.outcome = verdict::error;
        r.error_kind = "timeout";
        r.message = "the check took " + text::seconds(r.duration) + " s, over its limit of " +
                    text::seconds(limit) + " s";
    }
    r.exchanges = ctx.exchanges();
    r.notes = ctx.notes();
    r.figures = ctx.figures();
    r.dropped_exchanges = ctx.dropped_exchanges();
    r.concurrent = ctx.concurrent();
    r.depends_on = ctx.depends_on();
    if (ctx.dropped_exchanges() > 0) {
        r.notes.push_back(std::to_string(ctx.dropped_exchanges()) +
                          " earlier exchanges were not kept");
    }
    r.curl = reproduction(r.exchanges);
    return r;
}

} // namespace

std::string random_run_id() {
    std::random_device rd;
    std::array<char, run_id_hex + 1> buf{};
    std::snprintf(buf.data(), buf.size(), "%08x", static_cast<unsigned>(rd() & run_id_mask));
    return buf.data();
}

discovery_outcome fetch_discovery(const client::target_url& target,
                                  std::chrono::milliseconds timeout) {
    discovery_outcome out;
    try {
        client::http_client http(target, timeout);
        client::request req("GET", "/.well-known/agent-service");
        req.with("Accept", "application/json");
        const auto resp = http.send(req);
        if (resp.status != status_ok) {
            out.error = "GET /.well-known/agent-service answered " + std::to_string(resp.status) +
                        ", not 200";
            return out;
        }
        auto doc = resp.json();
        if (!doc || !doc->is_object()) {
            out.error = "GET /.well-known/agent-service did not return a JSON object: " +
                        text::truncate(resp.body, discovery_body_excerpt);
            return out;
        }
        const auto proto = doc->find("protocol");
        if (proto == doc->end() || !proto->is_string() ||
            proto->get<std::string>() != protocol_name) {
            out.error = "the discovery document's \"protocol\" is " +
                        (proto == doc->end() ? std::string("absent") : proto->dump()) +
                        ", not \"agent-service/1\"";
            return out;
        }
        out.document = std::move(*doc);
    } catch (const client::transport_exception& e) {
        out.unreachable = true;
        out.error = std::string("cannot reach ") + target.base() + " (" +
                    client::to_string(e.kind()) + "): " + e.what();
    }
    return out;
}

bool runs_alone(const check& c, const catalogue& cat) {
    if (c.lyr == layer::lifecycle || c.alone) return true;
    return std::any_of(c.requirements.begin(), c.requirements.end(), [&](const std::string& id) {
        const auto* r = cat.find(id);
        return r != nullptr && r->feature == "rate_limit";
    });
}

std::vector<std::string> missing_features(const check& c, const catalogue& cat,
                                          const nlohmann::json& discovery) {
    std::vector<std::string> declared;
    if (discovery.contains("features") && discovery["features"].is_array()) {
        for (const auto& f : discovery["features"]) {
            if (f.is_string()) declared.push_back(f.get<std::string>());
        }
    }
    std::vector<std::string> missing;
    for (const auto& id : c.requirements) {
        const auto* r = cat.find(id);
        if (r == nullptr || r->feature.empty()) return {};
        if (std::find(declared.begin(), declared.end(), r->feature) != declared.end()) return {};
        if (std::find(missing.begin(), missing.end(), r->feature) == missing.end()) {
            missing.push_back(r->feature);
        }
    }
    return missing;
}

check_result execute_check(const check& c, const catalogue& cat, const run_environment& env,
                           const run_settings& settings) {
    check_result result;
    const auto missing = missing_features(c, cat, env.discovery);
    if (c.needs_process && env.process == nullptr) {
        result.outcome = verdict::skip;
        result.message = std::string(needs_launch_reason);
    } else if (!missing.empty()) {
        std::string list;
        for (const auto& f : missing)
            list += (list.empty() ? "" : ", ") + f;
        result.outcome = verdict::skip;
        result.message = "feature " + list + " not declared";
    } else {
        std::string first_failure;
        for (unsigned n = 0; n <= settings.retries; ++n) {
            result = attempt(c, env, settings);
            result.attempts = static_cast<int>(n) + 1;
            if (result.outcome == verdict::pass && !first_failure.empty()) {
                result.outcome = verdict::flaky;
                result.message = "passed on attempt " + std::to_string(result.attempts) +
                                 " after failing: " + first_failure;
            }
            if (result.outcome != verdict::fail && result.outcome != verdict::error) break;
            if (first_failure.empty()) first_failure = result.message;
        }
    }
    result.id = c.id;
    result.title = c.title;
    result.lyr = c.lyr;
    result.lvl = check_level(c, cat);
    result.requirements = c.requirements;
    result.sections = check_sections(c, cat);
    result.alone = runs_alone(c, cat);
    return result;
}

namespace {

/// A report with the run's identity and settings filled in, and no checks yet.
run_report begin_report(const catalogue& cat, const run_settings& settings,
                        const nlohmann::json& discovery) {
    run_report report;
    report.started_at = std::chrono::system_clock::now();
    report.run_id = settings.run_id.empty() ? random_run_id() : settings.run_id;
    report.target = settings.target.base();
    report.discovery = discovery;
    report.sections = cat.sections;
    auto& rec = report.settings;
    rec.lvl = settings.sel.lvl;
    rec.seed = settings.seed;
    rec.timeout_scale = settings.timeout_scale;
    rec.jobs = settings.jobs;
    rec.retries = settings.retries;
    rec.only = settings.sel.only;
    rec.exclude = settings.sel.exclude;
    for (const auto l : settings.sel.layers)
        rec.layers.emplace_back(to_string(l));
    rec.known_failures_file = settings.known_failures_file;
    return report;
}

/// Aggregates the checks into requirement statuses, applies waivers, and finalizes.
void end_report(run_report& report, const catalogue& cat, const run_settings& settings,
                std::chrono::steady_clock::time_point started) {
    const std::string today =
        settings.today.empty() ? text::utc_date(std::chrono::system_clock::now()) : settings.today;
    auto agg = aggregate(cat, settings.sel.lvl, report.checks, settings.known_failures, today);
    report.requirements = std::move(agg.requirements);
    report.waiver_problems = std::move(agg.problems);
    report.duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    finalize(report);
}

} // namespace

run_report stopped_report(const catalogue& cat, const check_registry& registry,
                          const run_settings& settings, const nlohmann::json& discovery,
                          stop_kind why, std::string reason) {
    const auto started = std::chrono::steady_clock::now();
    auto report = begin_report(cat, settings, discovery);
    report.stop = why;
    report.stopped_early = std::move(reason);
    report.not_run = select_checks(registry, cat, settings.sel).size();
    end_report(report, cat, settings, started);
    return report;
}

run_report run_checks(const catalogue& cat, const check_registry& registry,
                      const run_settings& settings, const nlohmann::json& discovery,
                      progress_listener* progress) {
    const auto started = std::chrono::steady_clock::now();
    auto report = begin_report(cat, settings, discovery);

    run_environment env;
    env.target = settings.target;
    env.discovery = discovery;
    env.secret = settings.secret;
    env.seed = settings.seed;
    env.timeout_scale = settings.timeout_scale;
    env.request_timeout = scale(settings.request_timeout, settings.timeout_scale);
    env.identities = identity_set(settings.secret, report.run_id, discovery, epoch_seconds());
    env.fixtures = std::make_shared<fixture_registry>();
    env.secret_file = settings.secret_file;
    env.property_runs = settings.property_runs;
    env.process = settings.process;
    env.crash_cycles = settings.crash_cycles;
    env.progress = settings.progress;

    const auto selected = select_checks(registry, cat, settings.sel);
    std::vector<std::size_t> parallel;
    std::vector<std::size_t> alone;
    for (std::size_t i = 0; i < selected.size(); ++i) {
        (runs_alone(*selected[i], cat) ? alone : parallel).push_back(i);
    }
    std::vector<check_result> results(selected.size());
    std::mutex progress_mutex;
    std::size_t done = 0;
    if (progress != nullptr) progress->on_start(selected.size());
    const auto run_index = [&](std::size_t i) {
        results[i] = execute_check(*selected[i], cat, env, settings);
        if (progress != nullptr) {
            const std::lock_guard<std::mutex> lock(progress_mutex);
            progress->on_check_done(results[i], ++done, selected.size());
        } else {
            const std::lock_guard<std::mutex> lock(progress_mutex);
            ++done;
        }
    };
    // Stopping: a stalled target (checks in a row timed out), --max-failures, an interrupt.
    std::atomic<bool> stop{false};
    std::mutex stop_mutex;
    std::string stop_reason;
    stop_kind stop_why = stop_kind::none;
    std::size_t timeouts_in_a_row = 0;
    std::size_t failed = 0;
    std::vector<bool> ran(selected.size(), false);
    const auto should_stop = [&] {
        if (settings.interrupted != nullptr && settings.interrupted->load()) {
            const std::lock_guard<std::mutex> lock(stop_mutex);
            if (stop_why == stop_kind::none) {
                stop_why = stop_kind::interrupted;
                stop_reason = "interrupted: the checks still running were finished, the rest "
                              "not started";
            }
            stop = true;
        }
        return stop.load();
    };
    const auto after = [&](std::size_t i) {
        const auto& r = results[i];
        const std::lock_guard<std::mutex> lock(stop_mutex);
        ran[i] = true;
        const bool timed_out = r.outcome == verdict::error && r.error_kind == "timeout";
        timeouts_in_a_row = timed_out ? timeouts_in_a_row + 1 : 0;
        if (r.outcome == verdict::fail || r.outcome == verdict::error) ++failed;
        if (stop_why != stop_kind::none) return;
        if (settings.stall_after_timeouts > 0 &&
            timeouts_in_a_row >= settings.stall_after_timeouts) {
            stop_why = stop_kind::stalled;
            stop_reason = "target stalled: " + std::to_string(timeouts_in_a_row) +
                          " checks in a row timed out (last: " + r.id + ")";
        } else if (settings.max_failures > 0 && failed >= settings.max_failures) {
            stop_why = stop_kind::max_failures;
            stop_reason = "stopped after " + std::to_string(failed) +
                          (failed == 1 ? " failed check" : " failed checks") + " (--max-failures " +
                          std::to_string(settings.max_failures) + ")";
        }
        if (stop_why != stop_kind::none) stop = true;
    };
    std::atomic<std::size_t> next{0};
    const auto worker = [&] {
        for (std::size_t k = next++; k < parallel.size() && !should_stop(); k = next++) {
            run_index(parallel[k]);
            after(parallel[k]);
        }
    };
    const unsigned workers =
        std::max(1U, std::min<unsigned>(settings.jobs, static_cast<unsigned>(parallel.size())));
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (unsigned w = 1; w < workers; ++w)
        threads.emplace_back(worker);
    worker();
    for (auto& t : threads)
        t.join();
    for (const auto i : alone) {
        if (should_stop()) break;
        run_index(i);
        after(i);
    }

    // Only the checks that ran are reported; the rest are counted as not run.
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (ran[i])
            report.checks.push_back(std::move(results[i]));
        else
            ++report.not_run;
    }
    report.stop = stop_why;
    report.stopped_early = stop_reason;
    end_report(report, cat, settings, started);
    return report;
}

} // namespace agentcheck
