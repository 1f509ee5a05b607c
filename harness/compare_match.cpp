// Matching the cases of results files into comparison rows (the statistics of each row are
// compare_stats.cpp).
#include "harness/compare_match.h"

#include <fmt/core.h>

#include <map>

#include "harness/compare_stats.h"
#include "harness/error.h"

namespace moetune {
namespace {

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

// The key columns of a row, from the case of the first file that has it.
void describe(CompareRow &row, const CaseResult &c, bool plain, MatchBy match) {
  row.op = c.op;
  row.variant = match == MatchBy::kCase ? c.variant : "";
  row.dtype = c.dtype;
  row.layout = c.layout;
  row.threads = c.threads;
  if (!plain) {
    row.shape = c.shape.key();
    row.tokens = c.tokens;
    return;
  }
  // moetune_bench's "topk/topk_f32__naive/n:128/k:8": the shape is "n:128/k:8", and gemv's m
  // is its tokens; another program's names say neither.
  const PlainName name = split_plain_name(c.name);
  const auto slash = name.point.find('/');
  if (!name.variant.empty() && slash != std::string::npos) row.shape = name.point.substr(slash + 1);
  if (("/" + name.point + "/").find("/m:") != std::string::npos) row.tokens = c.tokens;
}

}  // namespace

std::string compare_key(const CaseResult &c, bool plain) { return plain ? c.name : case_id(c); }

MatchBy parse_match(const std::string &name) {
  if (name == "case") return MatchBy::kCase;
  if (name == "point") return MatchBy::kPoint;
  throw InputError("command line", "--match", "expected case or point, got '" + name + "'");
}

std::vector<CompareRow> match_rows(const std::vector<ComparedFile> &files, MatchBy match) {
  std::vector<CompareRow> rows;
  std::map<std::string, size_t> index;
  auto row_for = [&](const std::string &key, const CaseResult &first,
                     const ComparedFile &file) -> CompareRow & {
    auto [it, fresh] = index.try_emplace(key, rows.size());
    if (fresh) {
      CompareRow row;
      row.key = key;
      describe(row, first, file.plain, match);
      row.samples.resize(files.size());
      rows.push_back(std::move(row));
    }
    return rows[it->second];
  };
  for (size_t f = 0; f < files.size(); ++f) {
    const ComparedFile &file = files[f];
    const auto &cases = file.results.cases;
    if (match == MatchBy::kCase) {
      for (size_t i = 0; i < cases.size(); ++i) {
        const std::string key = compare_key(cases[i], file.plain);
        Sample &s = row_for(key, cases[i], file).samples[f];
        if (s.present) throw InputError(file.path, "", "benchmark '" + key + "' appears twice");
        s = sample_of(cases[i]);
      }
      continue;
    }
    // By point: the file's cases grouped by point, in the order the points first appear.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const CaseResult *>> at;
    for (size_t i = 0; i < cases.size(); ++i) {
      const std::string key = i < file.points.size() ? file.points[i] : point_id(cases[i]);
      auto [it, fresh] = at.try_emplace(key);
      if (fresh) order.push_back(key);
      it->second.push_back(&cases[i]);
    }
    for (const auto &key : order)
      row_for(key, *at[key].front(), file).samples[f] = best_sample(at[key]);
  }
  return rows;
}

}  // namespace moetune
