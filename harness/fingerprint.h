// The machine fingerprint every results file carries (DESIGN §5).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "kernels/common/isa.h"
#include "kernels/common/machine_class.h"

namespace moetune {

struct Fingerprint {
  std::string cpu_model;
  std::string cpu_features;
  CpuId cpuid;
  MachineClass machine_class;  // what a fleet's tuned build chooses its table by
  int cores = 0;
  std::string compiler;
  std::string compiler_flags;
  std::string git_commit;
  std::string moetune_version;
};

Fingerprint machine_fingerprint();
nlohmann::json to_json(const Fingerprint& f);

}  // namespace moetune
