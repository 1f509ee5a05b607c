// gemv: y = W·x (or y += W·x) for m tokens at once, W logically [n outputs, k inputs].
//
// Weights are f32, bf16 or int8 (kernels/common/dtype.h): a variant reads the pointer of its
// dtype (w, w_bf16, or w_i8 with scale) and ignores the others; x and y are f32 whatever the
// weights.
//
// Layouts (DESIGN §1): `oi` stores W as [n, k] (row o at w + o*ldw: a dot product per output,
// the Hugging Face layout); `io` stores it as [k, n] (row i at w + i*ldw: an axpy per input,
// the nntrainer layout). Each call is single-threaded: callers split the outputs across
// threads (gemv_run_threaded, or the layer strategies), so a kernel never opens a parallel
// region inside another.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/common/isa.h"
#include "kernels/common/layout.h"

namespace moetune {


struct GemvArgs {
  int64_t n = 0;             // outputs
  int64_t k = 0;             // inputs
  const float* w = nullptr;  // oi: w[o*ldw + i]; io: w[i*ldw + o]
  int64_t ldw = 0;
  const float* x = nullptr;  // token t at x + t*ldx, k values
  int64_t ldx = 0;
  float* y = nullptr;  // token t at y + t*ldy, n values; never aliases x or w
  int64_t ldy = 0;
  int64_t m = 1;            // tokens
  bool accumulate = false;  // y += W·x instead of y = W·x
  // The weights in the other dtypes, at the same positions and ldw as `w` would be.
  const uint16_t* w_bf16 = nullptr;  // bf16
  const int8_t* w_i8 = nullptr;      // int8: W[o][i] = scale[o] · w_i8[...]
  const float* scale = nullptr;      // int8: one per output, output o at scale + o
};

// The same call restricted to outputs [o0, o0 + count): weights, scales and y moved to them.
GemvArgs gemv_outputs(const GemvArgs& a, Layout layout, int64_t o0, int64_t count);

using GemvFn = void (*)(const GemvArgs&);
// fn(a) and fn(b) in one pass over x, with the same bits: a and b differ only in their weights
// (w, w_bf16, w_i8, scale, ldw) and y (y, ldy); b's x, m, n, k and accumulate are a's.
using GemvPairFn = void (*)(const GemvArgs& a, const GemvArgs& b);

struct GemvVariant {
  std::string_view name;
  GemvFn fn;
  Isa isa;
  DType dtype;  // the weights'
  DType acts;   // what x is multiplied as (gemv.inc): kF32 unless the variant rounds it
  Layout layout;
  int tokens_per_pass;  // how many tokens share one read of each weight row
  int rows_per_pass;    // outputs (oi) or inputs (io) handled per pass of the inner loop
  GemvPairFn pair;      // the fused form of two calls (kernels/gemv/gemv_pair.inc), or null

  bool rounds_activations() const { return acts != DType::kF32; }
};

#define MOETUNE_GEMV(name, isa, dtype, acts, layout, tokens_per_pass, rows_per_pass) \
  void name(const GemvArgs&);
#include "kernels/gemv/gemv.inc"
#undef MOETUNE_GEMV
#define MOETUNE_GEMV_PAIR(name) void name##_pair(const GemvArgs&, const GemvArgs&);
#include "kernels/gemv/gemv_pair.inc"
#undef MOETUNE_GEMV_PAIR

const std::vector<GemvVariant>& gemv_variants();
const GemvVariant* find_gemv(std::string_view name);  // nullptr when no such variant
// The naive reference of a layout, weight dtype and activations; throws std::logic_error
// where the registry has none (every variant's has one: a registry test checks it).
const GemvVariant& gemv_naive(Layout layout, DType dtype = DType::kF32,
                              DType acts = DType::kF32);
// What v is verified against: the naive reference of v's layout, dtype and activations.
inline const GemvVariant& gemv_reference(const GemvVariant& v) {
  return gemv_naive(v.layout, v.dtype, v.acts);
}

// v.fn(a) then v.fn(b) (gate and up: see GemvPairFn), in one pass where v has a pair form.
inline void gemv_pair(const GemvVariant& v, const GemvArgs& a, const GemvArgs& b) {
  if (v.pair) {
    v.pair(a, b);
  } else {
    v.fn(a);
    v.fn(b);
  }
}

// Runs `v` over `threads` OpenMP threads, each taking a contiguous block of outputs (rounded
// to 16 outputs so no two threads write one cache line of y). threads <= 1 calls v.fn directly.
void gemv_run_threaded(const GemvVariant& v, const GemvArgs& args, int threads);

}  // namespace moetune
