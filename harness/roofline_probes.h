// The roofline's read and f32 probes, written once over a vector traits type V and instantiated
// in a file compiled for V's instruction set: Vec4 (SSE2) in harness/roofline.cpp, which is built
// for plain x86-64, vec_avx2.h's Vec8 in harness/avx2_roofline.cpp and vec_avx512.h's Vec16 in
// harness/avx512_roofline.cpp (CMake gives avx2*/avx512* files their flags). Nothing calls a
// wider one before isa_available() says the CPU has it. The dot-product and tile probes have no
// twin; they stay in roofline.cpp with their target attributes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moetune::probes {

// Independent FMA chains per thread. Covering latency x throughput needs 4 cycles x 2 pipes = 8
// on Zen 3 and Skylake-SP; 12 leaves room for cores with longer latency.
constexpr int kChains = 12;

// The probes of the wider paths (harness/avx2_roofline.cpp, harness/avx512_roofline.cpp).
float read_sum_avx2(const float* p, std::size_t n);
float read_streams4_avx2(const float* p, std::size_t n);
float read_streams8_avx2(const float* p, std::size_t n);
float fma_chains_avx2(int64_t iterations);
float read_sum_avx512(const float* p, std::size_t n);
float fma_chains_avx512(int64_t iterations);

// In an unnamed namespace: each instantiation stays in its file, compiled with its flags.
namespace {

// Sums [p, p + n) (p aligned to the vector) with 8 independent accumulators, enough to keep two
// loads per cycle in flight (add latency 3-4 cycles): the access pattern of a dot-product GEMV.
template <typename V>
float read_sum(const float* p, std::size_t n) {
  constexpr std::size_t kStep = 8 * V::kLanes;
  typename V::Vec a[8];
  for (auto& x : a) x = V::zero();
  std::size_t i = 0;
  for (; i + kStep <= n; i += kStep)
    for (int j = 0; j < 8; ++j) a[j] = V::add(a[j], V::load_aligned(p + i + j * V::kLanes));
  for (int j = 1; j < 8; ++j) a[0] = V::add(a[0], a[j]);
  float sum = V::hsum(a[0]);
  for (; i < n; ++i) sum += p[i];
  return sum;
}

// The same sum over S streams at once: [p, p + n) cut into S consecutive parts read side by
// side, as a GEMV reads S rows. The hardware prefetchers keep more lines in flight for several
// distant streams than for one (on Zen 3, 2 threads: about 21 GB/s with 1 stream per thread,
// 30-34 with 4), and the bound must be what the best kernel can reach, not what one stream
// gets. Parts are whole multiples of 64 floats; what is left goes through the 1-stream sum.
template <typename V, int S>
float read_streams(const float* p, std::size_t n) {
  const std::size_t part = n / S / 64 * 64;
  typename V::Vec a[S];
  for (auto& x : a) x = V::zero();
  for (std::size_t i = 0; i < part; i += 2 * V::kLanes)
    for (int s = 0; s < S; ++s)
      a[s] = V::add(a[s], V::add(V::load_aligned(p + s * part + i),
                                 V::load_aligned(p + s * part + i + V::kLanes)));
  for (int s = 1; s < S; ++s) a[0] = V::add(a[0], a[s]);
  return V::hsum(a[0]) + read_sum<V>(p + S * part, n - S * part);
}

// kChains chains of a = a*m + c, which converges to c/(1-m): the values stay finite and normal.
template <typename V>
float fma_chains(int64_t iterations) {
  const typename V::Vec m = V::set1(0.999f), c = V::set1(1e-3f);
  typename V::Vec a[kChains];
  for (int j = 0; j < kChains; ++j) a[j] = V::set1(0.01f * float(j));
  for (int64_t it = 0; it < iterations; ++it)
    for (int j = 0; j < kChains; ++j) a[j] = V::fma(a[j], m, c);
  for (int j = 1; j < kChains; ++j) a[0] = V::add(a[0], a[j]);
  return V::hsum(a[0]);
}

}  // namespace
}  // namespace moetune::probes
