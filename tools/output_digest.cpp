// output_digest: one line per variant (every kernel registry, the gemv pairs, every layer
// variant on its naive and its default kernels) with a hash of the bits of its outputs on fixed
// awkward inputs (sizes of 1, odd, not a multiple of any vector width; accumulate on and off;
// 1 and 2 threads for the layer). Two builds print the same lines exactly when every variant
// computes the same bits: the check that a refactoring changed no output (issue 16). Variants
// this CPU cannot run print "not runnable".
//
// usage: output_digest [substring]   (only the lines whose name holds it)
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/gemv/quantize.h"
#include "kernels/kernels.h"
#include "variants/moe_layer.h"
#include "variants/selection.h"

using namespace moetune;

namespace {

// FNV-1a over bytes: order-sensitive, so a permuted output changes the digest too.
struct Digest {
  uint64_t h = 1469598103934665603ull;
  void add(const void* p, size_t bytes) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < bytes; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
};

// Deterministic values in [-1, 1): the same on every machine and build.
std::vector<float> values(size_t count, uint64_t seed) {
  std::vector<float> v(count);
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<float>(static_cast<int64_t>(s >> 40) - (1ll << 23)) / static_cast<float>(1 << 23);
  }
  return v;
}

bool wanted(std::string_view name, const char* filter) {
  return !filter || name.find(filter) != std::string_view::npos;
}

void print(std::string_view op, std::string_view name, const Digest& d) {
  std::printf("%.*s %.*s %016" PRIx64 "\n", static_cast<int>(op.size()), op.data(),
              static_cast<int>(name.size()), name.data(), d.h);
}

void not_runnable(std::string_view op, std::string_view name) {
  std::printf("%.*s %.*s not runnable\n", static_cast<int>(op.size()), op.data(),
              static_cast<int>(name.size()), name.data());
}

// W [n, k] in the variant's layout and dtype, with padding ldw > the row, x for m tokens.
struct GemvData {
  std::vector<float> w;
  std::vector<uint16_t> w_bf16;
  std::vector<int8_t> w_i8;
  std::vector<float> scale;
  std::vector<float> x;
  std::vector<float> y;
  int64_t ldw = 0;

  GemvData(const GemvVariant& v, int64_t n, int64_t k, int64_t m, uint64_t seed) {
    const int64_t rows = v.layout == Layout::kOI ? n : k;
    const int64_t cols = v.layout == Layout::kOI ? k : n;
    ldw = cols + 3;
    w = values(static_cast<size_t>(rows * ldw), seed);
    x = values(static_cast<size_t>(m * (k + 1)), seed + 1);
    y = values(static_cast<size_t>(m * (n + 2)), seed + 2);
    if (v.dtype == DType::kBF16) {
      w_bf16.resize(w.size());
      convert_bf16(w.data(), static_cast<int64_t>(w.size()), w_bf16.data());
    } else if (v.dtype == DType::kInt8) {
      w_i8.resize(w.size());
      scale.resize(static_cast<size_t>(n));
      quantize_int8(w.data(), n, k, ldw, v.layout, w_i8.data(), scale.data());
    }
  }

  GemvArgs args(int64_t n, int64_t k, int64_t m, bool accumulate) {
    GemvArgs a;
    a.n = n;
    a.k = k;
    a.w = w.data();
    a.ldw = ldw;
    a.x = x.data();
    a.ldx = k + 1;
    a.y = y.data();
    a.ldy = n + 2;
    a.m = m;
    a.accumulate = accumulate;
    a.w_bf16 = w_bf16.data();
    a.w_i8 = w_i8.data();
    a.scale = scale.data();
    return a;
  }
};

struct GemvShape {
  int64_t n, k, m;
};
// 1, odd, prime, not a multiple of 8 or 16, a row over 32000 bytes, several tokens.
constexpr GemvShape kGemvShapes[] = {{1, 1, 1},    {7, 13, 1},  {17, 33, 3},   {64, 64, 4},
                                     {129, 257, 5}, {33, 8200, 2}, {300, 96, 17}};

void digest_gemv(const char* filter) {
  for (const GemvVariant& v : gemv_variants()) {
    if (!wanted(v.name, filter)) continue;
    if (!isa_available(v.isa)) {
      not_runnable("gemv", v.name);
      continue;
    }
    Digest d, pair;
    uint64_t seed = 1;
    for (const auto& s : kGemvShapes) {
      for (bool accumulate : {false, true}) {
        GemvData a(v, s.n, s.k, s.m, seed), b(v, s.n, s.k, s.m, seed + 7);
        ++seed;
        v.fn(a.args(s.n, s.k, s.m, accumulate));
        d.add(a.y.data(), a.y.size() * sizeof(float));
        if (!v.pair) continue;
        GemvData pa(v, s.n, s.k, s.m, seed), pb(v, s.n, s.k, s.m, seed + 7);
        GemvArgs ga = pa.args(s.n, s.k, s.m, accumulate), gb = pb.args(s.n, s.k, s.m, accumulate);
        gb.x = ga.x;
        v.pair(ga, gb);
        pair.add(pa.y.data(), pa.y.size() * sizeof(float));
        pair.add(pb.y.data(), pb.y.size() * sizeof(float));
      }
    }
    print("gemv", v.name, d);
    if (v.pair) print("gemv_pair", v.name, pair);
  }
}

constexpr int64_t kLengths[] = {1, 2, 7, 8, 15, 16, 17, 33, 64, 100, 129, 1000, 4099};

void digest_elementwise(const char* filter) {
  for (const SwigluVariant& v : swiglu_variants()) {
    if (!wanted(v.name, filter)) continue;
    if (!isa_available(v.isa)) {
      not_runnable("swiglu", v.name);
      continue;
    }
    Digest d;
    for (int64_t n : kLengths) {
      auto g = values(static_cast<size_t>(n), 11 + static_cast<uint64_t>(n));
      auto u = values(static_cast<size_t>(n), 12 + static_cast<uint64_t>(n));
      for (auto& x : g) x *= 30.0f;  // reaches exp's clamps on both sides
      std::vector<float> h(static_cast<size_t>(n));
      v.fn(g.data(), u.data(), h.data(), n);
      d.add(h.data(), h.size() * sizeof(float));
    }
    print("swiglu", v.name, d);
  }
  for (const SoftmaxVariant& v : softmax_variants()) {
    if (!wanted(v.name, filter)) continue;
    if (!isa_available(v.isa)) {
      not_runnable("softmax", v.name);
      continue;
    }
    Digest d;
    for (int64_t n : kLengths) {
      auto x = values(static_cast<size_t>(n), 21 + static_cast<uint64_t>(n));
      for (auto& e : x) e *= 40.0f;
      std::vector<float> p(static_cast<size_t>(n));
      v.fn(x.data(), p.data(), n);
      d.add(p.data(), p.size() * sizeof(float));
    }
    print("softmax", v.name, d);
  }
  for (const TopkVariant& v : topk_variants()) {
    if (!wanted(v.name, filter)) continue;
    if (!isa_available(v.isa)) {
      not_runnable("topk", v.name);
      continue;
    }
    Digest d;
    for (int64_t n : kLengths) {
      auto p = values(static_cast<size_t>(n), 31 + static_cast<uint64_t>(n));
      // Ties: every value rounded to a coarse grid, so the lower-index rule is exercised.
      for (auto& e : p) e = static_cast<float>(static_cast<int>(e * 8.0f)) / 8.0f;
      for (int64_t k : {int64_t{1}, int64_t{4}, int64_t{8}, n}) {
        if (k > n) continue;
        std::vector<float> val(static_cast<size_t>(k));
        std::vector<int32_t> ids(static_cast<size_t>(k)), scratch(static_cast<size_t>(n));
        v.fn(p.data(), n, k, val.data(), ids.data(), scratch.data());
        d.add(val.data(), val.size() * sizeof(float));
        d.add(ids.data(), ids.size() * sizeof(int32_t));
      }
    }
    print("topk", v.name, d);
  }
}

// Every layer variant on the naive kernels and on this machine's default kernels, in both
// layouts, prefill (5 tokens) and decode (incremental_forward), on 1 and 2 threads, on a small
// shape with a shared expert and one without.
void digest_layer(const char* filter) {
  const MoeShape shapes[] = {{64, 40, 6, 2, 24, false}, {33, 17, 5, 3, 0, true}};
  constexpr int64_t kTokens = 5;
  for (const LayerVariant& lv : layer_variants()) {
    for (bool naive : {true, false}) {
      const std::string name = std::string(lv.name) + (naive ? "/naive_kernels" : "/default_kernels");
      if (!wanted(name, filter)) continue;
      Digest d;
      for (const MoeShape& shape : shapes) {
        for (Layout layout : {Layout::kOI, Layout::kIO}) {
          const MoeWeights w = MoeWeights::random(shape, layout, 5, lv.dtype);
          const auto x = values(static_cast<size_t>(kTokens * shape.hidden), 41);
          for (int threads : {1, 2}) {
            const KernelSelection kernels =
                naive ? naive_kernels(layout, lv.dtype)
                      : select_kernels(shape, kTokens, threads, layout, lv.dtype);
            MoeLayer layer(w, lv.name, kernels, threads, kTokens);
            std::vector<float> y(x.size());
            layer.forward(x.data(), kTokens, y.data());
            d.add(y.data(), y.size() * sizeof(float));
            layer.incremental_forward(x.data(), y.data());
            d.add(y.data(), static_cast<size_t>(shape.hidden) * sizeof(float));
          }
        }
      }
      print("layer", name, d);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  digest_gemv(filter);
  digest_elementwise(filter);
  digest_layer(filter);
  return 0;
}
