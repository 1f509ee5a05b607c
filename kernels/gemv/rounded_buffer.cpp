// The buffer of the rounded (bf16) or quantized (int8) activations that every kernel of
// rounded_gemv.h prepares x into: one per thread, shared by all of them (a kernel call never
// runs inside another on its thread), in this file without ISA flags so that the files of
// every instruction set can use it. One 260 KiB buffer instead of one per file (six: 0.95 MiB
// of static TLS per thread, which glibc carves out of every thread's stack).
#include "kernels/gemv/rounded_gemv.h"

namespace moetune::rounded {

unsigned char* x_buffer() {
  alignas(64) static thread_local unsigned char buffer[kXBufferBytes];
  return buffer;
}

}  // namespace moetune::rounded
