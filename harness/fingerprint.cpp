#include "harness/fingerprint.h"

#include <omp.h>

#include <array>
#include <cstdio>
#include <memory>

#include "kernels/common/isa.h"

namespace moetune {
namespace {

// The commit of the source tree this binary was built from, read when asked (a configure-time
// value would go stale with every commit that does not re-run cmake).
std::string git_commit() {
  const std::string cmd = "git -C '" MOETUNE_SOURCE_DIR "' rev-parse --short=12 HEAD 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return "unknown";
  std::array<char, 64> buf{};
  std::string out;
  while (fgets(buf.data(), buf.size(), pipe.get())) out += buf.data();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty()) return "unknown";
  const std::string dirty_cmd =
      "git -C '" MOETUNE_SOURCE_DIR "' status --porcelain --untracked-files=no 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> dirty(popen(dirty_cmd.c_str(), "r"), pclose);
  if (dirty && fgets(buf.data(), buf.size(), dirty.get())) out += "-dirty";
  return out;
}

}  // namespace

Fingerprint machine_fingerprint() {
  Fingerprint f;
  f.cpu_model = cpu_model_name();
  f.cpu_features = cpu_features();
  f.cpuid = cpu_id();
  f.machine_class = machine_class();
  f.cores = omp_get_num_procs();
  f.compiler = MOETUNE_COMPILER;
  f.compiler_flags = MOETUNE_CXX_FLAGS;
  f.git_commit = git_commit();
  f.moetune_version = MOETUNE_VERSION;
  return f;
}

nlohmann::json to_json(const Fingerprint& f) {
  const nlohmann::json cpuid = {{"vendor", f.cpuid.vendor},
                                {"family", f.cpuid.family},
                                {"model", f.cpuid.model},
                                {"stepping", f.cpuid.stepping}};
  return {{"cpu_model", f.cpu_model},
          {"cpu_features", f.cpu_features},
          {"cpuid", cpuid},
          {"machine_class", f.machine_class.key()},
          {"cores", f.cores},
          {"compiler", f.compiler},
          {"compiler_flags", f.compiler_flags},
          {"git_commit", f.git_commit},
          {"moetune_version", f.moetune_version}};
}

}  // namespace moetune
