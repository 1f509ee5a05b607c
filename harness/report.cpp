#include "harness/report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "harness/compare.h"
#include "harness/error.h"
#include "harness/stats.h"
#include "harness/sweep_config.h"
#include "harness/units.h"

namespace moetune {
namespace {

std::string esc(const std::string &s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

// The part of a variant name after "__" says how; what is computed is the
// section's op, and the layout is the point's, so one column serves
// gemv_f32_oi__x and gemv_f32_io__x.
std::string impl_of(const std::string &variant) {
  const auto p = variant.find("__");
  return p == std::string::npos ? variant : variant.substr(p + 2);
}

bool is_naive(const std::string &variant) { return impl_of(variant) == "naive"; }

// Chart text is measured by estimate: SVG has no layout engine, and a
// sans-serif glyph at 12 px averages under 7 px.
double text_px(const std::string &s, double size = 12) { return 0.6 * size * s.size(); }

// Distinct hues on white that stay apart under the common colour-vision deficiencies: Okabe and
// Ito's eight, black last, then Paul Tol's muted ones that none of those repeats (one pink only:
// two pinks read as one variant).
const char *const kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
                                "#56B4E9", "#F0E442", "#332288", "#117733", "#882255",
                                "#999933", "#44AA99", "#888888", "#000000"};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

struct Point {
  std::string group;  // shape, layout, dtype, threads: one chart
  int64_t tokens = 0;
  std::string label;  // the whole point, one heat map row
};

Point point_of(const CaseResult &c) {
  Point p;
  p.group = fmt::format("{} · {} · {} · {} thread{}", c.shape.key(), c.layout, c.dtype, c.threads,
                        c.threads == 1 ? "" : "s");
  p.tokens = c.tokens;
  p.label = fmt::format("{} {} {}, {} token{}, {} thread{}", c.shape.key(), c.layout, c.dtype,
                        c.tokens, c.tokens == 1 ? "" : "s", c.threads, c.threads == 1 ? "" : "s");
  return p;
}

template <typename F>
double median_field(const CaseResult &c, F f) {
  std::vector<double> v;
  for (const auto &r : c.repetitions) v.push_back(f(r));
  return v.empty() ? 0 : median(v);
}

bool usable(const CaseResult &c) { return !c.failed() && !c.repetitions.empty(); }

// A heat map: rows against columns, each cell coloured and labelled by the
// caller.
struct Heat {
  std::vector<std::string> rows, cols;
  std::map<std::pair<size_t, size_t>, std::pair<std::string, std::string>> cells;  // text, fill
};

std::string heat_svg(const Heat &h, const std::string &title) {
  double left = 0, top = 0;
  for (const auto &r : h.rows) left = std::max(left, text_px(r));
  for (const auto &c : h.cols) top = std::max(top, text_px(c) * 0.71);  // written at 45°
  left += 16;
  top += 14;
  const double cw = 64, ch = 22;
  const double width = left + cw * h.cols.size() + top * 0.71 + 20;  // room for the last label
  const double height = top + ch * h.rows.size() + 10;
  std::string s = fmt::format(
      "<svg width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\">"
      "<title>{}</title>",
      width, height, width, height, esc(title));
  for (size_t j = 0; j < h.cols.size(); ++j) {
    const double x = left + cw * j + cw / 2, y = top - 6;
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" transform=\"rotate(-45 "
        "{:.1f} {:.1f})\" "
        "class=\"lab\">{}</text>",
        x, y, x, y, esc(h.cols[j]));
  }
  for (size_t i = 0; i < h.rows.size(); ++i) {
    const double y = top + ch * i;
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" "
        "class=\"lab\">{}</text>",
        left - 8, y + ch / 2 + 4, esc(h.rows[i]));
    for (size_t j = 0; j < h.cols.size(); ++j) {
      const double x = left + cw * j;
      const auto it = h.cells.find({i, j});
      if (it == h.cells.end()) {
        s += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" "
            "height=\"{:.0f}\" "
            "class=\"empty\"/>",
            x, y, cw, ch);
        continue;
      }
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" "
          "height=\"{:.0f}\" fill=\"{}\" "
          "class=\"cell\"/><text x=\"{:.1f}\" y=\"{:.1f}\" "
          "text-anchor=\"middle\" "
          "class=\"val\">{}</text>",
          x, y, cw, ch, it->second.second, x + cw / 2, y + ch / 2 + 4, esc(it->second.first));
    }
  }
  return s + "</svg>";
}

std::string rgb(double r, double g, double b) {
  auto c = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
  return fmt::format("#{:02x}{:02x}{:02x}", c(r), c(g), c(b));
}

// 0 % white to 100 % deep blue.
std::string roofline_fill(double pct) {
  const double t = std::clamp(pct / 100, 0.0, 1.0);
  return rgb(1 - 0.85 * t, 1 - 0.55 * t, 1 - 0.15 * t);
}

// Diverging on a log scale around 1, saturated at 4x: `good` above 1 is green
// (a speedup), below red; for ratios of times pass good = false.
std::string ratio_fill(double ratio, bool good_above_one) {
  double t = std::clamp(std::log2(ratio) / 2, -1.0, 1.0);
  if (!good_above_one) t = -t;
  if (t >= 0) return rgb(1 - 0.6 * t, 1 - 0.25 * t, 1 - 0.6 * t);
  return rgb(1 + 0.1 * t, 1 + 0.65 * t, 1 + 0.65 * t);
}

// A median with the spread of its repetitions (fastest and slowest), in ns.
struct Spread {
  double median = 0, lo = 0, hi = 0;
};

Spread spread_of(const CaseResult &c) {
  const auto t = c.real_times_ns();
  return {median(t), *std::min_element(t.begin(), t.end()), *std::max_element(t.begin(), t.end())};
}

// The decades a log axis spans: a fifth of a decade of room each side, so that values within one
// decade still differ in height.
struct LogRange {
  double d0 = 0, d1 = 1;
};
LogRange log_range(double lo, double hi) {
  LogRange r{std::floor(std::log10(lo) - 0.2), std::ceil(std::log10(hi) + 0.2)};
  if (r.d1 <= r.d0) r.d1 = r.d0 + 1;
  return r;
}

// Gridlines at 1, 2 and 5 of every decade (labelled), and at the other integers unlabelled:
// a decade alone is too coarse to read a factor of two off.
template <typename Y, typename Label>
std::string log_grid(const LogRange &r, Y y_of, double x1, double x2, Label label) {
  std::string s;
  for (double d = r.d0; d <= r.d1; ++d)
    for (int m = 1; m <= 9; ++m) {
      const double v = m * std::pow(10, d);
      if (std::log10(v) > r.d1 + 1e-9) break;
      const bool named = m == 1 || m == 2 || m == 5;
      const double y = y_of(v);
      s += fmt::format("<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"{}\"/>",
                       x1, x2, y, y, m == 1 ? "grid" : "grid minor");
      if (named)
        s += fmt::format("<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\" class=\"lab\">{}</text>",
                         x1 - 6, y + 4, esc(label(v)));
    }
  return s;
}

// Grouped bars: per token count a bar per variant, median time on a log axis shared by every
// chart of the section (`range`), a whisker from the fastest to the slowest repetition.
std::string time_svg(const std::vector<int64_t> &tokens, const std::vector<std::string> &impls,
                     const std::map<std::pair<int64_t, std::string>, Spread> &ns,
                     const std::map<std::string, size_t> &colour_of, const std::string &title,
                     const LogRange &range) {
  const double d0 = range.d0, d1 = range.d1;
  const double bar = 14, gap = 24, left = 72, top = 28, plot_h = 220, bottom = 40;
  const double group_w = bar * impls.size() + gap;
  const double width =
      std::max({300.0, left + group_w * tokens.size() + 20, left + text_px(title) + 10});
  // Groups centred when the chart is wider than they need.
  const double pad = (width - 20 - left - group_w * tokens.size()) / 2;
  const double height = top + plot_h + bottom;
  auto y_of = [&](double v) { return top + plot_h * (1 - (std::log10(v) - d0) / (d1 - d0)); };
  std::string s = fmt::format(
      "<svg width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" "
      "role=\"img\" class=\"chart time\">"
      "<title>{}</title><text x=\"{:.0f}\" y=\"16\" class=\"cap\">{}</text>",
      width, height, width, height, esc(title), left, esc(title));
  s += log_grid(range, y_of, left, width - 10, [](double v) { return human_time(v, "µs"); });
  for (size_t g = 0; g < tokens.size(); ++g) {
    const double x0 = left + pad + gap / 2 + group_w * g;
    for (size_t i = 0; i < impls.size(); ++i) {
      const auto it = ns.find({tokens[g], impls[i]});
      if (it == ns.end()) continue;
      const Spread &v = it->second;
      const double y = y_of(v.median), x = x0 + bar * i;
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" "
          "height=\"{:.1f}\" fill=\"{}\">"
          "<title>{}, {} token{}: median {} (repetitions {} to {})</title></rect>"
          "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"whisker\"/>",
          x, y, bar - 2, top + plot_h - y, kPalette[colour_of.at(impls[i]) % kPaletteSize],
          esc(impls[i]), tokens[g], tokens[g] == 1 ? "" : "s", esc(human_time(v.median, "µs")),
          esc(human_time(v.lo, "µs")), esc(human_time(v.hi, "µs")), x + bar / 2 - 1,
          x + bar / 2 - 1, y_of(v.lo), y_of(v.hi));
    }
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\" class=\"lab\">"
        "{} token{}</text>",
        x0 + bar * impls.size() / 2, top + plot_h + 18, tokens[g], tokens[g] == 1 ? "" : "s");
  }
  s += fmt::format(
      "<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"{:.0f}\" "
      "y2=\"{:.0f}\" class=\"axis\"/>",
      left, width - 10, top + plot_h, top + plot_h);
  return s + "</svg>";
}

// Per op, every compared row: the ratio of its medians (later / first) on a log axis, its 95%
// interval as whiskers, a filled marker where the change is significant (vermillion slower,
// blue faster), a hollow one where it is not.
std::string ratio_svg(const std::vector<std::pair<std::string, RatioCell>> &rows,
                      const std::string &title) {
  double span = std::log2(1.25);  // log2 range shown each side of 1
  for (const auto &[_, c] : rows)
    span = std::max({span, std::abs(std::log2(c.lower)), std::abs(std::log2(c.upper))});
  span *= 1.1;
  double left = 0;
  for (const auto &[label, _] : rows) left = std::max(left, text_px(label, 11));
  left += 16;
  const double plot_w = 420, row_h = 16, top = 34, width = left + plot_w + 20;
  const double height = top + row_h * rows.size() + 24;
  auto x_of = [&](double r) { return left + plot_w / 2 * (1 + std::log2(r) / span); };
  std::string s = fmt::format(
      "<svg width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" "
      "class=\"chart ratio\"><title>{}</title><text x=\"{:.0f}\" y=\"16\" class=\"cap\">{}</text>",
      width, height, width, height, esc(title), left, esc(title));
  // Gridlines at simple factors: 0.5, 0.8, 1, 1.25, 2, ...
  for (double f : {1 / 16.0, 1 / 8.0, 0.25, 0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 2.0, 4.0, 8.0, 16.0}) {
    if (std::abs(std::log2(f)) > span) continue;
    // Past a factor of two each side the small factors crowd each other's labels.
    const bool small = f != 1.0 && std::abs(std::log2(f)) < 1;
    if (small && span > 1.5) continue;
    const double x = x_of(f);
    s += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.0f}\" y2=\"{:.0f}\" class=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\" class=\"lab\">{:g}×</text>",
        x, x, top - 4, height - 20, f == 1.0 ? "axis" : "grid", x, height - 6, f);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto &[label, c] = rows[i];
    const double y = top + row_h * i + row_h / 2;
    const char *fill = !c.significant ? "none" : c.ratio > 1 ? "#D55E00" : "#0072B2";
    const char *stroke = !c.significant ? "#777" : fill;
    s += fmt::format(
        "<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\" class=\"val\">{}</text>"
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "class=\"whisker\"/><circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\" "
        "stroke=\"{}\" stroke-width=\"1.5\"><title>{}: {:.3f} [{:.3f}, {:.3f}], p {:.3g}{}</title>"
        "</circle>",
        left - 8, y + 4, esc(label), x_of(c.lower), x_of(c.upper), y, y, stroke, x_of(c.ratio), y,
        fill, stroke, esc(label), c.ratio, c.lower, c.upper, c.p_value,
        c.significant ? "" : ", not significant");
  }
  return s + "</svg>";
}

// Per op: achieved GFLOP/s against arithmetic intensity (flop per byte moved), log-log, under
// the machine's roofs: bandwidth × intensity, and each measured peak (f32, and the dot-product
// and tile classes where the context has them). One point per variant and point; decode (one
// token) as circles, prefill (several) as triangles.
struct Roof {
  std::string name;
  double gflops;
};

std::vector<Roof> roofs_of(const nlohmann::json &ctx) {
  std::vector<Roof> out;
  auto number = [](const nlohmann::json &v) -> std::optional<double> {
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) try {
        return std::stod(v.get<std::string>());
      } catch (const std::exception &) {
      }
    return std::nullopt;
  };
  if (ctx.contains("roofline") && ctx["roofline"].is_object() &&
      ctx["roofline"].contains("peaks") && ctx["roofline"]["peaks"].is_object())
    for (const auto &[name, p] : ctx["roofline"]["peaks"].items())
      if (p.is_object() && p.contains("gflops"))
        if (const auto g = number(p["gflops"]); g && *g > 0) out.push_back({name, *g});
  // moetune_bench: peak_<name>_gops
  for (const auto &[key, v] : ctx.items())
    if (key.rfind("peak_", 0) == 0 && key.size() > 10 && key.substr(key.size() - 5) == "_gops")
      if (const auto g = number(v); g && *g > 0)
        out.push_back({key.substr(5, key.size() - 10), *g});
  if (out.empty() && ctx.contains("peak_gflops"))
    if (const auto g = number(ctx["peak_gflops"]); g && *g > 0) out.push_back({"f32", *g});
  return out;
}

std::optional<double> bandwidth_of(const nlohmann::json &ctx) {
  if (!ctx.contains("read_bandwidth_gbs")) return std::nullopt;
  const auto &v = ctx["read_bandwidth_gbs"];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) try {
      return std::stod(v.get<std::string>());
    } catch (const std::exception &) {
    }
  return std::nullopt;
}

struct RoofPoint {
  std::string impl, label;
  double intensity, gflops;
  bool decode;
};

std::string roofline_svg(const std::vector<RoofPoint> &pts, const std::vector<Roof> &roofs,
                         std::optional<double> bandwidth,
                         const std::map<std::string, size_t> &colour_of,
                         const std::string &title) {
  double xlo = 1e300, xhi = 0, ylo = 1e300, yhi = 0;
  for (const auto &p : pts) {
    xlo = std::min(xlo, p.intensity), xhi = std::max(xhi, p.intensity);
    ylo = std::min(ylo, p.gflops), yhi = std::max(yhi, p.gflops);
  }
  for (const auto &r : roofs) {
    yhi = std::max(yhi, r.gflops);
    if (bandwidth) xhi = std::max(xhi, r.gflops / *bandwidth);  // the ridge point
  }
  const LogRange xr = log_range(xlo, xhi), yr = log_range(ylo, yhi);
  const double left = 72, top = 28, plot_w = 520, plot_h = 300, width = left + plot_w + 150;
  const double height = top + plot_h + 44;
  auto x_of = [&](double v) { return left + plot_w * (std::log10(v) - xr.d0) / (xr.d1 - xr.d0); };
  auto y_of = [&](double v) { return top + plot_h * (1 - (std::log10(v) - yr.d0) / (yr.d1 - yr.d0)); };
  std::string s = fmt::format(
      "<svg width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" "
      "class=\"chart roofline\"><title>{}</title><text x=\"{:.0f}\" y=\"16\" class=\"cap\">{}</text>",
      width, height, width, height, esc(title), left, esc(title));
  s += log_grid(yr, y_of, left, left + plot_w, [](double v) { return fmt::format("{:g}", v); });
  for (double d = xr.d0; d <= xr.d1; ++d) {
    const double x = x_of(std::pow(10, d));
    s += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.0f}\" y2=\"{:.0f}\" class=\"grid\"/>"
        "<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\" class=\"lab\">{:g}</text>",
        x, x, top, top + plot_h, x, top + plot_h + 16, std::pow(10, d));
  }
  s += fmt::format(
      "<text x=\"{:.0f}\" y=\"{:.0f}\" text-anchor=\"middle\" class=\"lab\">arithmetic "
      "intensity (flop per byte moved)</text><text x=\"14\" y=\"{:.0f}\" class=\"lab\" "
      "transform=\"rotate(-90 14 {:.0f})\" text-anchor=\"middle\">GFLOP/s</text>",
      left + plot_w / 2, top + plot_h + 36, top + plot_h / 2, top + plot_h / 2);
  const double x_min = std::pow(10, xr.d0), x_max = std::pow(10, xr.d1);
  for (const auto &r : roofs) {
    // Flat at the peak from the ridge on; the bandwidth slope below it.
    const double ridge = bandwidth ? std::max(x_min, r.gflops / *bandwidth) : x_min;
    if (r.gflops > std::pow(10, yr.d1)) continue;
    s += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"roof\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"lab\">{} peak {:.0f}</text>",
        x_of(ridge), x_of(x_max), y_of(r.gflops), y_of(r.gflops), x_of(x_max) + 4,
        y_of(r.gflops) + 4, esc(r.name), r.gflops);
  }
  if (bandwidth) {
    const double top_roof = roofs.empty() ? std::pow(10, yr.d1) : roofs.front().gflops;
    const double x0 = std::max(x_min, std::pow(10, yr.d0) / *bandwidth);
    const double x1 = std::min(x_max, top_roof / *bandwidth);
    if (x1 > x0)
      s += fmt::format(
          "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"roof\"/>"
          "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"lab\" text-anchor=\"end\">read {:.1f} GB/s</text>",
          x_of(x0), x_of(x1), y_of(x0 * *bandwidth), y_of(x1 * *bandwidth), x_of(x1) - 6,
          y_of(x1 * *bandwidth) - 6, *bandwidth);
  }
  for (const auto &p : pts) {
    const double x = x_of(p.intensity), y = y_of(p.gflops);
    const char *colour = kPalette[colour_of.at(p.impl) % kPaletteSize];
    const std::string tip = fmt::format("<title>{}, {}: {:.3g} flop/B, {:.3g} GFLOP/s</title>",
                                        esc(p.impl), esc(p.label), p.intensity, p.gflops);
    s += p.decode ? fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\" "
                                "class=\"mark\">{}</circle>",
                                x, y, colour, tip)
                  : fmt::format("<path d=\"M{:.1f} {:.1f}l5 9h-10z\" fill=\"{}\" class=\"mark\">{}</path>",
                                x, y - 6, colour, tip);
  }
  s += fmt::format(
      "<circle cx=\"{:.0f}\" cy=\"{:.0f}\" r=\"4\" fill=\"#555\"/><text x=\"{:.0f}\" "
      "y=\"{:.0f}\" class=\"lab\">decode (1 token)</text><path d=\"M{:.0f} {:.0f}l5 9h-10z\" "
      "fill=\"#555\"/><text x=\"{:.0f}\" y=\"{:.0f}\" class=\"lab\">prefill (several)</text>",
      left + plot_w + 14, top + plot_h - 40, left + plot_w + 24, top + plot_h - 36,
      left + plot_w + 14, top + plot_h - 26, left + plot_w + 24, top + plot_h - 16);
  return s + "</svg>";
}

std::string legend_html(const std::vector<std::string> &impls,
                        const std::map<std::string, size_t> &colour_of) {
  std::string s = "<p class=\"legend\">";
  for (const auto &i : impls)
    s += fmt::format("<span><i style=\"background:{}\"></i>{}</span>",
                     kPalette[colour_of.at(i) % kPaletteSize], esc(i));
  return s + "</p>";
}

std::string anchor(const std::string &s) {
  std::string a;
  for (char c : s) a += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  return a;
}

struct OpData {
  std::vector<const CaseResult *> cases;
  std::vector<std::string> impls;   // first-seen order
  std::vector<std::string> points;  // heat map rows
};

std::map<std::string, OpData> by_op(const ResultsFile &r, std::vector<std::string> &order) {
  std::map<std::string, OpData> ops;
  for (const auto &c : r.cases) {
    auto [it, fresh] = ops.try_emplace(c.op);
    if (fresh) order.push_back(c.op);
    OpData &d = it->second;
    d.cases.push_back(&c);
    const std::string impl = impl_of(c.variant);
    if (std::find(d.impls.begin(), d.impls.end(), impl) == d.impls.end()) d.impls.push_back(impl);
    const std::string p = point_of(c).label;
    if (std::find(d.points.begin(), d.points.end(), p) == d.points.end()) d.points.push_back(p);
  }
  return ops;
}

size_t index_in(const std::vector<std::string> &v, const std::string &s) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), s) - v.begin());
}

std::string op_section(const ReportInput &in, size_t file_index, const std::string &op,
                       const OpData &d) {
  std::map<std::string, size_t> colour_of;
  for (size_t i = 0; i < d.impls.size(); ++i) colour_of[d.impls[i]] = i;
  std::string s = fmt::format("<section id=\"f{}-{}\"><h2>{} <small>{}</small></h2>", file_index,
                              anchor(op), esc(op), esc(in.path));

  // Time per variant: one chart per shape, layout, dtype and thread count,
  // token counts along x.
  std::vector<std::string> groups;
  std::map<std::string, std::vector<const CaseResult *>> in_group;
  for (const CaseResult *c : d.cases) {
    const std::string g = point_of(*c).group;
    if (!in_group.count(g)) groups.push_back(g);
    in_group[g].push_back(c);
  }
  // One y range for every chart of the op, so that bars of different charts compare.
  double lo = 1e300, hi = 0;
  for (const CaseResult *c : d.cases)
    if (usable(*c)) {
      const Spread v = spread_of(*c);
      if (v.lo > 0) lo = std::min(lo, v.lo);
      hi = std::max(hi, v.hi);
    }
  const LogRange range = hi > 0 ? log_range(lo, hi) : LogRange{};
  s += "<h3>Median time per call</h3><p class=\"note\">Whiskers: the fastest to the slowest "
       "repetition.</p>" +
       legend_html(d.impls, colour_of) + "<div class=\"charts\">";
  for (const auto &g : groups) {
    std::vector<int64_t> tokens;
    std::vector<std::string> impls;
    std::map<std::pair<int64_t, std::string>, Spread> ns;
    for (const CaseResult *c : in_group[g]) {
      if (!usable(*c)) continue;
      if (std::find(tokens.begin(), tokens.end(), c->tokens) == tokens.end())
        tokens.push_back(c->tokens);
      const std::string impl = impl_of(c->variant);
      if (std::find(impls.begin(), impls.end(), impl) == impls.end()) impls.push_back(impl);
      ns[{c->tokens, impl}] = spread_of(*c);
    }
    if (ns.empty()) continue;
    std::sort(tokens.begin(), tokens.end());
    std::sort(impls.begin(), impls.end(), [&](const std::string &a, const std::string &b) {
      return colour_of[a] < colour_of[b];
    });
    s += time_svg(tokens, impls, ns, colour_of, g, range);
  }
  s += "</div>";

  std::vector<RoofPoint> pts;
  for (const CaseResult *c : d.cases) {
    if (!usable(*c)) continue;
    const double flops = median_field(*c, [](const Repetition &r) { return r.flops_per_second; });
    const double bytes = median_field(*c, [](const Repetition &r) { return r.bytes_per_second; });
    if (flops > 0 && bytes > 0)
      pts.push_back({impl_of(c->variant), point_of(*c).label, flops / bytes, flops / 1e9,
                     c->tokens == 1});
  }
  if (!pts.empty())
    s += "<h3>Roofline</h3><p class=\"note\">Achieved GFLOP/s against flop per byte moved, "
         "under this machine's measured read bandwidth and peaks (all threads). A point far "
         "under its roof has room to gain.</p>" +
         roofline_svg(pts, roofs_of(in.results.context), bandwidth_of(in.results.context),
                      colour_of, op + ": roofline");

  // % of roofline and speedup over naive, variant against point.
  Heat roof, speed;
  roof.rows = speed.rows = d.points;
  roof.cols = speed.cols = d.impls;
  std::map<std::string, double> naive_ns;
  for (const CaseResult *c : d.cases)
    if (usable(*c) && c->verified && is_naive(c->variant))
      naive_ns[point_of(*c).label] = median(c->real_times_ns());
  for (const CaseResult *c : d.cases) {
    const std::string label = point_of(*c).label;
    const std::pair<size_t, size_t> at{index_in(d.points, label),
                                       index_in(d.impls, impl_of(c->variant))};
    if (!usable(*c)) {
      roof.cells[at] = speed.cells[at] = {"failed", "#dddddd"};
      continue;
    }
    const double pct = median_field(*c, [](const Repetition &r) { return r.roofline_pct; });
    roof.cells[at] = c->has_roofline
                         ? std::make_pair(fmt::format("{:.1f}%", pct), roofline_fill(pct))
                         : std::make_pair(std::string("-"), std::string("#f4f4f4"));
    const auto n = naive_ns.find(label);
    if (n != naive_ns.end()) {
      const double x = n->second / median(c->real_times_ns());
      speed.cells[at] = {fmt::format("{:.2f}x", x), ratio_fill(x, true)};
    }
  }
  s += "<h3>% of roofline</h3><p class=\"note\">100 × the time the bound "
       "allows (max of bytes "
       "moved / bandwidth and flops / peak) / the measured time.</p>" +
       heat_svg(roof, op + ": % of roofline");
  s += "<h3>Speedup over naive</h3><p class=\"note\">naive median / median; "
       "green is "
       "faster.</p>" +
       heat_svg(speed, op + ": speedup over naive");
  return s + "</section>\n";
}

std::string comparison_section(const std::vector<ReportInput> &inputs, const Comparison &cmp,
                               size_t f) {
  std::string s = fmt::format("<section id=\"cmp{}\"><h2>{} against {}</h2>", f,
                              esc(inputs[f].path), esc(inputs[0].path));
  for (const auto &w : cmp.warnings)
    if (w.find(inputs[f].path) != std::string::npos)
      s += "<p class=\"warn\">Warning: " + esc(w) + "</p>";
  s += "<p class=\"note\">Ratio of medians (later / first): above 1 is slower. Whiskers: the "
       "95% interval of the ratio (Hodges-Lehmann); filled markers: significant at 5% "
       "(Mann-Whitney U), vermillion slower, blue faster; hollow: not significant.</p>";

  // Geomean per op, horizontal bars on a log axis centred on 1.
  std::vector<std::pair<std::string, double>> bars;
  for (const auto &g : cmp.per_op)
    if (g.ratio[f - 1]) bars.push_back({g.op, *g.ratio[f - 1]});
  if (cmp.overall.ratio[f - 1]) bars.push_back({"all", *cmp.overall.ratio[f - 1]});
  double span = 0.5;  // log2 range shown each side of 1
  for (const auto &[_, r] : bars) span = std::max(span, std::abs(std::log2(r)) * 1.1);
  const double left = 90, width = 640, half = (width - left - 80) / 2, row_h = 24;
  const double height = 30 + row_h * std::max<size_t>(bars.size(), 1);
  const double mid = left + half;
  s += fmt::format(
      "<h3>Geometric mean of the ratios</h3><svg width=\"{:.0f}\" "
      "height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\"><title>geomean "
      "ratio per op</title>",
      width, height, width, height);
  for (size_t i = 0; i < bars.size(); ++i) {
    const double y = 10 + row_h * i;
    const double x = mid + half * std::log2(bars[i].second) / span;
    s += fmt::format(
        "<text x=\"{:.0f}\" y=\"{:.0f}\" text-anchor=\"end\" "
        "class=\"lab\">{}</text>"
        "<rect x=\"{:.1f}\" y=\"{:.0f}\" width=\"{:.1f}\" height=\"{:.0f}\" "
        "fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.0f}\" class=\"lab\">{:.3f}</text>",
        left - 8, y + 15, esc(bars[i].first), std::min(x, mid), y + 3, std::abs(x - mid), row_h - 6,
        bars[i].second > 1 ? "#D55E00" : "#009E73", std::max(x, mid) + 4, y + 15, bars[i].second);
  }
  s += fmt::format(
      "<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"4\" y2=\"{:.0f}\" "
      "class=\"axis\"/>"
      "</svg>",
      mid, mid, height - 4);

  // Per op, the ratio of every row that both files measured, with its interval.
  std::map<std::string, const CaseResult *> base_case;
  for (const auto &c : inputs[0].results.cases)
    base_case[compare_key(c, inputs[0].plain)] = &c;
  std::map<std::string, std::vector<std::pair<std::string, RatioCell>>> per_op;
  std::vector<std::string> ops;
  for (const auto &row : cmp.rows) {
    const RatioCell &cell = row.cells[f - 1];
    if (cell.change != Change::kCompared) continue;
    const auto it = base_case.find(row.key);
    if (it == base_case.end()) continue;
    auto [list, fresh] = per_op.try_emplace(row.op);
    if (fresh) ops.push_back(row.op);
    list->second.push_back(
        {impl_of(it->second->variant) + " · " + point_of(*it->second).label, cell});
  }
  for (const auto &op : ops)
    s += "<h3>" + esc(op) + "</h3>" +
         ratio_svg(per_op[op], op + ": ratio of medians with its 95% interval");
  std::vector<std::string> only;
  for (const auto &row : cmp.rows) {
    const Change ch = row.cells[f - 1].change;
    if (ch == Change::kAdded || ch == Change::kRemoved || ch == Change::kFailed)
      only.push_back(fmt::format("{}: {}", row.key,
                                 ch == Change::kAdded     ? "added"
                                 : ch == Change::kRemoved ? "removed"
                                                          : "failed"));
  }
  if (!only.empty()) {
    s += fmt::format(
        "<details><summary>Not compared: {} case{} in one file only or failed"
        "</summary><ul>",
        only.size(), only.size() == 1 ? "" : "s");
    for (const auto &o : only) s += "<li>" + esc(o) + "</li>";
    s += "</ul></details>";
  }
  return s + "</section>\n";
}

// The best of each file at each decision point (MatchBy::kPoint): which variant was fastest
// in the first file and in file f, their medians and the ratio, per op; what a comparison with
// a peer (other variant names) needs. A part of file f's comparison section.
std::string point_section(const std::vector<ReportInput> &inputs, const Comparison &cmp, size_t f) {
  std::string s = fmt::format(
      "<div id=\"pt{}\"><h3>Best against best: {} against {}</h3>"
      "<p class=\"note\">Per decision point (op, shape, layout, dtype, tokens, threads), each "
      "file's fastest verified variant there; ratio of their medians (later / first): above 1 "
      "is slower; <code>~</code>: not significant at 5% (Mann-Whitney U).</p>",
      f, esc(inputs[f].path), esc(inputs[0].path));
  std::vector<std::string> ops;
  std::map<std::string, std::string> table;
  for (const auto &row : cmp.rows) {
    const Sample &a = row.samples[0], &b = row.samples[f];
    if (!a.present && !b.present) continue;
    auto [it, fresh] = table.try_emplace(row.op);
    if (fresh) ops.push_back(row.op);
    auto side = [](const Sample &x) {
      if (!x.present) return std::string("<td>-</td><td></td>");
      if (!x.error.empty()) return "<td>" + esc(x.error) + "</td><td></td>";
      return "<td>" + esc(x.variant) + "</td><td class=\"num\">" + esc(human_time(x.median_ns)) +
             "</td>";
    };
    const RatioCell &cell = row.cells[f - 1];
    std::string ratio;
    if (cell.change == Change::kCompared)
      ratio = fmt::format("<td class=\"num\" style=\"background:{}\">{:.2f}{}</td>",
                          cell.significant ? ratio_fill(cell.ratio, false) : "#f4f4f4", cell.ratio,
                          cell.significant ? "" : " ~");
    else
      ratio = "<td></td>";
    it->second += "<tr><td>" + esc(row.key) + "</td>" + side(a) + side(b) + ratio + "</tr>";
  }
  for (const auto &op : ops) {
    const auto g = std::find_if(cmp.per_op.begin(), cmp.per_op.end(),
                                [&](const Geomean &x) { return x.op == op; });
    std::string geo;
    if (g != cmp.per_op.end() && g->ratio[f - 1])
      geo = fmt::format(" <small>geomean {:.3f} over {} point{}</small>", *g->ratio[f - 1],
                        g->rows[f - 1], g->rows[f - 1] == 1 ? "" : "s");
    s += "<h4>" + esc(op) + geo + "</h4><table class=\"ctx\"><tr><th>point</th><th>" +
         esc(inputs[0].path) + "</th><th>median</th><th>" + esc(inputs[f].path) +
         "</th><th>median</th><th>ratio</th></tr>" + table[op] + "</table>";
  }
  return s + "</div>";
}

constexpr const char *kStyle = R"(
body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}
h2 small{font-weight:normal;color:#666;font-size:13px}h3{font-size:14px;margin:18px 0 6px}
h4{font-size:13px;margin:12px 0 4px}h3 small,h4 small{font-weight:normal;color:#555}
table.ctx{border-collapse:collapse;font-size:12px}table.ctx td,table.ctx th{border:1px solid #ddd;padding:2px 6px;text-align:left;max-width:360px;overflow-wrap:anywhere}
.note{font-size:12px;color:#555;margin:2px 0 6px}.warn{color:#a40;font-size:13px;white-space:pre-wrap}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg{font-family:sans-serif;background:#fff;display:block}.charts svg{display:inline-block;border:1px solid #eee}
.lab{font-size:12px;fill:#333}.cap{font-size:12px;font-weight:bold;fill:#222}.val{font-size:11px;fill:#111}
.roof{stroke:#222;stroke-width:2}.mark{stroke:#fff;stroke-width:.5}.grid{stroke:#d8d8d8}.grid.minor{stroke:#f0f0f0}.whisker{stroke:#222;stroke-width:1.5}.axis{stroke:#555}.cell{stroke:#fff}.empty{fill:#fafafa;stroke:#fff}
.legend{font-size:12px;margin:4px 0}.legend span{margin-right:12px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
nav{font-size:13px}nav a{margin-right:10px}td.num{text-align:right;white-space:nowrap}
details{font-size:13px;margin:8px 0}
)";

std::string context_table(const std::vector<ReportInput> &inputs) {
  const char *keys[] = {"cpu_model",          "cpu_features", "cores", "compiler", "git_commit",
                        "read_bandwidth_gbs", "peak_gflops",  "sweep", "date"};
  std::string s = "<table class=\"ctx\"><tr><th>file</th>";
  for (const char *k : keys) s += fmt::format("<th>{}</th>", k);
  s += "</tr>";
  for (const auto &in : inputs) {
    s += "<tr><td>" + esc(in.path) + "</td>";
    for (const char *k : keys) {
      const auto &ctx = in.results.context;
      std::string v = "";
      if (ctx.contains(k)) {
        v = ctx[k].is_string() ? ctx[k].get<std::string>() : ctx[k].dump();
        if (ctx[k].is_number_float()) v = fmt::format("{:.1f}", ctx[k].get<double>());
      }
      s += "<td>" + esc(v) + "</td>";
    }
    s += "</tr>";
  }
  return s + "</table>";
}

}  // namespace

std::string report_html(const std::vector<ReportInput> &inputs) {
  bool any = false;
  for (const auto &in : inputs) any = any || !in.results.cases.empty();
  if (!any)
    throw InputError(inputs.empty() ? "command line" : inputs[0].path, "", "no results to report");
  // With several files the comparison comes first: it is what the reader came for.
  std::string body, nav;
  if (inputs.size() > 1) {
    std::vector<ComparedFile> files;
    for (const auto &in : inputs) files.push_back({in.path, in.results, in.plain, {}});
    const Comparison cmp = compare_files(files);
    const Comparison by_point = compare_files(files, 0.05, MatchBy::kPoint);
    for (size_t f = 1; f < inputs.size(); ++f) {
      nav += fmt::format("<a href=\"#cmp{}\">{} vs {}</a>", f, esc(inputs[f].path),
                         esc(inputs[0].path));
      nav += fmt::format("<a href=\"#pt{}\">best vs best ({})</a>", f, esc(inputs[f].path));
      std::string section = comparison_section(inputs, cmp, f);
      section.insert(section.rfind("</section>"), point_section(inputs, by_point, f));
      body += section;
    }
    body += "<h2 class=\"part\">Details per file</h2>\n";
  }
  for (size_t f = 0; f < inputs.size(); ++f) {
    std::vector<std::string> order;
    const auto ops = by_op(inputs[f].results, order);
    for (const auto &op : order) {
      nav += fmt::format("<a href=\"#f{}-{}\">{}{}</a>", f, anchor(op), esc(op),
                         inputs.size() > 1 ? " (" + esc(inputs[f].path) + ")" : "");
      body += op_section(inputs[f], f, op, ops.at(op));
    }
  }
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>moetune report</title><style>";
  html += kStyle;
  html += "</style></head><body><header><h1>moetune report</h1>" + context_table(inputs) + "<nav>" +
          nav + "</nav></header>\n" + body + "</body></html>\n";
  return html;
}

}  // namespace moetune
