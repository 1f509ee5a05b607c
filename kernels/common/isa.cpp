#include "kernels/common/isa.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

// 1 when CMake found OpenBLAS and linked it (kernels/gemv/openblas.cpp).
#ifndef MOETUNE_HAVE_OPENBLAS
#define MOETUNE_HAVE_OPENBLAS 0
#endif
// 1 in the test-only build whose AVX-512 and VNNI kernel files are compiled against SIMDe
// (tests/simde): there those instruction sets are emulated on any CPU with AVX2, so they are
// available wherever AVX2 is. AMX is not (SIMDe has no tiles): it stays what the CPU has.
#ifndef MOETUNE_ISA_EMULATED
#define MOETUNE_ISA_EMULATED 0
#endif

namespace moetune {
namespace {

struct Features {
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512bf16 = false, avx512vnni = false, avxvnni = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;
  bool os_avx = false, os_avx512 = false, os_amx = false;
};

uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

// Linux keeps the AMX tile data (8 KiB of state) off by default: a process asks for it once
// (5.16 and later); the first tile instruction of a process that has not asked is a SIGILL.
// The grant holds for the whole process, every thread, present and future.
bool request_amx_permission() {
#if defined(__linux__) && defined(SYS_arch_prctl)
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

Features detect() {
  Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse42 = c & bit_SSE4_2;
  f.fma = c & bit_FMA;
  f.f16c = c & bit_F16C;
  const bool osxsave = c & bit_OSXSAVE;
  f.avx = c & bit_AVX;
  if (osxsave) {
    const uint64_t xcr0 = xgetbv0();
    f.os_avx = (xcr0 & 0x6) == 0x6;       // XMM and YMM state
    f.os_avx512 = (xcr0 & 0xe6) == 0xe6;  // plus opmask, ZMM_Hi256, Hi16_ZMM
    f.os_amx = (xcr0 & 0x60000) == 0x60000;  // XTILECFG and XTILEDATA
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = b & bit_AVX2;
    f.avx512f = b & bit_AVX512F;
    f.avx512dq = b & bit_AVX512DQ;
    f.avx512bw = b & bit_AVX512BW;
    f.avx512vl = b & bit_AVX512VL;
    f.avx512vnni = c & bit_AVX512VNNI;
    f.amx_bf16 = d & (1u << 22);
    f.amx_tile = d & (1u << 24);
    f.amx_int8 = d & (1u << 25);
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avxvnni = a & (1u << 4);
    f.avx512bf16 = a & (1u << 5);
  }
  // os_amx: the tile state in XCR0 and granted to this process, so that cpu_features() names
  // AMX only where a kernel can use it (and a results file says what really ran).
  if (f.os_amx && f.amx_tile) f.os_amx = request_amx_permission();
  return f;
}

const Features& features() {
  static const Features f = detect();
  return f;
}

// Whether features f have `isa` (the CPU's and the OS's support together); kOpenBlas: `openblas`.
bool has_isa(const Features& f, Isa isa, bool openblas) {
  const bool avx2 = f.os_avx && f.avx && f.avx2 && f.fma && f.f16c;
  const bool avx512 = avx2 && f.os_avx512 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl;
  switch (isa) {
    case Isa::kBaseline:
      return true;
    case Isa::kAvx2:
      return avx2;
    case Isa::kAvxVnni:
      return avx2 && f.avxvnni;
    case Isa::kAvx512:
      return avx512;
    case Isa::kAvx512Vnni:
      return avx512 && f.avx512vnni;
    case Isa::kAvx512Bf16:
      return avx512 && f.avx512bf16;
    case Isa::kAmx:
      return avx512 && f.os_amx && f.amx_tile && f.amx_bf16 && f.amx_int8;
    case Isa::kOpenBlas:
      return openblas;
  }
  return false;
}

bool cpu_has(Isa isa) {
  if (MOETUNE_ISA_EMULATED && isa != Isa::kOpenBlas && isa != Isa::kBaseline && isa != Isa::kAmx)
    return has_isa(features(), Isa::kAvx2, false);
  return has_isa(features(), isa, MOETUNE_HAVE_OPENBLAS);
}

// The place of `isa` in isa_levels(); OpenBLAS dispatches on the CPU by itself: level 0.
size_t level(Isa isa) {
  const auto& levels = isa_levels();
  for (size_t i = 0; i < levels.size(); ++i)
    if (levels[i] == isa) return i;
  return 0;
}

size_t max_level_allowed() {
  const char* env = std::getenv("MOETUNE_MAX_ISA");
  if (!env || !*env) return isa_levels().size() - 1;
  const auto cap = parse_isa(env);
  return cap ? level(*cap) : 0;
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kBaseline:
      return "baseline";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvxVnni:
      return "avxvnni";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx512Vnni:
      return "avx512vnni";
    case Isa::kAvx512Bf16:
      return "avx512bf16";
    case Isa::kAmx:
      return "amx";
    case Isa::kOpenBlas:
      return "openblas";
  }
  return "?";
}

const std::vector<Isa>& isa_levels() {
  static const std::vector<Isa> levels = {Isa::kBaseline, Isa::kAvx2,       Isa::kAvxVnni,
                                          Isa::kAvx512,   Isa::kAvx512Vnni, Isa::kAvx512Bf16,
                                          Isa::kAmx};
  return levels;
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : isa_levels())
    if (isa_name(isa) == name) return isa;
  return std::nullopt;
}

bool isa_available(Isa isa) { return cpu_has(isa) && level(isa) <= max_level_allowed(); }

std::string max_isa_error() {
  const char* env = std::getenv("MOETUNE_MAX_ISA");
  if (!env || !*env || parse_isa(env)) return {};
  std::string known;
  for (Isa isa : isa_levels()) known += (known.empty() ? "" : ", ") + std::string(isa_name(isa));
  return "environment variable MOETUNE_MAX_ISA: unknown instruction set '" + std::string(env) +
         "'; expected one of: " + known;
}

bool features_have(std::string_view features, Isa isa) {
  const auto has = [features](std::string_view word) {
    for (size_t at = 0; (at = features.find(word, at)) != std::string_view::npos; ++at) {
      const size_t end = at + word.size();
      if ((at == 0 || features[at - 1] == ' ') && (end == features.size() || features[end] == ' '))
        return true;
    }
    return false;
  };
  // cpu_features() names only what the OS lets run ("avx512f" includes the ZMM state, "amxbf16"
  // the tile unit and its state), and no level here asks for the word "avx": those are set.
  Features f;
  f.avx = f.os_avx = f.os_avx512 = f.os_amx = f.amx_tile = true;
  using Flag = bool Features::*;
  static constexpr std::pair<Flag, const char*> kWords[] = {{&Features::avx2, "avx2"},
                                                            {&Features::fma, "fma"},
                                                            {&Features::f16c, "f16c"},
                                                            {&Features::avx512f, "avx512f"},
                                                            {&Features::avx512bw, "avx512bw"},
                                                            {&Features::avx512dq, "avx512dq"},
                                                            {&Features::avx512vl, "avx512vl"},
                                                            {&Features::avxvnni, "avxvnni"},
                                                            {&Features::avx512vnni, "avx512vnni"},
                                                            {&Features::avx512bf16, "avx512bf16"},
                                                            {&Features::amx_bf16, "amxbf16"},
                                                            {&Features::amx_int8, "amxint8"}};
  for (const auto& [flag, word] : kWords) f.*flag = has(word);
  return has_isa(f, isa, true);
}

std::string cpu_features() {
  const Features& f = features();
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(f.sse42, "sse4.2");
  add(f.avx && f.os_avx, "avx");
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.avx512f && f.os_avx512, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512dq, "avx512dq");
  add(f.avx512vl, "avx512vl");
  add(f.avx512bf16, "avx512bf16");
  add(f.avx512vnni, "avx512vnni");
  add(f.avxvnni, "avxvnni");
  add(f.amx_tile && f.amx_bf16 && f.os_amx, "amxbf16");
  add(f.amx_tile && f.amx_int8 && f.os_amx, "amxint8");
  if (MOETUNE_ISA_EMULATED) s += " (simde)";
  return s;
}

CpuId cpu_id() {
  CpuId id;
  unsigned a, b, c, d;
  if (__get_cpuid(0, &a, &b, &c, &d)) {
    char vendor[13] = {};
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    id.vendor = vendor;
  }
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    const int base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    id.family = base_family == 0xf ? base_family + int((a >> 20) & 0xff) : base_family;
    id.model = base_family == 0x6 || base_family == 0xf ? base_model | int((a >> 16) & 0xf) << 4
                                                        : base_model;
    id.stepping = a & 0xf;
  }
  return id;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(' '));
        return v;
      }
    }
  }
  return "unknown";
}

}  // namespace moetune
