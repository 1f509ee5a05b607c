// The public API (include/moetune/moetune.h): a thin front over the layer of variants/ and the
// checkpoint loading of harness/. Everything the caller passes is checked here, before the
// layer runs, so that a mistake throws moetune::Error and nothing is written to the output.
#include <omp.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "harness/checkpoint.h"
#include "harness/error.h"
#include "harness/safetensors.h"
#include "moetune/moetune.h"
#include "variants/moe_layer.h"
#include "variants/selection.h"

namespace moetune {
namespace {

// Runs `f`, turning the internals' input errors into the API's one exception type with the same
// message (the one the command line prints).
template <typename F>
auto translated(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const InputError& e) {
    throw Error(e.what());
  } catch (const std::invalid_argument& e) {
    throw Error(e.what());
  }
}

Layout internal(WeightLayout l) { return l == WeightLayout::kIO ? Layout::kIO : Layout::kOI; }
DType internal(WeightType t) {
  return t == WeightType::kBF16   ? DType::kBF16
         : t == WeightType::kInt8 ? DType::kInt8
                                  : DType::kF32;
}
MoeShape internal(const LayerShape& s) {
  return {s.hidden, s.intermediate, s.experts, s.top_k, s.shared_intermediate, s.norm_topk_prob};
}
LayerShape external(const MoeShape& s) {
  return {s.hidden, s.intermediate, s.experts, s.top_k, s.shared_intermediate, s.norm_topk_prob};
}

std::string strategy_names(DType dtype) {
  std::string s;
  for (const auto& v : layer_variants())
    if (v.dtype == dtype) s += (s.empty() ? "" : ", ") + std::string(v.strategy);
  return s;
}

// options.strategy as a registry name: "grouped" or "layer_f32__grouped" for f32 weights.
std::string checked_strategy(const LayerOptions& o) {
  if (o.strategy.empty()) return {};
  const DType dtype = internal(o.dtype);
  const LayerVariant* v = find_layer_variant(o.strategy);
  if (!v) v = find_layer_variant(layer_variant_name(dtype, o.strategy));
  if (!v || v->dtype != dtype)
    throw Error("LayerOptions.strategy: no layer strategy \"" + o.strategy + "\" for " +
                std::string(dtype_name(dtype)) +
                " weights (expected one of: " + strategy_names(dtype) + ")");
  return std::string(v->name);
}

void check_options(const LayerOptions& o) {
  if (o.threads < 0)
    throw Error("LayerOptions.threads: " + std::to_string(o.threads) +
                ", expected 0 (every core) or more");
  if (o.max_tokens < 1)
    throw Error("LayerOptions.max_tokens: " + std::to_string(o.max_tokens) +
                ", expected 1 or more");
}

}  // namespace

struct Layer::State {
  State(MoeWeights w, const LayerOptions& o, std::string from)
      : weights(std::move(w)),
        shape(external(weights.shape())),
        layout(internal(o.layout)),
        dtype(internal(o.dtype)),
        threads(o.threads > 0 ? o.threads : omp_get_num_procs()),
        strategy(checked_strategy(o)),
        max_tokens(o.max_tokens),
        source(std::move(from)) {}

  // What runs for `tokens`: the forced strategy or the build's, and the build's kernels.
  std::pair<std::string, KernelSelection> selection(int64_t tokens) const {
    const MoeShape& s = weights.shape();
    return {strategy.empty() ? std::string(select_layer_variant(s, tokens, threads, layout, dtype))
                             : strategy,
            select_kernels(s, tokens, threads, layout, dtype)};
  }

  // The internal layer for `tokens`, built on first use; counts with the same selection share one.
  MoeLayer& layer_for(int64_t tokens) {
    if (auto it = by_tokens.find(tokens); it != by_tokens.end()) return *built[it->second].layer;
    auto [name, kernels] = selection(tokens);
    size_t i = 0;
    for (; i < built.size(); ++i) {
      const Built& b = built[i];
      if (b.strategy == name && b.kernels.gemv == kernels.gemv &&
          b.kernels.swiglu == kernels.swiglu && b.kernels.softmax == kernels.softmax &&
          b.kernels.topk == kernels.topk)
        break;
    }
    if (i == built.size())
      built.push_back({name, kernels,
                       std::make_unique<MoeLayer>(weights, name, kernels, threads,
                                                  std::max(tokens, max_tokens))});
    by_tokens[tokens] = i;
    return *built[i].layer;
  }

  void reset(int new_threads) {
    built.clear();
    by_tokens.clear();
    threads = new_threads;
  }

  struct Built {
    std::string strategy;
    KernelSelection kernels;
    std::unique_ptr<MoeLayer> layer;
  };

  MoeWeights weights;  // the layers below keep a reference to it
  LayerShape shape;
  Layout layout;
  DType dtype;
  int threads;
  std::string strategy;  // registry name, or empty: the build's selection
  int64_t max_tokens;
  std::string source;  // for describe()
  std::vector<Built> built;
  std::map<int64_t, size_t> by_tokens;
};

Layer::Layer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Layer::Layer(Layer&&) noexcept = default;
Layer& Layer::operator=(Layer&&) noexcept = default;
Layer::~Layer() = default;

Layer Layer::from_pretrained(const std::string& dir, int64_t layer, const LayerOptions& options) {
  check_options(options);
  checked_strategy(options);  // a typo should not cost a checkpoint load
  return translated([&] {
    LoadedLayer loaded = load_checkpoint_layer(dir, layer, internal(options.layout));
    const DType dtype = internal(options.dtype);
    MoeWeights weights =
        dtype == DType::kF32 ? std::move(loaded.weights) : loaded.weights.converted(dtype);
    return Layer(std::make_unique<State>(
        std::move(weights), options,
        loaded.model_type + " checkpoint " + dir + ", layer " + std::to_string(layer)));
  });
}

Layer Layer::from_weights(const LayerWeights& w, const LayerOptions& options) {
  check_options(options);
  const MoeShape shape = internal(w.shape);
  if (const std::string why = shape.validate(); !why.empty())
    throw Error("LayerWeights.shape: " + why);
  const DType dtype = internal(options.dtype);
  const bool int8 = dtype == DType::kInt8;
  const int64_t E = shape.experts;
  auto need = [](const void* p, const std::string& what) {
    if (!p) throw Error("LayerWeights." + what + " is null");
  };
  auto need_list = [&](const auto& list, const std::string& what) {
    if (static_cast<int64_t>(list.size()) != E)
      throw Error("LayerWeights." + what + ": " + std::to_string(list.size()) +
                  " pointers, expected one per expert (" + std::to_string(E) + ")");
    for (int64_t e = 0; e < E; ++e) need(list[e], what + "[" + std::to_string(e) + "]");
  };
  // Per projection: the experts' matrices and int8 scales, then the shared expert's.
  const struct {
    std::string name;
    const std::vector<const void*>& routed;
    const std::vector<const float*>& routed_scales;
    const void* shared;
    const float* shared_scale;
  } projections[] = {
      {"gate", w.gate_proj, w.gate_scale, w.shared_gate_proj, w.shared_gate_scale},
      {"up", w.up_proj, w.up_scale, w.shared_up_proj, w.shared_up_scale},
      {"down", w.down_proj, w.down_scale, w.shared_down_proj, w.shared_down_scale},
  };
  need(w.router, "router");
  if (shape.has_shared_expert()) need(w.shared_expert_gate, "shared_expert_gate");
  for (const auto& p : projections) {
    need_list(p.routed, p.name + "_proj");
    if (int8) need_list(p.routed_scales, p.name + "_scale");
    if (!shape.has_shared_expert()) continue;
    need(p.shared, "shared_" + p.name + "_proj");
    if (int8) need(p.shared_scale, "shared_" + p.name + "_scale");
  }
  checked_strategy(options);

  MoeWeights weights(shape, internal(options.layout), dtype);
  weights.set_router(w.router);
  for (int64_t e = 0; e < E; ++e) {
    weights.set_expert_stored(e, Proj::kGate, w.gate_proj[e], int8 ? w.gate_scale[e] : nullptr);
    weights.set_expert_stored(e, Proj::kUp, w.up_proj[e], int8 ? w.up_scale[e] : nullptr);
    weights.set_expert_stored(e, Proj::kDown, w.down_proj[e], int8 ? w.down_scale[e] : nullptr);
  }
  if (shape.has_shared_expert()) {
    weights.set_shared_expert_gate(w.shared_expert_gate);
    weights.set_shared_stored(Proj::kGate, w.shared_gate_proj, w.shared_gate_scale);
    weights.set_shared_stored(Proj::kUp, w.shared_up_proj, w.shared_up_scale);
    weights.set_shared_stored(Proj::kDown, w.shared_down_proj, w.shared_down_scale);
  }
  return translated([&] {
    return Layer(std::make_unique<State>(std::move(weights), options, "the caller's weights"));
  });
}

void Layer::forward(const float* x, int64_t tokens, float* y) {
  if (!x || !y) throw Error(std::string("Layer::forward: ") + (x ? "y" : "x") + " is null");
  if (tokens < 1)
    throw Error("Layer::forward: tokens = " + std::to_string(tokens) + ", expected 1 or more");
  const int64_t n = tokens * state_->shape.hidden;
  if (x < y + n && y < x + n)
    throw Error("Layer::forward: x and y overlap (each is [tokens, hidden] = [" +
                std::to_string(tokens) + ", " + std::to_string(state_->shape.hidden) + "])");
  translated([&] { state_->layer_for(tokens).forward(x, tokens, y); });
}

void Layer::incremental_forward(const float* x, float* y) {
  if (!x || !y)
    throw Error(std::string("Layer::incremental_forward: ") + (x ? "y" : "x") + " is null");
  const int64_t n = state_->shape.hidden;
  if (x < y + n && y < x + n) throw Error("Layer::incremental_forward: x and y overlap");
  translated([&] { state_->layer_for(1).incremental_forward(x, y); });
}

const LayerShape& Layer::shape() const { return state_->shape; }
int Layer::threads() const { return state_->threads; }

void Layer::set_threads(int threads) {
  if (threads < 0)
    throw Error("Layer::set_threads: " + std::to_string(threads) +
                ", expected 0 (every core) or more");
  state_->reset(threads > 0 ? threads : omp_get_num_procs());
}

std::string Layer::describe(int64_t tokens) const {
  if (tokens < 1)
    throw Error("Layer::describe: tokens = " + std::to_string(tokens) + ", expected 1 or more");
  const State& s = *state_;
  const MoeShape& shape = s.weights.shape();
  const auto [strategy, kernels] = s.selection(tokens);
  // Why each op got its variant: "tuned", "nearest tuned" or "default: ...".
  auto why = [&](Op op) {
    const Point at{op,     shape,   op_reads_weights(op) ? s.dtype : DType::kF32,
                   op_layout(op, s.layout), tokens, s.threads};
    return std::string(choose(at).why);
  };
  std::string out = "moetune " + std::string(version()) + ": " + s.source + "\n";
  out += "shape " + shape.key() + ", " + std::string(dtype_name(s.dtype)) + " weights in " +
         std::string(layout_name(s.layout)) + ", " + std::to_string(s.threads) + " thread" +
         (s.threads == 1 ? "" : "s") + ", " + std::to_string(tokens) + " token" +
         (tokens == 1 ? " (incremental_forward)" : "s") + "\n";
  out += "strategy " + strategy + " (" + (s.strategy.empty() ? why(Op::kLayer) : "forced") + ")\n";
  out += "gemv " + std::string(kernels.gemv->name) + " (" + why(Op::kGemv) + ")\n";
  out += "swiglu " + std::string(kernels.swiglu->name) + " (" + why(Op::kSwiglu) + ")\n";
  out += "softmax " + std::string(kernels.softmax->name) + " (" + why(Op::kSoftmax) + ")\n";
  out += "topk " + std::string(kernels.topk->name) + " (" + why(Op::kTopk) + ")\n";
  const SelectionTable& t = compiled_selection();
  if (t.tuned)
    out += "selection: tuned header (" + std::to_string(t.size) + " entries) generated by " +
           std::string(t.provenance.generator) + " from " + std::string(t.provenance.results) +
           " (sha256 " + std::string(t.provenance.results_sha256) + "), machine " +
           std::string(t.provenance.machine) + " (" + std::string(t.provenance.cpuid) +
           "), commit " + std::string(t.provenance.commit) + ", measured " +
           std::string(t.provenance.measured) + "\n";
  else
    out += "selection: defaults (variants/default_selection.inc); no tuned header compiled in\n";
  return out;
}

std::vector<float> read_tensor(const std::string& path, const std::string& name,
                               std::vector<int64_t>* shape) {
  return translated([&] {
    const SafetensorsFile file(path);
    const TensorInfo& t = file.at(name);
    if (shape) *shape = t.shape;
    return file.read_f32(t);
  });
}

void write_tensor(const std::string& path, const std::string& name,
                  const std::vector<int64_t>& shape, const std::vector<float>& data) {
  translated([&] {
    write_safetensors(path, {{name, F32Tensor{shape, data}}},
                      {{"source", "moetune " + std::string(version())}});
  });
}

const char* version() { return MOETUNE_VERSION_STRING; }

}  // namespace moetune
