// Prefill GEMMs on the AMX tile unit (Sapphire Rapids): bf16 x bf16 with tdpbf16ps (f32 sums)
// and int8 x int8 with tdpbssd (int32 sums, then row scale x token scale), oi weights.
//
// y[t][o] (+)= Σ_i W[o][i]·x[t][i], x rounded to bf16 or quantized per token bit for bit as the
// naive references do it (avx512_rounded.h's round_bf16, int8_scale and quantize_int8, which
// the avx512bf16 / avx512vnni kernels already use).
//
// How: W is the A operand where it lies, no packing: an A tile is 16 output rows x 64 bytes
// (32 bf16 or 64 int8 inputs), loaded with the row stride ldw. x is packed once per call (per
// block of kMC tokens and kKC inputs) into the B layout of the tile unit ("VNNI": B row kk holds,
// for 16 tokens, the 2 or 4 consecutive inputs 2kk.. or 4kk.. of each, one dword per token), in
// the shared per-thread x buffer (rounded_buffer.cpp); tokens and inputs beyond the call's are
// zeros there, so a B tile never reads a stale value (a NaN stays in its token's column). C is
// 16 outputs x 16 tokens; 2 A + 2 B + 4 C tiles: 32 outputs x 32 tokens per step, every k step
// of the block in the tiles before C is stored, transposed (one 16 x 16 dword transposition)
// and written into y. Tails: k not a multiple of the tile's 64 bytes reads the last partial
// column of W from a zero-padded copy (W is never read past a row's k); outputs not a multiple
// of 16 reload the tile configuration with fewer rows in A and C; tokens not a multiple of 16
// are zero columns of B that are not written. Each call is single-threaded (gemv.h): it loads
// the tile configuration itself and releases the tiles at the end.
//
// Bits: int8 sums are exact, and float(sum) · row scale · token scale is the reference's order,
// so int8 outputs are the naive reference's bits whenever k fits one block (4096 inputs:
// every preset). bf16: tdpbf16ps adds the two products of a pair into the f32 sum in its own order,
// with denormal inputs read as zero and denormal results flushed (as vdpbf16ps): the sums are
// within the test's f32 bound of the reference, not its bits.
//
// Measured on the Xeon (family 6 model 167, 2 cores, shared with another engineer's
// benchmarks: numbers are ratios within one run). One thread, `moetune_bench`, the gate
// [768 x 2048]: bf16 at 8 / 32 / 64 tokens 253 / 240 / 327 us against avx512bf16_gemm_4x4's
// 433 / 1005 / 2193; int8 118 / 145 / 211 against avx512vnni_gemm_4x4's 191 / 260 / 454. From
// 8 tokens on it runs at the rate W streams from memory (12-13.6 GB/s of bf16, what
// avx512bf16_seg4 reaches at 1 token); at 1-4 tokens it is as fast as the seg4 kernels within
// the noise, so it needs no decode kernel of its own. The tile unit is far from its limit: a
// loop of 4 independent tdpbf16ps (tdpbssd) on one core ran 3760 (7650) G ops/s, 34x the 110
// G ops/s of vdpbf16ps in `moetune roofline` here; the gate at 32 tokens is 27 us of tiles in
// its 240. Software prefetch of the next pass's 32 rows into L2 or L1 during this one, passes
// of 16 rows (16 streams instead of 32), and W loaded with the non-temporal hint
// (tileloaddt1): no better within the noise (+-15% here), so none of them is here. In the
// layer: variants/default_selection.inc.
#include "kernels/gemv/avx512_rounded.h"  // first: it sets up immintrin.h

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune {
namespace {

// GCC 12's _tile_loadd and _tile_loadconfig declare no memory operand the compiler can see
// (_tile_loadconfig names 8 of the 64 bytes), so stores to the packed x, the k-tail copy or the
// configuration could be moved past them: these say they read memory.
#define MOETUNE_TILE_LOAD(tile, base, stride)                                     \
  __asm__ volatile("{tileloadd\t(%0,%1,1), %%tmm" #tile "|tileloadd\t%%tmm" #tile \
                   ", [%0+%1*1]}" ::"r"(static_cast<const void*>(base)),          \
                   "r"(static_cast<long>(stride))                                 \
                   : "memory")

// The tile configuration (palette 1): tiles 0, 1 are A (W rows), 2, 3 B (packed x), 4..7 C.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// A and C with `rows` (1..16) output rows, B 16 dword rows; every row 64 bytes.
void load_config(int rows) {
  TileConfig c;
  for (int t = 0; t < 8; ++t) {
    c.colsb[t] = 64;
    c.rows[t] = static_cast<uint8_t>(t == 2 || t == 3 ? 16 : rows);
  }
  __asm__ volatile("ldtilecfg\t%0" ::"m"(c) : "memory");
}

// The 16 dword rows r[0..15] transposed in place (r[j] becomes column j): 64 shuffles.
inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + c], 128-bit lane L: column 4L + c of rows 4i..4i+3.
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  // Column 4L + c: lane L of u[c], u[4 + c], u[8 + c], u[12 + c].
  for (int c = 0; c < 4; ++c) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44);
    const __m512i v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xee);
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);
    const __m512i v3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xee);
    r[c] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[4 + c] = _mm512_shuffle_i32x4(v0, v2, 0xdd);
    r[8 + c] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(v1, v3, 0xdd);
  }
}

// bf16 x bf16: tdpbf16ps, f32 sums.
struct Bf16 {
  using W = uint16_t;
  static constexpr bool kInt8 = false;
  static constexpr int64_t kStep = 32;  // inputs per 64-byte tile row
  static const W* weights(const GemvArgs& a) { return a.w_bf16; }
  static float token_scale(const float*, int64_t) { return 1.0f; }
  static void prepare(const float* x, int64_t k, float, W* dst, int64_t kpad) {
    avx512::round_bf16(x, k, dst, kpad);
  }
  // 16 outputs of one token from their sums' bits.
  static __m512 finish(__m512i sums, __m512, float) { return _mm512_castsi512_ps(sums); }
};

// int8 x int8: tdpbssd (signed by signed: no offset), int32 sums, then as the reference:
// float(sum) · row scale · token scale.
struct Int8 {
  using W = int8_t;
  static constexpr bool kInt8 = true;
  static constexpr int64_t kStep = 64;
  static const W* weights(const GemvArgs& a) { return a.w_i8; }
  static float token_scale(const float* x, int64_t k) { return avx512::int8_scale(x, k); }
  static void prepare(const float* x, int64_t k, float s, W* dst, int64_t kpad) {
    avx512::quantize_int8(x, k, s, dst, kpad);
  }
  static __m512 finish(__m512i sums, __m512 rows, float token) {
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sums), rows), _mm512_set1_ps(token));
  }
};

// The tile instruction of D, on literal tile numbers (the intrinsics paste them into the asm).
#define MOETUNE_TILE_DOT(c, a, b) \
  do {                            \
    if constexpr (D::kInt8)       \
      _tile_dpbssd(c, a, b);      \
    else                          \
      _tile_dpbf16ps(c, a, b);    \
  } while (0)

// Tokens and inputs of x per block: the packed block fills the shared buffer (256 KiB: 64
// tokens of 4 KiB, 2048 bf16 or 4096 int8 inputs: every preset's k in one block).
constexpr int64_t kMC = 64, kKCBytes = 4096;

// One call's state: the arguments and the current block of x.
template <typename D>
struct Call {
  const GemvArgs& g;
  const typename D::W* w = D::weights(g);
  int64_t ic = 0, mb = 0;        // the tokens of the block: [ic, ic + mb)
  int64_t pc = 0, kb = 0;        // its inputs: [pc, pc + kb)
  int64_t steps = 0;             // whole tile steps of kStep inputs read from W where it is
  bool tail = false;             // and one more from a zero-padded copy
  bool add = false;              // y += (accumulating, or a later block of inputs)
  const uint32_t* xb = nullptr;  // packed x: group of 16 tokens j at xb + j·group
  int64_t group = 0;             // dwords per group of 16 tokens
  const float* token_scale = nullptr;
};

// Tokens [t0, t0 + tokens) (tokens <= 16) of the block, inputs [pc, pc + kb) zero-padded to
// kpad (a multiple of kStep), packed into B rows at dst: row kk, dword j = token j's dword kk.
// Each token is prepared a chunk at a time into a 16-row scratch (L1), then transposed.
template <typename D>
void pack16(const GemvArgs& g, int64_t t0, int64_t tokens, const float* scales, int64_t pc,
            int64_t kb, int64_t kpad, uint32_t* dst) {
  using W = typename D::W;
  constexpr int64_t kChunk = 512 / int64_t(sizeof(W));  // inputs: 512 bytes per token
  alignas(64) W scratch[16][kChunk];
  for (int64_t c0 = 0; c0 < kpad; c0 += kChunk) {
    const int64_t len = std::min(kChunk, kpad - c0), valid = std::min(len, kb - c0);
    for (int64_t j = 0; j < 16; ++j) {
      if (j < tokens)
        D::prepare(g.x + (t0 + j) * g.ldx + pc + c0, valid, scales[j], scratch[j], len);
      else
        std::memset(scratch[j], 0, size_t(len) * sizeof(W));
    }
    const int64_t row0 = c0 * int64_t(sizeof(W)) / 4, rows = len * int64_t(sizeof(W)) / 4;
    for (int64_t q = 0; q < rows; q += 16) {
      __m512i r[16];
      for (int j = 0; j < 16; ++j)
        r[j] = _mm512_load_si512(reinterpret_cast<const char*>(scratch[j]) + 4 * q);
      transpose16(r);
      for (int j = 0; j < 16; ++j) _mm512_store_si512(dst + (row0 + q + j) * 16, r[j]);
    }
  }
}

// The sums of a C tile (16 outputs x 16 tokens, stored row by row at c) into y: outputs
// [o, o + rows), tokens [t, t + tokens) of the call.
template <typename D>
void write_c(const Call<D>& s, const int32_t* c, int64_t o, int rows, int64_t t, int tokens) {
  __m512i r[16];
  for (int j = 0; j < 16; ++j) r[j] = _mm512_load_si512(c + 16 * j);
  transpose16(r);  // r[j]: token j's 16 outputs
  const __mmask16 m = static_cast<__mmask16>((1u << rows) - 1u);
  __m512 scale = _mm512_setzero_ps();
  if constexpr (D::kInt8) scale = _mm512_maskz_loadu_ps(m, s.g.scale + o);
  for (int j = 0; j < tokens; ++j) {
    float* y = s.g.y + (t + j) * s.g.ldy + o;
    __m512 v = D::finish(r[j], scale, s.token_scale[t - s.ic + j]);
    if (s.add) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y), v);
    _mm512_mask_storeu_ps(y, m, v);
  }
}

// NA (1, 2) A tiles of rows [o, o + rows) x NB (1, 2) B tiles of the tokens from t (tokens of
// the block): every k step of the block, then C into y. tail: the k-tail copies of the A tiles.
template <typename D, int NA, int NB>
void block(const Call<D>& s, int64_t o, int rows, int64_t t, int tokens, const char* tail) {
  const int64_t lda = s.g.ldw * int64_t(sizeof(typename D::W));
  const char* a0 = reinterpret_cast<const char*>(s.w + o * s.g.ldw + s.pc);
  const char* a1 = a0 + 16 * lda;
  const char* b0 = reinterpret_cast<const char*>(s.xb + (t - s.ic) / 16 * s.group);
  _tile_zero(4);
  if constexpr (NB == 2) _tile_zero(5);
  if constexpr (NA == 2) _tile_zero(6);
  if constexpr (NA == 2 && NB == 2) _tile_zero(7);
  // One k step: A in tiles 0-1 (16 rows of W each, at a and a_next, a_stride bytes a row), B
  // (packed x) in tiles 2-3, C in 4-7.
  const auto step = [&](const char* a, const char* a_next, int64_t a_stride, const char* b) {
    MOETUNE_TILE_LOAD(0, a, a_stride);
    if constexpr (NA == 2) MOETUNE_TILE_LOAD(1, a_next, a_stride);
    MOETUNE_TILE_LOAD(2, b, 64);
    if constexpr (NB == 2) MOETUNE_TILE_LOAD(3, b + 4 * s.group, 64);
    MOETUNE_TILE_DOT(4, 0, 2);
    if constexpr (NB == 2) MOETUNE_TILE_DOT(5, 0, 3);
    if constexpr (NA == 2) MOETUNE_TILE_DOT(6, 1, 2);
    if constexpr (NA == 2 && NB == 2) MOETUNE_TILE_DOT(7, 1, 3);
  };
  for (int64_t k = 0; k < s.steps; ++k) step(a0 + 64 * k, a1 + 64 * k, lda, b0 + 1024 * k);
  if (s.tail) step(tail, tail + 1024, 64, b0 + 1024 * s.steps);
  alignas(64) int32_t c[4][256];
  _tile_stored(4, c[0], 64);
  if constexpr (NB == 2) _tile_stored(5, c[1], 64);
  if constexpr (NA == 2) _tile_stored(6, c[2], 64);
  if constexpr (NA == 2 && NB == 2) _tile_stored(7, c[3], 64);
  const int rows0 = std::min(rows, 16), tokens0 = std::min(tokens, 16);
  write_c(s, c[0], o, rows0, t, tokens0);
  if constexpr (NB == 2) write_c(s, c[1], o, rows0, t + 16, tokens - 16);
  if constexpr (NA == 2) write_c(s, c[2], o + 16, rows - 16, t, tokens0);
  if constexpr (NA == 2 && NB == 2) write_c(s, c[3], o + 16, rows - 16, t + 16, tokens - 16);
}

// Rows [o, o + rows) (NA = 2: 32 rows; NA = 1: up to 16, as the loaded configuration says)
// against every token of the block, 32 at a time (16 for the last ones when no more are left).
template <typename D, int NA>
void rows_pass(const Call<D>& s, int64_t o, int rows) {
  // The last partial column of each A tile, zero-padded to 64 bytes per row.
  alignas(64) char tail[2][16][64];
  if (s.tail) {
    const int64_t bytes = (s.kb - s.steps * D::kStep) * int64_t(sizeof(typename D::W));
    const __mmask64 m = (uint64_t(1) << bytes) - 1;
    for (int r = 0; r < rows; ++r) {
      const auto* p = s.w + (o + r) * s.g.ldw + s.pc + s.steps * D::kStep;
      _mm512_store_si512(&tail[r / 16][r % 16][0], _mm512_maskz_loadu_epi8(m, p));
    }
  }
  for (int64_t t = s.ic; t < s.ic + s.mb; t += 32) {
    const int tokens = static_cast<int>(std::min<int64_t>(32, s.ic + s.mb - t));
    if (tokens > 16)
      block<D, NA, 2>(s, o, rows, t, tokens, &tail[0][0][0]);
    else
      block<D, NA, 1>(s, o, rows, t, tokens, &tail[0][0][0]);
  }
}

template <typename D>
void gemm(const GemvArgs& g) {
  using W = typename D::W;
  constexpr int64_t KC = kKCBytes / int64_t(sizeof(W));
  static_assert(kMC * kKCBytes <= rounded::kXBufferBytes, "x buffer too small");
  rounded::zero_if_empty(g);
  if (g.n <= 0 || g.m <= 0 || g.k <= 0) return;
  // Linux grants the tile state only to a process that asked (isa.cpp asks when the CPU is
  // first probed): a caller that ran this without checking isa_available() first would get a
  // SIGILL on a CPU that has AMX, so the kernel makes sure the probe ran.
  static const bool probed = isa_available(Isa::kAmx) || true;
  (void)probed;
  Call<D> s{g};
  float scales[kMC];
  s.token_scale = scales;
  uint32_t* xb = reinterpret_cast<uint32_t*>(rounded::x_buffer());
  s.xb = xb;
  load_config(16);
  for (s.ic = 0; s.ic < g.m; s.ic += kMC) {
    s.mb = std::min(kMC, g.m - s.ic);
    for (int64_t t = 0; t < s.mb; ++t) scales[t] = D::token_scale(g.x + (s.ic + t) * g.ldx, g.k);
    for (s.pc = 0; s.pc < g.k; s.pc += KC) {
      s.kb = std::min(KC, g.k - s.pc);
      s.steps = s.kb / D::kStep;
      s.tail = s.kb % D::kStep != 0;
      s.add = g.accumulate || s.pc > 0;
      const int64_t kpad = rounded::round_up(s.kb, D::kStep);
      s.group = kpad * int64_t(sizeof(W)) / 4 * 16;
      for (int64_t j = 0; j < s.mb; j += 16)
        pack16<D>(g, s.ic + j, std::min<int64_t>(16, s.mb - j), scales + j, s.pc, s.kb, kpad,
                  xb + j / 16 * s.group);
      int64_t o = 0;
      for (; o + 32 <= g.n; o += 32) rows_pass<D, 2>(s, o, 32);
      for (; g.n - o >= 16; o += 16) rows_pass<D, 1>(s, o, 16);
      if (o < g.n) {  // fewer than 16 rows left: A and C tiles of that many rows
        load_config(static_cast<int>(g.n - o));
        rows_pass<D, 1>(s, o, static_cast<int>(g.n - o));
        if (s.pc + KC < g.k || s.ic + kMC < g.m) load_config(16);  // more blocks follow
      }
    }
  }
  _tile_release();
}

}  // namespace

void gemv_bf16xbf16_oi__amx_gemm(const GemvArgs& a) { gemm<Bf16>(a); }
void gemv_int8xint8_oi__amx_gemm(const GemvArgs& a) { gemm<Int8>(a); }

}  // namespace moetune
