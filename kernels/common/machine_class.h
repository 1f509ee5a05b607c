// Machine classes (issue 17): what a fleet's tuned build chooses its table by.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kernels/common/isa.h"

namespace moetune {

// A machine class (issue 17): what decides which kernels win on a machine, and so which tuned
// table it should run. The brand string does not: a Zen 3 and a Zen 5 both read "AMD EPYC".
// Its key, "<vendor>/<family>/<model>/<features>/<L1d>/<L2>/<L3>", e.g.
// "AuthenticAMD/25/1/avx2/32K/512K/32768K": `features` the instruction-set levels of
// isa_levels() the CPU has, "+"-joined narrowest first ("baseline" when none), the caches in KiB,
// "?" where unknown (results recorded before classes were: only CPUID and features survive).
struct MachineClass {
  std::string vendor;
  int family = 0, model = 0;
  std::string features;
  long long l1d_kib = 0, l2_kib = 0, l3_kib = 0;  // 0: unknown
  std::string key() const;
  bool caches_known() const { return l1d_kib > 0 && l2_kib > 0 && l3_kib > 0; }
};
// The features part of a class from a cpu_features() line (before any MOETUNE_MAX_ISA mask:
// the class is the CPU's, not what a user lets it run).
std::string class_features(std::string_view cpu_features_line);
// This machine's class, detected (CPUID, cpu_features(), the caches glibc reports).
MachineClass machine_class();
// The class a key names; std::nullopt (and `error` says why) when it is not one.
std::optional<MachineClass> parse_machine_class(std::string_view key, std::string* error = nullptr);

}  // namespace moetune
