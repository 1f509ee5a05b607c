#include "harness/merge.h"

#include <fmt/core.h>

#include <cstdio>
#include <map>
#include <set>

#include "harness/error.h"

namespace moetune {
namespace {

using nlohmann::json;

struct Shard {
  int index = 0, count = 0;
};

Shard shard_of(const ResultsPart &p) {
  const json &ctx = p.results.context;
  if (!ctx.contains("shard") || !ctx["shard"].is_string())
    throw InputError(p.path, "context",
                     "no \"shard\": not a part of a sharded sweep (moetune "
                     "sweep --shard I/N)");
  const std::string text = ctx["shard"];
  Shard s;
  char slash = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &s.index, &slash, &s.count, &extra) != 3 ||
      slash != '/' || s.count < 1 || s.index < 0 || s.index >= s.count)
    throw InputError(p.path, "context.shard", "expected I/N with 0 <= I < N, got '" + text + "'");
  return s;
}

std::string show(const json &ctx, const char *key) {
  return ctx.contains(key) ? ctx[key].dump() : std::string("(missing)");
}

bool same_point(const CaseResult &a, const CaseResult &b) { return point_id(a) == point_id(b); }

}  // namespace

MergeResult merge_parts(const std::vector<ResultsPart> &parts) {
  if (parts.empty()) throw InputError("command line", "", "no parts to merge");
  std::vector<Shard> shards;
  for (const auto &p : parts) shards.push_back(shard_of(p));
  const int n = shards[0].count;
  std::vector<const ResultsPart *> by_index(static_cast<size_t>(n), nullptr);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (shards[i].count != n)
      throw InputError(
          parts[i].path, "context.shard",
          fmt::format("shard {}/{} is of a split into {} parts, {} is of {}", shards[i].index,
                      shards[i].count, shards[i].count, parts[0].path, n));
    const ResultsPart *&slot = by_index[static_cast<size_t>(shards[i].index)];
    if (slot)
      throw InputError(parts[i].path, "context.shard",
                       fmt::format("shard {}/{} is also {}", shards[i].index, n, slot->path));
    slot = &parts[i];
  }
  std::string missing;
  for (int i = 0; i < n; ++i)
    if (!by_index[static_cast<size_t>(i)])
      missing += fmt::format("{}{}/{}", missing.empty() ? "" : ", ", i, n);
  if (!missing.empty())
    throw InputError("command line", "", "missing shard " + missing + " of the sweep");

  const json &first = parts[0].results.context;
  MergeResult out;
  for (const auto &p : parts) {
    const json &ctx = p.results.context;
    // The sweep's name and the settings behind its numbers: parts that differ
    // here measured different things, and one file would mix them.
    for (const char *key :
         {"sweep", "routing", "rounded_activations", "repetitions", "min_time", "seed"})
      if (show(ctx, key) != show(first, key))
        throw InputError(p.path, "context",
                         fmt::format("from a different sweep than {}: {} {} vs {}", parts[0].path,
                                     key, show(ctx, key), show(first, key)));
    for (const char *key : {"cpu_model", "cpuid", "machine_class", "cpu_features", "cores"})
      if (show(ctx, key) != show(first, key))
        throw InputError(p.path, "context",
                         fmt::format("from a different kind of machine than {}: {} {} vs {}",
                                     parts[0].path, key, show(ctx, key), show(first, key)));
    for (const char *key : {"git_commit", "compiler", "compiler_flags"})
      if (show(ctx, key) != show(first, key))
        out.warnings.push_back(fmt::format("{} and {} differ in {}: {} vs {}", parts[0].path,
                                           p.path, key, show(first, key), show(ctx, key)));
  }

  std::map<std::string, std::string> seen;  // case -> part
  for (const ResultsPart *p : by_index)
    for (const auto &c : p->results.cases) {
      const auto [it, fresh] = seen.emplace(c.name, p->path);
      if (!fresh) throw InputError(p->path, "", "case '" + c.name + "' is also in " + it->second);
    }

  out.results.context = first;
  out.results.context.erase("shard");
  json from = json::array();
  for (const ResultsPart *p : by_index) from.push_back(p->path);
  out.results.context["merged_from"] = from;
  // A sweep deals whole points to its shards (point k to shard k % N, each in its order):
  // taking the next point of each part in turn restores the sweep's order.
  std::vector<size_t> next(by_index.size(), 0);
  for (bool any = true; any;) {
    any = false;
    for (size_t i = 0; i < by_index.size(); ++i) {
      const auto &cases = by_index[i]->results.cases;
      size_t &k = next[i];
      if (k >= cases.size()) continue;
      const CaseResult &head = cases[k];
      do out.results.cases.push_back(cases[k++]);
      while (k < cases.size() && same_point(cases[k], head));
      any = true;
    }
  }
  return out;
}

}  // namespace moetune
