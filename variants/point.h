// A decision point (DESIGN §5, §6): where a sweep times the variants of an op against each
// other, the tuner decides one, and the tuned table keys the choice. One type, one id, one
// parser; ops, dtypes and layouts are enums inside the code and text only where YAML, JSON,
// the tuned header and the command line meet it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernels/common/dtype.h"
#include "kernels/gemv/gemv.h"
#include "variants/moe_shape.h"

namespace moetune {

// The ops a sweep times, the tuner decides and a layer selects.
enum class Op { kGemv, kSwiglu, kSoftmax, kTopk, kLayer };
// Every op, in the order sweeps, results, the tuner and the tuned table list them.
inline constexpr Op kOps[] = {Op::kGemv, Op::kSwiglu, Op::kSoftmax, Op::kTopk, Op::kLayer};

std::string_view op_name(Op op);  // "gemv", "swiglu", "softmax", "topk", "layer"
std::optional<Op> parse_op(std::string_view name);
// gemv and layer read the weights: their points carry the weights' dtype and layout. The
// others run on f32 activations once per point, whatever the weights: dtype f32, layout "any".
bool op_reads_weights(Op op);

// "oi" | "io" (kernels/gemv/gemv.h layout_name); nullopt for anything else.
std::optional<Layout> parse_layout(std::string_view name);
// A point's layout as text: "oi", "io", or "any" for none.
std::string_view layout_text(std::optional<Layout> layout);
// The layout of op's points for weights stored in `weights`: that one where the op reads them,
// none ("any") where it does not.
std::optional<Layout> op_layout(Op op, Layout weights);

struct Point {
  Op op = Op::kGemv;
  MoeShape shape;
  DType dtype = DType::kF32;     // the weights'; f32 for an op that does not read them
  std::optional<Layout> layout;  // the weights'; none ("any") for an op that does not read them
  int64_t tokens = 1;
  int threads = 1;

  // "gemv/H2048_I768_E128_k8_S0_norm/bf16/oi/tokens:1/threads:2": the point's one id, what
  // groups a sweep's cases, keys the tuner, the fleet and compare.
  std::string id() const;
  // The id of a case (the point and one variant), the results' benchmark name and what
  // --filter matches: "gemv/<variant>/H2048_.../bf16/oi/tokens:1/threads:2".
  std::string case_id(std::string_view variant) const;
  std::string_view layout_text() const;  // "oi", "io" or "any"

  bool operator==(const Point& o) const;
  bool operator!=(const Point& o) const { return !(*this == o); }
  // Op (kOps order), shape (H, I, E, k, S, norm), tokens, threads, dtype, layout (enum order):
  // an order for maps and sets. The tuned header lists dtype and layout by name instead
  // (harness/tuner.cpp HeaderOrder), as headers always have.
  bool operator<(const Point& o) const;
};

// A point whose dtype and layout fit its op: an op that does not read weights gets f32 and
// "any" (whatever it was given); one that does must have a layout. Empty when it fits, else
// what does not ("gemv needs a layout, oi or io").
std::string point_problem(const Point& p);

// The inverse of MoeShape::key(): "H2048_I768_E128_k8_S0_norm" (or "_nonorm").
std::optional<MoeShape> parse_shape_key(std::string_view key);
// A point from the words results and headers record it by (op "gemv", dtype "bf16", layout
// "oi", "io" or "any"); nullopt where one is not known here or point_problem rejects the point.
std::optional<Point> parse_point_fields(std::string_view op, const MoeShape& shape,
                                        std::string_view dtype, std::string_view layout,
                                        int64_t tokens, int threads);
// The inverse of Point::id(); nullopt for any other text, or a point point_problem rejects.
std::optional<Point> parse_point(std::string_view id);
// The inverse of Point::case_id(): the point and the variant.
struct PointCase {
  Point point;
  std::string variant;
};
std::optional<PointCase> parse_case_id(std::string_view id);

}  // namespace moetune
