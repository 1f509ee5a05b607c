// The results file (DESIGN §5): Google Benchmark's JSON format, so that its tools/compare.py
// reads it too, with moetune's fields on every entry; written atomically. And the journal that
// makes an interrupted sweep resumable.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "variants/moe_shape.h"
#include "variants/point.h"

namespace moetune {

// One repetition of a case, as Google Benchmark reports a run: times per iteration.
struct Repetition {
  double real_time = 0;
  double cpu_time = 0;
  int64_t iterations = 0;
  double roofline_pct = 0;
  double bytes_per_second = 0;
  double flops_per_second = 0;
};

// How a sweep measured the point a case belongs to (every case of the point carries the same):
// sweeps with adaptive repetitions (harness/decision.h) record it, earlier ones do not.
struct PointRun {
  int looks = 1;         // how many times the sweep looked at the point's repetitions
  std::string stopped;   // why it stopped adding them: "settled: <verdict>", "max_repetitions",
                         // "max_time" or "no default" (nothing to decide)
  double seconds = 0;    // the point's wall time, all rounds
  // The machine's load before and after the point (harness/load.h).
  double load_1m_before = 0, load_1m_after = 0;
  int others_runnable_before = -1, others_runnable_after = -1;
};

// Everything measured for one benchmark case (harness/sweep_config.h BenchCase).
struct CaseResult {
  std::string name;  // the case id
  std::string op;
  std::string variant;
  std::string dtype;
  std::string layout;  // "oi" | "io" | "any"
  MoeShape shape;
  int64_t tokens = 1;
  int threads = 1;
  bool verified = false;
  std::string error;  // why the case failed (not runnable here, wrong output, ...); "" if it ran
  std::string time_unit = "ns";         // of the repetitions' times
  std::vector<Repetition> repetitions;  // empty for a failed case
  std::optional<int64_t> rows, cols;    // gemv: the matrix as stored in the layer
  std::optional<double> allocs_per_call, heap_bytes_per_call;  // layer
  std::optional<double> workspace_bytes;  // layer: heap it holds beyond the weights
  // layer: ||y - y_f32|| / ||y_f32|| over the verified inputs, y_f32 the naive layer's output
  // with the f32 weights these (bf16, int8) weights were converted from; ~1e-7 for f32.
  std::optional<double> rel_error_vs_f32;
  // gemv and layer: what x was multiplied as, "f32" unless the gemv (the layer's gemv) rounds
  // the activations ("bf16", "int8"); its roofline_pct took the peak of that arithmetic.
  std::optional<std::string> activations;
  // layer: the kernels it ran, "gemv=... swiglu=... softmax=... topk=...".
  std::optional<std::string> kernels;
  // False when the repetitions carry no roofline_pct (a peer's results written without a
  // measured roofline): their roofline_pct of 0 means unknown, and is shown as such.
  bool has_roofline = true;
  std::optional<PointRun> point_run;

  bool failed() const { return !error.empty(); }
  // The decision point its fields name; none for a row moetune has no type for (a peer's
  // dtype such as llama.cpp's q8_0, an op that is none of moetune's).
  std::optional<Point> point() const;
  // The real times of the repetitions in nanoseconds.
  std::vector<double> real_times_ns() const;
};

// Its point's id (Point::id), or for a row without a point the same text made of its fields.
std::string point_id(const CaseResult& c);
// Its case id (Point::case_id of its variant), or for a row without a point the same text
// made of its fields; from the fields rather than the stored name, so that files from versions
// that named cases differently still match.
std::string case_id(const CaseResult& c);

struct ResultsFile {
  nlohmann::json context = nlohmann::json::object();  // the machine fingerprint and run info
  std::vector<CaseResult> cases;
};

// Nanoseconds per `unit` ("ns", "us", "ms", "s"); 0 for anything else.
double nanoseconds_per(const std::string& unit);

// Google Benchmark entries of one case: one "iteration" run per repetition, then the
// aggregates mean, median, stddev and cv (cv's aggregate_unit "percentage", as Google Benchmark
// 1.7 writes it: a fraction). A failed case is one iteration entry with error_occurred,
// error_message and error, and no aggregates.
std::vector<nlohmann::json> case_entries(const CaseResult& c);
nlohmann::json results_to_json(const ResultsFile& results);

// Reads what results_to_json wrote (aggregates are recomputed, not read). Every problem
// throws InputError naming `file` and the entry ("benchmarks[3] (gemv/...)"): a field missing
// or of the wrong type, a value out of range, repetitions of one case that disagree.
ResultsFile results_from_json(const nlohmann::json& j, const std::string& file);
ResultsFile read_results(const std::string& path);

// Writes `content` to `path` so that a reader sees the old file or the new one, never a part:
// a temporary file in the same directory, fsync, rename over `path`, fsync of the directory.
// On failure throws InputError naming `path`, removes the temporary file and leaves any old
// file at `path` as it was.
void write_file_atomically(const std::string& path, const std::string& content);
void write_results(const std::string& path, const ResultsFile& results);

// "OUT.json.journal" for "OUT.json".
std::string journal_path(const std::string& results_path);

// Append-only JSON lines, one per finished case ({"id": ..., "benchmarks": [its entries]}),
// each written with one write() and fsync'd, so that after a crash every line but possibly a
// torn last one is complete.
class Journal {
 public:
  // Opens (creating) the journal for appending; a torn last line left by a crash is cut off
  // first so the next line starts clean. Throws InputError when it cannot.
  explicit Journal(std::string path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  void append(const CaseResult& c);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// The cases of a journal in the order they finished; a later line for the same case replaces
// an earlier one. A missing journal is empty; a torn last line is skipped; any other bad line
// throws InputError naming the journal and the line.
std::vector<CaseResult> read_journal(const std::string& path);

}  // namespace moetune
