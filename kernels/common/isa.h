// Instruction-set levels that kernel variants require, and what this CPU offers.
#pragma once

#include <string>
#include <string_view>

namespace moetune {

// Ordered: a level needs everything before it on the x86 lines we target (AVX-512 variants
// also assume AVX2+FMA). kAvx512Bf16 and kAvx512Vnni extend kAvx512 independently.
// kOpenBlas is no instruction set but what a peer variant needs in the same place: a build
// that found OpenBLAS (CMake, MOETUNE_HAVE_OPENBLAS). OpenBLAS then picks its own kernels for
// the CPU, so it runs on any x86-64 and MOETUNE_MAX_ISA does not mask it.
enum class Isa { kBaseline, kAvx2, kAvx512, kAvx512Bf16, kAvx512Vnni, kOpenBlas };

// "baseline", "avx2", "avx512", "avx512bf16", "avx512vnni", "openblas"
std::string_view isa_name(Isa isa);

// True when the CPU and the OS (saved register state) support `isa`, and the environment
// variable MOETUNE_MAX_ISA (baseline|avx2|avx512) does not mask it. The mask lets a user,
// or a test, see what a smaller machine would run.
bool isa_available(Isa isa);

// One line, e.g. "sse4.2 avx avx2 fma f16c": what was detected, before any mask.
std::string cpu_features();
std::string cpu_model_name();

}  // namespace moetune
