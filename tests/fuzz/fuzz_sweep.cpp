// libFuzzer target: the sweep parser (harness/sweep_config.h) on arbitrary text. A sweep file is
// user input, so every input must end in a SweepConfig or an InputError; anything else (another
// exception escaping, a crash, a sanitizer report, a hang) is a bug that the fuzzer reports.
#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/error.h"
#include "harness/sweep_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const moetune::SweepConfig config = moetune::parse_sweep(text, "fuzz.yaml");
    // Expanding is what the runner does next. A short file can still ask for a product of
    // lists with millions of cases, which is legal (and slow) rather than a bug: only expand
    // what a real run could hold in memory.
    // (In floating point: the product of a few long lists overflows size_t.)
    double cases = 0;
    const double points = double(config.shapes.size()) * double(config.tokens.size()) *
                          double(config.threads.size()) * double(config.dtypes.size()) *
                          double(config.layouts.size());
    for (const auto& entry : config.variants) cases += points * double(entry.second.size());
    if (cases <= 100000) {
      for (const auto& c : moetune::expand(config))
        if (c.id.empty()) __builtin_trap();  // every case needs its journal key
    }
  } catch (const moetune::InputError&) {
    // The accepted outcome for a bad file.
  }
  return 0;
}
