#include "harness/kernel_inputs.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "kernels/gemv/quantize.h"

namespace moetune {
namespace {

// Deterministic inputs: splitmix64, fast enough to fill 100 MB of weights in a blink, and the
// same on every machine and compiler (unlike std::uniform_real_distribution).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() >> 40) * 0x1p-24f; }

 private:
  uint64_t s_;
};

// Each op and operand draws from its own stream: one operand's values never depend on the
// size of another.
uint64_t stream(uint32_t seed, uint32_t op, uint32_t operand) {
  return (uint64_t(seed) << 16) ^ (uint64_t(op) << 8) ^ operand;
}

void fill_uniform(float* p, std::size_t count, uint64_t s, float lo, float hi) {
  Rng rng(s);
  for (std::size_t i = 0; i < count; ++i) p[i] = rng.uniform(lo, hi);
}

std::vector<float> uniform_vector(std::size_t count, uint64_t s, float lo, float hi) {
  std::vector<float> v(count);
  fill_uniform(v.data(), count, s, lo, hi);
  return v;
}

// The L3 that CPU 0 sees, in bytes (0 when unknown): the kernel's cache description
// (/sys/devices/system/cpu/cpu0/cache/index*/, what lscpu reads), else glibc's. glibc's
// _SC_LEVEL3_CACHE_SIZE can be the whole package's: 320 MiB on an EPYC VM whose cores share one
// 32 MiB L3, which made every cold gemv benchmark build and cycle through 640 MiB instead of 64.
std::size_t l3_bytes() {
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    std::ifstream level_file(dir + "/level"), size_file(dir + "/size");
    int level = 0;
    std::string size;
    if (!(level_file >> level) || level != 3 || !(size_file >> size)) continue;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(size.c_str(), &end, 10);
    const std::size_t unit = *end == 'K' ? 1024 : *end == 'M' ? 1024 * 1024 : 1;
    if (value > 0) return static_cast<std::size_t>(value) * unit;
  }
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return l3 > 0 ? static_cast<std::size_t>(l3) : 0;
}

template <typename T>
void copy_copies(T* p, std::size_t count, int64_t copies) {
  for (int64_t c = 1; c < copies; ++c) std::memcpy(p + c * count, p, count * sizeof(T));
}

}  // namespace

std::size_t cold_bytes() {
  // 64 MiB, or twice the L3 where that is larger, so cycling through the copies misses it.
  return std::max<std::size_t>(std::size_t{64} << 20, 2 * l3_bytes());
}

GemvArgs GemvInputs::args(int64_t c) const {
  GemvArgs a{n, k, nullptr, ldw(), x.get(), k, nullptr, n, m, false};
  const int64_t offset = c * int64_t(w_floats()) * dtype_bytes(dtype);
  dtype_traits(dtype).set_weights(a, stored.get() + offset, scale.data());
  return a;
}

std::shared_ptr<GemvInputs> make_gemv_inputs(Layout layout, DType dtype, int64_t n, int64_t k,
                                             int64_t m, uint32_t seed, bool cold) {
  auto in = std::make_shared<GemvInputs>();
  in->layout = layout;
  in->dtype = dtype;
  in->n = n, in->k = k, in->m = m, in->seed = seed, in->cold = cold;
  const std::size_t count = in->w_floats();
  const std::size_t w_bytes = count * static_cast<std::size_t>(dtype_bytes(dtype));
  in->copies = cold ? int64_t((cold_bytes() + w_bytes - 1) / w_bytes) : 1;
  in->w = aligned_alloc_array<float>(count);
  in->x = aligned_alloc_array<float>(static_cast<std::size_t>(m) * static_cast<std::size_t>(k));
  // The same matrix for either layout: W[o][i] of oi is W[i][o] of io only in shape, not in
  // values, which does not matter: each layout is checked against its own reference.
  fill_uniform(in->w.get(), count, stream(seed, 1, 0), -1.0f, 1.0f);
  // Stored in the dtype, then read back as the f32 values it stands for.
  const DTypeTraits& t = dtype_traits(dtype);
  in->stored = aligned_alloc_array<unsigned char>(w_bytes * in->copies);
  if (t.row_scales) in->scale.resize(static_cast<std::size_t>(n));
  t.quantize(in->w.get(), n, k, in->ldw(), layout, in->stored.get(), in->scale.data());
  for (std::size_t j = 0; j < count; ++j) {
    const int64_t o = layout == Layout::kOI ? int64_t(j) / k : int64_t(j) % n;
    const float v = t.widen(in->stored.get(), int64_t(j));
    in->w[j] = t.row_scales ? in->scale[std::size_t(o)] * v : v;
  }
  copy_copies(in->stored.get(), w_bytes, in->copies);
  fill_uniform(in->x.get(), static_cast<std::size_t>(m) * static_cast<std::size_t>(k),
               stream(seed, 1, 1), -1.0f, 1.0f);
  in->y = aligned_alloc_array<float>(static_cast<std::size_t>(m) * static_cast<std::size_t>(n));
  for (int64_t c = 0; c < in->copies; ++c) {
    in->timed.push_back(in->args(c));
    in->timed.back().y = in->y.get();
  }
  return in;
}

std::shared_ptr<GemvInputs> cached_gemv_inputs(Layout layout, DType dtype, int64_t n, int64_t k,
                                               int64_t m, uint32_t seed, bool cold) {
  static std::shared_ptr<GemvInputs> last[2][std::size(kDTypes)];
  auto& slot = last[layout == Layout::kOI ? 0 : 1][static_cast<int>(dtype)];
  if (slot && slot->n == n && slot->k == k && slot->m == m && slot->seed == seed &&
      slot->cold == cold)
    return slot;
  slot.reset();
  slot = make_gemv_inputs(layout, dtype, n, k, m, seed, cold);
  return slot;
}

SwigluInputs make_swiglu_inputs(int64_t n, uint32_t seed) {
  return {uniform_vector(static_cast<std::size_t>(n), stream(seed, 2, 0), -12.0f, 12.0f),
          uniform_vector(static_cast<std::size_t>(n), stream(seed, 2, 1), -2.0f, 2.0f)};
}

std::vector<float> make_softmax_inputs(int64_t n, uint32_t seed) {
  return uniform_vector(static_cast<std::size_t>(n), stream(seed, 3, 0), -8.0f, 8.0f);
}

std::vector<float> make_topk_inputs(int64_t n, uint32_t seed) {
  Rng rng(stream(seed, 4, 0));
  std::vector<double> logit(static_cast<std::size_t>(n));
  double max = -INFINITY;
  for (auto& l : logit) {
    l = std::floor(double(rng.uniform(0.0f, 1.0f)) * 32.0) / 4.0;
    max = std::max(max, l);
  }
  double sum = 0.0;
  for (auto& l : logit) sum += (l = std::exp(l - max));
  std::vector<float> p(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = float(logit[i] / sum);
  return p;
}

}  // namespace moetune
