// A sweep file (DESIGN §4): what to benchmark, parsed and checked completely before anything
// runs, and expanded into the list of benchmark cases the sweep runner walks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/gemv/gemv.h"
#include "variants/moe_shape.h"
#include "variants/point.h"
#include "variants/selection.h"

namespace moetune {

enum class RoutingKind { kUniform, kSkewed };
std::string_view routing_kind_name(RoutingKind r);  // "uniform" | "skewed"

struct SweepShape {
  std::string preset;  // the preset's name, or empty for a shape spelled out
  MoeShape shape;
  // The preset's name, else the shape's key.
  std::string label() const { return preset.empty() ? shape.key() : preset; }
};

struct SweepConfig {
  std::string file;  // where it was read from, for messages and the results' context
  std::string name;
  std::vector<SweepShape> shapes;
  std::vector<int64_t> tokens;
  std::vector<int> threads;  // default: the number of cores
  std::vector<Op> ops;       // in the order of kOps (variants/point.h), whatever the file's order
  // For every op in `ops`, the variants to run, in registry order (never empty).
  std::map<Op, std::vector<std::string>> variants;
  std::vector<DType> dtypes;    // the weights of gemv and layer, in the file's order; default f32
  std::vector<Layout> layouts;  // default: {oi}
  // `rounded_activations: true`: the gemv variants that round the activations (bf16 x bf16,
  // int8 x int8) run too, and the layer's selection may take them (kMayRound). Default: exact.
  Activations activations = Activations::kExact;
  RoutingKind routing = RoutingKind::kUniform;
  // Adaptive repetitions (harness/decision.h): every point gets `repetitions`, then more, in
  // doubling rounds, until its decision settles, it has `max_repetitions`, or its variants
  // have run for `max_time` seconds in all. Default: 4 x repetitions, 30 s.
  int repetitions = 5;
  int max_repetitions = 20;
  double max_time = 30;
  double min_time = 0.1;  // seconds per repetition
  uint64_t seed = 1;
};

// Reads and checks a sweep file. Every mistake (no such file, YAML syntax, an unknown key, a
// wrong type, a value out of range, an unknown preset or variant, a missing required key, an
// empty list, a duplicate) throws InputError naming the file, the line and column, the key and
// what was expected.
SweepConfig load_sweep(const std::string& path);
// The same from text; `file` names it in messages.
SweepConfig parse_sweep(const std::string& yaml, const std::string& file);

// One benchmark: a variant of an op at one point of the sweep.
struct BenchCase {
  // op, shape, dtype (the weights'; f32 for swiglu, softmax and topk), layout (oi or io for
  // gemv and layer; none, "any", for the others), tokens, threads.
  Point point;
  std::string variant;
  std::string shape_label;  // SweepShape::label(): the preset's name, else the shape's key
  // point.case_id(variant), stable across runs, machines and versions as long as the case is
  // the same; the results' benchmark name, the journal's key, what --filter matches:
  // "op/variant/shape key/dtype/layout/tokens:T/threads:N".
  std::string id;
};

// Every case of the sweep, in a deterministic order: by shape (file order), op, layout, dtype,
// tokens, threads (file order), then variant (registry order), so that the variants compared
// with each other run next to each other. A gemv variant runs only in its own layout; ops that
// do not read weights run once per point, with layout "any".
std::vector<BenchCase> expand(const SweepConfig& config);

}  // namespace moetune
