#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), for the metrics checks:
// agentcheck judges an agent's /metrics with its own reader, so that a run needs no
// Prometheus installed. It refuses what Prometheus's own parser refuses (bad names, bad
// escapes, a sample before its family's TYPE, a TYPE given twice, unparsable values) and
// checks what promtool's lint checks of a histogram: buckets with `le`, cumulative counts
// that never go down, a `+Inf` bucket equal to `_count`, and a `_sum`.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentcheck::prometheus_text {

/// One sample line: `name{labels} value`.
struct sample {
    std::string name;                          ///< as written (with _bucket/_sum/_count)
    std::map<std::string, std::string> labels; ///< unescaped values
    double value = 0;
    std::size_t line = 0; ///< 1-based, for messages
};

/// A metric family: its TYPE and HELP and its samples.
struct family {
    std::string name;
    std::string type = "untyped"; ///< counter, gauge, histogram, summary, untyped
    std::string help;
    std::vector<sample> samples;
};

/// A parsed exposition, or the first problem found.
struct exposition {
    std::map<std::string, family> families;
    /// Empty when the text is valid; otherwise what is wrong, with its line number.
    std::vector<std::string> problems;
    [[nodiscard]] bool valid() const noexcept { return problems.empty(); }
    /// The family a sample name belongs to (histogram suffixes resolved), or null.
    [[nodiscard]] const family* find(std::string_view name) const;
};

/// Parses text. Never throws; problems are collected (at most 20).
exposition parse(std::string_view text);

/// A series' identity: its sample name and labels, as one string ("name{a=\"1\"}").
std::string series_key(const sample& s);

} // namespace agentcheck::prometheus_text
