// The machine fingerprint names the compiler that built this very binary, and its flags
// (DESIGN §5: results record which compiler built them). The tests are compiled by the same
// compiler, with the same build type, as the harness, so the compiler's own predefined macros say
// what the fingerprint must say.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>
#include <string>

#include "harness/fingerprint.h"

namespace moetune {
namespace {

#define MOETUNE_STR2(x) #x
#define MOETUNE_STR(x) MOETUNE_STR2(x)

TEST(Fingerprint, NamesTheCompilerThatBuiltIt) {
#if defined(__clang__)
  // CMake's id for LLVM's clang; Apple's would be AppleClang, not a target of this project.
  const std::string expected = "Clang " MOETUNE_STR(__clang_major__) "." MOETUNE_STR(
      __clang_minor__) "." MOETUNE_STR(__clang_patchlevel__);
#elif defined(__GNUC__)
  const std::string expected = "GNU " MOETUNE_STR(__GNUC__) "." MOETUNE_STR(
      __GNUC_MINOR__) "." MOETUNE_STR(__GNUC_PATCHLEVEL__);
#else
  GTEST_SKIP() << "a compiler this test does not know";
  const std::string expected;
#endif
  const Fingerprint f = machine_fingerprint();
  EXPECT_EQ(f.compiler, expected);
  EXPECT_EQ(to_json(f).at("compiler"), expected);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MOETUNE_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define MOETUNE_TEST_ASAN 1
#endif

TEST(Fingerprint, FlagsAreThoseOfThisBuild) {
  const std::string flags = machine_fingerprint().compiler_flags;
  // A Release build's flags, not a Debug or sanitized build's, are the ones timings come from:
  // which of them built this binary must be visible in its results.
#ifdef NDEBUG
  EXPECT_NE(flags.find("-DNDEBUG"), std::string::npos) << flags;
#else
  EXPECT_EQ(flags.find("-DNDEBUG"), std::string::npos) << flags;
#endif
#ifdef MOETUNE_TEST_ASAN
  EXPECT_NE(flags.find("-fsanitize="), std::string::npos) << flags;
#else
  EXPECT_EQ(flags.find("-fsanitize="), std::string::npos) << flags;
#endif
}

// CPUID's vendor and signature, as the kernel reads them into /proc/cpuinfo: what tells a
// Zen 3 from a Zen 4 whose brand strings both read "AMD EPYC".
TEST(Fingerprint, CpuIdAgreesWithProcCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  std::map<std::string, std::string> field;
  for (std::string line; std::getline(in, line) && !line.empty();) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    field[key] = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
  }
  if (!field.count("cpu family")) GTEST_SKIP() << "no x86 /proc/cpuinfo here";
  const Fingerprint f = machine_fingerprint();
  EXPECT_EQ(f.cpuid.vendor, field["vendor_id"]);
  EXPECT_EQ(std::to_string(f.cpuid.family), field["cpu family"]);
  EXPECT_EQ(std::to_string(f.cpuid.model), field["model"]);
  EXPECT_EQ(std::to_string(f.cpuid.stepping), field["stepping"]);
  const auto j = to_json(f).at("cpuid");
  EXPECT_EQ(j.at("family"), f.cpuid.family);
  EXPECT_EQ(j.at("vendor"), f.cpuid.vendor);

  // Each feature word of the fingerprint is the kernel's flag of the same extension (the
  // kernel lists a flag only where the OS enabled its state, as cpu_features checks XCR0).
  std::set<std::string> flags;
  std::istringstream words(field["flags"]);
  for (std::string w; words >> w;) flags.insert(w);
  const std::pair<const char*, std::vector<const char*>> words_and_flags[] = {
      {"avx2", {"avx2"}},
      {"avx512f", {"avx512f"}},
      {"avx512bf16", {"avx512_bf16"}},
      {"avx512vnni", {"avx512_vnni"}},
      {"avxvnni", {"avx_vnni"}},
      {"amxbf16", {"amx_tile", "amx_bf16"}},
      {"amxint8", {"amx_tile", "amx_int8"}},
  };
  std::set<std::string> features;
  std::istringstream fw(f.cpu_features);
  for (std::string w; fw >> w;) features.insert(w);
  for (const auto& [word, needs] : words_and_flags) {
    bool all = true;
    for (const char* flag : needs) all = all && flags.count(flag);
    EXPECT_EQ(features.count(word) == 1, all) << word << " in '" << f.cpu_features << "'";
  }
}

}  // namespace
}  // namespace moetune
