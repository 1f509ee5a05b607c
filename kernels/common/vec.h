// What the kernels compute the same way at every vector width, written once over a vector
// traits type V (vec_avx2.h's Vec8, vec_avx512.h's Vec16): four horizontal sums at once (hsum4)
// and exp. Include it after the traits header of the file's ISA. In an unnamed namespace: an
// instantiation over a traits type of one ISA stays in its file, compiled with its flags.
#pragma once

#include <immintrin.h>

namespace moetune::vec {
namespace {

// The sums of a, b, c, d in lanes 0..3. Each is summed by the same tree whatever its place and
// whatever the other three are (zeros included): 16 lanes folded to 8 (l_j + l_j+8), then
// pairs, then the two 128-bit halves. So a row gets the same bits whichever rows share its pass.
template <typename V>
__m128 hsum4(typename V::Vec a, typename V::Vec b, typename V::Vec c, typename V::Vec d) {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(V::fold8(a), V::fold8(b)),
                                     _mm256_hadd_ps(V::fold8(c), V::fold8(d)));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// exp of every lane, for softmax and swiglu.
//
// exp(x) = 2^n · p(r), n = round(x·log2 e), r = x - n·ln2 in [-ln2/2, ln2/2] (Cody-Waite: ln2
// split in a 24-bit head and a tail, each subtracted by an FMA). p is a degree-6 polynomial with
// p(0) = 1 exactly, fitted for this project (Lawson's minimax iteration on the relative error):
// 2.0e-9 relative before rounding its coefficients to float, i.e. 0.03 ulp, so the error is the
// evaluation's rounding. Measured over every 7th float in [-104, 89] (3.2e8 inputs, against
// double exp), with Vec8's scale_pow2: at most 1.05 ulp from the exact value; the kernel tests'
// tolerances rest on it. 2^n is applied by V::scale_pow2, the one step the widths do
// differently (AVX-512 has vscalefps; see each traits header).
//
// NaN passes through the clamp (max/min return their second operand when either is NaN) and
// the polynomial, so exp(NaN) = NaN.
template <typename V>
typename V::Vec exp(typename V::Vec x) {
  // exp(-104) < FLT_TRUE_MIN / 2 rounds to 0 and exp(100) > FLT_MAX: past these the result is
  // already decided. The clamp keeps n within [-150, 145], and r small for huge |x|, where
  // x - n·ln2 would otherwise be computed from two nearly equal huge numbers.
  x = V::min(V::set1(100.0f), V::max(V::set1(-104.0f), x));
  const typename V::Vec n = V::round_nearest(V::mul(x, V::set1(0x1.715476p+0f)));
  typename V::Vec r = V::fnma(n, V::set1(0x1.62e43p-1f), x);
  r = V::fnma(n, V::set1(-0x1.05c61p-29f), r);

  typename V::Vec p = V::set1(0x1.6ae73p-10f);
  p = V::fma(p, r, V::set1(0x1.126782p-7f));
  p = V::fma(p, r, V::set1(0x1.555822p-5f));
  p = V::fma(p, r, V::set1(0x1.55541ap-3f));
  p = V::fma(p, r, V::set1(0x1.fffffcp-2f));
  p = V::fma(p, r, V::set1(1.0f));
  p = V::fma(p, r, V::set1(1.0f));
  return V::scale_pow2(p, n);
}

}  // namespace
}  // namespace moetune::vec
