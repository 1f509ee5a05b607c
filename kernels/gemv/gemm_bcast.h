// The pieces of the blocked GEMMs (avx2_gemm.cpp, avx512_gemm.cpp) that do not depend on the
// vector width, written once: zero_if_empty, pack_rows, NextPanel and for_x_blocks; and the
// broadcast form (tile_bcast: MR tokens x NV vectors of outputs from a packed panel; pack_io_block;
// gemm_io, the io GEMM), a template over a vector type V (kernels/common/vec_avx2.h's Vec8,
// vec_avx512.h's Vec16): Vec, kLanes, Mask, mask(count), zero, load (also masked), store (also
// masked), load_aligned, store_aligned, broadcast, fma, add. Included by each ISA's GEMM file after
// its widen header, in an unnamed namespace: each file its own copy, compiled with its own flags.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/gemv/gemv.h"

namespace moetune::gemm {
namespace {

// Fully unrolls the loops over a tile's registers, early: left to -O3's later complete
// peeling, GCC 12 keeps the accumulator array in memory and stores it on every k step.
#define MOETUNE_UNROLL _Pragma("GCC unroll 16")

// y = W·x over no inputs is zero; y += is unchanged.
void zero_if_empty(const GemvArgs& g) {
  if (g.k > 0 || g.accumulate) return;
  for (int64_t t = 0; t < g.m; ++t) std::fill(g.y + t * g.ldy, g.y + t * g.ldy + g.n, 0.0f);
}

// dst[t * ldd + p] = src[t * lds + p] for t < rows, p < cols, then zeros up to `padded`.
void pack_rows(const float* src, int64_t lds, int64_t rows, int64_t cols, int64_t padded,
               float* dst, int64_t ldd) {
  for (int64_t t = 0; t < rows; ++t) {
    std::memcpy(dst + t * ldd, src + t * lds, static_cast<size_t>(cols) * sizeof(float));
    for (int64_t p = cols; p < padded; ++p) dst[t * ldd + p] = 0.0f;
  }
}

// Fetches the next W panel (rows rows of cols floats at w + r·ldw) into L2 while this one is
// multiplied, a share of its cache lines before each of `calls` tile calls: the hardware
// prefetchers stop at every 4 KiB page, and a panel's rows cross one every few KB. Only when
// several tiles of tokens share a panel: one tile reads W once, in order, as the hardware
// prefetchers expect, and a prefetch per line would double its loads.
template <typename T>
class NextPanel {
 public:
  static constexpr int64_t kLine = 64 / sizeof(T);  // elements per cache line
  // Nothing to fetch when rows or cols <= 0 (no next panel), or calls < 2.
  NextPanel(const T* w, int64_t ldw, int64_t rows, int64_t cols, int64_t calls)
      : w_(w),
        ldw_(ldw),
        rows_(cols > 0 && calls > 1 ? std::max<int64_t>(rows, 0) : 0),
        cols_(cols) {
    // A row of cols elements touches at most cols / kLine + 1 lines, whatever its alignment;
    // fetching elements 0, kLine, 2·kLine, ... and the last touches each of them.
    end_ = rows_ * ((cols + kLine - 1) / kLine + 1);
    share_ = (end_ + calls - 1) / calls;
  }
  void fetch_share() {
    for (const int64_t q1 = std::min(end_, q_ + share_); q_ < q1; ++q_) {
      const T* p = w_ + q_ % rows_ * ldw_ + std::min(q_ / rows_ * kLine, cols_ - 1);
      _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T1);
    }
  }

 private:
  const T* w_;
  int64_t ldw_, rows_, cols_, share_ = 0, end_ = 0, q_ = 0;
};

// The blocks of x of a GEMM: MC tokens x kc inputs at a time, packed into abuf (row r at
// abuf + r·KC); then block(ic, mb, tiles, pc, kb, add) multiplies every piece of W of those
// tokens (ic.., mb of them: tiles tiles of MR) and inputs (pc.., kb of them), adding into y
// where add says.
template <int MR, int64_t MC, int64_t KC, typename Block>
void for_x_blocks(const GemvArgs& g, int64_t kc, float* abuf, Block&& block) {
  for (int64_t ic = 0; ic < g.m; ic += MC) {
    const int64_t mb = std::min(MC, g.m - ic);
    const int64_t tiles = (mb + MR - 1) / MR;
    for (int64_t pc = 0; pc < g.k; pc += kc) {
      const int64_t kb = std::min(kc, g.k - pc);
      pack_rows(g.x + ic * g.ldx + pc, g.ldx, mb, kb, kb, abuf, KC);
      block(ic, mb, tiles, pc, kb, g.accumulate || pc > 0);
    }
  }
}

// ---- broadcast form

// c[0, min(left, L)) (+)= v; nothing when left <= 0. (By value: an accumulator array passed
// by reference makes GCC keep it in memory through the whole k loop.)
template <typename V>
inline void store_vec(float* c, typename V::Vec v, int64_t left, bool add) {
  if (left >= V::kLanes) {
    if (add) v = V::add(v, V::load(c));
    V::store(c, v);
  } else if (left > 0) {
    const typename V::Mask mask = V::mask(left);
    if (add) v = V::add(v, V::load(c, mask));
    V::store(c, v, mask);
  }
}

// M tokens x L·NV outputs over kb inputs: token t's inputs at a + t·lda, input p's outputs
// at b + p·ldb (L·NV of them readable; b and ldb whole vectors, as the packed panels are),
// token t's outputs at c + t·ldc.
template <typename V, int M, int NV>
__attribute__((noinline)) void tile_bcast(int64_t kb, const float* a, int64_t lda, const float* b,
                                          int64_t ldb, float* c, int64_t ldc, int64_t cols,
                                          bool add) {
  constexpr int L = V::kLanes;
  typename V::Vec acc[M][NV];
  MOETUNE_UNROLL
  for (int t = 0; t < M; ++t) {
    MOETUNE_UNROLL
    for (int j = 0; j < NV; ++j) acc[t][j] = V::zero();
  }
  const float* at[M];
  MOETUNE_UNROLL
  for (int t = 0; t < M; ++t) at[t] = a + t * lda;
  for (int64_t p = 0; p < kb; ++p) {
    typename V::Vec bv[NV];
    MOETUNE_UNROLL
    for (int j = 0; j < NV; ++j) bv[j] = V::load_aligned(b + L * j);
    b += ldb;
    MOETUNE_UNROLL
    for (int t = 0; t < M; ++t) {
      const typename V::Vec av = V::broadcast(at[t] + p);
      MOETUNE_UNROLL
      for (int j = 0; j < NV; ++j) acc[t][j] = V::fma(av, bv[j], acc[t][j]);
    }
  }
  MOETUNE_UNROLL
  for (int t = 0; t < M; ++t) {
    MOETUNE_UNROLL
    for (int j = 0; j < NV; ++j) store_vec<V>(c + t * ldc + L * j, acc[t][j], cols - L * j, add);
  }
}

// The tile for `tokens` <= M tokens.
template <typename V, int M, int NV>
void tile_bcast_upto(int64_t tokens, int64_t kb, const float* a, int64_t lda, const float* b,
                     int64_t ldb, float* c, int64_t ldc, int64_t cols, bool add) {
  if constexpr (M > 1) {
    if (tokens < M) {
      tile_bcast_upto<V, M - 1, NV>(tokens, kb, a, lda, b, ldb, c, ldc, cols, add);
      return;
    }
  }
  tile_bcast<V, M, NV>(kb, a, lda, b, ldb, c, ldc, cols, add);
}

// io block: rows [0, kb) x outputs [0, nc) of w (row p at w + p·ldw) into panels of NR
// outputs, panel q at dst + q·kb·NR holding dst[q·kb·NR + p·NR + j] = w[p·ldw + q·NR + j],
// zero beyond nc. Each row is read in order, nc floats at a time.
template <typename V, int NR>
void pack_io_block(const float* w, int64_t ldw, int64_t kb, int64_t nc, float* dst) {
  constexpr int L = V::kLanes;
  for (int64_t p = 0; p < kb; ++p) {
    const float* src = w + p * ldw;
    for (int64_t j = 0; j < (nc + NR - 1) / NR * NR; j += L) {
      const int64_t left = nc - j;
      const typename V::Vec v = left >= L  ? V::load(src + j)
                                : left > 0 ? V::load(src + j, V::mask(left))
                                           : V::zero();
      V::store_aligned(dst + j / NR * kb * NR + p * NR + j % NR, v);
    }
  }
}

// Y (+)= X · W^T with W [k, n], broadcast form, tile MR tokens x L·NV outputs. A block of kc
// rows x nc outputs of W is copied row by row, in memory order, into panels of L·NV outputs
// (kc x L·NV, contiguous), each of which stays in L1 while every tile of tokens passes over
// it. nc is the whole row where the buffer allows: W then streams from memory in whole rows;
// in column strips (96 bytes of each row, rows 3-8 KiB apart) the hardware prefetchers cannot
// follow it, and 8 tokens ran 27% slower measured (kc = 160, nc = 240 against kc = 32, whole
// rows of 2048). kc is what the buffer leaves, up to KC.
// Buffers B: B::a() (B::kA floats) for x, B::b() (B::kB floats) for W, per thread.
// One tile of tokens would read each panel once: copying W does not pay, so up to MR tokens
// the call goes to kOneToken (one token) or kFewTokens.
template <typename V, int MR, int NV, int64_t KC, int64_t MC, typename B, GemvFn kOneToken,
          GemvFn kFewTokens>
void gemm_io(const GemvArgs& g) {
  constexpr int NR = V::kLanes * NV;
  constexpr int64_t kABufFloats = B::kA, kBBufFloats = B::kB;
  static_assert(MC * KC <= kABufFloats, "buffer too small");
  if (g.m <= MR) {
    if (g.m == 1)
      kOneToken(g);
    else
      kFewTokens(g);
    return;
  }
  float* const abuf = B::a();
  float* const bbuf = B::b();
  zero_if_empty(g);
  // At least 16 rows of W per block; beyond that, whole rows.
  const int64_t nc_max = std::min((g.n + NR - 1) / NR, kBBufFloats / 16 / NR) * NR;
  const int64_t kc = std::min(KC, kBBufFloats / nc_max);
  const auto block = [&](int64_t ic, int64_t mb, int64_t tiles, int64_t pc, int64_t kb, bool add) {
    for (int64_t jc = 0; jc < g.n; jc += nc_max) {
      const int64_t nc = std::min(nc_max, g.n - jc);
      const int64_t panels = (nc + NR - 1) / NR;
      pack_io_block<V, NR>(g.w + pc * g.ldw + jc, g.ldw, kb, nc, bbuf);
      // The next block: the same outputs of the next kb rows, or the next outputs.
      const bool last = jc + nc_max >= g.n;
      NextPanel prefetch(g.w + (last ? (pc + kb) * g.ldw : pc * g.ldw + jc + nc_max), g.ldw,
                         last ? std::min(kc, g.k - pc - kb) : kb,
                         last ? std::min(nc_max, g.n) : std::min(nc_max, g.n - jc - nc_max),
                         panels * tiles);
      for (int64_t q = 0; q < panels; ++q) {
        const int64_t cols = std::min<int64_t>(NR, nc - q * NR);
        for (int64_t t0 = 0; t0 < mb; t0 += MR) {
          prefetch.fetch_share();
          tile_bcast_upto<V, MR, NV>(std::min<int64_t>(MR, mb - t0), kb, abuf + t0 * KC, KC,
                                     bbuf + q * kb * NR, NR, g.y + (ic + t0) * g.ldy + jc + q * NR,
                                     g.ldy, cols, add);
        }
      }
    }
  };
  for_x_blocks<MR, MC, KC>(g, kc, abuf, block);
}

}  // namespace
}  // namespace moetune::gemm
