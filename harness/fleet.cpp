#include "harness/fleet.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>

#include "harness/error.h"
#include "harness/merge.h"

namespace moetune {
namespace {

using nlohmann::json;

std::string show(const json& ctx, const char* key) {
  return ctx.contains(key) ? ctx[key].dump() : std::string("(missing)");
}

std::string point_text(const CaseResult& c) {
  return fmt::format("{} {} {} {} tokens {} threads {}", c.op, c.shape.key(), c.dtype, c.layout,
                     c.tokens, c.threads);
}

// What a sweep measured, as far as its results show: the (shape, dtype) pairs of its cases.
std::set<std::string> shapes_and_dtypes(const ResultsFile& r) {
  std::set<std::string> out;
  for (const auto& c : r.cases) out.insert(c.shape.key() + " " + c.dtype);
  return out;
}

}  // namespace

ResultsClass results_class(const json& context, const std::string& file) {
  ResultsClass out;
  const auto recorded = context.find("machine_class");
  if (recorded != context.end()) {
    std::string error;
    const auto c = recorded->is_string() ? parse_machine_class(recorded->get<std::string>(), &error)
                                         : std::nullopt;
    if (!c)
      throw InputError(file, "context.machine_class",
                       recorded->is_string() ? error : "expected a string, the class key");
    out.cls = *c;
    return out;
  }
  const auto id = context.find("cpuid");
  const auto features = context.find("cpu_features");
  const std::string model = context.contains("cpu_model") && context["cpu_model"].is_string()
                                ? context["cpu_model"].get<std::string>()
                                : "unknown";
  if (id == context.end() || !id->is_object() || features == context.end() ||
      !features->is_string())
    throw InputError(
        file, "context",
        "no machine class and no cpuid {vendor, family, model} with cpu_features (results "
        "recorded before moetune recorded them): the CPU model '" +
            model +
            "' alone does not tell the class (a Zen 3 and a Zen 5 both read 'AMD EPYC'); "
            "measure again with this moetune, or name its class with --class-of FILE=CLASS");
  const auto vendor = id->find("vendor"), family = id->find("family"), mdl = id->find("model");
  if (vendor == id->end() || !vendor->is_string() || family == id->end() ||
      !family->is_number_integer() || mdl == id->end() || !mdl->is_number_integer())
    throw InputError(file, "context.cpuid",
                     "expected {\"vendor\": string, \"family\": integer, \"model\": integer}");
  out.cls.vendor = vendor->get<std::string>();
  out.cls.family = family->get<int>();
  out.cls.model = mdl->get<int>();
  out.cls.features = class_features(features->get<std::string>());
  out.derived = true;
  out.note = file + ": no machine class recorded (results from before classes were); given " +
             out.cls.key() + " from its cpuid and cpu_features (caches unknown)";
  return out;
}

std::vector<std::string> header_names(const std::vector<std::string>& paths) {
  // Each path's parts, file name first; a name takes one part more while it is not unique.
  std::vector<std::vector<std::string>> parts(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::filesystem::path full = std::filesystem::weakly_canonical(paths[i]);
    for (const auto& part : full.relative_path()) parts[i].insert(parts[i].begin(), part.string());
  }
  std::vector<size_t> used(paths.size(), 1);
  const auto name = [&](size_t i) {
    std::string out = parts[i][0];
    for (size_t k = 1; k < used[i]; ++k) out = parts[i][k] + "/" + out;
    return out;
  };
  for (bool clash = true; clash;) {
    clash = false;
    std::map<std::string, std::vector<size_t>> by_name;
    for (size_t i = 0; i < paths.size(); ++i) by_name[name(i)].push_back(i);
    for (const auto& [shared, which] : by_name) {
      if (which.size() < 2) continue;
      clash = true;
      bool longer = false;
      for (size_t i : which)
        if (used[i] < parts[i].size()) ++used[i], longer = true;
      if (!longer)
        throw InputError(paths[which[1]], "",
                         "is the same file as " + paths[which[0]] + ": expected each file once");
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < paths.size(); ++i) out.push_back(name(i));
  return out;
}

std::vector<FleetClass> group_by_class(std::vector<FleetInput> inputs) {
  if (inputs.empty()) throw InputError("command line", "", "no results files");
  std::sort(inputs.begin(), inputs.end(),
            [](const FleetInput& a, const FleetInput& b) { return a.name < b.name; });
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i].name == inputs[i - 1].name)
      throw InputError(inputs[i].path, "",
                       "has the same file name as " + inputs[i - 1].path +
                           ": the header names its tables by file name; rename one");
  std::map<std::string, std::vector<std::pair<ResultsClass, FleetInput*>>> by_class;
  for (auto& in : inputs) {
    ResultsClass c = results_class(in.results.context, in.path);
    by_class[c.cls.key()].push_back({c, &in});
  }
  std::vector<FleetClass> out;
  for (auto& [key, members] : by_class) {
    FleetClass fc;
    fc.key = key;
    fc.cls = members.front().first;
    for (const auto& [c, in] : members) {
      if (!c.note.empty()) fc.notes.push_back(c.note);
      fc.name += (fc.name.empty() ? "" : ", ") + in->name;
      fc.sha256 += (fc.sha256.empty() ? "" : ", ") + in->sha256;
    }
    if (members.size() == 1) {
      fc.results = std::move(members.front().second->results);
      out.push_back(std::move(fc));
      continue;
    }
    const bool shards = std::all_of(members.begin(), members.end(), [](const auto& m) {
      return m.second->results.context.contains("shard");
    });
    if (shards) {
      std::vector<ResultsPart> parts;
      for (const auto& m : members) parts.push_back({m.second->path, m.second->results});
      MergeResult merged = merge_parts(parts);
      fc.results = std::move(merged.results);
      for (auto& w : merged.warnings) fc.notes.push_back(w);
      fc.notes.push_back("class " + key + ": shards " + fc.name + " merged");
      out.push_back(std::move(fc));
      continue;
    }
    // A union of points: from different sweeps, or disjoint parts of one.
    const FleetInput& first = *members.front().second;
    std::map<std::string, const FleetInput*> seen;  // by point id (results.h)
    int looks = 1;
    for (size_t i = 0; i < members.size(); ++i) {
      const FleetInput* in = members[i].second;
      const json& ctx = in->results.context;
      for (size_t j = 0; j < i; ++j) {
        const FleetInput* other = members[j].second;
        const json& octx = other->results.context;
        if (show(ctx, "rounded_activations") != show(octx, "rounded_activations"))
          throw InputError(in->path, "context.rounded_activations",
                           fmt::format("{} vs {} in {}, of the same class {}: one table cannot "
                                       "both allow and refuse rounded activations",
                                       show(ctx, "rounded_activations"),
                                       show(octx, "rounded_activations"), other->path, key));
        if (show(ctx, "sweep") != show(octx, "sweep")) continue;
        for (const char* k : {"routing", "repetitions", "min_time", "seed"})
          if (show(ctx, k) != show(octx, k))
            throw InputError(
                in->path, std::string("context.") + k,
                fmt::format("sweep {} of class {} again, with {} {} where {} has "
                            "{}: expected the same sweep settings",
                            show(ctx, "sweep"), key, k, show(ctx, k), other->path, show(octx, k)));
        const auto mine = shapes_and_dtypes(in->results),
                   theirs = shapes_and_dtypes(other->results);
        if (mine != theirs) {
          std::vector<std::string> only_mine, only_theirs;
          std::set_difference(mine.begin(), mine.end(), theirs.begin(), theirs.end(),
                              std::back_inserter(only_mine));
          std::set_difference(theirs.begin(), theirs.end(), mine.begin(), mine.end(),
                              std::back_inserter(only_theirs));
          throw InputError(
              in->path, "benchmarks",
              fmt::format("sweep {} of class {} again, with different shapes or dtypes than {}: "
                          "{} only here, {} only there; expected the same sweep",
                          show(ctx, "sweep"), key, other->path,
                          only_mine.empty() ? "none" : only_mine.front(),
                          only_theirs.empty() ? "none" : only_theirs.front()));
        }
      }
      const auto adaptive = ctx.find("adaptive");
      if (adaptive != ctx.end() && adaptive->is_object() && adaptive->contains("looks") &&
          (*adaptive)["looks"].is_number_integer())
        looks = std::max(looks, (*adaptive)["looks"].get<int>());
      for (const auto& cr : in->results.cases) {
        const std::string id = point_id(cr);
        const auto it = seen.find(id);
        if (it != seen.end() && it->second != in)
          throw InputError(in->path, "benchmarks",
                           "point " + point_text(cr) + " is also measured in " + it->second->path +
                               " (the same class " + key +
                               "): expected each point once per class; tune one of them, or "
                               "join shards with moetune merge");
        seen.emplace(id, in);
      }
    }
    fc.results.context = first.results.context;
    json from = json::array();
    for (const auto& m : members) {
      from.push_back(m.second->name);
      for (auto& cr : m.second->results.cases) fc.results.cases.push_back(std::move(cr));
    }
    fc.results.context["merged_from"] = from;
    // The header's provenance names every file's sweep, date and commit where they differ.
    for (const char* k : {"sweep", "sweep_file", "sweep_sha256", "date", "git_commit"}) {
      std::vector<std::string> values;
      for (const auto& m : members) {
        const json& ctx = m.second->results.context;
        values.push_back(ctx.contains(k) && ctx[k].is_string() ? ctx[k].get<std::string>()
                                                               : "unknown");
      }
      if (std::all_of(values.begin(), values.end(),
                      [&](const std::string& v) { return v == values.front(); }))
        continue;
      std::string joined;
      for (const auto& v : values) joined += (joined.empty() ? "" : ", ") + v;
      fc.results.context[k] = joined;
    }
    // The most looks any of them took: each look spends part of the level (decision.h).
    if (looks > 1) fc.results.context["adaptive"] = {{"looks", looks}};
    fc.notes.push_back("class " + key + ": " + fc.name + " joined");
    out.push_back(std::move(fc));
  }
  return out;
}

}  // namespace moetune
