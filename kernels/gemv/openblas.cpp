// OpenBLAS's own GEMV as a peer: what a user who "just calls BLAS" gets. Debian's OpenBLAS
// (libopenblas-dev) picks its kernels for the CPU at run time (DYNAMIC_ARCH), so this file is
// compiled for the baseline ISA and needs no flags of its own.
//
// m = 1: cblas_sgemv, oi as RowMajor NoTrans on [n, k] (lda = ldw), io as RowMajor Trans on
// [k, n]. m > 1: one cblas_sgemm, Y[m, n] = X[m, k] · W^T (oi) or X · W (io), so each weight
// row is read once for all m tokens, as a BLAS user would batch them. `accumulate` is beta = 1.
//
// Single-threaded, as every kernel here: the callers split the outputs over OpenMP threads.
// OpenBLAS comes in three flavours (Debian's libopenblas0-pthread, -openmp, -serial; the
// flavour libopenblas-dev pulls in by default is pthread), told apart at run time by
// openblas_get_parallel():
// - pthread: openblas_set_num_threads(1) once; every call then runs in the calling thread and
//   the pool OpenBLAS started at load time stays asleep.
// - openmp: OpenBLAS already runs single-threaded inside a parallel region, but outside one it
//   would take omp_get_max_threads() threads. openblas_set_num_threads(1) pins it to one, and
//   also calls omp_set_num_threads(1) on the calling thread, which would change the caller's
//   OpenMP default: it is set back right after (OpenBLAS keeps its own count at 1).
// - serial: nothing to do.
// Built without OpenBLAS (CMake did not find it), the variants stay registered with the
// requirement Isa::kOpenBlas, which isa_available() then reports as missing, so every caller
// lists them as unavailable ("needs openblas") and never calls them.
#include "kernels/gemv/gemv.h"

#if MOETUNE_HAVE_OPENBLAS
#include <cblas.h>
#include <omp.h>
#else
#include <cstdio>
#include <cstdlib>
#endif

namespace moetune {

#if MOETUNE_HAVE_OPENBLAS
namespace {

void single_threaded_openblas() {
  static const bool done = [] {
    switch (openblas_get_parallel()) {
      case OPENBLAS_THREAD:
        openblas_set_num_threads(1);
        break;
      case OPENBLAS_OPENMP: {
        const int caller_threads = omp_get_max_threads();
        openblas_set_num_threads(1);
        omp_set_num_threads(caller_threads);
        break;
      }
      default:  // OPENBLAS_SEQUENTIAL
        break;
    }
    return true;
  }();
  (void)done;
}

void run(const GemvArgs& a, bool stored_oi) {
  single_threaded_openblas();
  if (a.n <= 0) return;
  const float beta = a.accumulate ? 1.0f : 0.0f;
  const blasint n = static_cast<blasint>(a.n), k = static_cast<blasint>(a.k);
  const blasint ldw = static_cast<blasint>(a.ldw);
  if (a.m == 1) {
    // oi: W is [n, k] row-major, y = W x. io: W is [k, n] row-major, y = W^T x.
    if (stored_oi)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, a.w, ldw, a.x, 1, beta, a.y, 1);
    else
      cblas_sgemv(CblasRowMajor, CblasTrans, k, n, 1.0f, a.w, ldw, a.x, 1, beta, a.y, 1);
    return;
  }
  // Y [m, n] = X [m, k] · B, B = W^T (oi, W [n, k]) or W (io, W [k, n]).
  cblas_sgemm(CblasRowMajor, CblasNoTrans, stored_oi ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(a.m), n, k, 1.0f, a.x, static_cast<blasint>(a.ldx), a.w, ldw,
              beta, a.y, static_cast<blasint>(a.ldy));
}

}  // namespace

void gemv_f32_oi__openblas(const GemvArgs& a) { run(a, true); }
void gemv_f32_io__openblas(const GemvArgs& a) { run(a, false); }

#else

// Never called: without OpenBLAS, Isa::kOpenBlas is unavailable and every caller checks.
[[noreturn]] static void missing() {
  std::fputs("moetune: an openblas gemv variant was called in a build without OpenBLAS\n", stderr);
  std::abort();
}
void gemv_f32_oi__openblas(const GemvArgs&) { missing(); }
void gemv_f32_io__openblas(const GemvArgs&) { missing(); }

#endif

}  // namespace moetune
