// The roofline's AVX2 read and f32 probes (harness/roofline_probes.h), over Vec8.
#include "harness/roofline_probes.h"
#include "kernels/common/vec_avx2.h"

namespace moetune::probes {

float read_sum_avx2(const float* p, std::size_t n) { return read_sum<avx2::Vec8>(p, n); }
float read_streams4_avx2(const float* p, std::size_t n) {
  return read_streams<avx2::Vec8, 4>(p, n);
}
float read_streams8_avx2(const float* p, std::size_t n) {
  return read_streams<avx2::Vec8, 8>(p, n);
}
float fma_chains_avx2(int64_t iterations) { return fma_chains<avx2::Vec8>(iterations); }

}  // namespace moetune::probes
