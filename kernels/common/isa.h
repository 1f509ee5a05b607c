// Instruction-set levels that kernel variants require, and what this CPU offers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moetune {

// What a variant needs, in the order x86 generations added it:
//   kBaseline    any x86-64 (SSE2)
//   kAvx2        AVX2 + FMA + F16C (Haswell, Zen 1-3)
//   kAvxVnni     kAvx2 + AVX-VNNI: the 256-bit VEX vpdpbusd (Alder Lake, Zen 5)
//   kAvx512      AVX-512 F, BW, DQ and VL (Skylake-SP), with kAvx2
//   kAvx512Vnni  kAvx512 + AVX512_VNNI: the 512-bit vpdpbusd (Cascade Lake, Ice Lake, Zen 4)
//   kAvx512Bf16  kAvx512 + AVX512_BF16: vdpbf16ps (Cooper Lake, Sapphire Rapids, Zen 4)
//   kAmx         kAvx512 + AMX-TILE, AMX-BF16 and AMX-INT8 (Sapphire Rapids): the tile unit,
//                with the tile state enabled in XCR0 and granted to this process by Linux
//                (arch_prctl ARCH_REQ_XCOMP_PERM, asked once, when the CPU is first probed)
// kOpenBlas is no instruction set but what a peer variant needs in the same place: a build
// that found OpenBLAS (CMake, MOETUNE_HAVE_OPENBLAS). OpenBLAS then picks its own kernels for
// the CPU, so it runs on any x86-64 and MOETUNE_MAX_ISA does not mask it.
enum class Isa { kBaseline, kAvx2, kAvxVnni, kAvx512, kAvx512Vnni, kAvx512Bf16, kAmx, kOpenBlas };

// "baseline", "avx2", "avxvnni", "avx512", "avx512vnni", "avx512bf16", "amx", "openblas"
std::string_view isa_name(Isa isa);
// The instruction sets MOETUNE_MAX_ISA may name, narrowest first (every Isa but kOpenBlas).
const std::vector<Isa>& isa_levels();
std::optional<Isa> parse_isa(std::string_view name);

// True when the CPU and the OS (saved register state) support `isa`, and the environment
// variable MOETUNE_MAX_ISA does not mask it. MOETUNE_MAX_ISA=<level> hides every level after
// it in isa_levels() (avx512vnni: what an Ice Lake runs; avx2: what a Zen 3 runs), so that a
// user, or a test, sees what a smaller machine would run. An unknown value masks everything
// but the baseline; the command line refuses it first (max_isa_error).
bool isa_available(Isa isa);

// The message for a MOETUNE_MAX_ISA this build does not know ("" when it is unset or valid),
// naming the variable, the value and the levels it may take.
std::string max_isa_error();

// Whether a machine whose cpu_features() line was `features` (a results file's context) has
// `isa`; kOpenBlas counts as present (it depends on the build, not the CPU).
bool features_have(std::string_view features, Isa isa);

// One line, e.g. "sse4.2 avx avx2 fma f16c": what was detected, before any mask. A test
// build whose AVX-512 kernels are emulated through SIMDe says so ("... (simde)").
std::string cpu_features();
std::string cpu_model_name();

// CPUID's vendor and signature: what tells two machines whose brand strings both read "AMD
// EPYC" apart (family 25 model 1 is a Zen 3, model 17 a Zen 4; family 26 a Zen 5).
struct CpuId {
  std::string vendor;  // "AuthenticAMD", "GenuineIntel", ...
  int family = 0, model = 0, stepping = 0;  // with the extended family and model folded in
};
CpuId cpu_id();

}  // namespace moetune
