// compare_hidden GOT.safetensors WANT.safetensors: whether tensor hidden_states of GOT (what a
// tuned `moetune layer` wrote) reproduces that of WANT (transformers' output, tests/data/
// reference) within the tolerance of tests/test_reference.cpp. Exit 0 when it does, 1 when it
// does not (the first elements out of tolerance and the worst error on stderr), 2 on a file
// that cannot be read.
#include <cmath>
#include <cstdio>
#include <vector>

#include "harness/error.h"
#include "harness/safetensors.h"

namespace {

// The same bound as tests/test_reference.cpp, where it is derived: transformers ran the block
// in f32 on the same weights, so only summation order and exp differ (measured error 7e-8);
// real mistakes (a wrong routing normalisation, a missing shared-expert gate) move outputs by
// more than 0.1.
constexpr float kAbsTolerance = 1e-5f;
constexpr float kRelTolerance = 1e-5f;

int compare(const char* got_path, const char* want_path) {
  const moetune::SafetensorsFile got_file(got_path), want_file(want_path);
  const moetune::TensorInfo& got_info = got_file.at("hidden_states");
  const moetune::TensorInfo& want_info = want_file.at("hidden_states");
  if (got_info.shape != want_info.shape) {
    std::fprintf(stderr, "%s: hidden_states is %s, %s has %s\n", got_path,
                 moetune::shape_string(got_info.shape).c_str(), want_path,
                 moetune::shape_string(want_info.shape).c_str());
    return 1;
  }
  const std::vector<float> got = got_file.read_f32(got_info);
  const std::vector<float> want = want_file.read_f32(want_info);
  int bad = 0;
  float worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float err = std::fabs(got[i] - want[i]);
    worst = std::fmax(worst, err);
    // Written so that a NaN counts as out of tolerance.
    if (!(err <= kAbsTolerance + kRelTolerance * std::fabs(want[i])) && ++bad <= 3)
      std::fprintf(stderr, "%s: element %zu is %g, expected %g\n", got_path, i, got[i], want[i]);
  }
  std::printf("%s: %d of %zu elements out of tolerance, worst error %g\n", got_path, bad,
              got.size(), worst);
  return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: compare_hidden GOT.safetensors WANT.safetensors\n");
    return 2;
  }
  try {
    return compare(argv[1], argv[2]);
  } catch (const moetune::InputError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
