// The oi gemv kernels that multiply rounded activations with dot-product instructions
// (vdpbf16ps: bf16 x bf16; vpdpbusd: int8 x int8), written once over a traits type D that
// says how one vector step is loaded and multiplied (avx512_rounded.h: Bf16x512, Int8x512;
// avxvnni_rounded.h: Int8x256; the two int8 ones are Int8 below over each width's integer
// steps), as Highway writes one source for several widths:
//
//   W, V, Acc         a weight (and a prepared x value), a loaded vector, an accumulator
//   kStep             weights per vector; kTokens: tokens per seg4 pass
//   kScaled           int8: each row has a scale (GemvArgs::scale)
//   weights(a)        the weights' pointer in GemvArgs
//   zero, load_w, load_w_tail, load_x, dot
//   token_scale(x, k) the token's scale over all k inputs (int8; NaN when x is not finite)
//   prepare(x, kb, scale, dst, kpad)  kb inputs into dst (zero up to kpad), bit for bit what
//                     quantize.h's function gives the naive reference; returns Σ of the
//                     prepared values (int8: the correction for the +128 offset of the weights)
//   finish4(a, b, c, d, token scale, token sum, row scales)  4 accumulators -> 4 outputs
//
// Every output is one dot product summed in one fixed order: per vector lane along k (the
// block's tail first, then its whole vectors), one block of inputs at a time (blocks that depend on
// k only), then by finish4's tree, which is the same for every place in a tile. So an output row
// gets the same bits whichever rows share its pass, whatever n, and from the single and the pair
// form (the layer relies on it). int8 sums are exact integers: the outputs are the naive
// reference's bits whenever k fits one block.
//
// x is prepared into this thread's buffer (x_buffer, shared by every kernel here; zero-padded
// to whole vectors, never stale: a NaN stays in its token), a block of inputs at a time;
// nothing is allocated per call.
#pragma once

#include <emmintrin.h>  // __m128i (int8_outputs)
#include <xmmintrin.h>  // _mm_prefetch, __m128 (the outputs of finish4)

#include <algorithm>
#include <cstdint>

#include "kernels/gemv/gemv.h"

namespace moetune::rounded {

// This thread's buffer for the prepared x, 64-byte aligned (rounded_buffer.cpp): the GEMM's
// MC = 64 tokens of 2048 bf16 or 4096 int8 values, a row one cache line apart.
inline constexpr int64_t kXBufferBytes = 64 * (4096 + 64);
unsigned char* x_buffer();

// The int8 traits' finish4 after their horizontal sums: 4 rows' Σ (w + 128)·x, the offset
// taken back (128 · the token's Σ x; the int32 lanes wrap, the true sums fit), then
// float(Σ w·x) · row scale · token scale, in the reference's order.
static inline __m128 int8_outputs(__m128i sums, float scale, int32_t sum, __m128 rows) {
  const __m128i offset = _mm_set1_epi32(static_cast<int32_t>(128u * static_cast<uint32_t>(sum)));
  const __m128 v = _mm_cvtepi32_ps(_mm_sub_epi32(sums, offset));
  return _mm_mul_ps(_mm_mul_ps(v, rows), _mm_set1_ps(scale));
}

namespace {

// The int8 x int8 traits, written once over I, one width's integer steps (avx512_rounded.h's
// I512, avxvnni_rounded.h's I256): V, kBytes (weights per vector), zero, loadu, load (aligned),
// load_tail (the first `bytes` at p, zero beyond), flip (xor 0x80 in every byte), dpbusd, hsum4
// (four int32 accumulators' sums in lanes 0..3), scale and quantize (quantize.h's int8 functions
// at that width, bit for bit).
//
// vpdpbusd multiplies unsigned by signed bytes, so the weights are offset by 128 (w ^ 0x80 =
// w + 128 as an unsigned byte) and multiply the signed x: Σ (w + 128)·x = Σ w·x + 128·Σ x, and
// prepare() gives Σ x. One xor per weight vector, whatever the number of tokens that share it
// (an offset x would need Σ w per row instead, one more vpdpbusd per weight vector). The int32
// lanes wrap, but the true sum fits (k < 133000), so the difference is exact.
template <typename I, int kTokensPerPass>
struct Int8 {
  using W = int8_t;
  using V = typename I::V;
  using Acc = typename I::V;
  static constexpr int kStep = I::kBytes;
  static constexpr int kTokens = kTokensPerPass;
  static constexpr bool kScaled = true;
  static const W* weights(const GemvArgs& a) { return a.w_i8; }
  static Acc zero() { return I::zero(); }
  static V load_w(const W* p) { return I::flip(I::loadu(p)); }
  // Zero-padded: 128 times the zero padding of x adds nothing.
  static V load_w_tail(const W* p, int64_t count) { return I::flip(I::load_tail(p, count)); }
  static V load_x(const W* p) { return I::load(p); }
  static Acc dot(Acc acc, V w, V x) { return I::dpbusd(acc, w, x); }
  static float token_scale(const float* x, int64_t k) { return I::scale(x, k); }
  static int32_t prepare(const float* x, int64_t kb, float s, W* dst, int64_t kpad) {
    return I::quantize(x, kb, s, dst, kpad);
  }
  // float(Σ w·x) · row scale · token scale, in the reference's order.
  static __m128 finish4(Acc a, Acc b, Acc c, Acc d, float scale, int32_t sum, __m128 rows) {
    return int8_outputs(I::hsum4(a, b, c, d), scale, sum, rows);
  }
};

// What prepare() gives a token: its scale (int8; 1 for bf16) and the sum of its values.
struct Token {
  float scale = 1.0f;
  int32_t sum = 0;
};

// R rows of a pass: row r's weights at w[r] (the current block), its scale (int8), and its
// output for token t at y[r] + t·ldy[r].
template <typename D, int R>
struct Rows {
  const typename D::W* w[R];
  float scale[R];
  float* y[R];
  int64_t ldy[R];
};

// Fully unrolls the loops over a tile's registers, early: left to -O3's later complete
// peeling, GCC 12 keeps the accumulator array in memory (avx2_gemm.cpp found the same).
#define MOETUNE_ROUNDED_UNROLL _Pragma("GCC unroll 16")

constexpr int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Token t's outputs of the n (1..4) rows from r0 on, from their accumulators a..d (those
// beyond n are ignored: finish4 gets zeros there). Values, not the accumulator array: GCC 12
// keeps an array it sees passed by reference in memory, storing it on every k step.
template <typename D, int R>
inline void store4(typename D::Acc a, typename D::Acc b, typename D::Acc c, typename D::Acc d,
                   int n, int r0, const Rows<D, R>& rows, int t, const Token& tok, bool add) {
  const typename D::Acc z = D::zero();
  const auto sc = [&](int j) { return j < n ? rows.scale[r0 + j] : 0.0f; };
  const __m128 s = D::finish4(a, n > 1 ? b : z, n > 2 ? c : z, n > 3 ? d : z, tok.scale, tok.sum,
                              _mm_setr_ps(sc(0), sc(1), sc(2), sc(3)));
  alignas(16) float v[4];
  _mm_store_ps(v, s);
  for (int j = 0; j < n; ++j) {
    float* p = rows.y[r0 + j] + t * rows.ldy[r0 + j];
    *p = add ? *p + v[j] : v[j];
  }
}

// y[r](t) (+)= the R rows' dot products with M tokens over kb inputs: token t's prepared x at
// x + t·ldx (zero from kb to a whole vector). One weight load serves the M tokens: M·R
// independent accumulator chains.
template <typename D, int M, int R>
inline void dot_rows(const Rows<D, R>& rows, const typename D::W* x, int64_t ldx, const Token* tok,
                     int64_t kb, bool add) {
  using V = typename D::V;
  typename D::Acc acc[M][R];
  const typename D::W* w[R];
  MOETUNE_ROUNDED_UNROLL
  for (int r = 0; r < R; ++r) w[r] = rows.w[r];
  // The tail (kb % kStep inputs, zero-padded) first, then the whole vectors: with the tail
  // after the loop, GCC 12 keeps copies of the accumulators in memory through the loop
  // (stored every step) for tiles of 20 and more; before it, the loop is clean.
  const int64_t full = kb / D::kStep * D::kStep;
  if (full < kb) {
    V wv[R];
    MOETUNE_ROUNDED_UNROLL
    for (int r = 0; r < R; ++r) wv[r] = D::load_w_tail(w[r] + full, kb - full);
    MOETUNE_ROUNDED_UNROLL
    for (int t = 0; t < M; ++t) {
      const V xv = D::load_x(x + t * ldx + full);
      MOETUNE_ROUNDED_UNROLL
      for (int r = 0; r < R; ++r) acc[t][r] = D::dot(D::zero(), wv[r], xv);
    }
  } else {
    MOETUNE_ROUNDED_UNROLL
    for (int t = 0; t < M; ++t) {
      MOETUNE_ROUNDED_UNROLL
      for (int r = 0; r < R; ++r) acc[t][r] = D::zero();
    }
  }
  for (int64_t i = 0; i < full; i += D::kStep) {
    V wv[R];
    MOETUNE_ROUNDED_UNROLL
    for (int r = 0; r < R; ++r) wv[r] = D::load_w(w[r] + i);
    MOETUNE_ROUNDED_UNROLL
    for (int t = 0; t < M; ++t) {
      const V xv = D::load_x(x + t * ldx + i);
      MOETUNE_ROUNDED_UNROLL
      for (int r = 0; r < R; ++r) acc[t][r] = D::dot(acc[t][r], wv[r], xv);
    }
  }
  MOETUNE_ROUNDED_UNROLL
  for (int t = 0; t < M; ++t) {
    MOETUNE_ROUNDED_UNROLL
    for (int r0 = 0; r0 < R; r0 += 4)
      store4<D, R>(acc[t][r0], acc[t][std::min(r0 + 1, R - 1)], acc[t][std::min(r0 + 2, R - 1)],
                   acc[t][std::min(r0 + 3, R - 1)], std::min(4, R - r0), r0, rows, t, tok[t], add);
  }
}

// dot_rows for M = tokens (1 .. D::kTokens) chosen at run time.
template <typename D, int R>
inline void dot_rows_m(int tokens, const Rows<D, R>& rows, const typename D::W* x, int64_t ldx,
                       const Token* tok, int64_t kb, bool add) {
  if constexpr (D::kTokens >= 4)
    if (tokens == 4) return dot_rows<D, 4, R>(rows, x, ldx, tok, kb, add);
  if constexpr (D::kTokens >= 3)
    if (tokens == 3) return dot_rows<D, 3, R>(rows, x, ldx, tok, kb, add);
  if constexpr (D::kTokens >= 2)
    if (tokens == 2) return dot_rows<D, 2, R>(rows, x, ldx, tok, kb, add);
  dot_rows<D, 1, R>(rows, x, ldx, tok, kb, add);
}

// Row o of an oi call with its inputs from pc on.
template <typename D>
struct Matrix {
  const GemvArgs& a;
  const typename D::W* w = D::weights(a);
  const typename D::W* row(int64_t o, int64_t pc) const { return w + o * a.ldw + pc; }
  float scale(int64_t o) const { return D::kScaled ? a.scale[o] : 1.0f; }
  float* out(int64_t t, int64_t o) const { return a.y + t * a.ldy + o; }
};

// y = W·x over no inputs is zero; y += is unchanged.
inline void zero_if_empty(const GemvArgs& g) {
  if (g.k > 0 || g.accumulate) return;
  for (int64_t t = 0; t < g.m; ++t) std::fill(g.y + t * g.ldy, g.y + t * g.ldy + g.n, 0.0f);
}

// The decode kernels: tokens D::kTokens at a time, each block of KC inputs prepared into buf
// (kTokens rows of KC + one vector, so that the rows do not share L1 sets), then
// passes(tokens, t0, x, ldx, tok, kb, pc, add) runs every pass of rows over the block.
template <typename D, int64_t KC, typename Passes>
void over_token_blocks(const GemvArgs& a, typename D::W* buf, Passes&& passes) {
  constexpr int64_t ldb = KC + D::kStep;
  zero_if_empty(a);
  for (int64_t t0 = 0; t0 < a.m; t0 += D::kTokens) {
    const int tokens = static_cast<int>(std::min<int64_t>(D::kTokens, a.m - t0));
    Token tok[D::kTokens];
    for (int t = 0; t < tokens; ++t) tok[t].scale = D::token_scale(a.x + (t0 + t) * a.ldx, a.k);
    for (int64_t pc = 0; pc < a.k; pc += KC) {
      const int64_t kb = std::min(KC, a.k - pc);
      for (int t = 0; t < tokens; ++t)
        tok[t].sum = D::prepare(a.x + (t0 + t) * a.ldx + pc, kb, tok[t].scale, buf + t * ldb,
                                round_up(kb, D::kStep));
      passes(tokens, t0, buf, ldb, tok, kb, pc, a.accumulate || pc > 0);
    }
  }
}

// seg4: the 4 rows of a pass a quarter of the outputs apart (rows p, p + q, p + 2q, p + 3q,
// q = n / 4), so the weights stream from 4 places pages apart (avx2_seg4.cpp says why the
// prefetchers need that); the last n % 4 rows one at a time.
template <typename D, int64_t KC>
void seg4(const GemvArgs& a, typename D::W* buf) {
  const Matrix<D> A{a};
  const int64_t q = a.n / 4;
  over_token_blocks<D, KC>(
      a, buf,
      [&](int tokens, int64_t t0, const typename D::W* x, int64_t ldx, const Token* tok, int64_t kb,
          int64_t pc, bool add) {
        for (int64_t p = 0; p < q; ++p) {
          const int64_t o[4] = {p, p + q, p + 2 * q, p + 3 * q};
          const Rows<D, 4> rows{
              {A.row(o[0], pc), A.row(o[1], pc), A.row(o[2], pc), A.row(o[3], pc)},
              {A.scale(o[0]), A.scale(o[1]), A.scale(o[2]), A.scale(o[3])},
              {A.out(t0, o[0]), A.out(t0, o[1]), A.out(t0, o[2]), A.out(t0, o[3])},
              {a.ldy, a.ldy, a.ldy, a.ldy}};
          dot_rows_m<D, 4>(tokens, rows, x, ldx, tok, kb, add);
        }
        for (int64_t o = 4 * q; o < a.n; ++o) {
          const Rows<D, 1> rows{{A.row(o, pc)}, {A.scale(o)}, {A.out(t0, o)}, {a.ldy}};
          dot_rows_m<D, 1>(tokens, rows, x, ldx, tok, kb, add);
        }
      });
}

// seg4's pair form (gate and up in one pass over x): rows o and o + n/2 of a and of b in each
// pass, 4 streams again; an odd last row of both together. b's x, m, n, k and accumulate are a's.
template <typename D, int64_t KC>
void seg4_pair(const GemvArgs& a, const GemvArgs& b, typename D::W* buf) {
  const Matrix<D> A{a}, B{b};
  const int64_t h = a.n / 2;
  over_token_blocks<D, KC>(a, buf,
                           [&](int tokens, int64_t t0, const typename D::W* x, int64_t ldx,
                               const Token* tok, int64_t kb, int64_t pc, bool add) {
                             for (int64_t o = 0; o < h; ++o) {
                               const Rows<D, 4> rows{
                                   {A.row(o, pc), A.row(o + h, pc), B.row(o, pc), B.row(o + h, pc)},
                                   {A.scale(o), A.scale(o + h), B.scale(o), B.scale(o + h)},
                                   {A.out(t0, o), A.out(t0, o + h), B.out(t0, o), B.out(t0, o + h)},
                                   {a.ldy, a.ldy, b.ldy, b.ldy}};
                               dot_rows_m<D, 4>(tokens, rows, x, ldx, tok, kb, add);
                             }
                             if (a.n % 2) {
                               const int64_t o = a.n - 1;
                               const Rows<D, 2> rows{{A.row(o, pc), B.row(o, pc)},
                                                     {A.scale(o), B.scale(o)},
                                                     {A.out(t0, o), B.out(t0, o)},
                                                     {a.ldy, b.ldy}};
                               dot_rows_m<D, 2>(tokens, rows, x, ldx, tok, kb, add);
                             }
                           });
}

// Fetches the next R rows' block (rows rows of `bytes` bytes at p, ldw bytes apart) into L2
// while this one is multiplied, a share of its cache lines before each of `calls` tiles. Only
// when several tiles of tokens share the rows: one tile reads them once, in order, as the
// hardware prefetchers expect.
class NextRows {
 public:
  NextRows(const void* p, int64_t ldw, int64_t rows, int64_t bytes, int64_t calls)
      : p_(static_cast<const char*>(p)),
        ldw_(ldw),
        rows_(bytes > 0 && calls > 1 ? std::max<int64_t>(rows, 0) : 0),
        bytes_(bytes) {
    // A row of `bytes` bytes touches at most bytes / 64 + 1 lines, whatever its alignment;
    // fetching bytes 0, 64, 128, ... and the last touches each of them.
    left_ = rows_ * (bytes / 64 + 2);
    share_ = calls > 0 ? (left_ + calls - 1) / calls : 0;
  }
  // Column by column (the lines at one offset of every row, then the next offset), counted
  // without a division: one per line would cost more than the tile it is spread over.
  void fetch_share() {
    for (int64_t q = std::min(left_, share_); q > 0; --q, --left_) {
      _mm_prefetch(p_ + r_ * ldw_ + std::min(c_, bytes_ - 1), _MM_HINT_T1);
      if (++r_ == rows_) {
        r_ = 0;
        c_ += 64;
      }
    }
  }

 private:
  const char* p_;
  int64_t ldw_, rows_, bytes_, share_ = 0, left_ = 0, r_ = 0, c_ = 0;
};

// T tokens x R adjacent rows from row o: the tile of the GEMM. Not inlined into the loops
// around it, so that its registers are all its own.
template <typename D, int T, int R>
__attribute__((noinline)) void tile(const Matrix<D>& A, int64_t o, int64_t pc, int64_t t,
                                    const typename D::W* x, int64_t ldx, const Token* tok,
                                    int64_t kb, bool add) {
  Rows<D, R> rs;
  for (int r = 0; r < R; ++r) {
    rs.w[r] = A.row(o + r, pc);
    rs.scale[r] = A.scale(o + r);
    rs.y[r] = A.out(t, o + r);
    rs.ldy[r] = A.a.ldy;
  }
  dot_rows<D, T, R>(rs, x, ldx, tok, kb, add);
}

// The tile for `tokens` <= T tokens and `rows` <= R rows.
template <typename D, int T, int R>
void tile_upto(int64_t tokens, int64_t rows, const Matrix<D>& A, int64_t o, int64_t pc, int64_t t,
               const typename D::W* x, int64_t ldx, const Token* tok, int64_t kb, bool add) {
  if constexpr (R > 1) {
    if (rows < R) return tile_upto<D, T, R - 1>(tokens, rows, A, o, pc, t, x, ldx, tok, kb, add);
  }
  if constexpr (T > 1) {
    if (tokens < T) return tile_upto<D, T - 1, R>(tokens, rows, A, o, pc, t, x, ldx, tok, kb, add);
  }
  tile<D, T, R>(A, o, pc, t, x, ldx, tok, kb, add);
}

// The GEMM of prefill, dot-product form (as llama.cpp's tinyBLAS): W rows read where they
// are (no packing), T tokens x R rows per tile. The x of up to MC tokens is prepared KC inputs
// at a time into buf (L2); then R rows at a time, each block of R rows (R·KC weights, in L1)
// serving every tile of tokens, while the next rows are fetched into L2. Up to D::kTokens
// tokens (one seg4 pass reads W once for all of them) it is kFewTokens, the seg4 kernel.
//
// Measured on Zen 4 (vdpbf16ps and vpdpbusd on zmm issue one per cycle, latency 6 and 4, as
// the f32 FMA), one core, CPU time, 31 alternating rounds, weights cycled from memory; in % of
// one instruction per cycle at 3.67 GHz, qwen3-30b-a3b's gate [768 x 2048] at 32 tokens
// (T = 512), bf16 / int8:
//   4x4, KC = 2048 / 4096         68.5 / 66.6%   (down [2048 x 768]: 65.5 / 56.3%)
//   6x4                           69.2 / 67.0%   (66.3 / 58.7%)
//   4x6, 8x3 (KC 1024 / 2048)     64.7, 65.0 / 66.0, 53.7%
//   4x4, KC = 1024 / 2048         65.0 / 68.4%;  KC = 512 / 1024: 58.3 / 59.4%
//   4x4 without the prefetch      60.9 / 50.4%   (down: 47.4 / 41.2%)
// 4x4 is as fast as any and the smallest (4 tokens: no tile of an 8-token expert is wasted).
// With W in L3 the 4x4 GEMM runs at 81 / 75%, the tile alone in L1 at 92-96 / 90% (78% for
// int8 at k = 768, where the horizontal sums weigh more): the rest is W's stream.
// At 8 tokens (T = 128) the GEMM reads W once, seg4 twice: 295 against 371 us (bf16), 140
// against 158 (int8) on the gate.
// Why not the broadcast form of avx2_gemm.cpp: vdpbf16ps and vpdpbusd want W packed with 2
// (bf16) or 4 (int8) inputs of a row in each 32-bit lane, a 16 x 16 transposition per 16 rows;
// packing the bf16 gate costs 179 us here (13.3 cycles per packed vector, which 32 tokens use
// in 32 instructions), a third of the whole dot-form GEMM, before any multiply.
// In the layer (qwen3-30b-a3b, grouped, 2 threads, T = 512): bf16 131 ms, int8 76 ms, against
// 248 and 239 for the AVX2 widening GEMMs and 270 for f32 (default_selection.inc).
template <typename D, GemvFn kFewTokens, int T, int R, int64_t KC, int64_t MC>
void gemm(const GemvArgs& g, typename D::W* buf) {
  if (g.m <= D::kTokens) return kFewTokens(g);
  constexpr int64_t ldb = KC + 64 / sizeof(typename D::W);  // rows one line off L1's sets
  const Matrix<D> A{g};
  zero_if_empty(g);
  Token tok[MC];
  for (int64_t ic = 0; ic < g.m; ic += MC) {
    const int64_t mb = std::min(MC, g.m - ic);
    const int64_t tiles = (mb + T - 1) / T;
    for (int64_t t = 0; t < mb; ++t) tok[t].scale = D::token_scale(g.x + (ic + t) * g.ldx, g.k);
    for (int64_t pc = 0; pc < g.k; pc += KC) {
      const int64_t kb = std::min(KC, g.k - pc);
      const bool add = g.accumulate || pc > 0;
      for (int64_t t = 0; t < mb; ++t)
        tok[t].sum = D::prepare(g.x + (ic + t) * g.ldx + pc, kb, tok[t].scale, buf + t * ldb,
                                round_up(kb, D::kStep));
      for (int64_t o = 0; o < g.n; o += R) {
        const int64_t rows = std::min<int64_t>(R, g.n - o);
        NextRows next(A.row(std::min(o + R, g.n - 1), pc), g.ldw * int64_t(sizeof(typename D::W)),
                      std::min<int64_t>(R, g.n - o - R), kb * int64_t(sizeof(typename D::W)),
                      tiles);
        for (int64_t t0 = 0; t0 < mb; t0 += T) {
          next.fetch_share();
          tile_upto<D, T, R>(std::min<int64_t>(T, mb - t0), rows, A, o, pc, ic + t0, buf + t0 * ldb,
                             ldb, tok + t0, kb, add);
        }
      }
    }
  }
}

}  // namespace
}  // namespace moetune::rounded

#undef MOETUNE_ROUNDED_UNROLL
