#include "conformance/load/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <tuple>

namespace agentcheck::load::svg {
namespace {

constexpr int width = 760;
constexpr int height = 260;
constexpr int left = 64;
constexpr int right = 16;
constexpr int top = 16;
constexpr int bottom = 40;
constexpr int y_divisions = 4;

/// The y axis: [0, a nice ceiling] or, when not from zero, a range of four nice steps around
/// the data.
std::pair<double, double> y_range(double lo, double hi, bool from_zero) {
    if (from_zero) return {0, nice_ceiling(hi * 1.05)};
    if (hi <= lo) hi = lo + 1;
    double step = nice_ceiling((hi - lo) / y_divisions);
    double first = std::floor(lo / step) * step;
    while (first + y_divisions * step < hi) {
        step = nice_ceiling(step * 1.01);
        first = std::floor(lo / step) * step;
    }
    return {first, first + y_divisions * step};
}

} // namespace

std::string esc(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '&':
            out += "&amp;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string num(double v, int digits) {
    std::ostringstream ss;
    ss << std::fixed << std::setprecision(digits) << v;
    return ss.str();
}

double nice_ceiling(double v) {
    if (v <= 0) return 1;
    const double p = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (v <= m * p) return m * p;
    return 10 * p;
}

std::string chart(const std::string& title, const std::string& y_unit,
                  const std::vector<series_line>& lines, const chart_options& o) {
    double y_lo = 0;
    double y_hi = 0;
    bool any = false;
    for (const auto& l : lines) {
        for (const auto& [x, y] : l.points) {
            y_lo = any ? std::min(y_lo, y) : y;
            y_hi = any ? std::max(y_hi, y) : y;
            any = true;
        }
    }
    if (o.y_from_zero) y_hi = std::max(y_hi, 0.0);
    std::tie(y_lo, y_hi) = y_range(y_lo, y_hi, o.y_from_zero || !any);
    const double y_span = y_hi - y_lo;
    const double x_min = o.x_min;
    const double x_max = o.x_max <= x_min ? x_min + 1 : o.x_max;
    const double pw = width - left - right;
    const double ph = height - top - bottom;
    auto sx = [&](double x) { return left + (x - x_min) / (x_max - x_min) * pw; };
    auto sy = [&](double y) { return top + ph - (y - y_lo) / y_span * ph; };
    std::ostringstream svg;
    svg << "<figure><figcaption>" << esc(title) << "</figcaption>"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << width << " " << height
        << "\" width=\"" << width << "\" height=\"" << height << "\" role=\"img\" aria-label=\""
        << esc(title) << "\">";
    svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
        << "\" fill=\"#fafafa\" stroke=\"#ccc\"/>";
    for (int i = 0; i <= y_divisions; ++i) {
        const double y = y_lo + y_span * i / y_divisions;
        svg << "<line x1=\"" << left << "\" x2=\"" << left + pw << "\" y1=\"" << num(sy(y))
            << "\" y2=\"" << num(sy(y)) << "\" stroke=\"#e4e4e4\"/>"
            << "<text x=\"" << left - 6 << "\" y=\"" << num(sy(y) + 4)
            << "\" text-anchor=\"end\" font-size=\"11\">" << num(y, y_span < 10 ? 2 : 0)
            << "</text>";
    }
    for (const auto& [x, label] : o.x_labels) {
        svg << "<line x1=\"" << num(sx(x)) << "\" x2=\"" << num(sx(x)) << "\" y1=\"" << top
            << "\" y2=\"" << top + ph << "\" stroke=\"#eee\"/><text x=\"" << num(sx(x)) << "\" y=\""
            << top + ph + 16 << "\" text-anchor=\"middle\" font-size=\"11\">" << esc(label)
            << "</text>";
    }
    svg << "<text x=\"12\" y=\"" << top + ph / 2 << "\" font-size=\"11\" transform=\"rotate(-90 12 "
        << top + ph / 2 << ")\" text-anchor=\"middle\">" << esc(y_unit) << "</text>";
    for (const auto& m : o.markers) {
        if (m.x < x_min || m.x > x_max) continue;
        svg << "<line x1=\"" << num(sx(m.x)) << "\" x2=\"" << num(sx(m.x)) << "\" y1=\"" << top
            << "\" y2=\"" << top + ph << "\" stroke=\"" << m.colour
            << "\" stroke-dasharray=\"3 3\"/><text x=\"" << num(sx(m.x) + 4) << "\" y=\""
            << top + ph - 6 << "\" font-size=\"11\" fill=\"" << m.colour << "\">" << esc(m.label)
            << "</text>";
    }
    int legend_x = left + 8;
    for (const auto& l : lines) {
        if (l.points.empty()) continue;
        svg << "<polyline fill=\"none\" stroke=\"" << l.colour << "\" stroke-width=\"1.8\""
            << (l.dashed ? " stroke-dasharray=\"6 4\"" : "") << " points=\"";
        for (const auto& [x, y] : l.points)
            svg << num(sx(x)) << "," << num(sy(y)) << " ";
        svg << "\"/>";
        if (l.label.empty()) continue;
        svg << "<rect x=\"" << legend_x << "\" y=\"" << top + 6
            << "\" width=\"12\" height=\"3\" fill=\"" << l.colour << "\"/><text x=\""
            << legend_x + 16 << "\" y=\"" << top + 11 << "\" font-size=\"11\">" << esc(l.label)
            << "</text>";
        legend_x += 24 + static_cast<int>(l.label.size()) * 7;
    }
    svg << "</svg></figure>\n";
    return svg.str();
}

std::string chart(const std::string& title, const std::string& y_unit,
                  const std::vector<series_line>& lines, double x_min, double x_max,
                  const std::vector<std::pair<double, std::string>>& x_labels) {
    chart_options o;
    o.x_min = x_min;
    o.x_max = x_max;
    o.x_labels = x_labels;
    return chart(title, y_unit, lines, o);
}

std::string page_start(const std::string& title) {
    return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title) +
           "</title><style>body{font:14px/1.45 system-ui,sans-serif;"
           "margin:24px;max-width:820px;color:#222}table{border-collapse:collapse;margin:8px 0}"
           "td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}"
           "th:first-child,td:first-child{text-align:left}figure{margin:16px 0}"
           "figcaption{font-weight:600;margin-bottom:4px}.bad{color:#b00020;font-weight:600}"
           ".good{color:#137333}code{background:#f3f3f3;padding:1px 4px}</style></head><body>";
}

std::vector<std::pair<double, std::string>> second_ticks(double last) {
    constexpr double ticks = 10;
    std::vector<std::pair<double, std::string>> out;
    const int step = std::max(1, static_cast<int>(std::ceil(last / ticks)));
    for (int s = 0; s <= static_cast<int>(last); s += step)
        out.emplace_back(s, std::to_string(s) + "s");
    return out;
}

} // namespace agentcheck::load::svg
