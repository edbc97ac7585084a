#include "conformance/harness/check.hpp"

#include <cctype>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "conformance/harness/text.hpp"

namespace agentcheck {

namespace {
/// How much of a body a problem-shape note quotes.
constexpr std::size_t problem_excerpt = 200;
} // namespace

namespace {

constexpr std::array<std::pair<level, std::string_view>, 3> level_names{
    {{level::must, "must"}, {level::should, "should"}, {level::may, "may"}}};
constexpr std::array<std::pair<layer, std::string_view>, 6> layer_names{
    {{layer::unit, "unit"},
     {layer::integration, "integration"},
     {layer::e2e, "e2e"},
     {layer::property, "property"},
     {layer::robustness, "robustness"},
     {layer::lifecycle, "lifecycle"}}};
/// How much of a response body a failure message quotes.
constexpr std::size_t failure_body_excerpt = 512;

std::string excerpt(const client::response& r) {
    return std::to_string(r.status) + " " + text::truncate(r.body, failure_body_excerpt);
}

} // namespace

const char* to_string(level v) noexcept {
    switch (v) {
    case level::must:
        return "MUST";
    case level::should:
        return "SHOULD";
    case level::may:
        return "MAY";
    }
    return "?";
}

const char* to_string(layer v) noexcept {
    for (const auto& [value, name] : layer_names) {
        if (value == v) return name.data();
    }
    return "?";
}

const char* to_string(verdict v) noexcept {
    switch (v) {
    case verdict::pass:
        return "pass";
    case verdict::fail:
        return "fail";
    case verdict::error:
        return "error";
    case verdict::skip:
        return "skip";
    case verdict::flaky:
        return "flaky";
    case verdict::blocked:
        return "blocked";
    }
    return "?";
}

std::optional<level> parse_level(std::string_view s) noexcept {
    const std::string lowered = text::lower(s);
    for (const auto& [value, name] : level_names) {
        if (lowered == name) return value;
    }
    return std::nullopt;
}

std::optional<layer> parse_layer(std::string_view s) noexcept {
    const std::string lowered = text::lower(s);
    for (const auto& [value, name] : layer_names) {
        if (lowered == name) return value;
    }
    return std::nullopt;
}

void check_registry::add(check c) {
    if (c.id.empty()) throw std::logic_error("a check needs an id");
    if (c.requirements.empty()) throw std::logic_error("check " + c.id + " names no requirement");
    if (!c.run) throw std::logic_error("check " + c.id + " has nothing to run");
    const bool duplicate = std::any_of(checks_.begin(), checks_.end(),
                                       [&](const check& existing) { return existing.id == c.id; });
    if (duplicate) throw std::logic_error("duplicate check id " + c.id);
    checks_.push_back(std::move(c));
}

// ---- expect helpers ----------------------------------------------------------------------------

void context::expect(bool ok, std::string_view what, std::string_view expected,
                     std::string_view actual) {
    if (!ok) fail(std::string(what), std::string(expected), std::string(actual));
}

void context::expect_status(const client::response& r, int status) {
    if (r.status != status) {
        fail("expected status " + std::to_string(status) + ", got " + std::to_string(r.status),
             std::to_string(status), excerpt(r));
    }
}

void context::expect_status_in(const client::response& r, std::initializer_list<int> statuses) {
    if (std::find(statuses.begin(), statuses.end(), r.status) != statuses.end()) return;
    std::string wanted;
    for (int s : statuses) {
        if (!wanted.empty()) wanted += " or ";
        wanted += std::to_string(s);
    }
    fail("expected status " + wanted + ", got " + std::to_string(r.status), wanted, excerpt(r));
}

void context::expect_header(const client::response& r, std::string_view name,
                            std::string_view value) {
    const auto actual = r.header(name);
    if (!actual) {
        fail("header " + std::string(name) + " is missing",
             std::string(name) + ": " + std::string(value), "(absent)");
    }
    if (*actual != value) {
        fail("header " + std::string(name) + " has the wrong value",
             std::string(name) + ": " + std::string(value), std::string(name) + ": " + *actual);
    }
}

std::string context::expect_header_present(const client::response& r, std::string_view name) {
    auto actual = r.header(name);
    if (!actual) fail("header " + std::string(name) + " is missing", std::string(name), "(absent)");
    return *actual;
}

nlohmann::json context::expect_json(const client::response& r) {
    auto parsed = r.json();
    if (!parsed) fail("the response body is not JSON", "a JSON body", excerpt(r));
    return *parsed;
}

bool is_uri_reference(std::string_view s) {
    if (s.empty()) return false;
    const auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    constexpr std::string_view allowed = "-._~:/?#[]@!$&'()*+,;=";
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
            i += 2;
        } else if (std::isalnum(static_cast<unsigned char>(c)) == 0 &&
                   allowed.find(c) == std::string_view::npos) {
            return false;
        }
    }
    // A scheme, when there is one (a ':' before any '/', '?' or '#'), is ALPHA *(ALPHA /
    // DIGIT / "+" / "-" / ".").
    const auto colon = s.find(':');
    const auto first_sep = s.find_first_of("/?#");
    if (colon != std::string_view::npos && colon < first_sep) {
        if (colon == 0 || std::isalpha(static_cast<unsigned char>(s[0])) == 0) return false;
        for (std::size_t i = 1; i < colon; ++i) {
            const char c = s[i];
            if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '-' &&
                c != '.')
                return false;
        }
    }
    return true;
}

nlohmann::json context::expect_problem(const client::response& r, int status) {
    expect_status(r, status);
    // The status is this check's rule. The document's shape is HTTP-012's and HTTP-013's:
    // checks of other rules note a bad shape and go on, so that one bug in the problem
    // documents reads as one failure (of the HTTP-012/013 checks), not as dozens.
    const bool own_rule = names("HTTP-012") || names("HTTP-013");
    const auto shape = [&](std::string message, std::string expected, std::string actual) {
        if (own_rule) fail(std::move(message), std::move(expected), std::move(actual));
        note("problem document: " + message + " (expected " + expected + ", got " + actual +
             "; HTTP-012/HTTP-013, failed by their own checks)");
    };
    const auto media = r.media_type();
    if (media != "application/problem+json") {
        shape("an error response must be application/problem+json", "application/problem+json",
              media.empty() ? "(no Content-Type)" : media);
    }
    auto body = r.json();
    if (!body || !body->is_object()) {
        shape("the problem body is not a JSON object", "an object",
              text::truncate(r.body, problem_excerpt));
        return nlohmann::json::object();
    }
    for (const char* field : {"type", "title", "detail", "instance"}) {
        const auto it = body->find(field);
        if (it == body->end() || !it->is_string()) {
            shape(std::string("problem member \"") + field + "\" must be a string",
                  std::string("\"") + field + "\": string",
                  it == body->end() ? "(absent)" : it->dump());
        }
    }
    if (const auto type = body->find("type");
        type != body->end() && type->is_string() && !is_uri_reference(type->get<std::string>())) {
        shape("problem member \"type\" must be a URI (RFC 3986 URI reference)",
              "a URI such as \"about:blank\" or \"https://example.com/problems/not-found\"",
              type->dump());
    }
    const auto st = body->find("status");
    if (st == body->end() || !st->is_number_integer() || st->get<int>() != status) {
        shape("problem member \"status\" must equal the HTTP status", std::to_string(status),
              st == body->end() ? "(absent)" : st->dump());
    }
    const auto header_id = r.header("X-Request-ID");
    const auto rid = body->find("request_id");
    if (rid == body->end() || !rid->is_string() || !header_id ||
        rid->get<std::string>() != *header_id) {
        shape("problem member \"request_id\" must equal the X-Request-ID header",
              header_id ? *header_id : "(X-Request-ID header absent)",
              rid == body->end() ? "(absent)" : rid->dump());
    }
    return *body;
}

} // namespace agentcheck
