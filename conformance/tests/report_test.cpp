#include "conformance/harness/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "conformance/harness/aggregate.hpp"
#include "conformance/harness/console.hpp"
#include "conformance/tests/test_catalogue.hpp"

namespace agentcheck {
namespace {

// ---- a strict little XML parser: enough to prove well-formedness and read the structure ----

struct element {
    std::string name;
    std::map<std::string, std::string> attrs;
    std::vector<std::unique_ptr<element>> children;
    std::string text;

    [[nodiscard]] std::vector<const element*> all(std::string_view child) const {
        std::vector<const element*> out;
        for (const auto& c : children) {
            if (c->name == child) out.push_back(c.get());
        }
        return out;
    }
    [[nodiscard]] const element* first(std::string_view child) const {
        const auto v = all(child);
        return v.empty() ? nullptr : v.front();
    }
    /// Every descendant named `n`.
    void collect(std::string_view n, std::vector<const element*>& out) const {
        for (const auto& c : children) {
            if (c->name == n) out.push_back(c.get());
            c->collect(n, out);
        }
    }
};

class xml_parser {
public:
    explicit xml_parser(std::string_view s) : s_(s) {}

    std::unique_ptr<element> document() {
        skip_ws();
        if (s_.substr(i_, 5) == "<?xml") i_ = s_.find("?>", i_) + 2;
        skip_ws();
        if (s_.substr(i_, 9) == "<!DOCTYPE") i_ = s_.find('>', i_) + 1;
        skip_ws();
        auto root = parse_element();
        skip_ws();
        if (i_ != s_.size()) throw std::runtime_error("content after the root element");
        return root;
    }

private:
    void skip_ws() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])))
            ++i_;
    }
    void expect(char c) {
        if (i_ >= s_.size() || s_[i_] != c) {
            throw std::runtime_error(std::string("expected '") + c + "' at " + std::to_string(i_) +
                                     ": " + std::string(s_.substr(i_, 40)));
        }
        ++i_;
    }
    std::string name() {
        const auto start = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                                  s_[i_] == '-' || s_[i_] == '_' || s_[i_] == ':')) {
            ++i_;
        }
        if (start == i_) throw std::runtime_error("expected a name at " + std::to_string(i_));
        return std::string(s_.substr(start, i_ - start));
    }
    std::string text_until(char stop) {
        std::string out;
        while (i_ < s_.size() && s_[i_] != stop) {
            const char c = s_[i_];
            if (c == '<' && stop != '<') throw std::runtime_error("raw '<' in an attribute");
            if (c == '>' && stop == '<') {
                // Legal in XML text, but our writers always escape it.
                throw std::runtime_error("raw '>' in text at " + std::to_string(i_));
            }
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
                throw std::runtime_error("control character in text");
            }
            if (c == '&') {
                const auto semi = s_.find(';', i_);
                if (semi == std::string_view::npos) throw std::runtime_error("unterminated entity");
                const auto ent = s_.substr(i_ + 1, semi - i_ - 1);
                static const std::map<std::string_view, char> named = {
                    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
                if (const auto it = named.find(ent); it != named.end()) {
                    out.push_back(it->second);
                } else if (ent.size() > 1 && ent[0] == '#') {
                    out.push_back(static_cast<char>(std::stoi(std::string(ent.substr(1)))));
                } else {
                    throw std::runtime_error("unknown entity &" + std::string(ent) + ";");
                }
                i_ = semi + 1;
                continue;
            }
            out.push_back(c);
            ++i_;
        }
        return out;
    }
    std::unique_ptr<element> parse_element() {
        expect('<');
        auto e = std::make_unique<element>();
        e->name = name();
        for (;;) {
            skip_ws();
            if (s_.substr(i_, 2) == "/>") {
                i_ += 2;
                return e;
            }
            if (i_ < s_.size() && s_[i_] == '>') {
                ++i_;
                break;
            }
            const auto attr = name();
            expect('=');
            expect('"');
            const auto value = text_until('"');
            expect('"');
            if (!e->attrs.emplace(attr, value).second)
                throw std::runtime_error("duplicate attribute " + attr);
        }
        for (;;) {
            e->text += text_until('<');
            if (s_.substr(i_, 2) == "</") {
                i_ += 2;
                const auto closing = name();
                if (closing != e->name)
                    throw std::runtime_error("<" + e->name + "> closed by </" + closing + ">");
                skip_ws();
                expect('>');
                return e;
            }
            if (i_ >= s_.size()) throw std::runtime_error("<" + e->name + "> is never closed");
            e->children.push_back(parse_element());
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

// ---- a report with every kind of result and hostile text ----

constexpr std::string_view hostile =
    "<script>alert('x')</script> & \"quotes\" \x01 \xFF | `backticks```";

check_result make_check(std::string id, std::vector<std::string> reqs, std::string section,
                        verdict v) {
    check_result c;
    c.id = std::move(id);
    c.title = "title of " + c.id;
    c.requirements = std::move(reqs);
    c.sections = {std::move(section)};
    c.outcome = v;
    c.attempts = 1;
    c.duration = std::chrono::microseconds(12345);
    return c;
}

run_report sample_report() {
    const auto& cat = testing::small_catalogue();
    run_report r;
    r.tool_version = "0.1.0";
    r.run_id = "abcd1234";
    r.target = "http://127.0.0.1:8080";
    r.discovery = {{"protocol", "agent-service/1"},
                   {"implementation", {{"name", "fake<agent>"}, {"version", "9"}}},
                   {"features", nlohmann::json::array()}};
    r.settings.seed = 1234567;
    r.settings.lvl = level::should;
    r.settings.layers = {"unit"};
    r.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(1795878600));
    r.duration = std::chrono::microseconds(2500000);
    r.sections = cat.sections;

    auto pass = make_check("HTTP-001.pass", {"HTTP-001"}, "0", verdict::pass);
    auto fail = make_check("REG-001.fail", {"REG-001"}, "2", verdict::fail);
    fail.message = std::string("expected status 201, got 500 ") + std::string(hostile);
    fail.expected = "201";
    fail.actual = "500 " + std::string(hostile);
    fail.curl =
        "curl -sS -i -X 'POST' 'http://127.0.0.1:8080/agents' --data-binary '{\"a\":\"```\"}'";
    fail.notes = {"a note <b>"};
    exchange ex;
    ex.request = client::request("POST", "/agents");
    ex.request.headers = {{"Authorization", "Bearer <redacted>"}};
    ex.request.body = std::string(hostile);
    client::response resp;
    resp.status = 500;
    resp.reason = "Internal Server Error";
    resp.headers = {{"Content-Type", "application/json"}};
    resp.body = std::string(hostile);
    ex.response = resp;
    ex.curl = fail.curl;
    fail.exchanges = {ex, exchange{}};
    auto error = make_check("REG-002.error", {"REG-002"}, "2", verdict::error);
    error.message = "transport error (timeout): read timed out";
    error.error_kind = "timeout";
    auto skip = make_check("EVT-001.skip", {"EVT-001"}, "4", verdict::skip);
    skip.message = "feature events not declared";
    auto flaky = make_check("HTTP-001.flaky", {"HTTP-001"}, "0", verdict::flaky);
    flaky.message = "passed on attempt 2 after failing: nope";
    auto waived = make_check("REG-003.waived", {"REG-003"}, "2", verdict::fail);
    waived.message = "waived failure";
    r.checks = {pass, fail, error, skip, flaky, waived};
    r.settings.lvl = level::may;
    auto agg = aggregate(cat, level::may, r.checks,
                         {{"REG-003", "tracked <elsewhere>", ""}, {"HTTP-001", "stale one", ""}},
                         "2026-01-01");
    r.requirements = agg.requirements;
    r.waiver_problems = agg.problems;
    finalize(r);
    return r;
}

std::string render(const report_writer& w, const run_report& r) {
    std::ostringstream out;
    w.write(r, out);
    return out.str();
}

TEST(report_json, round_trips_with_every_field) {
    const auto r = sample_report();
    const auto text = render(*make_json_writer(), r);
    const auto doc =
        nlohmann::json::parse(text); // throws if not valid JSON (invalid UTF-8 replaced)
    EXPECT_EQ(doc["schema"], "agentcheck-report/1");
    EXPECT_EQ(doc["target"], "http://127.0.0.1:8080");
    EXPECT_EQ(doc["run_id"], "abcd1234");
    EXPECT_EQ(doc["started_at"], "2026-11-28T15:10:00.000Z");
    EXPECT_DOUBLE_EQ(doc["duration_s"].get<double>(), 2.5);
    EXPECT_EQ(doc["options"]["seed"], 1234567);
    EXPECT_EQ(doc["options"]["level"], "may");
    EXPECT_EQ(doc["options"]["layers"], nlohmann::json::array({"unit"}));
    EXPECT_EQ(doc["discovery"]["implementation"]["name"], "fake<agent>");
    EXPECT_EQ(doc["verdict"], "fail");
    EXPECT_EQ(doc["exit_code"], 1);
    EXPECT_EQ(doc["totals"]["checks"]["total"], 6);
    EXPECT_EQ(doc["totals"]["checks"]["fail"], 2);
    EXPECT_EQ(doc["totals"]["requirements"]["known_failure"], 1);
    EXPECT_EQ(doc["totals"]["by_level"]["must"]["total"], 4);
    ASSERT_EQ(doc["sections"].size(), 3U);
    EXPECT_EQ(doc["sections"][1]["requirements"]["fail"], 2);
    ASSERT_EQ(doc["checks"].size(), 6U);
    const auto& fail = doc["checks"][1];
    EXPECT_EQ(fail["id"], "REG-001.fail");
    EXPECT_EQ(fail["verdict"], "fail");
    EXPECT_EQ(fail["expected"], "201");
    EXPECT_EQ(fail["requirements"], nlohmann::json::array({"REG-001"}));
    EXPECT_EQ(fail["curl"], r.checks[1].curl);
    EXPECT_EQ(fail["exchanges"][0]["response"]["status"], 500);
    EXPECT_TRUE(fail["exchanges"][1]["response"].is_null());
    EXPECT_EQ(fail["exchanges"][0]["request"]["headers"][0]["value"], "Bearer <redacted>");
    EXPECT_EQ(doc["checks"][5]["waived"], true);
    EXPECT_EQ(doc["checks"][2]["error_kind"], "timeout");
    bool saw_known = false;
    bool saw_planned = false;
    for (const auto& req : doc["requirements"]) {
        if (req["id"] == "REG-003") {
            EXPECT_EQ(req["status"], "known_failure");
            EXPECT_EQ(req["waiver"], "tracked <elsewhere>");
            saw_known = true;
        }
        if (req["id"] == "REG-099") {
            EXPECT_EQ(req["planned"], true);
            saw_planned = true;
        }
    }
    EXPECT_TRUE(saw_known);
    EXPECT_TRUE(saw_planned);
    ASSERT_EQ(doc["waiver_problems"].size(), 1U);
    EXPECT_EQ(doc["waiver_problems"][0]["kind"], "stale");
}

TEST(report_junit, parses_with_one_suite_per_section) {
    const auto r = sample_report();
    const auto text = render(*make_junit_writer(), r);
    std::unique_ptr<element> root;
    ASSERT_NO_THROW(root = xml_parser(text).document()) << text;
    EXPECT_EQ(root->name, "testsuites");
    EXPECT_EQ(root->attrs["tests"], "7"); // six checks and one waiver problem
    EXPECT_EQ(root->attrs["failures"], "2");
    EXPECT_EQ(root->attrs["errors"], "1");
    EXPECT_EQ(root->attrs["skipped"], "2");
    const auto suites = root->all("testsuite");
    ASSERT_EQ(suites.size(), 4U);
    EXPECT_EQ(suites[0]->attrs.at("name"), "section 0: Shape");
    EXPECT_EQ(suites[1]->attrs.at("name"), "section 2: Registry");
    EXPECT_EQ(suites[1]->attrs.at("tests"), "3");
    EXPECT_EQ(suites[3]->attrs.at("name"), "known failures");
    const auto cases = suites[1]->all("testcase");
    ASSERT_EQ(cases.size(), 3U);
    EXPECT_EQ(cases[0]->attrs.at("classname"), "section 2");
    EXPECT_EQ(cases[0]->attrs.at("name"), "REG-001.fail");
    const auto* failure = cases[0]->first("failure");
    ASSERT_NE(failure, nullptr);
    EXPECT_NE(failure->attrs.at("message").find("<script>alert('x')</script> & \"quotes\""),
              std::string::npos);
    EXPECT_NE(failure->text.find("REG-001 (MUST): POST /agents answers 201."), std::string::npos);
    EXPECT_NE(failure->text.find("curl -sS"), std::string::npos);
    const auto props = cases[0]->first("properties")->all("property");
    ASSERT_FALSE(props.empty());
    EXPECT_EQ(props[0]->attrs.at("name"), "requirement");
    EXPECT_EQ(props[0]->attrs.at("value"), "REG-001");
    ASSERT_NE(cases[1]->first("error"), nullptr);
    EXPECT_EQ(cases[1]->first("error")->attrs.at("type"), "timeout");
    const auto* skipped = cases[2]->first("skipped");
    ASSERT_NE(skipped, nullptr);
    EXPECT_NE(skipped->attrs.at("message").find("known failure"), std::string::npos);
    const auto evt = suites[2]->all("testcase");
    ASSERT_NE(evt[0]->first("skipped"), nullptr);
    const auto shape = suites[0]->all("testcase");
    EXPECT_EQ(shape[0]->first("failure"), nullptr);
    ASSERT_NE(shape[1]->first("system-out"), nullptr); // flaky is a pass with a note
}

TEST(report_markdown, has_verdict_tables_and_failures) {
    const auto r = sample_report();
    const auto md = render(*make_markdown_writer(), r);
    EXPECT_EQ(md.rfind("# agentcheck ❌ FAIL", 0), 0U);
    EXPECT_NE(md.find("## By level"), std::string::npos);
    EXPECT_NE(md.find("| MUST | "), std::string::npos);
    EXPECT_NE(md.find("| 2 Registry | "), std::string::npos);
    EXPECT_NE(md.find("### `REG-001.fail` — fail"), std::string::npos);
    EXPECT_NE(md.find("> **REG-001** (MUST) Create is 201: POST /agents answers 201."),
              std::string::npos);
    EXPECT_NE(md.find("- expected: `201`"), std::string::npos);
    EXPECT_NE(md.find("````sh\ncurl -sS"), std::string::npos)
        << "fence longer than the backticks inside";
    EXPECT_NE(md.find("## Waiver problems"), std::string::npos);
    EXPECT_NE(md.find("## Known failures"), std::string::npos);
    EXPECT_EQ(md.find("REG-003.waived` —"), std::string::npos)
        << "a waived check is not listed as a failure";
    // Markup from the agent only ever appears inside code (where GitHub shows it literally),
    // and code spans carry it as it is, not as entities.
    bool in_fence = false;
    std::istringstream lines(md);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("```", 0) == 0) in_fence = !in_fence;
        if (line.find("<script>") == std::string::npos || in_fence) continue;
        EXPECT_EQ(line.rfind("- actual: ``", 0), 0U) << line;
    }
    // (padded with a space because the value ends with a backtick, as CommonMark requires)
    EXPECT_NE(md.find("- actual: ```` 500 <script>alert('x')</script> & \"quotes\""),
              std::string::npos)
        << md;
    EXPECT_EQ(md.find("`` 500 &lt;script"), std::string::npos) << "no entities inside code";
    EXPECT_EQ(md.find('\xFF'), std::string::npos);
}

TEST(report_html, is_well_formed_self_contained_and_escaped) {
    const auto r = sample_report();
    const auto html = render(*make_html_writer(), r);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
    std::unique_ptr<element> root;
    ASSERT_NO_THROW(root = xml_parser(html).document());
    EXPECT_EQ(root->name, "html");
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("http://fonts"), std::string::npos);
    EXPECT_EQ(html.find("src="), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)"), std::string::npos);
    EXPECT_NE(html.find("class=\"banner fail\""), std::string::npos);
    EXPECT_NE(html.find("class=\"cell st-known_failure\" href=\"#req-REG-003\""),
              std::string::npos);
    EXPECT_NE(html.find("id=\"check-REG-001.fail\""), std::string::npos);
    EXPECT_EQ(html.find("id=\"check-REG-003.waived\""), std::string::npos);
    std::vector<const element*> details;
    root->collect("details", details);
    std::size_t cards = 0;
    for (const auto* d : details)
        if (const auto id = d->attrs.find("id"); id != d->attrs.end())
            cards += id->second.rfind("check-", 0) == 0 ? 1 : 0;
    EXPECT_EQ(cards, 2U); // the failure and the error
    // Root causes first; passing checks and exchanges folded away.
    EXPECT_NE(html.find("<h2>Root causes</h2>"), std::string::npos);
    EXPECT_NE(html.find("<summary>Passing checks (2)</summary>"), std::string::npos);
    EXPECT_NE(html.find("<summary>Exchanges (2)</summary>"), std::string::npos);
    // "skip" (not applicable) and "not checked" (no check ran) are told apart.
    EXPECT_NE(html.find("skip (not applicable)"), std::string::npos);
    EXPECT_NE(html.find("not_checked (no check ran)"), std::string::npos);
}

TEST(report_writers, passing_report_renders_too) {
    run_report r;
    r.sections = testing::small_catalogue().sections;
    r.checks = {make_check("HTTP-001.pass", {"HTTP-001"}, "0", verdict::pass)};
    r.requirements =
        aggregate(testing::small_catalogue(), level::must, r.checks, {}, "2026-01-01").requirements;
    finalize(r);
    EXPECT_TRUE(r.passed);
    EXPECT_EQ(render(*make_markdown_writer(), r).rfind("# agentcheck ✅ PASS", 0), 0U);
    EXPECT_NO_THROW(xml_parser(render(*make_html_writer(), r)).document());
    EXPECT_NO_THROW(xml_parser(render(*make_junit_writer(), r)).document());
    EXPECT_EQ(nlohmann::json::parse(render(*make_json_writer(), r))["verdict"], "pass");
    EXPECT_EQ(verdict_line(r).rfind("PASS — 1 of 1 checked requirements pass", 0), 0U);
}

// What a passing check measured (the crash check's per-cycle table and chart) is in the HTML
// too, folded; a note of several lines keeps its lines.
TEST(report_html, passing_checks_show_their_measurements) {
    run_report r;
    r.sections = testing::small_catalogue().sections;
    auto c = make_check("HTTP-001.pass", {"HTTP-001"}, "0", verdict::pass);
    c.notes = {"cycle | lost\n1 | 0\n2 | 0", "one line"};
    c.figures = {{"Time to ready", R"(<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>)"}};
    auto plain = make_check("HTTP-002.pass", {"HTTP-002"}, "0", verdict::pass);
    plain.notes = {"a note without a figure"};
    r.checks = {c, plain};
    r.requirements =
        aggregate(testing::small_catalogue(), level::must, r.checks, {}, "2026-01-01").requirements;
    finalize(r);
    const auto html = render(*make_html_writer(), r);
    EXPECT_NO_THROW(xml_parser(html).document());
    EXPECT_NE(html.find("<h2>Measurements of passing checks</h2>"), std::string::npos);
    EXPECT_NE(html.find("id=\"measured-HTTP-001.pass\""), std::string::npos);
    EXPECT_EQ(html.find("id=\"measured-HTTP-002.pass\""), std::string::npos);
    EXPECT_NE(html.find("<pre>cycle | lost\n1 | 0\n2 | 0</pre>"), std::string::npos);
    EXPECT_NE(html.find("<p>Note: one line</p>"), std::string::npos);
    EXPECT_NE(html.find("<figcaption>Time to ready</figcaption>"), std::string::npos);
}

// A PASS must not read as "conforms" while requirements went unchecked: the headline in
// every format says how many were checked and how many, by level, were not.
TEST(report_writers, headline_says_how_much_of_the_spec_was_checked) {
    run_report r;
    r.sections = testing::small_catalogue().sections;
    r.settings.lvl = level::may;
    r.checks = {make_check("HTTP-001.pass", {"HTTP-001"}, "0", verdict::pass),
                make_check("REG-002.skip", {"REG-002"}, "2", verdict::skip)};
    r.requirements =
        aggregate(testing::small_catalogue(), level::may, r.checks, {}, "2026-01-01").requirements;
    finalize(r);
    ASSERT_TRUE(r.passed);
    // Unchecked: REG-001, EVT-001, REG-099 (planned) are MUST; REG-003 is MAY.
    const std::string line = "PASS — 1 of 1 checked requirements pass (level MAY and stricter) · "
                             "3 MUST, 1 MAY not yet checked · 1 not applicable";
    EXPECT_EQ(verdict_line(r), line);
    const auto json = nlohmann::json::parse(render(*make_json_writer(), r));
    EXPECT_EQ(json["summary"], line);
    const auto& req = json["totals"]["requirements"];
    EXPECT_EQ(req["checked"], 1);
    EXPECT_EQ(req["planned"], 1);
    EXPECT_EQ(req["not_checked"], 4);
    EXPECT_EQ(req["not_checked_by_level"]["must"], 3);
    EXPECT_EQ(req["not_checked_by_level"]["should"], 0);
    EXPECT_EQ(req["not_checked_by_level"]["may"], 1);
    EXPECT_NE(render(*make_markdown_writer(), r).find(line), std::string::npos);
    EXPECT_NE(render(*make_html_writer(), r).find("3 MUST, 1 MAY not yet checked"),
              std::string::npos);
    // The exit code rules are unchanged: unchecked requirements do not fail a run.
    EXPECT_EQ(r.exit_code, exit_ok);
}

TEST(report_writers, write_reports_creates_every_file) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("agentcheck-report-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    const auto files = write_reports(sample_report(), dir / "nested");
    ASSERT_EQ(files.size(), 4U);
    for (const char* name : {"report.json", "junit.xml", "summary.md", "report.html"}) {
        EXPECT_GT(std::filesystem::file_size(dir / "nested" / name), 100U) << name;
    }
    // A directory that cannot be created (a file is in the way) is an error naming it.
    std::ofstream(dir / "blocker") << "x";
    try {
        write_reports(sample_report(), dir / "blocker" / "sub");
        ADD_FAILURE() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("blocker"), std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST(console, lines_per_check_and_summary) {
    const auto r = sample_report();
    std::ostringstream out;
    console_reporter console(out, false, false);
    console.on_start(2);
    console.on_check_done(r.checks[0], 1, 2);
    console.on_check_done(r.checks[1], 2, 2);
    console.summary(r);
    const auto text = out.str();
    EXPECT_NE(text.find("running 2 checks"), std::string::npos);
    EXPECT_EQ(text.find("PASS HTTP-001.pass"), std::string::npos) << "passes are not listed";
    EXPECT_NE(text.find("[2/2] FAIL REG-001.fail"), std::string::npos);
    EXPECT_NE(text.find("[2/2] 1 passed, 1 failed, 0 skipped"), std::string::npos) << text;
    EXPECT_NE(text.find("Root causes (2)"), std::string::npos) << text;
    EXPECT_NE(text.find("      reproduce:\n        curl"), std::string::npos) << text;
    EXPECT_NE(text.find("WAIVER"), std::string::npos);
    EXPECT_NE(text.find("FAIL — "), std::string::npos);
    EXPECT_EQ(text.find("\033["), std::string::npos) << "no colour unless asked";

    std::ostringstream verbose;
    console_reporter v(verbose, false, false, verbosity::verbose);
    v.on_check_done(r.checks[0], 1, 2);
    EXPECT_NE(verbose.str().find("[1/2] PASS HTTP-001.pass (0.012 s)"), std::string::npos);

    std::ostringstream live;
    console_reporter tty(live, true, true);
    tty.on_start(2);
    tty.on_check_done(r.checks[1], 1, 2);
    tty.on_check_done(r.checks[3], 2, 2);
    tty.summary(r);
    EXPECT_NE(live.str().find("\r\033[K[2/2]"), std::string::npos);
    EXPECT_NE(live.str().find("\033[31mFAIL\033[0m REG-001.fail"), std::string::npos);
}

// One broken rule that blocks many checks reads as one line, with the failure that causes it.
TEST(console, blocked_checks_are_grouped_by_root_cause) {
    run_report r;
    r.sections = testing::small_catalogue().sections;
    auto cause = make_check("REG-001.create", {"REG-001"}, "2", verdict::fail);
    cause.message = "POST /agents answered 200, not 201";
    cause.expected = "201";
    cause.actual = "200\n{\n  \"id\": \"x\"\n}";
    r.checks.push_back(cause);
    for (int i = 0; i < 9; ++i) {
        auto b = make_check("HTTP-001.b" + std::to_string(i), {"HTTP-001"}, "0", verdict::blocked);
        b.message = "POST /agents answered 200, not 201, to a valid agent as operator";
        b.blocked_by = "REG-001";
        r.checks.push_back(b);
    }
    r.requirements =
        aggregate(testing::small_catalogue(), level::must, r.checks, {}, "2026-01-01").requirements;
    finalize(r);
    EXPECT_FALSE(r.passed);
    EXPECT_EQ(r.counts.blocked, 9U);
    EXPECT_EQ(r.counts.req_blocked, 1U); // HTTP-001: all its checks blocked
    const auto groups = group_by_cause(r);
    ASSERT_EQ(groups.size(), 2U);
    EXPECT_EQ(cause_line(groups[0]),
              "1 check failed: POST /agents answered 200, not 201 (REG-001.create)");
    EXPECT_EQ(cause_line(groups[1]), "9 checks blocked: POST /agents answered 200, not 201, to a "
                                     "valid agent as operator (REG-001)");
    std::ostringstream quiet;
    console_reporter q(quiet, false, false, verbosity::quiet);
    for (std::size_t i = 0; i < r.checks.size(); ++i)
        q.on_check_done(r.checks[i], i + 1, r.checks.size());
    q.summary(r);
    const auto text = quiet.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 7) << text; // causes, counts, verdict
    EXPECT_NE(text.find("9 checks blocked"), std::string::npos);
    EXPECT_NE(verdict_line(r).find("1 blocked"), std::string::npos) << verdict_line(r);

    std::ostringstream normal;
    console_reporter n(normal, false, false);
    n.summary(r);
    // Multi-line values keep their shape under the label.
    EXPECT_NE(normal.str().find("      actual:   200\n                {\n"), std::string::npos)
        << normal.str();
    EXPECT_NE(normal.str().find("HTTP-001.b5, … and 3 more"), std::string::npos) << normal.str();
    const auto json = nlohmann::json::parse(render(*make_json_writer(), r));
    ASSERT_EQ(json["root_causes"].size(), 2U);
    EXPECT_EQ(json["root_causes"][1]["checks"].size(), 9U);
    EXPECT_EQ(json["checks"][1]["verdict"], "blocked");
    EXPECT_EQ(json["checks"][1]["blocked_by"], "REG-001");
}

TEST(console, color_wanted_respects_no_color_and_tty) {
    EXPECT_FALSE(color_wanted(-1)); // not a terminal
    ::setenv("NO_COLOR", "1", 1);
    EXPECT_FALSE(color_wanted(STDOUT_FILENO));
    ::unsetenv("NO_COLOR");
}

} // namespace
} // namespace agentcheck
