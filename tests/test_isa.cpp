// Instruction-set levels: names, the MOETUNE_MAX_ISA cap, reading another machine's feature
// line, and what `moetune variants` says about this machine.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "kernels/common/isa.h"
#include "tests/test_util.h"
#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

// Sets MOETUNE_MAX_ISA for the scope of one check.
class MaxIsa {
 public:
  explicit MaxIsa(const char* value) { setenv("MOETUNE_MAX_ISA", value, 1); }
  ~MaxIsa() { unsetenv("MOETUNE_MAX_ISA"); }
};

TEST(Isa, NamesRoundTripInGenerationOrder) {
  const auto& levels = isa_levels();
  ASSERT_EQ(levels.front(), Isa::kBaseline);
  ASSERT_EQ(levels.back(), Isa::kAmx);
  for (Isa isa : levels) EXPECT_EQ(parse_isa(isa_name(isa)), isa) << isa_name(isa);
  EXPECT_FALSE(parse_isa("openblas"));  // not an instruction set a cap can name
  EXPECT_FALSE(parse_isa("avx3"));
}

TEST(Isa, MaxIsaCapsEveryLaterLevel) {
  for (Isa cap : isa_levels()) {
    MaxIsa env(std::string(isa_name(cap)).c_str());
    EXPECT_EQ(max_isa_error(), "");
    bool beyond = false;
    for (Isa isa : isa_levels()) {
      if (beyond) {
        EXPECT_FALSE(isa_available(isa)) << isa_name(isa) << " under " << isa_name(cap);
      }
      beyond = beyond || isa == cap;
    }
    EXPECT_TRUE(isa_available(Isa::kBaseline));
  }
  // Unset: exactly what the CPU has.
  EXPECT_TRUE(isa_available(Isa::kBaseline));
}

TEST(Isa, AnUnknownCapIsAnErrorAndMasksEverythingButTheBaseline) {
  MaxIsa env("avx1024");
  const std::string e = max_isa_error();
  EXPECT_NE(e.find("MOETUNE_MAX_ISA"), std::string::npos) << e;
  EXPECT_NE(e.find("'avx1024'"), std::string::npos) << e;
  EXPECT_NE(e.find("avx512bf16"), std::string::npos) << e;
  EXPECT_TRUE(isa_available(Isa::kBaseline));
  EXPECT_FALSE(isa_available(Isa::kAvx2));
}

// A results file's cpu_features line says what the machine that measured could run.
TEST(Isa, FeaturesOfAnotherMachine) {
  const std::string zen3 = "sse4.2 avx avx2 fma f16c";
  const std::string zen4 =
      "sse4.2 avx avx2 fma f16c avx512f avx512bw avx512dq avx512vl avx512bf16 avx512vnni";
  EXPECT_TRUE(features_have(zen3, Isa::kAvx2));
  EXPECT_FALSE(features_have(zen3, Isa::kAvx512));
  EXPECT_FALSE(features_have(zen3, Isa::kAvxVnni));
  EXPECT_TRUE(features_have(zen4, Isa::kAvx512Bf16));
  EXPECT_TRUE(features_have(zen4, Isa::kAvx512Vnni));
  EXPECT_FALSE(features_have(zen4, Isa::kAvxVnni));
  EXPECT_TRUE(features_have(zen4 + " avxvnni (simde)", Isa::kAvxVnni));
  EXPECT_FALSE(features_have(zen4, Isa::kAmx));
  // Sapphire Rapids: AMX is the tile unit on top of AVX-512, both of its words needed.
  const std::string spr =
      "sse4.2 avx avx2 fma f16c avx512f avx512bw avx512dq avx512vl avx512bf16 avx512vnni "
      "avxvnni amxbf16 amxint8";
  for (Isa isa : isa_levels()) EXPECT_TRUE(features_have(spr, isa)) << isa_name(isa);
  EXPECT_FALSE(features_have("sse4.2 avx avx2 fma f16c avx512f avx512bw avx512dq avx512vl amxbf16",
                             Isa::kAmx));
  EXPECT_FALSE(features_have("sse4.2 avx avx2 fma f16c amxbf16 amxint8", Isa::kAmx));
  // Whole words only: "avx512f" alone is not AVX-512 as the kernels need it.
  EXPECT_FALSE(features_have("sse4.2 avx avx2 fma f16c avx512f", Isa::kAvx512));
  EXPECT_FALSE(features_have("avx2x fma f16c", Isa::kAvx2));
  EXPECT_TRUE(features_have("", Isa::kBaseline));
}

// What this CPU reports is what isa_available finds, unmasked.
TEST(Isa, ThisCpusFeaturesAgreeWithAvailability) {
  for (Isa isa : isa_levels())
    EXPECT_EQ(features_have(cpu_features(), isa), isa_available(isa))
        << isa_name(isa) << " in '" << cpu_features() << "'";
}

using Output = test::CommandOutput;

Output run(const std::string& env_and_args) { return test::run_command(env_and_args + " 2>&1"); }

TEST(VariantsCommand, SaysWhatThisCpuHasAndWhatEachVariantMultiplies) {
  const Output text = run(std::string(MOETUNE_BINARY) + " variants");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("features: " + cpu_features()), std::string::npos) << text.out;
  const Output o = run(std::string(MOETUNE_BINARY) + " variants --json");
  ASSERT_EQ(o.status, 0) << o.out;
  const auto j = nlohmann::json::parse(o.out);
  int rounded = 0;
  for (const auto& v : j) {
    const GemvVariant* g =
        v.at("op") == "gemv" ? find_gemv(v.at("name").get<std::string>()) : nullptr;
    EXPECT_EQ(v.at("activations"), dtype_name(g ? g->acts : DType::kF32)) << v;
    const auto isa = parse_isa(v.at("isa").get<std::string>());  // none for openblas
    if (isa) {
      EXPECT_EQ(v.at("available").get<bool>(), isa_available(*isa)) << v;
    }
    rounded += v.at("activations") != "f32";
  }
  EXPECT_GE(rounded, 2);  // the bf16 x bf16 and int8 x int8 references at least
}

TEST(VariantsCommand, ACappedBuildListsWiderVariantsAsUnavailable) {
  const Output o = run("MOETUNE_MAX_ISA=avx2 " + std::string(MOETUNE_BINARY) + " variants --json");
  ASSERT_EQ(o.status, 0) << o.out;
  for (const auto& v : nlohmann::json::parse(o.out)) {
    const std::string isa = v.at("isa");
    if (isa.rfind("avx512", 0) == 0 || isa == "avxvnni" || isa == "amx") {
      EXPECT_FALSE(v.at("available").get<bool>()) << v;
    }
  }
}

// Capped one level below AMX (what a Zen 4 or an Ice Lake with AVX512_BF16 runs), the AMX
// variants are listed and unavailable, the avx512bf16 ones as the CPU has them.
TEST(VariantsCommand, CappedBelowAmxListsTheAmxVariantsAsUnavailable) {
  const Output o =
      run("MOETUNE_MAX_ISA=avx512bf16 " + std::string(MOETUNE_BINARY) + " variants --json");
  ASSERT_EQ(o.status, 0) << o.out;
  int amx = 0;
  for (const auto& v : nlohmann::json::parse(o.out)) {
    if (v.at("isa") == "amx") {
      EXPECT_FALSE(v.at("available").get<bool>()) << v;
      ++amx;
    }
  }
  EXPECT_GE(amx, 2);  // gemv_bf16xbf16_oi__amx_gemm and gemv_int8xint8_oi__amx_gemm
}

TEST(VariantsCommand, AnUnknownMaxIsaExits2WithTheReason) {
  const Output o = run("MOETUNE_MAX_ISA=avx3 " + std::string(MOETUNE_BINARY) + " variants");
  EXPECT_EQ(o.status, 2) << o.out;
  EXPECT_NE(o.out.find("MOETUNE_MAX_ISA: unknown instruction set 'avx3'"), std::string::npos)
      << o.out;
}

}  // namespace
}  // namespace moetune
