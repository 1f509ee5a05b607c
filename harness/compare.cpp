// The steps of a comparison put together (matching, statistics), and the check that the
// machines of the files are alike.
#include "harness/compare.h"

#include <fmt/core.h>

#include "harness/error.h"

namespace moetune {
namespace {

using nlohmann::json;

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

}  // namespace

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
  for (const auto &file : files) c.files.push_back(file.path);
  c.rows = match_rows(files, match);
  add_statistics(c);
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

}  // namespace moetune
