// Eigen's own GEMV on the caller's memory: Map + OuterStride views the padded rows in place,
// so nothing is copied and the comparison is with Eigen's kernel, not with a repacking step.
//
// One matrix-vector product per token, never a matrix-matrix product for m > 1: Eigen runs
// GEMV single-threaded, but its GEMM opens its own OpenMP team when built with -fopenmp, and a
// kernel must not start threads (callers split the outputs). This file is compiled for the
// baseline ISA, so Eigen uses SSE2 packets here.
#include <Eigen/Core>

#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

using Stride = Eigen::OuterStride<>;
using RowMajorView =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
               Stride>;
using ColMajorView =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>, 0,
               Stride>;
using ConstVec = Eigen::Map<const Eigen::VectorXf>;
using Vec = Eigen::Map<Eigen::VectorXf>;

template <typename View>
void run_per_token(const View& w, const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) {
    const ConstVec x(a.x + t * a.ldx, a.k);
    Vec y(a.y + t * a.ldy, a.n);
    if (a.accumulate)
      y.noalias() += w * x;
    else
      y.noalias() = w * x;
  }
}

}  // namespace

void gemv_f32_oi__eigen(const GemvArgs& a) {
  run_per_token(RowMajorView(a.w, a.n, a.k, Stride(a.ldw)), a);
}

// io stores W as [k, n] row-major, which is W [n, k] column-major with the same stride.
void gemv_f32_io__eigen(const GemvArgs& a) {
  run_per_token(ColMajorView(a.w, a.n, a.k, Stride(a.ldw)), a);
}

}  // namespace moetune
