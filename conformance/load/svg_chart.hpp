#pragma once
// Inline SVG line charts for the self-contained HTML reports (results.html of agentcheck load,
// soak.html of agentcheck soak): no script, no external file.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentcheck::load::svg {

/// Text escaped for HTML and SVG.
std::string esc(std::string_view s);
/// v with `digits` decimals.
std::string num(double v, int digits = 2);
/// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten.
double nice_ceiling(double v);

struct series_line {
    std::string label; ///< in the legend ("" = not in it)
    std::string colour;
    std::vector<std::pair<double, double>> points; ///< (x, y) in data units
    bool dashed = false;
};

/// A vertical line across the plot at x, labelled at its top (a boundary, an event).
struct marker {
    double x = 0;
    std::string label;
    std::string colour = "#888";
};

struct chart_options {
    double x_min = 0;
    double x_max = 1;
    std::vector<std::pair<double, std::string>> x_labels; ///< tick positions and their text
    /// true: the y axis starts at 0; false: it spans the data (a level that moves little
    /// around a large value, such as a process's memory).
    bool y_from_zero = true;
    std::vector<marker> markers;
};

/// A line chart in a <figure> with its caption.
std::string chart(const std::string& title, const std::string& y_unit,
                  const std::vector<series_line>& lines, const chart_options& options);
/// The same, the y axis from 0, without markers.
std::string chart(const std::string& title, const std::string& y_unit,
                  const std::vector<series_line>& lines, double x_min, double x_max,
                  const std::vector<std::pair<double, std::string>>& x_labels);

/// The start of a report page, up to and including <body>: its title and the shared style
/// (tables, figures, .bad and .good).
std::string page_start(const std::string& title);

/// About ten ticks from 0 to `last` seconds ("0s", "10s", …).
std::vector<std::pair<double, std::string>> second_ticks(double last);

} // namespace agentcheck::load::svg
