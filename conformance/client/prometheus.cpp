#include "conformance/client/prometheus.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

namespace agentcheck::prometheus_text {
namespace {

constexpr std::size_t problems_max = 20;

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

bool valid_metric_name(std::string_view n) {
    if (n.empty() || !(name_start(n[0]) || n[0] == ':')) return false;
    return std::all_of(n.begin(), n.end(), [](char c) { return name_char(c) || c == ':'; });
}
bool valid_label_name(std::string_view n) {
    return !n.empty() && name_start(n[0]) && std::all_of(n.begin(), n.end(), name_char);
}

/// A float as the format writes it: Go's ParseFloat, plus +Inf, -Inf, NaN.
std::optional<double> parse_value(std::string_view v) {
    if (v == "+Inf" || v == "Inf") return std::numeric_limits<double>::infinity();
    if (v == "-Inf") return -std::numeric_limits<double>::infinity();
    if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (v.empty()) return std::nullopt;
    const std::string s(v);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return std::nullopt;
    if (s.find_first_of("xXpP") != std::string::npos) return std::nullopt; // no hex floats
    if (s == "inf" || s == "nan" || s.find("nfinity") != std::string::npos ||
        s.find("nan") != std::string::npos || s.find("inf") != std::string::npos)
        return std::nullopt;
    return d;
}

std::string_view base_name(std::string_view n, const std::string& type) {
    auto strip = [&](std::string_view suffix) -> std::optional<std::string_view> {
        if (n.size() > suffix.size() && n.substr(n.size() - suffix.size()) == suffix)
            return n.substr(0, n.size() - suffix.size());
        return std::nullopt;
    };
    if (type == "histogram")
        for (auto s : {"_bucket", "_sum", "_count"})
            if (auto b = strip(s)) return *b;
    if (type == "summary")
        for (auto s : {"_sum", "_count"})
            if (auto b = strip(s)) return *b;
    return n;
}

struct parser {
    exposition out;
    std::string current; ///< the family the last TYPE or HELP named
    std::size_t line_no = 0;

    void problem(const std::string& what) {
        if (out.problems.size() < problems_max)
            out.problems.push_back("line " + std::to_string(line_no) + ": " + what);
    }

    void comment(std::string_view line) {
        // "# HELP name text" and "# TYPE name type"; any other comment is ignored.
        auto rest = line.substr(1);
        if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
        const bool help = rest.starts_with("HELP ");
        const bool type = rest.starts_with("TYPE ");
        if (!help && !type) return;
        rest.remove_prefix(5);
        const auto space = rest.find(' ');
        const auto name = rest.substr(0, space);
        const auto value = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
        if (!valid_metric_name(name)) return problem("bad metric name '" + std::string(name) + "'");
        auto& f = out.families[std::string(name)];
        f.name = std::string(name);
        if (help) {
            if (!f.help.empty()) problem("a second HELP for " + f.name);
            f.help = std::string(value.empty() ? " " : value);
        } else {
            static const std::vector<std::string> types = {"counter", "gauge", "histogram",
                                                           "summary", "untyped"};
            if (std::find(types.begin(), types.end(), value) == types.end())
                problem("unknown TYPE '" + std::string(value) + "' for " + f.name);
            if (f.type != "untyped" || typed_.count(f.name) > 0)
                problem("a second TYPE for " + f.name);
            if (!f.samples.empty()) problem("the TYPE of " + f.name + " comes after its samples");
            f.type = std::string(value);
            typed_.insert(f.name);
        }
        current = f.name;
    }

    void sample_line(std::string_view line) {
        sample s;
        s.line = line_no;
        std::size_t i = 0;
        while (i < line.size() && (name_char(line[i]) || line[i] == ':'))
            ++i;
        s.name = std::string(line.substr(0, i));
        if (!valid_metric_name(s.name)) return problem("bad metric name in '" + std::string(line) + "'");
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (true) {
                while (i < line.size() && line[i] == ' ')
                    ++i;
                if (i < line.size() && line[i] == '}') {
                    ++i;
                    break;
                }
                std::size_t start = i;
                while (i < line.size() && name_char(line[i]))
                    ++i;
                const std::string label(line.substr(start, i - start));
                if (!valid_label_name(label)) return problem("bad label name in '" + std::string(line) + "'");
                if (label.starts_with("__")) return problem("reserved label name " + label);
                if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
                    return problem("label " + label + " without =\"value\"");
                i += 2;
                std::string value;
                bool closed = false;
                while (i < line.size()) {
                    const char c = line[i++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        if (i >= line.size()) break;
                        const char e = line[i++];
                        if (e == 'n')
                            value.push_back('\n');
                        else if (e == '\\' || e == '"')
                            value.push_back(e);
                        else
                            return problem("bad escape \\" + std::string(1, e) + " in label " + label);
                    } else {
                        value.push_back(c);
                    }
                }
                if (!closed) return problem("unterminated value of label " + label);
                if (!s.labels.emplace(label, std::move(value)).second)
                    return problem("label " + label + " given twice");
                if (i < line.size() && line[i] == ',') ++i;
            }
        }
        if (i >= line.size() || line[i] != ' ') return problem("no value after '" + s.name + "'");
        while (i < line.size() && line[i] == ' ')
            ++i;
        auto rest = line.substr(i);
        const auto space = rest.find(' ');
        const auto value = parse_value(rest.substr(0, space));
        if (!value) return problem("bad value '" + std::string(rest.substr(0, space)) + "' of " + s.name);
        s.value = *value;
        if (space != std::string_view::npos) {
            auto ts = rest.substr(space + 1);
            if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos)
                return problem("bad timestamp '" + std::string(ts) + "' of " + s.name);
        }
        // The family: the current one when the name is one of its samples.
        std::string fam = s.name;
        if (auto it = out.families.find(current); it != out.families.end() &&
                                                  base_name(s.name, it->second.type) == current)
            fam = current;
        else if (out.families.count(s.name) == 0)
            out.families[s.name].name = s.name; // untyped
        else if (fam != current)
            problem("the samples of " + fam + " are not together");
        current = fam;
        out.families[fam].samples.push_back(std::move(s));
    }

    void check_histograms() {
        for (auto& [name, f] : out.families) {
            if (f.type == "counter")
                for (const auto& s : f.samples)
                    if (s.value < 0 || std::isnan(s.value))
                        out.problems.push_back("counter " + s.name + " is " + std::to_string(s.value));
            if (f.type != "histogram") continue;
            // Group by the labels other than le.
            std::map<std::string, std::vector<const sample*>> groups;
            for (const auto& s : f.samples) {
                auto labels = s.labels;
                labels.erase("le");
                std::string key;
                for (const auto& [k, v] : labels)
                    key += k + "=" + v + "\n";
                groups[key].push_back(&s);
            }
            for (const auto& [key, ss] : groups) {
                std::vector<std::pair<double, double>> buckets;
                std::optional<double> count, sum;
                for (const auto* s : ss) {
                    if (s->name == name + "_bucket") {
                        auto le = s->labels.find("le");
                        if (le == s->labels.end()) {
                            out.problems.push_back(s->name + " (line " + std::to_string(s->line) + ") has no le label");
                            continue;
                        }
                        auto bound = parse_value(le->second);
                        if (!bound) {
                            out.problems.push_back(s->name + " has le=\"" + le->second + "\", not a number");
                            continue;
                        }
                        buckets.emplace_back(*bound, s->value);
                    } else if (s->name == name + "_count") {
                        count = s->value;
                    } else if (s->name == name + "_sum") {
                        sum = s->value;
                    } else {
                        out.problems.push_back("histogram " + name + " has a sample " + s->name);
                    }
                }
                const std::string where = name + (key.empty() ? "" : " {" + key.substr(0, key.size() - 1) + "}");
                std::stable_sort(buckets.begin(), buckets.end());
                for (std::size_t b = 1; b < buckets.size(); ++b)
                    if (buckets[b].second < buckets[b - 1].second)
                        out.problems.push_back(where + ": bucket le=" + std::to_string(buckets[b].first) +
                                               " counts fewer than the one below it");
                if (buckets.empty() || !std::isinf(buckets.back().first))
                    out.problems.push_back(where + ": no le=\"+Inf\" bucket");
                else if (!count)
                    out.problems.push_back(where + ": no _count");
                else if (buckets.back().second != *count)
                    out.problems.push_back(where + ": the +Inf bucket (" + std::to_string(buckets.back().second) +
                                           ") is not _count (" + std::to_string(*count) + ")");
                if (!sum) out.problems.push_back(where + ": no _sum");
            }
        }
        if (out.problems.size() > problems_max) out.problems.resize(problems_max);
    }

    std::set<std::string> typed_;
};

} // namespace

const family* exposition::find(std::string_view name) const {
    if (auto it = families.find(std::string(name)); it != families.end()) return &it->second;
    for (const auto& [n, f] : families)
        if (base_name(name, f.type) == n) return &f;
    return nullptr;
}

exposition parse(std::string_view text) {
    parser p;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            ++p.line_no;
            p.problem("the last line does not end with a line feed");
            end = text.size();
        }
        auto line = text.substr(pos, end - pos);
        pos = end + 1;
        ++p.line_no;
        if (line.empty()) continue;
        if (line.back() == '\r') {
            p.problem("a carriage return ends the line");
            continue;
        }
        if (line.front() == '#')
            p.comment(line);
        else
            p.sample_line(line);
    }
    p.check_histograms();
    return std::move(p.out);
}

std::string series_key(const sample& s) {
    std::string key = s.name + "{";
    for (const auto& [k, v] : s.labels)
        key += k + "=\"" + v + "\",";
    return key + "}";
}

} // namespace agentcheck::prometheus_text
