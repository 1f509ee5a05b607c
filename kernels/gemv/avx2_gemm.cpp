// Register- and cache-blocked AVX2+FMA GEMM: the multi-token gemv of prefill,
// Y[m, n] (+)= X[m, k] · W^T for the m tokens one expert sees, W stored oi ([n, k]) or io ([k, n]).
//
// The tiles. Zen 3 (like Skylake) retires 2 FMAs per cycle at latency 4, so at least 8
// independent accumulators must be in flight; this machine's FMA probe reaches its peak only
// with 12 (harness/roofline.cpp). Zen 3 issues at most 2 vector loads per cycle (broadcasts
// count), i.e. one per FMA. Both tiles hold 12 ymm accumulators plus one step's operands in
// the 16 ymm registers, with 7 loads per 12 FMAs:
//
// `__avx2_gemm_dot3x4` (oi): dot-product form (as llama.cpp's tinyBLAS): 3 tokens x 4 outputs,
//   each accumulator 8 inputs wide and summed horizontally once per k block; per step 3 x
//   vectors + 1 W vector. W rows are read where they are: no packing of W, whose
//   transposition would cost as much as the multiply at the 8 tokens of a T = 128 expert.
//   One or two tokens take 1 x 8 and 2 x 6 tiles, so that decode-sized calls keep 8-12 chains.
// `__avx2_gemm_4x24` (oi, io): broadcast form (BLIS, XNNPACK): 4 tokens x 24 outputs; per
//   step 3 W vectors + 4 broadcasts of x, from a packed panel of kc inputs x 24 outputs: oi
//   rows transposed into it 8x8 at a time, io rows copied (contiguous, instead of 3-8 KiB
//   apart in the same L1 sets). 6x16 (2 W vectors, 6 broadcasts: 8 loads) measured 3-5%
//   slower at 32 tokens, and its 6-token tile wastes more of an 8-token expert. Up to 4 tokens
//   (one tile: a packed panel would be read once) the oi one is the dot form, the io one
//   avx2_m4 (avx2_r8 for one token).
// `gemv_{bf16,int8}_oi__avx2_gemm_4x24`: the same broadcast form on bf16 and int8 weights,
//   widened to f32 as the panel is packed (int8 times its row's scale: the panel holds the
//   dequantized weights), so the tile is the f32 one and the widening is paid once per weight
//   per block of 96 tokens. qwen3-30b-a3b, T = 512, 2 threads here: bf16 grouped 645 -> 324 ms,
//   int8 533 -> 306 ms against the decode kernel per token (54-61% of the FMA peak in the
//   recorded runs, as f32).
//   Up to 4 tokens, the seg4 decode kernel per token.
//
// The blocking. The x of the tokens (mc at most) is copied into a contiguous buffer, kc inputs
// at a time; it is read from L2. A piece of W (4 rows x kl inputs, kl = 1024: 16 KiB; a panel
// of 160 x 24: 15 KiB; an io panel of kc x 24) stays in L1 while every tile of tokens passes
// over it. Partial sums are added into y once per piece. W streams from memory in whole rows
// (the dot form row panel by row panel, the io form in blocks of whole rows), with the next
// panel fetched into L2 while one is multiplied (NextPanel).
//
// Buffers: per thread, static (thread_local), sized by the largest blocking (260 KiB of x,
// 256 KiB of W): nothing is allocated per call, and nothing large goes on the stack, where
// OpenMP worker threads (and callers' threads) may have no more than OMP_STACKSIZE gives. Each
// caller thread packs into its own, so no lock is needed. The pages are touched only by the
// threads that run these kernels.
//
// The broadcast tile (tile_bcast), the io GEMM (gemm_io), pack_rows and NextPanel are
// gemm_bcast.h's, one source for this file (8 lanes, Vec8) and avx512_gemm.cpp (16 lanes).
//
// Tails: the last tokens run a tile of fewer tokens (fewer accumulators, nothing computed for
// absent tokens); outputs beyond a multiple of the tile run the full broadcast tile on a
// zero-padded panel and store through masks, or a dot tile of fewer rows; inputs beyond a
// multiple of the block are a shorter block, and beyond a multiple of 8 masked loads (x is
// padded with zeros, never with what a previous call left, so a NaN stays in its token).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/common/vec.h"
#include "kernels/common/vec_avx2.h"
#include "kernels/gemv/avx2_widen.h"
#include "kernels/gemv/gemm_bcast.h"
#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

using avx2::tail_mask;
using avx2::Vec8;
using gemm::NextPanel;
using gemm::pack_rows;
using gemm::zero_if_empty;

// Fully unrolls the loops over a tile's registers, early: left to -O3's later complete
// peeling, GCC 12 keeps the accumulator array in memory and stores it on every k step.
#define UNROLL _Pragma("GCC unroll 16")

constexpr int64_t kABufFloats = 64 * (1024 + 16);  // a block of x: mc tokens x kc inputs
constexpr int64_t kBBufFloats = 256 * 256;  // W: a panel of kc x nr (oi), a block of kc x nc (io)
alignas(64) thread_local float tls_a[kABufFloats];
alignas(64) thread_local float tls_b[kBBufFloats];
struct Buffers {
  static constexpr int64_t kA = kABufFloats, kB = kBBufFloats;
  static float* a() { return tls_a; }
  static float* b() { return tls_b; }
};

// ---- broadcast form

// r[i] <- column i of the 8x8 block whose rows are r[0..7].
inline void transpose8(__m256 (&r)[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// oi panel: dst[p * NR + j] = W[j][p] for j < rows, zero beyond: 8 rows x 8 inputs at a
// time through transpose8, the last kb % 8 inputs one by one. W is D's weights at w, widened
// to f32 (int8 times its row's scale, scale[j]: the panel holds the dequantized weights).
template <typename D, int NR>
void pack_oi_panel(const typename D::T* w, int64_t ldw, const float* scale, int64_t kb,
                   int64_t rows, float* dst) {
  for (int j0 = 0; j0 < NR; j0 += 8) {
    const int64_t n8 = std::clamp<int64_t>(rows - j0, 0, 8);
    if (n8 == 0) {
      for (int64_t p = 0; p < kb; ++p) _mm256_store_ps(dst + p * NR + j0, _mm256_setzero_ps());
      continue;
    }
    int64_t p = 0;
    if (n8 == 8) {
      for (; p + 8 <= kb; p += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; ++j) {
          r[j] = D::load8(w + (j0 + j) * ldw + p);
          if constexpr (D::kScaled) r[j] = _mm256_mul_ps(r[j], _mm256_set1_ps(scale[j0 + j]));
        }
        transpose8(r);
        for (int q = 0; q < 8; ++q) _mm256_store_ps(dst + (p + q) * NR + j0, r[q]);
      }
    }
    for (; p < kb; ++p)
      for (int j = 0; j < 8; ++j) {
        float v = 0.0f;
        if (j < n8) {
          v = D::at(w + (j0 + j) * ldw + p);
          if constexpr (D::kScaled) v *= scale[j0 + j];
        }
        dst[p * NR + j0 + j] = v;
      }
  }
}

// ---- dot-product form (oi)

// T tokens x R outputs over kb inputs: token t's inputs at a + t·lda (64-byte aligned, zero
// beyond kb up to a multiple of 8), output r's weights at w + r·ldw, token t's outputs at
// c + t·ldc.
template <int T, int R>
__attribute__((noinline)) void tile_dot(int64_t kb, const float* a, int64_t lda, const float* w,
                                        int64_t ldw, float* c, int64_t ldc, bool add) {
  __m256 acc[T][R];
  UNROLL
  for (int t = 0; t < T; ++t) {
    UNROLL
    for (int r = 0; r < R; ++r) acc[t][r] = _mm256_setzero_ps();
  }
  const float* at[T];
  UNROLL
  for (int t = 0; t < T; ++t) at[t] = a + t * lda;
  const float* wr[R];
  UNROLL
  for (int r = 0; r < R; ++r) wr[r] = w + r * ldw;
  int64_t p = 0;
  for (; p + 8 <= kb; p += 8) {
    __m256 xv[T];
    UNROLL
    for (int t = 0; t < T; ++t) xv[t] = _mm256_load_ps(at[t] + p);
    UNROLL
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_loadu_ps(wr[r] + p);
      UNROLL
      for (int t = 0; t < T; ++t) acc[t][r] = _mm256_fmadd_ps(xv[t], wv, acc[t][r]);
    }
  }
  if (p < kb) {
    const __m256i mask = tail_mask(kb - p);
    __m256 xv[T];
    UNROLL
    for (int t = 0; t < T; ++t) xv[t] = _mm256_load_ps(at[t] + p);
    UNROLL
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_maskload_ps(wr[r] + p, mask);
      UNROLL
      for (int t = 0; t < T; ++t) acc[t][r] = _mm256_fmadd_ps(xv[t], wv, acc[t][r]);
    }
  }
  // Every output is reduced by the same tree (hsum4's), whichever place it has in a tile,
  // so how the outputs and tokens are split never changes a bit of the result.
  UNROLL
  for (int t = 0; t < T; ++t) {
    float* ct = c + t * ldc;
    UNROLL
    for (int r = 0; r < R; r += 4) {
      const __m256 z = _mm256_setzero_ps();
      __m128 s = vec::hsum4<Vec8>(acc[t][r], r + 1 < R ? acc[t][r + 1] : z,
                                  r + 2 < R ? acc[t][r + 2] : z, r + 3 < R ? acc[t][r + 3] : z);
      if (r + 4 <= R) {
        if (add) s = _mm_add_ps(s, _mm_loadu_ps(ct + r));
        _mm_storeu_ps(ct + r, s);
      } else {
        alignas(16) float v[4];
        _mm_store_ps(v, s);
        for (int q = 0; q < R - r; ++q) ct[r + q] = add ? ct[r + q] + v[q] : v[q];
      }
    }
  }
}

template <int T, int R>
void tile_dot_upto(int64_t tokens, int64_t rows, int64_t kb, const float* a, int64_t lda,
                   const float* w, int64_t ldw, float* c, int64_t ldc, bool add) {
  if constexpr (R > 1) {
    if (rows < R) {
      tile_dot_upto<T, R - 1>(tokens, rows, kb, a, lda, w, ldw, c, ldc, add);
      return;
    }
  }
  if constexpr (T > 1) {
    if (tokens < T) {
      tile_dot_upto<T - 1, R>(tokens, rows, kb, a, lda, w, ldw, c, ldc, add);
      return;
    }
  }
  tile_dot<T, R>(kb, a, lda, w, ldw, c, ldc, add);
}

// Y (+)= X · W^T with W [n, k], dot-product form, tile T tokens x R outputs. The x of up to
// MC tokens and KC inputs is copied into the buffer (L2); then R rows of W at a time are read
// in order, KL inputs at a time: each KL piece of the R rows stays in L1 while every tile of
// tokens passes over it.
// The panels of one block: mb tokens (x at a, stride lda) over inputs [pc, pc + kb); R rows of
// W at a time, KL inputs at a time, each tile of T tokens over each piece.
template <int T, int R, int64_t KL>
void dot_panels(const GemvArgs& g, const float* a, int64_t lda, int64_t ic, int64_t mb, int64_t pc,
                int64_t kb) {
  const int64_t tiles = (mb + T - 1) / T;
  for (int64_t o = 0; o < g.n; o += R) {
    const int64_t rows = std::min<int64_t>(R, g.n - o);
    for (int64_t pl = 0; pl < kb; pl += KL) {
      const int64_t kl = std::min(KL, kb - pl);
      const bool add = g.accumulate || pc + pl > 0;
      const float* w = g.w + o * g.ldw + pc + pl;
      NextPanel prefetch(w + R * g.ldw, g.ldw, std::min<int64_t>(R, g.n - o - R), kl, tiles);
      for (int64_t t0 = 0; t0 < mb; t0 += T) {
        prefetch.fetch_share();
        tile_dot_upto<T, R>(std::min<int64_t>(T, mb - t0), rows, kl, a + t0 * lda + pl, lda, w,
                            g.ldw, g.y + (ic + t0) * g.ldy + o, g.ldy, add);
      }
    }
  }
}

// Y (+)= X · W^T with W [n, k], dot-product form, tile T tokens x R outputs. The x of up to
// MC tokens and KC inputs is copied into the buffer (L2); then R rows of W at a time are read
// in order, KL inputs at a time: each KL piece of the R rows stays in L1 while every tile of
// tokens passes over it.
template <int T, int R, int64_t KC, int64_t KL, int64_t MC>
void gemm_dot(const GemvArgs& g) {
  static_assert(KC % KL == 0 && KL % 16 == 0, "token rows and pieces start on cache lines");
  // One cache line more than KC between token rows: KC floats apart (a multiple of 4 KiB)
  // the rows of a tile would all fall in one set of the L1, with the W rows' lines.
  constexpr int64_t lda = KC + 16;
  static_assert(MC * lda <= kABufFloats, "buffer too small");
  float* const abuf = tls_a;
  zero_if_empty(g);
  for (int64_t ic = 0; ic < g.m; ic += MC) {
    const int64_t mb = std::min(MC, g.m - ic);
    for (int64_t pc = 0; pc < g.k; pc += KC) {
      const int64_t kb = std::min(KC, g.k - pc);
      pack_rows(g.x + ic * g.ldx + pc, g.ldx, mb, kb, (kb + 7) / 8 * 8, abuf, lda);
      // One or two tokens (decode, the router, an expert's lone token) would keep only 4 or 8
      // chains busy in a T x R tile: they take taller panels, 1 x 8 and 2 x 6.
      if (mb == 1)
        dot_panels<1, 8, KL>(g, abuf, lda, ic, mb, pc, kb);
      else if (mb == 2)
        dot_panels<2, 6, KL>(g, abuf, lda, ic, mb, pc, kb);
      else
        dot_panels<T, R, KL>(g, abuf, lda, ic, mb, pc, kb);
    }
  }
}

// Y (+)= X · W^T with W [n, k], broadcast form, tile MR tokens x 8·NV outputs: each panel of
// kc inputs x 8·NV outputs is transposed into the buffer, then every tile of tokens passes
// over it. Up to MR tokens (one tile) the transposition would be read once: the dot form,
// which reads W in place, does those.
template <typename D, GemvFn kFewTokens, int MR, int NV, int64_t KC, int64_t MC>
void gemm_oi_bcast(const GemvArgs& g) {
  constexpr int NR = 8 * NV;
  static_assert(MC * KC <= kABufFloats && KC * NR <= kBBufFloats, "buffers too small");
  if (g.m <= MR) {
    kFewTokens(g);
    return;
  }
  const typename D::T* const w = D::weights(g);
  float* const abuf = tls_a;
  float* const bbuf = tls_b;
  zero_if_empty(g);
  const auto block = [&](int64_t ic, int64_t mb, int64_t tiles, int64_t pc, int64_t kb, bool add) {
    for (int64_t j0 = 0; j0 < g.n; j0 += NR) {
      const int64_t cols = std::min<int64_t>(NR, g.n - j0);
      NextPanel<typename D::T> prefetch(w + (j0 + NR) * g.ldw + pc, g.ldw,
                                        std::min<int64_t>(NR, g.n - j0 - NR), kb, tiles);
      pack_oi_panel<D, NR>(w + j0 * g.ldw + pc, g.ldw, D::kScaled ? g.scale + j0 : nullptr, kb,
                           cols, bbuf);
      for (int64_t t0 = 0; t0 < mb; t0 += MR) {
        prefetch.fetch_share();
        gemm::tile_bcast_upto<Vec8, MR, NV>(std::min<int64_t>(MR, mb - t0), kb, abuf + t0 * KC, KC,
                                            bbuf, NR, g.y + (ic + t0) * g.ldy + j0, g.ldy, cols,
                                            add);
      }
    }
  };
  gemm::for_x_blocks<MR, MC, KC>(g, KC, abuf, block);
}

}  // namespace

void gemv_f32_oi__avx2_gemm_dot3x4(const GemvArgs& a) { gemm_dot<3, 4, 1024, 1024, 64>(a); }
void gemv_f32_oi__avx2_gemm_4x24(const GemvArgs& a) {
  gemm_oi_bcast<avx2::F32, gemv_f32_oi__avx2_gemm_dot3x4, 4, 3, 160, 96>(a);
}
void gemv_bf16_oi__avx2_gemm_4x24(const GemvArgs& a) {
  gemm_oi_bcast<avx2::Bf16, gemv_bf16_oi__avx2_seg4, 4, 3, 160, 96>(a);
}
void gemv_int8_oi__avx2_gemm_4x24(const GemvArgs& a) {
  gemm_oi_bcast<avx2::Int8, gemv_int8_oi__avx2_seg4, 4, 3, 160, 96>(a);
}
// One tile of tokens or fewer: the token-batched gemv reads W in order, folding 2 rows into
// each load and store of y for up to 4 tokens, and for one token avx2_r8 folds 8 (measured the
// faster of the registry's below 5 tokens).
void gemv_f32_io__avx2_gemm_4x24(const GemvArgs& a) {
  gemm::gemm_io<Vec8, 4, 3, 256, 96, Buffers, gemv_f32_io__avx2_r8, gemv_f32_io__avx2_m4>(a);
}

}  // namespace moetune
