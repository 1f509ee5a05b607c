// moetune layer: runs one MoE layer of a Hugging Face checkpoint on hidden states from a
// safetensors file and writes the output (DESIGN §7).
#include <fmt/core.h>
#include <omp.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/checkpoint.h"
#include "harness/error.h"
#include "harness/safetensors.h"
#include "tools/commands.h"
#include "variants/moe_layer.h"
#include "variants/point.h"
#include "variants/selection.h"

namespace moetune::cli {
namespace {

struct LayerOptions {
  std::string model, input, output, variant, layout = "oi";
  std::string dtype;  // "": the variant's (or the gemv's), else f32
  std::string gemv;   // "": the build's selection
  int64_t layer = 0;
  int threads = 0;  // 0: every core
  bool naive = false;
  bool rounded_activations = false;
};

// The gemv variants this CPU runs for `layout` and `dtype`, for a message.
std::string runnable_gemvs(Layout layout, DType dtype) {
  std::string s;
  for (const auto& v : gemv_variants())
    if (v.layout == layout && v.dtype == dtype && isa_available(v.isa))
      s += (s.empty() ? "" : ", ") + std::string(v.name);
  return s;
}

// --gemv NAME: registered, runnable here, allowed by --rounded-activations, and of the
// weights' layout and dtype; every mistake is an InputError naming the option.
const GemvVariant* named_gemv(const LayerOptions& o, Layout layout, DType dtype) {
  if (o.gemv.empty()) return nullptr;
  const GemvVariant* g = find_gemv(o.gemv);
  if (!g)
    throw InputError("command line", "--gemv",
                     "unknown gemv variant \"" + o.gemv + "\" (moetune variants lists them)");
  if (!isa_available(g->isa))
    throw InputError(
        "command line", "--gemv",
        o.gemv + " needs " + std::string(isa_name(g->isa)) +
            ", which this CPU lacks or MOETUNE_MAX_ISA masks (it has: " + cpu_features() +
            "); runnable here for " + std::string(dtype_name(dtype)) + " " +
            std::string(layout_name(layout)) + ": " + runnable_gemvs(layout, dtype));
  if (g->rounds_activations() && !o.rounded_activations)
    throw InputError("command line", "--gemv",
                     o.gemv + " rounds the activations to " + std::string(dtype_name(g->acts)) +
                         ", which changes the results: add --rounded-activations to run it");
  if (g->layout != layout || g->dtype != dtype)
    throw InputError("command line", "--gemv",
                     o.gemv + " is for " + std::string(dtype_name(g->dtype)) + " weights in " +
                         std::string(layout_name(g->layout)) + ", the layer's are " +
                         std::string(dtype_name(dtype)) + " in " +
                         std::string(layout_name(layout)));
  return g;
}

std::string valid_strategies() {
  std::string s;
  for (const auto& v : layer_variants()) s += (s.empty() ? "" : ", ") + std::string(v.name);
  return s;
}

void run_layer(const LayerOptions& o) {
  // Names are checked before anything is loaded: a typo should not cost a checkpoint load.
  if (!o.variant.empty() && !find_layer_variant(o.variant))
    throw InputError("command line", "--variant",
                     "unknown layer strategy \"" + o.variant +
                         "\" (expected one of: " + valid_strategies() + ")");
  const LayerVariant* named = o.variant.empty() ? nullptr : find_layer_variant(o.variant);
  if (named && !o.dtype.empty() && dtype_name(named->dtype) != o.dtype)
    throw InputError("command line", "--dtype",
                     "--dtype " + o.dtype + " but --variant " + o.variant + " is for " +
                         std::string(dtype_name(named->dtype)) + " weights");
  const GemvVariant* gemv_hint = o.gemv.empty() ? nullptr : find_gemv(o.gemv);
  const DType dtype = named              ? named->dtype
                      : !o.dtype.empty() ? parse_dtype(o.dtype).value()
                      : gemv_hint        ? gemv_hint->dtype
                                         : DType::kF32;
  const Layout layout = parse_layout(o.layout).value();  // --layout checked oi or io
  if (o.naive && !o.gemv.empty())
    throw InputError("command line", "--gemv", "--gemv and --naive both choose the gemv");
  const GemvVariant* forced = named_gemv(o, layout, dtype);
  const Activations activations =
      o.rounded_activations ? Activations::kMayRound : Activations::kExact;
  const int threads = o.threads > 0 ? o.threads : omp_get_num_procs();

  // Likewise an output that cannot be written: the layer has not run yet.
  const std::filesystem::path out_dir = std::filesystem::path(o.output).parent_path();
  if (!out_dir.empty() && !std::filesystem::is_directory(out_dir))
    throw InputError(o.output, "",
                     "cannot write: directory " + out_dir.string() + " does not exist");

  const CheckpointConfig config = read_checkpoint_config(o.model);
  const int64_t H = config.shape.hidden;
  const SafetensorsFile in(o.input);
  const TensorInfo& x_info = in.at("hidden_states");
  if (x_info.shape.size() != 2 || x_info.shape[1] != H || x_info.shape[0] < 1)
    throw InputError(o.input, "tensor hidden_states",
                     "shape " + shape_string(x_info.shape) + ", expected [T, " + std::to_string(H) +
                         "] with T >= 1 (H = hidden_size of " + o.model + "/config.json)");
  const int64_t T = x_info.shape[0];
  const std::vector<float> x = in.read_f32(x_info);

  const LoadedLayer loaded = load_checkpoint_layer(o.model, o.layer, layout);
  // bf16 and int8: the checkpoint's values (read as f32) converted, router kept f32.
  std::optional<MoeWeights> converted;
  if (dtype != DType::kF32) converted.emplace(loaded.weights.converted(dtype));
  const MoeWeights& weights = converted ? *converted : loaded.weights;
  const std::string variant =
      o.variant.empty()
          ? std::string(select_layer_variant(loaded.shape, T, threads, layout, dtype))
          : o.variant;
  KernelSelection kernels =
      o.naive ? naive_kernels(layout, dtype)
              : select_kernels(loaded.shape, T, threads, layout, dtype, activations);
  if (forced) kernels.gemv = forced;
  MoeLayer layer(weights, variant, kernels, threads, T);

  std::vector<float> y(static_cast<size_t>(T * H));
  const auto start = std::chrono::steady_clock::now();
  if (T == 1)
    layer.incremental_forward(x.data(), y.data());
  else
    layer.forward(x.data(), T, y.data());
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  write_safetensors(o.output, {{"hidden_states", {{T, H}, std::move(y)}}},
                    {{"source", "moetune layer " + std::string(MOETUNE_VERSION)},
                     {"model", o.model},
                     {"layer", std::to_string(o.layer)},
                     {"strategy", variant}});
  fmt::print(stderr,
             "{} layer {} ({}), {} token{}, {} on {} thread{}, {} layout, kernels {} {} {} {}: "
             "{:.3f} ms -> {}\n",
             loaded.model_type, o.layer, loaded.shape.key(), T, T == 1 ? "" : "s", variant,
             threads, threads == 1 ? "" : "s", o.layout, kernels.gemv->name, kernels.swiglu->name,
             kernels.softmax->name, kernels.topk->name, ms, o.output);
}

}  // namespace

void add_layer_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "layer",
      "Run one MoE layer of a Hugging Face checkpoint (qwen3_moe, qwen2_moe) on tensor "
      "hidden_states [T, H] of a safetensors file; write hidden_states [T, H] f32. T = 1 takes "
      "the incremental (decode) path.");
  auto o = std::make_shared<LayerOptions>();
  cmd->add_option("--model", o->model, "checkpoint directory (config.json and safetensors)")
      ->required();
  cmd->add_option("--layer", o->layer, "layer index, 0-based")->capture_default_str();
  cmd->add_option("--input", o->input, "safetensors file holding hidden_states [T, H]")->required();
  cmd->add_option("--output", o->output, "safetensors file to write (atomically)")->required();
  cmd->add_option("--variant", o->variant,
                  "layer strategy (moetune variants lists them); default: this build's "
                  "selection for the shape, tokens and threads");
  cmd->add_option("--threads", o->threads, "threads; default: every core")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--layout", o->layout, "weight storage: oi ([out, in]) or io ([in, out])")
      ->check(CLI::IsMember({"oi", "io"}))
      ->capture_default_str();
  cmd->add_option("--dtype", o->dtype,
                  "experts' weights: f32, or the checkpoint's values converted to bf16 or int8 "
                  "(per-row scales); default: the --variant's dtype, else f32")
      ->check(CLI::IsMember(dtype_names()));
  cmd->add_flag("--naive", o->naive,
                "use the naive kernel of every op (the reference) instead of the build's "
                "selection");
  cmd->add_option("--gemv", o->gemv,
                  "run this gemv variant (moetune variants lists them) instead of the build's "
                  "selection; its dtype is the default of --dtype");
  cmd->add_flag("--rounded-activations", o->rounded_activations,
                "let the selection (or --gemv) run a gemv that rounds the activations to bf16 "
                "or quantizes them to int8 per token (changes the results; see README)");
  cmd->callback([o] { run_layer(*o); });
}

}  // namespace moetune::cli
