// run_layer MODEL_DIR LAYER IN.safetensors [OUT.safetensors] [--threads N] [--calls N]
//
// Loads layer LAYER of a Hugging Face Qwen MoE checkpoint with moetune's tuned layer, runs it on
// tensor hidden_states [T, H] of IN.safetensors (T = 1: the decode path), prints what it runs
// and the median time per call, and writes the output as hidden_states to OUT.safetensors.
#include <moetune/moetune.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string> args;
  moetune::LayerOptions options;
  int calls = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--threads" || a == "--calls") && i + 1 < argc) {
      const int v = std::atoi(argv[++i]);
      (a == "--threads" ? options.threads : calls) = v;
    } else {
      args.push_back(a);
    }
  }
  if (args.size() < 3 || args.size() > 4 || calls < 1) {
    std::fprintf(stderr,
                 "usage: run_layer MODEL_DIR LAYER IN.safetensors [OUT.safetensors] "
                 "[--threads N] [--calls N]\n");
    return 2;
  }
  try {
    std::vector<int64_t> shape;
    const std::vector<float> x = moetune::read_tensor(args[2], "hidden_states", &shape);
    if (shape.size() != 2) throw moetune::Error(args[2] + ": hidden_states must be [T, H]");
    const int64_t tokens = shape[0];
    options.max_tokens = tokens;
    moetune::Layer layer = moetune::Layer::from_pretrained(args[0], std::stoll(args[1]), options);
    if (shape[1] != layer.shape().hidden)
      throw moetune::Error(args[2] + ": hidden_states has " + std::to_string(shape[1]) +
                           " columns, the layer's hidden size is " +
                           std::to_string(layer.shape().hidden));
    std::printf("moetune %s (header %s)\n%s", moetune::version(), MOETUNE_VERSION_STRING,
                layer.describe(tokens).c_str());

    std::vector<float> y(x.size());
    auto call = [&] {
      if (tokens == 1)
        layer.incremental_forward(x.data(), y.data());
      else
        layer.forward(x.data(), tokens, y.data());
    };
    call();  // the first call builds the layer's buffers for this token count
    std::vector<double> ms;
    for (int i = 0; i < calls; ++i) {
      const auto start = std::chrono::steady_clock::now();
      call();
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%lld token%s: %.4f ms per call (median of %d)\n", static_cast<long long>(tokens),
                tokens == 1 ? "" : "s", ms[ms.size() / 2], calls);
    if (args.size() == 4) moetune::write_tensor(args[3], "hidden_states", shape, y);
  } catch (const moetune::Error& e) {
    std::fprintf(stderr, "run_layer: %s\n", e.what());
    return 2;
  } catch (const std::logic_error& e) {  // std::stoll on a LAYER that is not a number
    std::fprintf(stderr, "run_layer: LAYER must be a number: %s\n", args[1].c_str());
    return 2;
  }
  return 0;
}
