// A fleet of machine classes (issue 17): which class a results file was measured on, and the
// results of several files grouped into one per class, for `moetune tune A.json B.json ...`.
#pragma once

#include <string>
#include <vector>

#include "harness/results.h"
#include "kernels/common/machine_class.h"

namespace moetune {

struct ResultsClass {
  MachineClass cls;
  // True for results recorded before the class was (no context "machine_class"): the class
  // comes from their cpuid and cpu_features, caches unknown. `note` says so, naming the file.
  bool derived = false;
  std::string note;
};
// The class of a results file: its context's "machine_class", else derived from "cpuid"
// ({vendor, family, model}) and "cpu_features". Throws InputError naming `file` where it has
// neither (or either is malformed): its CPU model alone does not tell a class.
ResultsClass results_class(const nlohmann::json& context, const std::string& file);

struct FleetInput {
  std::string path;    // as the command line named it, for messages
  std::string name;    // how the header names it (header_names)
  std::string sha256;  // of its bytes
  ResultsFile results;
};

struct FleetClass {
  ResultsClass cls;
  std::string key;                 // cls.cls.key()
  std::string name;                // the file names joined, ", "-separated, in name order
  std::string sha256;              // their sha256, in the same order
  ResultsFile results;             // one file, or the files of this class joined
  std::vector<std::string> notes;  // derived classes, joined files
};

// How the header names each of these results files: its file name, or where two share one,
// with as many of the folders above it as tell them apart ("zen3-avx2/qwen3-30b-a3b.json"), so
// that one folder per machine class of like-named sweeps (results/CLASS/SWEEP.json) tunes as a
// fleet. Throws InputError where two paths are the same file.
std::vector<std::string> header_names(const std::vector<std::string>& paths);

// The inputs grouped by class, sorted by class key. Files of one class are joined as `moetune
// merge` joins shards where all are shards of one sweep (merge_parts), else as a union of
// their points. Throws InputError naming the file, the place and what was expected where files
// of one class disagree: the same sweep with different shapes or dtypes, or other settings
// that define its numbers (routing, repetitions, min_time, seed, rounded_activations); a point
// (op, shape, dtype, layout, tokens, threads) measured in two of them (which to trust?); or two
// files with the same name (the header names tables by file name).
std::vector<FleetClass> group_by_class(std::vector<FleetInput> inputs);

}  // namespace moetune
