// The roofline's AVX-512 read and f32 probes (harness/roofline_probes.h), over Vec16.
#include "harness/roofline_probes.h"
#include "kernels/common/vec_avx512.h"  // the first to read immintrin.h (avx512_util.h)

namespace moetune::probes {

float read_sum_avx512(const float* p, std::size_t n) { return read_sum<avx512::Vec16>(p, n); }
float fma_chains_avx512(int64_t iterations) { return fma_chains<avx512::Vec16>(iterations); }

}  // namespace moetune::probes
