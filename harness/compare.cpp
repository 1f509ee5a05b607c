#include "harness/compare.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "harness/error.h"
#include "harness/stats.h"
#include "harness/sweep_config.h"
#include "harness/units.h"

namespace moetune {
namespace {

using nlohmann::json;

std::string where_of(size_t i, const json &e) {
  std::string w = "benchmarks[" + std::to_string(i) + "]";
  if (e.is_object() && e.contains("name") && e["name"].is_string())
    w += " (" + e["name"].get<std::string>() + ")";
  return w;
}

bool is_moetune_file(const json &j) {
  if (j.contains("context") && j["context"].is_object() && j["context"].contains("moetune_version"))
    return true;
  if (!j.contains("benchmarks") || !j["benchmarks"].is_array()) return false;
  for (const auto &e : j["benchmarks"])
    if (e.is_object() && e.contains("op")) return true;
  return false;
}

// Plain Google Benchmark JSON: the iteration runs of each run_name are its
// repetitions.
ResultsFile read_plain(const json &j, const std::string &path) {
  ResultsFile r;
  if (j.contains("context")) {
    if (!j["context"].is_object()) throw InputError(path, "context", "expected an object");
    r.context = j["context"];
  }
  if (!j.contains("benchmarks") || !j["benchmarks"].is_array())
    throw InputError(path, "", "expected a list 'benchmarks' (Google Benchmark JSON)");
  std::map<std::string, size_t> index;
  const json &list = j["benchmarks"];
  for (size_t i = 0; i < list.size(); ++i) {
    const json &e = list[i];
    const std::string where = where_of(i, e);
    if (!e.is_object()) throw InputError(path, where, "expected an object");
    if (!e.contains("name") || !e["name"].is_string())
      throw InputError(path, where, "missing string field 'name'");
    // Google Benchmark before 1.5 wrote no run_type; its aggregates had
    // aggregate_name.
    const std::string run_type =
        e.value("run_type",
                e.contains("aggregate_name") ? std::string("aggregate") : std::string("iteration"));
    if (run_type == "aggregate") continue;
    if (run_type != "iteration")
      throw InputError(path, where,
                       "run_type must be iteration or aggregate, got '" + run_type + "'");
    std::string key = e["name"].get<std::string>();
    if (e.contains("run_name") && e["run_name"].is_string()) key = e["run_name"];
    auto [it, fresh] = index.try_emplace(key, r.cases.size());
    if (fresh) {
      CaseResult c;
      c.name = key;
      c.op = key.substr(0, key.find('/'));
      c.variant = key;
      c.layout = "any";
      c.verified = true;
      c.time_unit = e.value("time_unit", std::string("ns"));
      if (nanoseconds_per(c.time_unit) == 0)
        throw InputError(path, where,
                         "time_unit must be ns, us, ms or s, got '" + c.time_unit + "'");
      if (e.contains("threads") && e["threads"].is_number_integer()) c.threads = e["threads"];
      r.cases.push_back(c);
    }
    CaseResult &c = r.cases[it->second];
    if (e.value("error_occurred", false)) {
      c.error = e.value("error_message", std::string("failed"));
      if (c.error.empty()) c.error = "failed";
      continue;
    }
    if (e.value("time_unit", std::string("ns")) != c.time_unit)
      throw InputError(path, where, "time_unit differs from the first run of '" + key + "'");
    for (const char *field : {"real_time", "cpu_time", "iterations"})
      if (!e.contains(field) || !e[field].is_number())
        throw InputError(path, where, std::string("missing number field '") + field + "'");
    Repetition rep;
    rep.real_time = e["real_time"];
    rep.cpu_time = e["cpu_time"];
    rep.iterations = e["iterations"].get<int64_t>();
    c.repetitions.push_back(rep);
  }
  for (auto &c : r.cases)
    if (c.failed()) c.repetitions.clear();
  return r;
}

std::string compare_key(const CaseResult &c, bool plain) {
  if (plain) return c.name;
  // From the fields rather than the stored name, so that files from versions
  // that named cases differently still match.
  return case_id(c.op, c.variant, c.shape, c.dtype, c.layout, c.tokens, c.threads);
}

std::string point_key(const CaseResult &c, bool plain) { return plain ? c.name : point_id(c); }

Sample sample_of(const CaseResult &c) {
  Sample s;
  s.present = true;
  if (c.failed()) {
    s.error = c.error;
    return s;
  }
  s.times_ns = c.real_times_ns();
  if (s.times_ns.empty()) {
    s.error = "no repetitions";
    return s;
  }
  for (double t : s.times_ns)
    if (!(t > 0)) {
      s.error = "a time that is not positive";
      return s;
    }
  s.median_ns = median(s.times_ns);
  s.cv = coefficient_of_variation(s.times_ns);
  return s;
}

// MatchBy::kPoint: the sample of the verified variant with the lowest median
// among `cases` (one point of one file; equal medians: the first name in
// order), or a failed sample when none has times.
Sample best_sample(const std::vector<const CaseResult *> &cases) {
  Sample best;
  int candidates = 0, failed = 0;
  for (const CaseResult *c : cases) {
    Sample s = sample_of(*c);
    if (!s.error.empty() || !c->verified) {
      ++failed;
      continue;
    }
    ++candidates;
    if (best.variant.empty() || s.median_ns < best.median_ns ||
        (s.median_ns == best.median_ns && c->variant < best.variant)) {
      best = std::move(s);
      best.variant = c->variant;
    }
  }
  if (candidates == 0) {
    Sample none;
    none.present = true;
    none.error = fmt::format("no verified variant ({} failed)", failed);
    return none;
  }
  best.candidates = candidates;
  return best;
}

RatioCell cell_of(const Sample &base, const Sample &later, double alpha) {
  RatioCell cell;
  if (!base.present && !later.present) return cell;
  if (!base.present) {
    cell.change = Change::kAdded;
    return cell;
  }
  if (!later.present) {
    cell.change = Change::kRemoved;
    return cell;
  }
  if (!base.error.empty() || !later.error.empty()) {
    cell.change = Change::kFailed;
    return cell;
  }
  cell.change = Change::kCompared;
  cell.ratio = later.median_ns / base.median_ns;
  const RatioInterval ci = median_ratio_interval(later.times_ns, base.times_ns, 0.95);
  cell.lower = ci.lower;
  cell.upper = ci.upper;
  cell.p_value = mann_whitney_u(later.times_ns, base.times_ns).p_value;
  cell.significant = cell.p_value < alpha;
  return cell;
}

const json *fingerprint_field(const json &ctx, const char *key) {
  if (ctx.is_object() && ctx.contains(key) && !ctx[key].is_null()) return &ctx[key];
  if (std::string(key) == "cores" && ctx.is_object() && ctx.contains("num_cpus"))
    return &ctx["num_cpus"];
  return nullptr;
}

std::string show(const json *v) {
  if (!v) return "(unknown)";
  if (v->is_string()) return "'" + v->get<std::string>() + "'";
  return v->dump();
}

std::string letter(size_t i) {
  return i < 26 ? std::string(1, char('A' + i)) : "F" + std::to_string(i);
}

const char *change_name(Change c);

std::string change_text(const RatioCell &c) {
  if (c.change == Change::kCompared)
    return c.significant ? fmt::format("{:+.1f}%", 100 * (c.ratio - 1)) : "~";
  if (c.change == Change::kAbsent) return "";
  return change_name(c.change);  // added, removed, failed
}

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
  auto geomean_row = [&](const Geomean &g) {
    std::vector<Cell> r{{g.op.empty() ? "geomean" : "geomean " + g.op, nullptr, true}, {""}};
    if (by_point) r.push_back({""});
    for (size_t f = 1; f < c.files.size(); ++f) {
      r.push_back({""});
      if (by_point) r.push_back({""});
      r.push_back({g.ratio[f - 1] ? fmt::format("{:.3f}", *g.ratio[f - 1]) : "-"});
      r.push_back({fmt::format("{} rows", g.rows[f - 1]), nullptr, true});
      r.insert(r.end(), 2, Cell{""});
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

// One line per row and later file: machine-readable, times in ns, empty where
// not measured.
std::string render_csv(const Comparison &c) {
  // By point, two more columns: the variant of each median.
  const bool by_point = c.match == MatchBy::kPoint;
  std::string out =
      "benchmark,op,file,base_file,base_median_ns,median_ns,"
      "ratio,ci_lower,ci_upper,p_value,"
      "significant,change";
  out += by_point ? ",base_variant,variant\n" : "\n";
  auto num = [](const Sample &s) {
    return s.present && s.error.empty() ? fmt::format("{}", s.median_ns) : std::string();
  };
  for (const auto &row : c.rows) {
    for (size_t f = 1; f < c.files.size(); ++f) {
      const RatioCell &cell = row.cells[f - 1];
      const bool cmp = cell.change == Change::kCompared;
      out += fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(row.key), csv_field(row.op),
          csv_field(c.files[f]), csv_field(c.files[0]), num(row.samples[0]), num(row.samples[f]),
          cmp ? fmt::format("{}", cell.ratio) : "", cmp ? fmt::format("{}", cell.lower) : "",
          cmp ? fmt::format("{}", cell.upper) : "", cmp ? fmt::format("{}", cell.p_value) : "",
          cmp ? (cell.significant ? "true" : "false") : "", change_name(cell.change));
      if (by_point) {
        out.back() = ',';
        out += csv_field(row.samples[0].variant) + "," + csv_field(row.samples[f].variant) + "\n";
      }
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
      json j = {{"file", c.files[f]}, {"change", change_name(cell.change)}};
      if (cell.change == Change::kCompared)
        j.update({{"ratio", cell.ratio},
                  {"ci_lower", cell.lower},
                  {"ci_upper", cell.upper},
                  {"p_value", cell.p_value},
                  {"significant", cell.significant}});
      cells.push_back(j);
    }
    rows.push_back(
        {{"benchmark", row.key}, {"op", row.op}, {"samples", samples}, {"comparisons", cells}});
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

ComparedFile comparable_from_json(const json &j, const std::string &path) {
  if (!j.is_object()) throw InputError(path, "", "expected a results object {context, benchmarks}");
  ComparedFile f;
  f.path = path;
  f.plain = !is_moetune_file(j);
  f.results = f.plain ? read_plain(j, path) : results_from_json(j, path);
  return f;
}

ComparedFile read_comparable(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot read the results file");
  std::ostringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error &e) {
    throw InputError(path, "byte " + std::to_string(e.byte), "not valid JSON");
  }
  return comparable_from_json(j, path);
}

std::vector<std::string> fingerprint_differences(const json &a, const json &b,
                                                 bool include_compiler) {
  std::vector<std::string> out;
  for (const char *key : {"cpu_model", "cpu_features", "compiler", "cores"}) {
    if (!include_compiler && std::string(key) == "compiler") continue;
    const json *x = fingerprint_field(a, key);
    const json *y = fingerprint_field(b, key);
    if (!x && !y) continue;
    if (x && y && *x == *y) continue;
    out.push_back(fmt::format("{}: {} vs {}", key, show(x), show(y)));
  }
  return out;
}

Comparison compare_files(const std::vector<ComparedFile> &files, double alpha, MatchBy match) {
  if (files.size() < 2)
    throw InputError("command line", "", "compare needs at least two results files");
  Comparison c;
  c.alpha = alpha;
  c.match = match;
  std::map<std::string, size_t> index;
  auto row_for = [&](const std::string &key, const std::string &op) -> CompareRow & {
    auto [it, fresh] = index.try_emplace(key, c.rows.size());
    if (fresh) {
      CompareRow row;
      row.key = key;
      row.op = op;
      row.samples.resize(files.size());
      c.rows.push_back(std::move(row));
    }
    return c.rows[it->second];
  };
  for (size_t f = 0; f < files.size(); ++f) {
    c.files.push_back(files[f].path);
    if (match == MatchBy::kCase) {
      for (const auto &cr : files[f].results.cases) {
        const std::string key = compare_key(cr, files[f].plain);
        Sample &s = row_for(key, cr.op).samples[f];
        if (s.present) throw InputError(files[f].path, "", "benchmark '" + key + "' appears twice");
        s = sample_of(cr);
      }
      continue;
    }
    // By point: the file's cases grouped by point, in the order the points first appear.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const CaseResult *>> at;
    for (const auto &cr : files[f].results.cases) {
      const std::string key = point_key(cr, files[f].plain);
      auto [it, fresh] = at.try_emplace(key);
      if (fresh) order.push_back(key);
      it->second.push_back(&cr);
    }
    for (const auto &key : order)
      row_for(key, at[key].front()->op).samples[f] = best_sample(at[key]);
  }
  std::vector<std::string> ops;
  std::map<std::string, std::vector<std::vector<double>>> ratios;  // op -> file -> ratios
  for (auto &row : c.rows) {
    for (size_t f = 1; f < files.size(); ++f)
      row.cells.push_back(cell_of(row.samples[0], row.samples[f], alpha));
    auto [it, fresh] = ratios.try_emplace(row.op, files.size() - 1);
    if (fresh) ops.push_back(row.op);
    for (size_t f = 1; f < files.size(); ++f)
      if (row.cells[f - 1].change == Change::kCompared)
        it->second[f - 1].push_back(row.cells[f - 1].ratio);
  }
  auto geomean_of = [&](const std::string &op, const std::vector<std::vector<double>> &per_file) {
    Geomean g;
    g.op = op;
    for (const auto &v : per_file) {
      g.ratio.push_back(v.empty() ? std::nullopt : std::optional<double>(geometric_mean(v)));
      g.rows.push_back(static_cast<int>(v.size()));
    }
    return g;
  };
  std::vector<std::vector<double>> all(files.size() - 1);
  for (const auto &op : ops) {
    c.per_op.push_back(geomean_of(op, ratios[op]));
    for (size_t f = 0; f + 1 < files.size(); ++f)
      all[f].insert(all[f].end(), ratios[op][f].begin(), ratios[op][f].end());
  }
  c.overall = geomean_of("", all);
  for (size_t f = 1; f < files.size(); ++f) {
    const auto diff = fingerprint_differences(files[0].results.context, files[f].results.context,
                                              match == MatchBy::kCase);
    if (diff.empty()) continue;
    std::string w =
        fmt::format("the machines differ between {} and {}:", files[0].path, files[f].path);
    for (const auto &d : diff) w += "\n  " + d;
    c.warnings.push_back(w);
  }
  return c;
}

MatchBy parse_match(const std::string &name) {
  if (name == "case") return MatchBy::kCase;
  if (name == "point") return MatchBy::kPoint;
  throw InputError("command line", "--match", "expected case or point, got '" + name + "'");
}

std::string point_id(const CaseResult &c) {
  return c.op + "/" + c.shape.key() + "/" + c.dtype + "/" + c.layout +
         "/tokens:" + std::to_string(c.tokens) + "/threads:" + std::to_string(c.threads);
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

std::vector<Regression> regressions(const Comparison &c, double pct) {
  std::vector<Regression> out;
  for (const auto &row : c.rows)
    for (size_t f = 1; f < c.files.size(); ++f) {
      const RatioCell &cell = row.cells[f - 1];
      if (cell.change == Change::kCompared && cell.significant && cell.ratio > 1 + pct / 100)
        out.push_back({&row, f, cell.ratio});
    }
  return out;
}

}  // namespace moetune
