// Shared helpers for the tests: deterministic inputs, skips, child commands, temporary
// directories and the toy sweep shape.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/common/isa.h"

namespace moetune::test {

inline std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// A variant the CPU cannot run is reported as skipped, with the reason, never silently passed.
#define MOETUNE_SKIP_UNLESS_AVAILABLE(isa)                                              \
  do {                                                                                  \
    if (!::moetune::isa_available(isa))                                                 \
      GTEST_SKIP() << "needs " << ::moetune::isa_name(isa) << ", not available here";   \
  } while (0)

// A shell command's exit status (-1 when it did not exit) and what it wrote to stdout; the
// caller's redirections decide where stderr goes.
struct CommandOutput {
  int status;
  std::string out;
};
inline CommandOutput run_command(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, got);
  const int raw = pclose(pipe.release());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out};
}

// Names from the registry, made safe for gtest parameter names.
inline std::string param_name(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

// A fresh directory with a unique name (mkdtemp, so parallel tests never share one), removed with
// everything in it when it goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "moetune_test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The layer shape of the sweep tests, as a sweep file's `shapes:` list: small enough that a
// sweep of it takes seconds, even under the sanitizers.
constexpr char kToySweepShapes[] =
    "shapes:\n"
    "  - {hidden: 64, intermediate: 32, experts: 4, top_k: 2, shared_intermediate: 0, "
    "norm_topk_prob: true}\n";

}  // namespace moetune::test
