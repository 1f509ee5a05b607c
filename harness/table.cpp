#include "harness/table.h"

#include <fmt/core.h>

#include <map>
#include <optional>

#include "harness/error.h"
#include "harness/stats.h"
#include "harness/units.h"

namespace moetune {
namespace {

using nlohmann::json;

// One variant at one point, with what every format shows of it.
struct Line {
  const CaseResult* c = nullptr;
  bool best = false;
  double median_ns = 0, cv = 0, bytes_per_second = 0, flops_per_second = 0, roofline_pct = 0;
  std::optional<double> speedup;  // over naive at the same point
};

struct TablePoint {
  std::string label;  // the heading of the point
  std::vector<Line> lines;
  bool layer = false;
};

template <typename F>
double median_of(const CaseResult& c, F field) {
  std::vector<double> v;
  for (const auto& r : c.repetitions) v.push_back(field(r));
  return v.empty() ? 0.0 : median(v);
}

bool has_times(const CaseResult& c) { return !c.failed() && !c.repetitions.empty(); }

std::vector<TablePoint> points_of(const ComparedFile& file) {
  std::vector<TablePoint> out;
  std::map<std::string, size_t> index;
  const auto& cases = file.results.cases;
  for (size_t i = 0; i < cases.size(); ++i) {
    const CaseResult& c = cases[i];
    const std::string key =
        file.plain ? (i < file.points.size() ? file.points[i] : c.name)
                   : fmt::format("{} {} layout={} {} tokens={} threads={}", c.op, c.shape.key(),
                                 c.layout, c.dtype, c.tokens, c.threads);
    auto [it, fresh] = index.try_emplace(key, out.size());
    if (fresh) out.push_back({key, {}, parse_op(c.op) == Op::kLayer});
    Line l;
    l.c = &c;
    if (has_times(c)) {
      const auto times = c.real_times_ns();
      l.median_ns = median(times);
      l.cv = coefficient_of_variation(times);
      l.bytes_per_second = median_of(c, [](const Repetition& r) { return r.bytes_per_second; });
      l.flops_per_second = median_of(c, [](const Repetition& r) { return r.flops_per_second; });
      l.roofline_pct = median_of(c, [](const Repetition& r) { return r.roofline_pct; });
    }
    out[it->second].lines.push_back(l);
  }
  for (auto& p : out) {
    Line* best = nullptr;
    double naive_ns = 0;
    for (auto& l : p.lines) {
      if (!has_times(*l.c) || !l.c->verified) continue;
      if (!best || l.median_ns < best->median_ns) best = &l;
      if (l.c->variant.find("__naive") != std::string::npos) naive_ns = l.median_ns;
    }
    if (best) best->best = true;
    if (naive_ns > 0)
      for (auto& l : p.lines)
        if (has_times(*l.c)) l.speedup = naive_ns / l.median_ns;
  }
  return out;
}

// A context value as text: moetune sweep writes numbers, moetune_bench (Google Benchmark's
// custom context) strings.
std::optional<std::string> ctx_text(const json& ctx, const char* key) {
  if (!ctx.is_object() || !ctx.contains(key) || ctx[key].is_null()) return std::nullopt;
  const json& v = ctx[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:.1f}", v.get<double>());
  return v.dump();
}

std::optional<double> ctx_number(const json& ctx, const char* key) {
  if (!ctx.is_object() || !ctx.contains(key)) return std::nullopt;
  const json& v = ctx[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) try {
      return std::stod(v.get<std::string>());
    } catch (const std::exception&) {
    }
  return std::nullopt;
}

// Where the figures come from.
struct Provenance {
  std::string machine, commit, roofline;
  json as_json;
};

Provenance provenance_of(const json& ctx) {
  Provenance p;
  const auto cpu = ctx_text(ctx, "cpu_model");
  const auto cores = ctx_text(ctx, "cores") ? ctx_text(ctx, "cores") : ctx_text(ctx, "num_cpus");
  const auto host = ctx_text(ctx, "host_name");
  p.machine = cpu.value_or("unknown CPU");
  if (cores) p.machine += fmt::format(", {} cores", *cores);
  if (host) p.machine += fmt::format(" (host {})", *host);
  if (const auto compiler = ctx_text(ctx, "compiler")) p.machine += ", " + *compiler;
  p.commit = ctx_text(ctx, "git_commit").value_or("not recorded");
  const auto bw = ctx_number(ctx, "read_bandwidth_gbs");
  const auto peak = ctx_number(ctx, "peak_gflops");
  std::optional<double> threads = ctx_number(ctx, "roofline_threads");
  if (!threads && ctx.contains("roofline") && ctx["roofline"].is_object())
    threads = ctx_number(ctx["roofline"], "threads");
  if (bw && peak) {
    p.roofline = fmt::format("read {:.1f} GB/s, f32 peak {:.1f} GFLOP/s", *bw, *peak);
    if (threads) p.roofline += fmt::format(" ({:g} threads)", *threads);
  } else {
    p.roofline = "not measured (no % of roofline)";
  }
  p.as_json = {{"machine", p.machine}, {"cpu_model", cpu ? json(*cpu) : json(nullptr)},
               {"cores", cores ? json(*cores) : json(nullptr)},
               {"git_commit", ctx_text(ctx, "git_commit") ? json(p.commit) : json(nullptr)},
               {"read_bandwidth_gbs", bw ? json(*bw) : json(nullptr)},
               {"peak_gflops", peak ? json(*peak) : json(nullptr)},
               {"roofline_threads", threads ? json(*threads) : json(nullptr)}};
  return p;
}

std::string why_no_times(const CaseResult& c) { return c.failed() ? c.error : "no repetitions"; }

constexpr const char* kFootnote =
    "* fastest verified variant; speedup = naive median / median; roofline = % of the bound "
    "max(bytes/bandwidth, flops/peak) from `moetune roofline` (-: not measured)";

// Heap allocations per call and the heap the layer holds (its buffers), beside the weights.
std::string allocs_text(const CaseResult& c) {
  return c.allocs_per_call ? fmt::format("{:.1f}", *c.allocs_per_call) : "-";
}
std::string workspace_text(const CaseResult& c) {
  return c.workspace_bytes ? fmt::format("{:.1f} KiB", *c.workspace_bytes / 1024.0) : "-";
}
std::string roofline_text(const Line& l) {
  return l.c->has_roofline ? fmt::format("{:.1f}%", l.roofline_pct) : "-";
}
std::string speedup_text(const Line& l) {
  return l.speedup ? fmt::format("{:.2f}x", *l.speedup) : "-";
}

std::string render_text(const std::vector<TablePoint>& points, const Provenance& p) {
  std::string out = fmt::format("machine: {}\ncommit: {}\nroofline: {}\n", p.machine, p.commit,
                                p.roofline);
  for (const auto& point : points) {
    out += fmt::format("\n{}\n", point.label);
    out += fmt::format("  {:<36} {:>10} {:>6} {:>9} {:>9} {:>9} {:>8}{}\n", "variant", "median",
                       "cv%", "GB/s", "GFLOP/s", "roofline", "speedup",
                       point.layer ? fmt::format(" {:>7} {:>10}", "allocs", "workspace") : "");
    for (const Line& l : point.lines) {
      const std::string mark = l.best ? "*" : " ";
      if (!has_times(*l.c)) {
        out += fmt::format("{} {:<36} {}\n", mark, l.c->variant, why_no_times(*l.c));
        continue;
      }
      out += fmt::format("{} {:<36} {:>10} {:>6.1f} {:>9.2f} {:>9.2f} {:>9} {:>7}{}\n", mark,
                         l.c->variant, human_time(l.median_ns), 100.0 * l.cv,
                         l.bytes_per_second / 1e9, l.flops_per_second / 1e9, roofline_text(l),
                         speedup_text(l),
                         point.layer ? fmt::format(" {:>7} {:>10}", allocs_text(*l.c),
                                                   workspace_text(*l.c))
                                     : "");
    }
  }
  return out + "\n" + kFootnote + "\n";
}

std::string md_cell(std::string t) {
  for (size_t at = 0; (at = t.find('|', at)) != std::string::npos; at += 2) t.replace(at, 1, "\\|");
  return t;
}

std::string render_markdown(const std::vector<TablePoint>& points, const Provenance& p) {
  std::string out = fmt::format("- machine: {}\n- commit: `{}`\n- roofline: {}\n", md_cell(p.machine),
                                md_cell(p.commit), md_cell(p.roofline));
  for (const auto& point : points) {
    out += fmt::format("\n### `{}`\n\n", point.label);
    out += "| | variant | median | cv% | GB/s | GFLOP/s | roofline | speedup |";
    out += point.layer ? " allocs | workspace |\n" : "\n";
    out += "| :- | :--- | ---: | ---: | ---: | ---: | ---: | ---: |";
    out += point.layer ? " ---: | ---: |\n" : "\n";
    for (const Line& l : point.lines) {
      const std::string mark = l.best ? "*" : "";
      if (!has_times(*l.c)) {
        out += fmt::format("| {} | {} | {} | | | | | |{}\n", mark, md_cell(l.c->variant),
                           md_cell(why_no_times(*l.c)), point.layer ? " | |" : "");
        continue;
      }
      out += fmt::format("| {} | {} | {} | {:.1f} | {:.2f} | {:.2f} | {} | {} |", mark,
                         md_cell(l.c->variant), human_time(l.median_ns), 100.0 * l.cv,
                         l.bytes_per_second / 1e9, l.flops_per_second / 1e9, roofline_text(l),
                         speedup_text(l));
      out += point.layer ? fmt::format(" {} | {} |\n", allocs_text(*l.c), workspace_text(*l.c))
                         : "\n";
    }
  }
  return out + "\n" + kFootnote + "\n";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

// One line per variant and point, the provenance repeated on each so that lines of several
// tables can be concatenated and still say where they come from.
std::string render_csv(const std::vector<TablePoint>& points, const Provenance& p, bool plain) {
  std::string out =
      "point,op,variant,shape,dtype,layout,tokens,threads,best,median_ns,cv,bytes_per_second,"
      "flops_per_second,roofline_pct,speedup,allocs_per_call,workspace_bytes,error,machine,"
      "git_commit,read_bandwidth_gbs,peak_gflops\n";
  auto opt = [](const std::optional<double>& v) { return v ? fmt::format("{}", *v) : ""; };
  auto ctx_num = [&](const char* key) {
    return p.as_json[key].is_number() ? fmt::format("{}", p.as_json[key].get<double>()) : "";
  };
  const std::string tail = fmt::format(
      "{},{},{},{}", csv_field(p.machine),
      csv_field(p.as_json["git_commit"].is_string() ? p.commit : ""),
      ctx_num("read_bandwidth_gbs"), ctx_num("peak_gflops"));
  for (const auto& point : points)
    for (const Line& l : point.lines) {
      const CaseResult& c = *l.c;
      const bool t = has_times(c);
      auto num = [&](double v) { return t ? fmt::format("{}", v) : std::string(); };
      out += fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(point.label),
          csv_field(c.op), csv_field(c.variant), csv_field(plain ? "" : c.shape.key()),
          csv_field(c.dtype), csv_field(c.layout), plain ? "" : std::to_string(c.tokens),
          c.threads, l.best ? "true" : "false", num(l.median_ns), num(l.cv),
          num(l.bytes_per_second), num(l.flops_per_second),
          t && c.has_roofline ? fmt::format("{}", l.roofline_pct) : "", opt(l.speedup),
          opt(c.allocs_per_call), opt(c.workspace_bytes),
          csv_field(t ? "" : why_no_times(c)), tail);
    }
  return out;
}

std::string render_json(const std::vector<TablePoint>& points, const Provenance& p, bool plain) {
  json list = json::array();
  for (const auto& point : points) {
    json variants = json::array();
    for (const Line& l : point.lines) {
      const CaseResult& c = *l.c;
      json v = {{"variant", c.variant}, {"best", l.best}, {"verified", c.verified}};
      if (!has_times(c)) {
        v["error"] = why_no_times(c);
      } else {
        v.update({{"median_ns", l.median_ns},
                  {"cv", l.cv},
                  {"bytes_per_second", l.bytes_per_second},
                  {"flops_per_second", l.flops_per_second},
                  {"roofline_pct", c.has_roofline ? json(l.roofline_pct) : json(nullptr)},
                  {"speedup", l.speedup ? json(*l.speedup) : json(nullptr)}});
      }
      if (c.allocs_per_call) v["allocs_per_call"] = *c.allocs_per_call;
      if (c.workspace_bytes) v["workspace_bytes"] = *c.workspace_bytes;
      variants.push_back(v);
    }
    const CaseResult& first = *point.lines.front().c;
    json j = {{"point", point.label}, {"op", first.op},         {"dtype", first.dtype},
              {"layout", first.layout}, {"threads", first.threads}, {"variants", variants}};
    if (!plain) j.update({{"shape", first.shape.key()}, {"tokens", first.tokens}});
    list.push_back(j);
  }
  return json{{"provenance", p.as_json}, {"points", list}}.dump(2) + "\n";
}

}  // namespace

TableFormat parse_table_format(const std::string& name) {
  if (name == "text") return TableFormat::kText;
  if (name == "markdown") return TableFormat::kMarkdown;
  if (name == "csv") return TableFormat::kCsv;
  if (name == "json") return TableFormat::kJson;
  throw InputError("command line", "--format",
                   "expected text, markdown, csv or json, got '" + name + "'");
}

std::string format_table(const ComparedFile& file, TableFormat format) {
  const auto points = points_of(file);
  const Provenance p = provenance_of(file.results.context);
  switch (format) {
    case TableFormat::kText:
      return render_text(points, p) + warnings_footer(file.results);
    case TableFormat::kMarkdown:
      return render_markdown(points, p) + warnings_footer(file.results);
    case TableFormat::kCsv:
      return render_csv(points, p, file.plain);
    case TableFormat::kJson: {
      // The sweep's warnings travel with its figures (the context's own array).
      json j = json::parse(render_json(points, p, file.plain));
      const auto w = file.results.context.find("warnings");
      j["warnings"] = w != file.results.context.end() && w->is_array() ? *w : json::array();
      return j.dump(2) + "\n";
    }
  }
  return "";
}

std::string warnings_footer(const ResultsFile& results) {
  const auto w = results.context.find("warnings");
  if (w == results.context.end() || !w->is_array() || w->empty()) return "";
  std::string out = "\nwarnings of this sweep (README \"Busy machines\"):\n";
  for (const auto& line : *w)
    if (line.is_string()) out += "  - " + line.get<std::string>() + "\n";
  return out;
}

std::string format_table(const ResultsFile& results, TableFormat format) {
  ComparedFile file;
  file.results = results;
  return format_table(file, format);
}

}  // namespace moetune
