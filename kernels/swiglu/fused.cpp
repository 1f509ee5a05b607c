// One pass over g and u, no temporary on the heap: the fused SiLU·up of the optimization
// summary, in portable code. std::exp is a library call that GCC does not vectorise without
// -ffast-math, so the exponentials go into a small stack block first and the division and
// product then run as a separate loop that the compiler does vectorise (it versions the loop
// for aliasing; h == g or h == u still takes the vector path since every element is read
// before it is written). Each element sees exactly naive's operations, so the result is
// bit-identical to swiglu_f32__naive.
#include <algorithm>
#include <cmath>

#include "kernels/swiglu/swiglu.h"

namespace moetune {

void swiglu_f32__fused(const float* g, const float* u, float* h, int64_t n) {
  // 64 floats = 4 cache lines of exponentials: stays in L1 next to the block of g and u.
  constexpr int64_t kBlock = 64;
  float e[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t m = std::min(kBlock, n - i0);
    const float* gb = g + i0;
    const float* ub = u + i0;
    float* hb = h + i0;
    for (int64_t j = 0; j < m; ++j) e[j] = std::exp(-gb[j]);
    for (int64_t j = 0; j < m; ++j) hb[j] = gb[j] / (1.0f + e[j]) * ub[j];
  }
}

}  // namespace moetune
