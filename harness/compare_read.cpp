#include "harness/compare_read.h"

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "harness/error.h"
#include "kernels/common/text.h"

namespace moetune {
namespace {

using nlohmann::json;

std::string where_of(size_t i, const json &e) {
  std::string w = "benchmarks[" + std::to_string(i) + "]";
  if (e.is_object() && e.contains("name") && e["name"].is_string())
    w += " (" + e["name"].get<std::string>() + ")";
  return w;
}

// By content, not by the context: moetune_bench writes moetune's context (machine, roofline)
// over Google Benchmark's own entries, which have no `op`.
bool has_moetune_entries(const json &j) {
  if (!j.contains("benchmarks") || !j["benchmarks"].is_array()) return false;
  for (const auto &e : j["benchmarks"])
    if (e.is_object() && e.contains("op") && e["op"].is_string()) return true;
  return false;
}

// `key:value` components of a plain name, e.g. threads:2 of moetune_bench's gemv.
std::optional<int64_t> name_number(const std::string &name, const std::string &key) {
  for (const std::string_view part : split_text(name, '/'))
    if (part.rfind(key + ":", 0) == 0) try {
        return std::stoll(std::string(part.substr(key.size() + 1)));
      } catch (const std::exception &) {
        return std::nullopt;
      }
  return std::nullopt;
}

// What a moetune variant name says before its `__`: <op>_<dtype>[_<layout>].
void dtype_and_layout(const std::string &variant, CaseResult &c) {
  c.layout = "any";
  const auto what = variant.find("__");
  if (what == std::string::npos) return;
  const auto parts = split_text(std::string_view(variant).substr(0, what), '_');
  if (parts.size() > 1) c.dtype = parts[1];
  if (parts.size() > 2 && parse_layout(parts[2])) c.layout = parts[2];
}

// A number counter of an entry, if it has one.
std::optional<double> counter(const json &e, const char *key) {
  if (e.contains(key) && e[key].is_number()) return e[key].get<double>();
  return std::nullopt;
}

// Plain Google Benchmark JSON: the iteration runs of each run_name are its repetitions.
ComparedFile read_plain(const json &j, const std::string &path) {
  ComparedFile f;
  f.path = path;
  f.plain = true;
  ResultsFile &r = f.results;
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
      const PlainName name = split_plain_name(key);
      CaseResult c;
      c.name = key;
      c.op = name.op;
      c.variant = name.variant.empty() ? key : name.variant;
      dtype_and_layout(name.variant, c);
      c.verified = true;
      c.has_roofline = false;
      c.time_unit = e.value("time_unit", std::string("ns"));
      if (nanoseconds_per(c.time_unit) == 0)
        throw InputError(path, where,
                         "time_unit must be ns, us, ms or s, got '" + c.time_unit + "'");
      if (e.contains("threads") && e["threads"].is_number_integer()) c.threads = e["threads"];
      if (const auto t = name_number(key, "threads"); t && *t > 0) c.threads = int(*t);
      if (const auto m = name_number(key, "m"); m && *m > 0) c.tokens = *m;
      r.cases.push_back(c);
      f.points.push_back(name.point);
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
    // moetune_bench's counters; any other program's are ignored.
    if (const auto v = counter(e, "roofline_pct")) {
      rep.roofline_pct = *v;
      c.has_roofline = true;
    }
    rep.bytes_per_second = counter(e, "bytes_per_second").value_or(0);
    rep.flops_per_second =
        counter(e, "flops_per_second").value_or(counter(e, "flops").value_or(0));
    if (const auto v = counter(e, "verified"); v && *v == 0) c.verified = false;
    c.repetitions.push_back(rep);
  }
  for (auto &c : r.cases)
    if (c.failed()) c.repetitions.clear();
  return f;
}

}  // namespace

PlainName split_plain_name(const std::string &name) {
  PlainName n;
  n.op = name.substr(0, name.find('/'));
  std::vector<std::string> rest;
  for (const std::string_view part : split_text(name, '/')) {
    if (n.variant.empty() && part.find("__") != std::string_view::npos) {
      n.variant = part;
      continue;
    }
    // Google Benchmark's suffixes say how it timed, not what.
    if (part == "real_time" || part == "process_time" || part == "manual_time") continue;
    rest.emplace_back(part);
  }
  if (n.variant.empty()) {
    n.point = name;
    return n;
  }
  for (size_t i = 0; i < rest.size(); ++i) n.point += (i ? "/" : "") + rest[i];
  return n;
}

ComparedFile comparable_from_json(const json &j, const std::string &path) {
  if (!j.is_object()) throw InputError(path, "", "expected a results object {context, benchmarks}");
  if (!has_moetune_entries(j)) return read_plain(j, path);
  ComparedFile f;
  f.path = path;
  f.results = results_from_json(j, path);
  for (const auto &c : f.results.cases) f.points.push_back(point_id(c));
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

}  // namespace moetune
