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

// Distinct on white and for the common colour-vision deficiencies (Okabe-Ito,
// then Tableau).
const char *const kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
                                "#56B4E9", "#F0E442", "#000000", "#8c564b", "#7f7f7f",
                                "#bcbd22", "#17becf", "#9467bd", "#e377c2"};
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
  p.label = fmt::format("{} {} {} t{} ×{}", c.shape.key(), c.layout, c.dtype, c.tokens, c.threads);
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

// Grouped bars: per token count a bar per variant, median time on a log axis.
std::string time_svg(const std::vector<int64_t> &tokens, const std::vector<std::string> &impls,
                     const std::map<std::pair<int64_t, std::string>, double> &ns,
                     const std::map<std::string, size_t> &colour_of, const std::string &title) {
  double lo = 1e300, hi = 0;
  for (const auto &[_, v] : ns) lo = std::min(lo, v), hi = std::max(hi, v);
  // A fifth of a decade of room each side, so values within one decade still differ in height.
  double d0 = std::floor(std::log10(lo) - 0.2), d1 = std::ceil(std::log10(hi) + 0.2);
  if (d1 <= d0) d1 = d0 + 1;
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
      "role=\"img\">"
      "<title>{}</title><text x=\"{:.0f}\" y=\"16\" class=\"cap\">{}</text>",
      width, height, width, height, esc(title), left, esc(title));
  for (double d = d0; d <= d1; ++d) {
    const double y = y_of(std::pow(10, d));
    s += fmt::format(
        "<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"{:.1f}\" "
        "y2=\"{:.1f}\" class=\"grid\"/>"
        "<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\" "
        "class=\"lab\">{}</text>",
        left, width - 10, y, y, left - 6, y + 4, esc(human_time(std::pow(10, d), "µs")));
  }
  for (size_t g = 0; g < tokens.size(); ++g) {
    const double x0 = left + pad + gap / 2 + group_w * g;
    for (size_t i = 0; i < impls.size(); ++i) {
      const auto it = ns.find({tokens[g], impls[i]});
      if (it == ns.end()) continue;
      const double y = y_of(it->second);
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" "
          "height=\"{:.1f}\" fill=\"{}\">"
          "<title>{} tokens {}: {}</title></rect>",
          x0 + bar * i, y, bar - 2, top + plot_h - y,
          kPalette[colour_of.at(impls[i]) % kPaletteSize], esc(impls[i]), tokens[g],
          esc(human_time(it->second, "µs")));
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
  s += "<h3>Median time per call</h3>" + legend_html(d.impls, colour_of) + "<div class=\"charts\">";
  for (const auto &g : groups) {
    std::vector<int64_t> tokens;
    std::vector<std::string> impls;
    std::map<std::pair<int64_t, std::string>, double> ns;
    for (const CaseResult *c : in_group[g]) {
      if (!usable(*c)) continue;
      if (std::find(tokens.begin(), tokens.end(), c->tokens) == tokens.end())
        tokens.push_back(c->tokens);
      const std::string impl = impl_of(c->variant);
      if (std::find(impls.begin(), impls.end(), impl) == impls.end()) impls.push_back(impl);
      ns[{c->tokens, impl}] = median(c->real_times_ns());
    }
    if (ns.empty()) continue;
    std::sort(tokens.begin(), tokens.end());
    std::sort(impls.begin(), impls.end(), [&](const std::string &a, const std::string &b) {
      return colour_of[a] < colour_of[b];
    });
    s += time_svg(tokens, impls, ns, colour_of, g);
  }
  s += "</div>";

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
  s += "<p class=\"note\">Ratio of medians (later / first): above 1 is slower, "
       "red; <code>~</code> marks "
       "a change that is not significant at 5% (Mann-Whitney U).</p>";

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

  // Per op, the ratio of every row that both files measured.
  std::map<std::string, const CaseResult *> base_case;
  for (const auto &c : inputs[0].results.cases)
    base_case[case_id(c.op, c.variant, c.shape, c.dtype, c.layout, c.tokens, c.threads)] = &c;
  std::map<std::string, Heat> heat;
  std::vector<std::string> ops;
  for (const auto &row : cmp.rows) {
    const RatioCell &cell = row.cells[f - 1];
    if (cell.change != Change::kCompared) continue;
    const auto it = base_case.find(row.key);
    if (it == base_case.end()) continue;
    auto [h, fresh] = heat.try_emplace(row.op);
    if (fresh) ops.push_back(row.op);
    const std::string p = point_of(*it->second).label, impl = impl_of(it->second->variant);
    if (std::find(h->second.rows.begin(), h->second.rows.end(), p) == h->second.rows.end())
      h->second.rows.push_back(p);
    if (std::find(h->second.cols.begin(), h->second.cols.end(), impl) == h->second.cols.end())
      h->second.cols.push_back(impl);
    h->second.cells[{index_in(h->second.rows, p), index_in(h->second.cols, impl)}] = {
        fmt::format("{:.2f}{}", cell.ratio, cell.significant ? "" : " ~"),
        cell.significant ? ratio_fill(cell.ratio, false) : "#f4f4f4"};
  }
  for (const auto &op : ops)
    s += "<h3>" + esc(op) + "</h3>" + heat_svg(heat[op], op + ": ratio of medians");
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
.grid{stroke:#e4e4e4}.axis{stroke:#555}.cell{stroke:#fff}.empty{fill:#fafafa;stroke:#fff}
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
  std::string body, nav;
  for (size_t f = 0; f < inputs.size(); ++f) {
    std::vector<std::string> order;
    const auto ops = by_op(inputs[f].results, order);
    for (const auto &op : order) {
      nav += fmt::format("<a href=\"#f{}-{}\">{}{}</a>", f, anchor(op), esc(op),
                         inputs.size() > 1 ? " (" + esc(inputs[f].path) + ")" : "");
      body += op_section(inputs[f], f, op, ops.at(op));
    }
  }
  if (inputs.size() > 1) {
    std::vector<ComparedFile> files;
    for (const auto &in : inputs) files.push_back({in.path, in.results, false});
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
