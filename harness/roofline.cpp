// The read and f32 probes are one template each (harness/roofline_probes.h), instantiated here
// for SSE2 and in avx2_roofline.cpp and avx512_roofline.cpp for the wider paths. The dot-product
// and tile probes, which have no twin, are written here with intrinsics in functions that carry
// their own target attribute: this file is built for plain x86-64, and each probe runs only
// after isa_available() says the CPU has it.
#include "harness/roofline.h"

#include <immintrin.h>
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <iterator>
#include <limits>
#include <new>
#include <vector>

#include "harness/roofline_probes.h"
#include "kernels/common/isa.h"
#include "kernels/common/machine_class.h"

namespace moetune {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Written by every probe so the compiler cannot drop the work whose result nobody reads.
volatile float g_sink;

// SSE2, which every x86-64 has: the vector traits the probe templates need, 4 lanes wide.
struct Vec4 {
  using Vec = __m128;
  static constexpr int kLanes = 4;
  static Vec zero() { return _mm_setzero_ps(); }
  static Vec set1(float v) { return _mm_set1_ps(v); }
  static Vec load_aligned(const float* p) { return _mm_load_ps(p); }
  static Vec add(Vec a, Vec b) { return _mm_add_ps(a, b); }
  // No FMA in SSE2: a multiply and an add, which also count 2 flops per lane.
  static Vec fma(Vec a, Vec b, Vec c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
  static float hsum(Vec v) {
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, v);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
  }
};

using probes::kChains;
using ReadFn = float (*)(const float* p, std::size_t n);
using FmaFn = float (*)(int64_t iterations);

// Through memory rather than _mm512_reduce_add_ps, whose GCC 12 expansion trips
// -Wuninitialized.
__attribute__((target("avx512f"))) float sum_lanes(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float sum = 0.0f;
  for (float l : lanes) sum += l;
  return sum;
}

// The dot-product probes: the same 12 chains of the instruction. Each bf16 product is 1e-6,
// so after 2^23 iterations a lane holds about 16: finite and normal. The int8 sums wrap,
// which costs nothing and matters to no one.
__attribute__((target("avx512f,avx512bf16"))) float bf16_dot_chains_avx512(int64_t iterations) {
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  __m512 acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm512_set1_ps(0.01f * float(j));
  for (int64_t it = 0; it < iterations; ++it)
    for (int j = 0; j < kChains; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
  __m512 s = acc[0];
  for (int j = 1; j < kChains; ++j) s = _mm512_add_ps(s, acc[j]);
  return sum_lanes(s);
}

__attribute__((target("avx512f,avx512vnni"))) float int8_dot_chains_avx512(int64_t iterations) {
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  __m512i acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm512_set1_epi32(j);
  for (int64_t it = 0; it < iterations; ++it)
    for (int j = 0; j < kChains; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
  __m512i s = acc[0];
  for (int j = 1; j < kChains; ++j) s = _mm512_add_epi32(s, acc[j]);
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, s);
  float sum = 0.0f;
  for (int32_t l : lanes) sum += float(l);
  return sum;
}

__attribute__((target("avx2,avxvnni"))) float int8_dot_chains_avxvnni(int64_t iterations) {
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2);
  __m256i acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm256_set1_epi32(j);
  for (int64_t it = 0; it < iterations; ++it)
    for (int j = 0; j < kChains; ++j) acc[j] = _mm256_dpbusd_avx_epi32(acc[j], a, b);
  __m256i s = acc[0];
  for (int j = 1; j < kChains; ++j) s = _mm256_add_epi32(s, acc[j]);
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  float sum = 0.0f;
  for (int32_t l : lanes) sum += float(l);
  return sum;
}

// The AMX probes: 4 accumulator tiles, 12 tile products per pass (each 16 x 16 outputs over
// 32 bf16 pairs, 16384 operations, or 64 int8 pairs, 32768). A tile product keeps the unit
// busy about 16 cycles where an FMA issues in half of one, so one pass stands for 16 of the
// iterations the vector probes count (PeakProbe::ops is per iteration and chain: 16384 / 16 /
// ... as below). The tiles hold zeros: the unit's rate does not depend on the values.
struct alignas(64) AmxProbeConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16};
};
constexpr int64_t kAmxIterationsPerPass = 16;

template <bool kInt8>
__attribute__((target("amx-tile,amx-bf16,amx-int8"))) float amx_chains(int64_t iterations) {
  const AmxProbeConfig cfg;
  // With a memory clobber: the configuration must be in memory before the instruction reads it.
  __asm__ volatile("ldtilecfg %0" ::"m"(cfg) : "memory");
  for (int64_t it = 0; it < iterations; it += kAmxIterationsPerPass) {
    for (int r = 0; r < 3; ++r) {
      if constexpr (kInt8) {
        __asm__ volatile("tdpbssd %%tmm5, %%tmm4, %%tmm0\n\t"
                         "tdpbssd %%tmm5, %%tmm4, %%tmm1\n\t"
                         "tdpbssd %%tmm5, %%tmm4, %%tmm2\n\t"
                         "tdpbssd %%tmm5, %%tmm4, %%tmm3" ::: "memory");
      } else {
        __asm__ volatile("tdpbf16ps %%tmm5, %%tmm4, %%tmm0\n\t"
                         "tdpbf16ps %%tmm5, %%tmm4, %%tmm1\n\t"
                         "tdpbf16ps %%tmm5, %%tmm4, %%tmm2\n\t"
                         "tdpbf16ps %%tmm5, %%tmm4, %%tmm3" ::: "memory");
      }
    }
  }
  alignas(64) float out[16 * 16];
  __asm__ volatile("tilestored %%tmm0, (%0,%1,1)" ::"r"(out), "r"(int64_t{64}) : "memory");
  __asm__ volatile("tilerelease" ::: "memory");
  return out[0];
}

struct PeakProbe {
  const char* name;
  Arith arith;
  Isa needs;
  int ops;  // per instruction: multiplies and adds
  FmaFn run;
};

// The widest f32 probe first; the SSE2 one stands for the f32 peak only where no wider runs.
const PeakProbe kPeakProbes[] = {
    {"f32_fma_512", Arith::kF32, Isa::kAvx512, 32, probes::fma_chains_avx512},
    {"f32_fma_256", Arith::kF32, Isa::kAvx2, 16, probes::fma_chains_avx2},
    {"f32_mul_add_128", Arith::kF32, Isa::kBaseline, 8, probes::fma_chains<Vec4>},
    {"bf16_dot_512", Arith::kBf16Dot, Isa::kAvx512Bf16, 64, bf16_dot_chains_avx512},
    {"int8_dot_512", Arith::kInt8Dot, Isa::kAvx512Vnni, 128, int8_dot_chains_avx512},
    {"int8_dot_256", Arith::kInt8Dot, Isa::kAvxVnni, 64, int8_dot_chains_avxvnni},
    {"bf16_tile", Arith::kBf16Tile, Isa::kAmx, 16384 / kAmxIterationsPerPass, amx_chains<false>},
    {"int8_tile", Arith::kInt8Tile, Isa::kAmx, 32768 / kAmxIterationsPerPass, amx_chains<true>},
};

// The ISA name of a probe's code path, as RooflineResult::isa reports the f32 one.
const char* path_name(const PeakProbe& p) {
  return p.needs == Isa::kAvx512 ? "avx512" : p.needs == Isa::kAvx2 ? "avx2" : "sse2";
}

struct ReadProbe {
  const char* isa;
  Isa needs;
  int streams;  // per thread
  ReadFn read;
};

const ReadProbe kReadProbes[] = {
    {"avx512", Isa::kAvx512, 1, probes::read_sum_avx512},
    {"avx2", Isa::kAvx2, 1, probes::read_sum_avx2},
    {"avx2", Isa::kAvx2, 4, probes::read_streams4_avx2},
    {"avx2", Isa::kAvx2, 8, probes::read_streams8_avx2},
    {"sse2", Isa::kBaseline, 1, probes::read_sum<Vec4>},
    {"sse2", Isa::kBaseline, 4, probes::read_streams<Vec4, 4>},
};

// Every read probe the CPU runs: on some machines the widest loads or the fewest streams do
// not stream fastest, and the bound must be the best any kernel could reach.
std::vector<const ReadProbe*> available_read_probes() {
  std::vector<const ReadProbe*> out;
  for (const ReadProbe& p : kReadProbes)
    if (isa_available(p.needs)) out.push_back(&p);
  return out;
}

// Every peak probe the CPU runs, but the SSE2 one where a wider f32 probe runs.
std::vector<const PeakProbe*> available_peak_probes() {
  std::vector<const PeakProbe*> out;
  bool f32 = false;
  for (const PeakProbe& p : kPeakProbes) {
    if (!isa_available(p.needs) || (p.arith == Arith::kF32 && p.needs == Isa::kBaseline && f32))
      continue;
    f32 = f32 || p.arith == Arith::kF32;
    out.push_back(&p);
  }
  return out;
}

// The read buffer, in 2 MB pages where the kernel gives them: fewer TLB misses, as a real
// multi-gigabyte weight buffer would get, and a faster first touch.
struct Buffer {
  float* data = nullptr;
  std::size_t floats = 0;
  explicit Buffer(std::size_t bytes) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    data = static_cast<float*>(std::aligned_alloc(kHuge, rounded));
    if (!data) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(data, rounded, MADV_HUGEPAGE);
#endif
    floats = bytes / sizeof(float);
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

// Thread t of a team of `team` owns [begin, end): the same split for the first touch and for
// every read pass, so each thread reads pages it placed itself (local on a NUMA machine).
// Blocks of 128 floats keep every range 512-byte aligned for the vector loads.
void partition(std::size_t floats, int t, int team, std::size_t* begin, std::size_t* end) {
  constexpr std::size_t kBlock = 128;
  const std::size_t blocks = floats / kBlock;
  *begin = blocks * t / team * kBlock;
  *end = t + 1 == team ? floats : blocks * (t + 1) / team * kBlock;
}

struct ReadFigure {
  double gbs = 0.0;
  const char* isa = "";
  int streams = 1;
};

ReadFigure measure_read(const Buffer& buf, int threads, int passes,
                        const std::vector<const ReadProbe*>& probes) {
  std::vector<double> best(probes.size(), std::numeric_limits<double>::infinity());
  double t0 = 0.0;
  float sink = 0.0f;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  {
    std::size_t b, e;
    partition(buf.floats, omp_get_thread_num(), omp_get_num_threads(), &b, &e);
    // Interleaving the probes pass by pass spreads the noise of a shared machine over all.
    for (int pass = 0; pass < passes; ++pass) {
      for (std::size_t j = 0; j < probes.size(); ++j) {
#pragma omp single
        t0 = now_seconds();
        sink += probes[j]->read(buf.data + b, e - b);
#pragma omp barrier
#pragma omp single
        best[j] = std::min(best[j], now_seconds() - t0);
      }
    }
  }
  g_sink = sink;
  ReadFigure fig;
  for (std::size_t j = 0; j < probes.size(); ++j) {
    const double gbs = double(buf.floats) * sizeof(float) / best[j] / 1e9;
    if (gbs > fig.gbs) fig = {gbs, probes[j]->isa, probes[j]->streams};
  }
  return fig;
}

double measure_peak(const PeakProbe& probe, int threads, int64_t iterations, int runs) {
  double best = std::numeric_limits<double>::infinity();
  double t0 = 0.0;
  int team = 1;
  float sink = 0.0f;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  {
#pragma omp single
    team = omp_get_num_threads();
    for (int run = 0; run < runs; ++run) {
#pragma omp single
      t0 = now_seconds();
      sink += probe.run(iterations);
#pragma omp barrier
#pragma omp single
      best = std::min(best, now_seconds() - t0);
    }
  }
  g_sink = sink;
  const double flops = double(probe.ops) * kChains * double(iterations) * team;
  return flops / best / 1e9;
}

}  // namespace

std::string_view arith_name(Arith arith) {
  switch (arith) {
    case Arith::kF32:
      return "f32";
    case Arith::kBf16Dot:
      return "bf16_dot";
    case Arith::kInt8Dot:
      return "int8_dot";
    case Arith::kBf16Tile:
      return "bf16_tile";
    case Arith::kInt8Tile:
      return "int8_tile";
  }
  return "?";
}

Arith arith_of(DType acts, Isa isa) {
  const bool tiles = isa == Isa::kAmx;
  return acts == DType::kBF16   ? (tiles ? Arith::kBf16Tile : Arith::kBf16Dot)
         : acts == DType::kInt8 ? (tiles ? Arith::kInt8Tile : Arith::kInt8Dot)
                                : Arith::kF32;
}

RooflineResult::Bound RooflineResult::bound_for(int t, Arith arith) const {
  double all = 0.0, one = 0.0;
  for (const PeakFigure& p : peaks)
    if (p.arith == arith && p.gflops > all) all = p.gflops, one = p.single_gflops;
  if (arith == Arith::kF32 || all <= 0.0) all = peak_gflops, one = single_peak_gflops;
  if (t <= 1) return {single_read_bandwidth_gbs, one};
  return {std::min(read_bandwidth_gbs, single_read_bandwidth_gbs * t), std::min(all, one * t)};
}

double RooflineResult::seconds_for(double bytes, double flops, int t, Arith arith) const {
  const Bound b = bound_for(t, arith);
  const double memory = b.bandwidth_gbs > 0 ? bytes / (b.bandwidth_gbs * 1e9) : 0.0;
  const double compute = b.gflops > 0 ? flops / (b.gflops * 1e9) : 0.0;
  return std::max(memory, compute);
}

RooflineOptions RooflineOptions::quick() {
  RooflineOptions o;
  o.read_bytes = std::size_t{8} << 20;
  o.read_passes = 2;
  o.fma_iterations = int64_t{1} << 16;
  o.fma_runs = 1;
  return o;
}

RooflineOptions RooflineOptions::for_sweeps() {
  const char* quick_env = std::getenv("MOETUNE_TEST_QUICK_ROOFLINE");
  const bool want_quick = quick_env && *quick_env && std::string_view(quick_env) != "0";
  return want_quick ? quick() : RooflineOptions{};
}

RooflineResult measure_roofline(int threads, const RooflineOptions& options) {
  threads = std::max(1, threads);
  const auto probes = available_read_probes();

  RooflineResult r;
  Buffer buf(std::max<std::size_t>(options.read_bytes, 4096));
  int team = 1;
#pragma omp parallel num_threads(threads)
  {
#pragma omp single
    team = omp_get_num_threads();
    std::size_t b, e;
    partition(buf.floats, omp_get_thread_num(), omp_get_num_threads(), &b, &e);
    std::fill(buf.data + b, buf.data + e, 1.0f);
  }
  r.threads = team;
  const int passes = std::max(1, options.read_passes);
  const ReadFigure all = measure_read(buf, threads, passes, probes);
  const ReadFigure one = measure_read(buf, 1, passes, probes);
  // A team can always do what one of its threads does alone: on a shared machine a busy
  // core can make the team's figure come out lower, and a bound below the single-thread one
  // would flatter every multi-threaded result.
  r.read_bandwidth_gbs = std::max(all.gbs, one.gbs);
  r.single_read_bandwidth_gbs = one.gbs;
  const ReadFigure& best = all.gbs >= one.gbs ? all : one;
  r.read_isa = best.isa;
  r.read_streams = best.streams;

  const int64_t iterations = std::max<int64_t>(1, options.fma_iterations);
  const int runs = std::max(1, options.fma_runs);
  for (const PeakProbe* p : available_peak_probes()) {
    PeakFigure f{p->name, p->arith, std::string(isa_name(p->needs)), 0.0, 0.0};
    f.single_gflops = measure_peak(*p, 1, iterations, runs);
    // As for the bandwidth: a team can always do what one of its threads does alone.
    f.gflops = std::max(measure_peak(*p, threads, iterations, runs), f.single_gflops);
    if (p->arith == Arith::kF32 && f.gflops > r.peak_gflops) {
      r.peak_gflops = f.gflops;
      r.single_peak_gflops = f.single_gflops;
      r.isa = path_name(*p);
    }
    r.peaks.push_back(std::move(f));
  }
  return r;
}

nlohmann::json to_json(const RooflineResult& r) {
  nlohmann::json peaks = nlohmann::json::object();
  for (const PeakFigure& p : r.peaks)
    peaks[p.name] = {{"arith", arith_name(p.arith)},
                     {"isa", p.isa},
                     {"gflops", p.gflops},
                     {"single_thread_gflops", p.single_gflops}};
  return {{"threads", r.threads},
          {"read_bandwidth_gbs", r.read_bandwidth_gbs},
          {"peak_gflops", r.peak_gflops},
          {"single_thread",
           {{"read_bandwidth_gbs", r.single_read_bandwidth_gbs},
            {"peak_gflops", r.single_peak_gflops}}},
          {"cpu_model", cpu_model_name()},
          {"machine_class", machine_class().key()},
          {"isa", r.isa},
          {"read_isa", r.read_isa},
          {"read_streams", r.read_streams},
          {"peaks", peaks}};
}

}  // namespace moetune
