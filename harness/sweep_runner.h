// The sweep runner (`moetune sweep`, DESIGN §4-§5): expands a sweep file into benchmark cases,
// verifies and times each with Google Benchmark, journals every finished case, and writes the
// results file atomically at the end.
#pragma once

#include <optional>
#include <string>

#include "harness/results.h"

namespace moetune {

struct SweepOptions {
  std::string config;  // the sweep YAML
  std::string output;  // results JSON; empty: "<sweep name>.json" in the current directory
  std::string filter;  // ECMAScript regex over case ids; empty: every case
  bool resume = false;
  bool force = false;  // replace a results file already at `output`
  // Wait, at most this many seconds, until the machine is quiet before starting.
  std::optional<double> wait_quiet;
  bool progress = true;  // the progress line on stderr
  // Parts of the sweep for a fleet: run the cases whose index % shard_count == shard_index.
  int shard_index = 0, shard_count = 1;
};

// Runs the sweep and returns what it wrote. Throws InputError before anything runs or is
// written for a bad sweep file, filter, output path, a results file already at the output
// without --force (or --resume of its journal), a journal left by an interrupted run without
// --resume, or shapes whose weights would not fit in the memory available.
ResultsFile run_sweep(const SweepOptions& options, std::string* written_path = nullptr);

// Bytes of memory MemAvailable says this machine has now (0 when unknown).
int64_t available_memory_bytes();

}  // namespace moetune
