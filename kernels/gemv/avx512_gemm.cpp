// AVX-512 GEMM for prefill: Y[m, n] (+)= X[m, k] · W^T for the m tokens one expert sees, W
// stored oi ([n, k]) or io ([k, n]).
//
// oi, `__avx512_gemm_xt24`: the tokens in the lanes. x is transposed into a buffer (x^T, a
// block of at most 48 tokens x 2048 inputs: 384 KiB, in L2), and each weight is broadcast
// from its row where the row lies in memory: lane j of an accumulator sums one (token, input
// group) chain, so no horizontal sum is needed and no panel of W is packed. W is read once
// per call, in R row streams, and each weight feeds NV FMAs. With G inputs per lane group (a
// broadcast of G consecutive weights of a row: vbroadcastss, vbroadcastsd, vbroadcastf32x4),
// a vector holds 16/G tokens; a token's output is its G lanes summed (one tree for every row
// and token). Per step: NV x^T loads, R broadcasts, NV·R FMAs into NV·R accumulators, with R
// from the number of token vectors NV: 12 rows x 2 vectors, 8 x 3, 6 x 4, 4 x 5-6, i.e.
// 20-24 accumulators (2 FMA pipes x latency 4 on the cores with two 512-bit FMA units need
// 8) and 9-14 loads per 20-24 FMAs (at most one per FMA: Zen 4's 512-bit load rate); 12 x 1
// for up to 4 tokens. G = 4 up to 8 tokens, G = 2 from 9 to 48 (qwen3-30b-a3b gives an
// expert 21-45 tokens at T = 512, 2-16 at T = 128). Blocks of more than 48 tokens are split
// evenly, W read once per block.
// Measured here (Zen 4; `moetune sweep` on qwen3-30b-a3b's gemv case, the expert gate matrix
// [768 x 2048] cold, 2 threads): m = 32 (T = 512) 153 GFLOP/s, 74% of the roofline, against
// avx2_gemm_dot3x4's 95 (46%); m = 8 (T = 128) 91 against 70 GFLOP/s. The grouped layer
// (tools/layer_ab, T = 512, 2 threads): 153-155 GFLOP/s, 0.82-0.83x dot3x4's time. The expert
// calls of the layer alone (1 thread, 24 experts streaming from memory): m = 32 92-96 GFLOP/s
// (79-82% of the 117 GFLOP/s FMA peak of one core) against 71; 83% with the weights in cache,
// which is where the tile itself stands.
//   G = 1 (16 tokens per vector, 12 rows x 2 vectors) at m = 32: 6% slower than G = 2 (6 rows
//   x 4 vectors: 10 loads per 24 FMAs against 14, 6 streams of W against 12). 24 rows x 1
//   vector at m = 8: 2.2x slower than 12 x 2 (24 streams of W). Blocks of 256 or 512 inputs
//   (x^T in L1, partial sums added into y per block): 9-19% slower than 2048 (W then streams
//   in column strips). Packing x^T and adding the lanes into y: under 3% together (both
//   skipped, hot weights).
// bf16 and int8 (`gemv_{bf16,int8}_oi__avx512_gemm_xt24`, for AVX-512 machines without BF16
// or VNNI): the same tile, each row widened 16 inputs at a time (int8: converted exactly; its
// scale multiplies the sum) into a small buffer one chunk ahead of the one multiplied, so that
// the loads from memory overlap the FMAs. Widening whole rows in a pass before the tile left
// the core idle while they streamed in: bf16 51 against 92 GFLOP/s for f32 at m = 32. Widened
// in the tile, the sweep's gemv case at m = 32, 2 threads: bf16 166 GFLOP/s (80% of its
// roofline) against avx2_gemm_4x24's 156, int8 171 (83%) against 139; m = 8: bf16 128
// against 82, int8 129 against 89.
// `_pair` (gate and up): both matrices' rows over one packed x^T; each tile is the single
// call's, so the bits are two calls'.
//
// io, `__avx512_gemm_6x64`: the broadcast form of avx2_gemm.cpp (gemm_bcast.h, the same
// source, 16 lanes): 6 tokens x 4 vectors of outputs from panels of whole W rows copied in
// memory order; up to 6 tokens avx512_m4 (avx512_r8 for one). Tiles measured (1 thread,
// against avx2_gemm_4x24): 6x64 0.77x at m = 32 and 0.94x at m = 8, 8x48 0.85x and 1.06x,
// 4x96 0.86x and 0.99x.
#include "kernels/common/avx512_util.h"  // first: it sets up immintrin.h

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/gemv/avx512_widen.h"
#include "kernels/gemv/gemm_bcast.h"
#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

#define UNROLL _Pragma("GCC unroll 32")

constexpr int64_t kMaxTokens = 48;                // tokens per block: one read of W serves them all
constexpr int64_t kXtFloats = kMaxTokens * 2048;  // x^T of a block: tokens x inputs (384 KiB)
constexpr int64_t kMaxKc = 2048;                  // inputs per block
alignas(64) thread_local float tls_xt[kXtFloats];
alignas(64) thread_local float tls_b[256 * 256];  // io: a block of W, kc rows x nc outputs
// The io GEMM's buffers: x in tls_xt (the oi GEMM's x^T, never in use at the same time).
struct IoBuffers {
  static constexpr int64_t kA = kXtFloats, kB = 256 * 256;
  static float* a() { return tls_xt; }
  static float* b() { return tls_b; }
};

using avx512::Vec16;
using gemm::zero_if_empty;

// G consecutive weights of a row, repeated over the 16 lanes.
template <int G>
inline __m512 bcast(const float* p) {
  if constexpr (G == 1) {
    return _mm512_set1_ps(*p);
  } else if constexpr (G == 2) {
    double d;
    std::memcpy(&d, p, sizeof d);
    return _mm512_castpd_ps(_mm512_set1_pd(d));
  } else {
    static_assert(G == 4, "G weights per broadcast: 1, 2 or 4");
    return _mm512_broadcast_f32x4(_mm_loadu_ps(p));
  }
}

// x^T of mb tokens over kb inputs, for G inputs per lane group: step s (inputs sG..sG+G-1)
// holds NV vectors of 16 lanes, lane j of vector v = token v·(16/G) + j/G, input sG + j%G.
// Zero where the token or the input does not exist.
template <int G, int NV>
void pack_xt(const float* x, int64_t ldx, int64_t mb, int64_t kb, float* xt) {
  constexpr int TV = 16 / G;
  const int64_t steps = (kb + G - 1) / G;
  for (int64_t s = 0; s < steps; ++s)
    for (int v = 0; v < NV; ++v)
      for (int j = 0; j < 16; ++j) {
        const int64_t tok = v * TV + j / G, i = s * G + j % G;
        xt[(s * NV + v) * 16 + j] = tok < mb && i < kb ? x[tok * ldx + i] : 0.0f;
      }
}

// Steps q0..q1-1 of a chunk of 16 inputs: x^T at xt (step q at xt + q·NV·16), the weights
// of row r at w[r] + q·G.
template <int G, int NV, int R>
inline void steps(__m512 (&acc)[NV][R], const float* xt, const float* const (&w)[R], int q0,
                  int q1) {
  for (int q = q0; q < q1; ++q) {
    __m512 xv[NV];
    UNROLL
    for (int v = 0; v < NV; ++v) xv[v] = _mm512_load_ps(xt + (q * NV + v) * 16);
    UNROLL
    for (int r = 0; r < R; ++r) {
      const __m512 b = bcast<G>(w[r] + q * G);
      UNROLL
      for (int v = 0; v < NV; ++v) acc[v][r] = _mm512_fmadd_ps(xv[v], b, acc[v][r]);
    }
  }
}

// Inputs [c, c + 16) of the R rows at w[r], widened into buf[r·16, r·16 + 16).
template <typename D, int R>
inline void widen_chunk(const typename D::T* const (&w)[R], int64_t c, float* buf) {
  UNROLL
  for (int r = 0; r < R; ++r) _mm512_store_ps(buf + r * 16, D::load16(w[r] + c));
}

// R rows (row r's kb inputs at w[r], D's dtype) x NV vectors of token lanes: acc[v][r] lane j
// sums W_r[sG + j%G] · x^T[s][v][j] over the steps s, in order; out[(r·NV + v)·16 + j].
// f32 rows are broadcast where they are; bf16 and int8 rows are widened 16 inputs at a time
// into a small buffer one chunk ahead of the one multiplied, so that their loads from memory
// overlap the FMAs (widened in a pass of their own before the tile, the rows were read while
// no FMA ran: 51 against 92 GFLOP/s for f32, m = 32). The last kb % 16 inputs come from a
// zero-padded copy.
template <typename D, int G, int NV, int R>
__attribute__((noinline)) void tile_xt(int64_t kb, const float* xt, const typename D::T* const* w,
                                       float* out) {
  constexpr bool kInPlace = std::is_same_v<D, avx512::F32>;
  constexpr int kChunkSteps = 16 / G;
  alignas(64) float buf[2][R * 16];
  __m512 acc[NV][R];
  UNROLL
  for (int v = 0; v < NV; ++v) {
    UNROLL
    for (int r = 0; r < R; ++r) acc[v][r] = _mm512_setzero_ps();
  }
  const typename D::T* wr[R];
  UNROLL
  for (int r = 0; r < R; ++r) wr[r] = w[r];
  const int64_t chunks = kb / 16;
  if constexpr (!kInPlace) {
    if (chunks > 0) widen_chunk<D, R>(wr, 0, buf[0]);
  }
  for (int64_t c = 0; c < chunks; ++c) {
    const float* wc[R];
    if constexpr (kInPlace) {
      UNROLL
      for (int r = 0; r < R; ++r) wc[r] = wr[r] + c * 16;
    } else {
      if (c + 1 < chunks) widen_chunk<D, R>(wr, (c + 1) * 16, buf[(c + 1) & 1]);
      UNROLL
      for (int r = 0; r < R; ++r) wc[r] = buf[c & 1] + r * 16;
    }
    steps<G, NV, R>(acc, xt + c * kChunkSteps * NV * 16, wc, 0, kChunkSteps);
  }
  if (const int64_t left = kb - chunks * 16; left > 0) {
    const float* wc[R];
    for (int r = 0; r < R; ++r) {
      for (int64_t i = 0; i < 16; ++i)
        buf[0][r * 16 + i] = i < left ? D::at(wr[r] + chunks * 16 + i) : 0.0f;
      wc[r] = buf[0] + r * 16;
    }
    steps<G, NV, R>(acc, xt + chunks * kChunkSteps * NV * 16, wc, 0,
                    static_cast<int>((left + G - 1) / G));
  }
  UNROLL
  for (int r = 0; r < R; ++r) {
    UNROLL
    for (int v = 0; v < NV; ++v) _mm512_store_ps(out + (r * NV + v) * 16, acc[v][r]);
  }
}

// The G lanes of one token, summed by one tree whatever the row or the token.
template <int G>
inline float group_sum(const float* l) {
  if constexpr (G == 1) {
    return l[0];
  } else {
    return group_sum<G / 2>(l) + group_sum<G / 2>(l + G / 2);
  }
}

// y[tok][r] (+)= scale[r] · (token tok's lanes of row r), r < rows, tok < mb.
template <int G, int NV, int R>
void scatter(const float* out, int64_t rows, int64_t mb, float* y, int64_t ldy, const float* scale,
             bool add) {
  constexpr int TV = 16 / G;
  for (int64_t tok = 0; tok < mb; ++tok) {
    float* yt = y + tok * ldy;
    const float* lanes = out + (tok / TV) * 16 + (tok % TV) * G;
    for (int64_t r = 0; r < rows; ++r) {
      float s = group_sum<G>(lanes + r * NV * 16);
      if (scale) s *= scale[r];
      yt[r] = add ? yt[r] + s : s;
    }
  }
}

// Tokens [t0, t0 + mb), mb <= NV·16/G, of the calls gs[0..count) (one call, or gate and up:
// the same x, m, n, k and accumulate) over every output and input. Each block of x is packed
// once for every call.
template <typename D, int G, int NV, int R>
void block(const GemvArgs* const* gs, int count, int64_t t0, int64_t mb) {
  constexpr int64_t kSteps = kXtFloats / (NV * 16);
  constexpr int64_t kKc = std::min(kMaxKc, kSteps * G / 64 * 64);
  const GemvArgs& g0 = *gs[0];
  float* const xt = tls_xt;
  alignas(64) float out[NV * R * 16];
  for (int64_t pc = 0; pc < g0.k; pc += kKc) {
    const int64_t kb = std::min(kKc, g0.k - pc);
    const bool add = g0.accumulate || pc > 0;
    pack_xt<G, NV>(g0.x + t0 * g0.ldx + pc, g0.ldx, mb, kb, xt);
    for (int c = 0; c < count; ++c) {
      const GemvArgs& g = *gs[c];
      const typename D::T* const w = D::weights(g);
      for (int64_t o0 = 0; o0 < g.n; o0 += R) {
        const int64_t rows = std::min<int64_t>(R, g.n - o0);
        const typename D::T* wr[R];
        for (int r = 0; r < R; ++r) wr[r] = w + std::min(o0 + r, g.n - 1) * g.ldw + pc;
        tile_xt<D, G, NV, R>(kb, xt, wr, out);
        scatter<G, NV, R>(out, rows, mb, g.y + t0 * g.ldy + o0, g.ldy,
                          D::kScaled ? g.scale + o0 : nullptr, add);
      }
    }
  }
}

// The tile of NV vectors of tokens: rows for 20-24 accumulators (12 for one vector: 24 would
// make 24 streams of W), so that with the NV x vectors and the broadcast it fits in the 32
// registers.
template <int NV>
constexpr int kRowsFor = NV <= 2   ? 12
                         : NV == 3 ? 8
                         : NV == 4 ? 6
                                   : 4;

// Vectors of tokens from kMinNV up to NV, the fewest that hold mb tokens.
template <typename D, int G, int NV, int kMinNV = 1>
void block_of(const GemvArgs* const* gs, int count, int64_t t0, int64_t mb) {
  if constexpr (NV > kMinNV) {
    if (mb <= (NV - 1) * (16 / G)) {
      block_of<D, G, NV - 1, kMinNV>(gs, count, t0, mb);
      return;
    }
  }
  block<D, G, NV, kRowsFor<NV>>(gs, count, t0, mb);
}

// The calls gs[0..count) in blocks of at most kMaxTokens tokens (as even as they come), each
// with the tile that wastes fewest lanes: groups of 4 inputs (G = 4, 4 tokens per vector) up
// to 8 tokens, then groups of 2 (8 tokens per vector, 2 to 6 vectors). At 16 and 24 tokens
// G = 2 (12 rows x 2 vectors, 8 x 3) ran 5% and 7% faster than G = 4 (6 x 4, 4 x 6); at 8,
// G = 4 (12 x 2) 16% faster than G = 2 (12 x 1).
template <typename D>
void gemm_xt(const GemvArgs* const* gs, int count) {
  for (int c = 0; c < count; ++c) zero_if_empty(*gs[c]);
  const int64_t m = gs[0]->m;
  if (m <= 0) return;
  const int64_t blocks = (m + kMaxTokens - 1) / kMaxTokens;
  const int64_t per_block = (m + blocks - 1) / blocks;
  for (int64_t t0 = 0; t0 < m; t0 += per_block) {
    const int64_t mb = std::min(per_block, m - t0);
    if (mb <= 8)
      block_of<D, 4, 2>(gs, count, t0, mb);
    else
      block_of<D, 2, 6, 2>(gs, count, t0, mb);
  }
}

// One token takes the seg4 decode kernel (a quarter of the lanes of the 4-input tile would
// carry it).
template <typename D, GemvFn kOneToken>
void gemm_oi(const GemvArgs& a) {
  if (a.m == 1) {
    kOneToken(a);
    return;
  }
  const GemvArgs* gs[] = {&a};
  gemm_xt<D>(gs, 1);
}

template <typename D, GemvPairFn kOneToken>
void gemm_oi_pair(const GemvArgs& a, const GemvArgs& b) {
  if (a.m == 1) {
    kOneToken(a, b);
    return;
  }
  const GemvArgs* gs[] = {&a, &b};
  gemm_xt<D>(gs, 2);
}

}  // namespace

void gemv_f32_io__avx512_gemm_6x64(const GemvArgs& a) {
  gemm::gemm_io<Vec16, 6, 4, 256, 64, IoBuffers, gemv_f32_io__avx512_r8, gemv_f32_io__avx512_m4>(a);
}

void gemv_f32_oi__avx512_gemm_xt24(const GemvArgs& a) {
  gemm_oi<avx512::F32, gemv_f32_oi__avx512_seg4>(a);
}
void gemv_bf16_oi__avx512_gemm_xt24(const GemvArgs& a) {
  gemm_oi<avx512::Bf16, gemv_bf16_oi__avx512_seg4>(a);
}
void gemv_int8_oi__avx512_gemm_xt24(const GemvArgs& a) {
  gemm_oi<avx512::Int8, gemv_int8_oi__avx512_seg4>(a);
}
void gemv_f32_oi__avx512_gemm_xt24_pair(const GemvArgs& a, const GemvArgs& b) {
  gemm_oi_pair<avx512::F32, gemv_f32_oi__avx512_seg4_pair>(a, b);
}
void gemv_bf16_oi__avx512_gemm_xt24_pair(const GemvArgs& a, const GemvArgs& b) {
  gemm_oi_pair<avx512::Bf16, gemv_bf16_oi__avx512_seg4_pair>(a, b);
}
void gemv_int8_oi__avx512_gemm_xt24_pair(const GemvArgs& a, const GemvArgs& b) {
  gemm_oi_pair<avx512::Int8, gemv_int8_oi__avx512_seg4_pair>(a, b);
}

}  // namespace moetune
