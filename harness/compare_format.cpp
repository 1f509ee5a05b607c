// The renderings of a comparison: text (with colour for a terminal), markdown, csv, json, and
// Go's benchmark format for benchstat. Every one carries the same columns: the key, each
// file's median and cv, the ratio with its 95% interval, the p-value and the change.
#include "harness/compare_format.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "harness/compare_match.h"
#include "harness/error.h"
#include "harness/units.h"

namespace moetune {
namespace {

using nlohmann::json;

std::string letter(size_t i) {
  return i < 26 ? std::string(1, char('A' + i)) : "F" + std::to_string(i);
}

const char *change_name(Change c);

// A cell of a text or markdown table; colour is applied after padding so that
// the escape codes never count towards a column's width.
struct Cell {
  std::string text;
  const char *colour = nullptr;
  bool left = false;
};

constexpr const char *kRed = "\x1b[31m";
constexpr const char *kGreen = "\x1b[32m";
constexpr const char *kDim = "\x1b[2m";

const char *colour_of(const RatioCell &c) {
  if (c.change == Change::kCompared && c.significant) return c.ratio > 1 ? kRed : kGreen;
  if (c.change == Change::kCompared) return kDim;
  return nullptr;
}

std::vector<std::vector<Cell>> table_rows(const Comparison &c) {
  // By point, each file's median is followed by the variant it is the time of.
  const bool by_point = c.match == MatchBy::kPoint;
  std::vector<std::vector<Cell>> out;
  std::vector<Cell> head{{by_point ? "point" : "benchmark", nullptr, true}, {"A"}};
  if (by_point) head.push_back({"A variant", nullptr, true});
  for (size_t f = 1; f < c.files.size(); ++f) {
    const std::string l = letter(f);
    head.push_back({l});
    if (by_point) head.push_back({l + " variant", nullptr, true});
    for (const std::string &h :
         {l + "/A", std::string("95% CI"), std::string("p"), std::string("change")})
      head.push_back({h});
  }
  out.push_back(head);
  // The winning variant, or why there is none.
  auto variant_cell = [](const Sample &s) {
    return Cell{s.error.empty() ? s.variant : s.error, nullptr, true};
  };
  auto sample_text = [](const Sample &s) -> std::string {
    if (!s.present) return "-";
    if (!s.error.empty()) return "failed";
    return fmt::format("{} ±{:.0f}%", human_time(s.median_ns), 100 * s.cv);
  };
  for (const auto &row : c.rows) {
    std::vector<Cell> r{{row.key, nullptr, true}, {sample_text(row.samples[0])}};
    if (by_point) r.push_back(variant_cell(row.samples[0]));
    for (size_t f = 1; f < c.files.size(); ++f) {
      const RatioCell &cell = row.cells[f - 1];
      r.push_back({sample_text(row.samples[f])});
      if (by_point) r.push_back(variant_cell(row.samples[f]));
      if (cell.change == Change::kCompared) {
        r.push_back({fmt::format("{:.3f}", cell.ratio), colour_of(cell)});
        r.push_back({fmt::format("[{:.3f}, {:.3f}]", cell.lower, cell.upper)});
        r.push_back({fmt::format("{:.3g}", cell.p_value)});
      } else {
        r.insert(r.end(), 3, Cell{""});
      }
      r.push_back({change_text(cell), colour_of(cell), true});
    }
    out.push_back(r);
  }
  // The number of rows belongs to the label: every other column keeps its meaning.
  auto geomean_row = [&](const Geomean &g) {
    std::string counts;
    for (size_t f = 1; f < c.files.size(); ++f)
      counts += fmt::format("{}{}", f > 1 ? ", " : "", g.rows[f - 1]);
    const bool one = c.files.size() == 2 && g.rows[0] == 1;
    const std::string label = fmt::format("geomean{}{} ({} row{})", g.op.empty() ? "" : " ", g.op,
                                          counts, one ? "" : "s");
    std::vector<Cell> r{{label, nullptr, true}, {""}};
    if (by_point) r.push_back({""});
    for (size_t f = 1; f < c.files.size(); ++f) {
      r.push_back({""});
      if (by_point) r.push_back({""});
      r.push_back({g.ratio[f - 1] ? fmt::format("{:.3f}", *g.ratio[f - 1]) : "-"});
      r.insert(r.end(), 3, Cell{""});
    }
    out.push_back(r);
  };
  for (const auto &g : c.per_op) geomean_row(g);
  geomean_row(c.overall);
  return out;
}

// Columns are counted in characters: a UTF-8 continuation byte (the ± of the
// spread) takes none.
size_t display_width(const std::string &s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

std::string render_text(const Comparison &c, bool colour) {
  std::string out;
  for (size_t f = 0; f < c.files.size(); ++f) out += fmt::format("{}: {}\n", letter(f), c.files[f]);
  out += "\n";
  const auto rows = table_rows(c);
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto &r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display_width(r[i].text));
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    // The geomean rows start after the case rows; a blank line sets them apart.
    if (ri == c.rows.size() + 1) out += "\n";
    std::string line;
    for (size_t i = 0; i < rows[ri].size(); ++i) {
      const Cell &cell = rows[ri][i];
      const std::string pad(width[i] - display_width(cell.text), ' ');
      std::string padded = cell.left ? cell.text + pad : pad + cell.text;
      if (colour && cell.colour && !cell.text.empty())
        padded = std::string(cell.colour) + padded + "\x1b[0m";
      line += (i ? "  " : "") + padded;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out += fmt::format(
      "\nratio = median / median of A (above 1: slower); 95% "
      "CI: Hodges-Lehmann interval of the "
      "ratio; p: Mann-Whitney U; ~: not significant at {:g}%\n",
      100 * c.alpha);
  if (c.match == MatchBy::kPoint)
    out +=
        "by point: each file's fastest verified variant at the point (its median, lowest of "
        "the file's variants there)\n";
  return out;
}

std::string render_markdown(const Comparison &c) {
  std::string out;
  for (size_t f = 0; f < c.files.size(); ++f)
    out += fmt::format("- {}: `{}`\n", letter(f), c.files[f]);
  out += "\n";
  const auto rows = table_rows(c);
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    std::string line = "|";
    for (const auto &cell : rows[ri]) {
      std::string t = cell.text;
      // A literal | would end the cell.
      for (size_t p = 0; (p = t.find('|', p)) != std::string::npos; p += 2) t.replace(p, 1, "\\|");
      line += " " + t + " |";
    }
    out += line + "\n";
    if (ri == 0) {
      line = "|";
      for (const auto &cell : rows[0]) line += cell.left ? " :--- |" : " ---: |";
      out += line + "\n";
    }
  }
  out += fmt::format("\n`~`: not significant at {:g}% (Mann-Whitney U)\n", 100 * c.alpha);
  return out;
}

std::string csv_field(const std::string &s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

const char *change_name(Change c) {
  switch (c) {
    case Change::kCompared:
      return "compared";
    case Change::kAdded:
      return "added";
    case Change::kRemoved:
      return "removed";
    case Change::kFailed:
      return "failed";
    case Change::kAbsent:
      return "absent";
  }
  return "";
}

// One line per row and later file: machine-readable, each part of the key in a column of its
// own, times in ns, empty where not measured or not known.
std::string render_csv(const Comparison &c) {
  // By point, two more columns: the variant of each median.
  const bool by_point = c.match == MatchBy::kPoint;
  std::string out =
      "benchmark,op,variant,shape,dtype,layout,tokens,threads,file,base_file,base_median_ns,"
      "base_cv,median_ns,cv,ratio,ci_lower,ci_upper,p_value,significant,change";
  out += by_point ? ",base_variant,variant_used\n" : "\n";
  auto median_of = [](const Sample &s) {
    return s.present && s.error.empty() ? fmt::format("{}", s.median_ns) : std::string();
  };
  auto cv_of = [](const Sample &s) {
    return s.present && s.error.empty() ? fmt::format("{}", s.cv) : std::string();
  };
  for (const auto &row : c.rows) {
    const std::string key = fmt::format(
        "{},{},{},{},{},{},{},{}", csv_field(row.key), csv_field(row.op), csv_field(row.variant),
        csv_field(row.shape), csv_field(row.dtype), csv_field(row.layout),
        row.tokens ? std::to_string(*row.tokens) : "", row.threads);
    for (size_t f = 1; f < c.files.size(); ++f) {
      const RatioCell &cell = row.cells[f - 1];
      const bool cmp = cell.change == Change::kCompared;
      auto num = [&](double v) { return cmp ? fmt::format("{}", v) : std::string(); };
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}", key, csv_field(c.files[f]),
                         csv_field(c.files[0]), median_of(row.samples[0]), cv_of(row.samples[0]),
                         median_of(row.samples[f]), cv_of(row.samples[f]), num(cell.ratio),
                         num(cell.lower), num(cell.upper), num(cell.p_value),
                         cmp ? (cell.significant ? "true" : "false") : "",
                         csv_field(change_text(cell)));
      if (by_point)
        out += "," + csv_field(row.samples[0].variant) + "," + csv_field(row.samples[f].variant);
      out += "\n";
    }
  }
  return out;
}

json geomean_json(const Comparison &c, const Geomean &g) {
  json list = json::array();
  for (size_t f = 1; f < c.files.size(); ++f)
    list.push_back({{"file", c.files[f]},
                    {"ratio", g.ratio[f - 1] ? json(*g.ratio[f - 1]) : json(nullptr)},
                    {"rows", g.rows[f - 1]}});
  return list;
}

std::string render_json(const Comparison &c) {
  json rows = json::array();
  for (const auto &row : c.rows) {
    json samples = json::array();
    for (size_t f = 0; f < c.files.size(); ++f) {
      const Sample &s = row.samples[f];
      json j = {{"file", c.files[f]}, {"present", s.present}};
      if (s.present && s.error.empty())
        j.update({{"median_ns", s.median_ns}, {"cv", s.cv}, {"times_ns", s.times_ns}});
      if (!s.error.empty()) j["error"] = s.error;
      if (!s.variant.empty()) j.update({{"variant", s.variant}, {"candidates", s.candidates}});
      samples.push_back(j);
    }
    json cells = json::array();
    for (size_t f = 1; f < c.files.size(); ++f) {
      const RatioCell &cell = row.cells[f - 1];
      json j = {{"file", c.files[f]},
                {"status", change_name(cell.change)},
                {"change", change_text(cell)}};
      if (cell.change == Change::kCompared)
        j.update({{"ratio", cell.ratio},
                  {"ci_lower", cell.lower},
                  {"ci_upper", cell.upper},
                  {"p_value", cell.p_value},
                  {"significant", cell.significant}});
      cells.push_back(j);
    }
    json r = {{"benchmark", row.key}, {"op", row.op},         {"shape", row.shape},
              {"dtype", row.dtype},   {"layout", row.layout}, {"threads", row.threads}};
    if (!row.variant.empty()) r["variant"] = row.variant;
    if (row.tokens) r["tokens"] = *row.tokens;
    r["samples"] = samples;
    r["comparisons"] = cells;
    rows.push_back(r);
  }
  json per_op = json::object();
  for (const auto &g : c.per_op) per_op[g.op] = geomean_json(c, g);
  const json out = {{"files", c.files},
                    {"match", c.match == MatchBy::kPoint ? "point" : "case"},
                    {"alpha", c.alpha},
                    {"confidence", 0.95},
                    {"warnings", c.warnings},
                    {"rows", rows},
                    {"geomean", {{"overall", geomean_json(c, c.overall)}, {"per_op", per_op}}}};
  return out.dump(2) + "\n";
}

}  // namespace

std::string change_text(const RatioCell &c) {
  if (c.change == Change::kCompared)
    return c.significant ? fmt::format("{:+.1f}%", 100 * (c.ratio - 1)) : "~";
  if (c.change == Change::kAbsent) return "";
  return change_name(c.change);  // added, removed, failed
}

CompareFormat parse_compare_format(const std::string &name) {
  if (name == "text") return CompareFormat::kText;
  if (name == "markdown") return CompareFormat::kMarkdown;
  if (name == "csv") return CompareFormat::kCsv;
  if (name == "json") return CompareFormat::kJson;
  if (name == "benchstat") return CompareFormat::kBenchstat;
  throw InputError("command line", "--format",
                   "expected text, markdown, csv, json or benchstat, got '" + name + "'");
}

std::string format_comparison(const Comparison &c, CompareFormat format, bool colour) {
  switch (format) {
    case CompareFormat::kText:
      return render_text(c, colour);
    case CompareFormat::kMarkdown:
      return render_markdown(c);
    case CompareFormat::kCsv:
      return render_csv(c);
    case CompareFormat::kJson:
      return render_json(c);
    case CompareFormat::kBenchstat:
      break;
  }
  throw std::invalid_argument("format_comparison: benchstat is written by format_benchstat");
}

std::string benchstat_name(const std::string &name) {
  std::string s = name;
  for (char &ch : s) {
    if (std::isspace(static_cast<unsigned char>(ch))) ch = '_';
    if (ch == ':') ch = '=';
  }
  // Go's parser takes "Benchmark" followed by a lower-case letter for an
  // ordinary word.
  if (!s.empty() && std::islower(static_cast<unsigned char>(s[0])))
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  // A trailing -N is read as GOMAXPROCS; keep it part of the name.
  const auto dash = s.find_last_of('-');
  if (dash != std::string::npos && dash + 1 < s.size() &&
      std::all_of(s.begin() + dash + 1, s.end(), [](char ch) { return std::isdigit(ch); }))
    s[dash] = '_';
  return "Benchmark" + s;
}

std::string format_benchstat(const std::vector<ComparedFile> &files) {
  std::string out;
  for (const auto &f : files) {
    const json &ctx = f.results.context;
    std::string cpu = ctx.value("cpu_model", std::string());
    if (cpu.empty()) cpu = "unknown";
    out += "goos: linux\ngoarch: amd64\ncpu: " + cpu + "\npkg: moetune\nsource: " + f.path + "\n";
    for (const auto &c : f.results.cases) {
      if (c.failed()) continue;
      const std::string name = benchstat_name(compare_key(c, f.plain));
      const double unit = nanoseconds_per(c.time_unit);
      for (const auto &r : c.repetitions)
        out += fmt::format("{} {} {:.10g} ns/op\n", name, r.iterations, r.real_time * unit);
    }
    out += "\n";
  }
  return out;
}

}  // namespace moetune
