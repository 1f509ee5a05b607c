// Shared helpers for the kernel tests: deterministic inputs and the error bound.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/common/isa.h"

namespace moetune::test {

inline std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// A variant the CPU cannot run is reported as skipped, with the reason, never silently passed.
#define MOETUNE_SKIP_UNLESS_AVAILABLE(isa)                                              \
  do {                                                                                  \
    if (!::moetune::isa_available(isa))                                                 \
      GTEST_SKIP() << "needs " << ::moetune::isa_name(isa) << ", not available here";   \
  } while (0)

// Names from the registry, made safe for gtest parameter names.
inline std::string param_name(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

}  // namespace moetune::test
