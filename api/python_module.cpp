// The Python module `moetune` (pybind11): the public API's Layer on numpy arrays.
//
//   import moetune, numpy as np
//   layer = moetune.MoeLayer.from_pretrained("Qwen3-30B-A3B", 0, dtype="bf16", threads=8)
//   y = layer(x)   # x: [tokens, hidden] float32, C-contiguous; y: a new array of the same shape
//
// Arrays are never converted behind the caller's back (a float64 array would be a copy per call):
// a wrong dtype or layout is a TypeError, a wrong shape a ValueError, and moetune.Error (a
// ValueError) carries the library's messages.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "moetune/moetune.h"

namespace py = pybind11;

namespace {

moetune::WeightType weight_type(const std::string& s) {
  if (s == "f32") return moetune::WeightType::kF32;
  if (s == "bf16") return moetune::WeightType::kBF16;
  if (s == "int8") return moetune::WeightType::kInt8;
  throw py::value_error("dtype='" + s + "': expected 'f32', 'bf16' or 'int8'");
}

moetune::WeightLayout weight_layout(const std::string& s) {
  if (s == "oi") return moetune::WeightLayout::kOI;
  if (s == "io") return moetune::WeightLayout::kIO;
  throw py::value_error("layout='" + s + "': expected 'oi' or 'io'");
}

// x as the layer reads it: float32, 2-D [tokens, hidden], C-contiguous, aligned.
void check_input(const py::array& x, int64_t hidden) {
  // float32 in this machine's byte order (numpy's "equivalent types": '>f4' is not).
  if (!py::isinstance<py::array_t<float>>(x))
    throw py::type_error("x has dtype " + std::string(py::str(x.dtype())) +
                         ", expected float32 (use x.astype(numpy.float32))");
  if (x.ndim() != 2)
    throw py::value_error("x has " + std::to_string(x.ndim()) +
                          " dimensions, expected 2: [tokens, " + std::to_string(hidden) + "]");
  if (x.shape(1) != hidden)
    throw py::value_error("x has shape [" + std::to_string(x.shape(0)) + ", " +
                          std::to_string(x.shape(1)) + "], expected [tokens, " +
                          std::to_string(hidden) + "] (hidden_size of the layer)");
  if (x.shape(0) < 1)
    throw py::value_error("x has no tokens (shape [0, " + std::to_string(hidden) + "])");
  if (!(x.flags() & py::array::c_style) ||
      !(x.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw py::type_error("x is not a C-contiguous aligned array (use numpy.ascontiguousarray(x))");
}

py::array_t<float> call(moetune::Layer& layer, const py::array& x) {
  const int64_t hidden = layer.shape().hidden;
  check_input(x, hidden);
  const int64_t tokens = x.shape(0);
  py::array_t<float> y({tokens, hidden});
  const float* in = static_cast<const float*>(x.data());
  float* out = y.mutable_data();
  {
    // The layer runs its own OpenMP threads; other Python threads may run meanwhile.
    py::gil_scoped_release release;
    if (tokens == 1)
      layer.incremental_forward(in, out);
    else
      layer.forward(in, tokens, out);
  }
  return y;
}

}  // namespace

PYBIND11_MODULE(moetune, m) {
  m.doc() = "moetune: the Qwen MoE layer with the kernels this build selected for the machine";
  m.attr("__version__") = moetune::version();
  py::register_exception<moetune::Error>(m, "Error", PyExc_ValueError);

  py::class_<moetune::Layer>(m, "MoeLayer")
      .def_static(
          "from_pretrained",
          [](const std::string& dir, int64_t layer, const std::string& dtype, int threads,
             const std::string& layout, const std::string& strategy) {
            moetune::LayerOptions o;
            o.dtype = weight_type(dtype);
            o.layout = weight_layout(layout);
            o.threads = threads;
            o.strategy = strategy;
            py::gil_scoped_release release;
            return moetune::Layer::from_pretrained(dir, layer, o);
          },
          py::arg("dir"), py::arg("layer"), py::arg("dtype") = "f32", py::arg("threads") = 0,
          py::arg("layout") = "oi", py::arg("strategy") = "",
          "Layer `layer` (0-based) of a Hugging Face qwen3_moe/qwen2_moe checkpoint directory; "
          "dtype: the experts' weights ('f32', 'bf16', 'int8'); threads: 0 = every core.")
      .def("__call__", &call, py::arg("x"),
           "y = layer(x): x [tokens, hidden] float32 C-contiguous; one token takes the decode "
           "path.")
      .def("forward", &call, py::arg("x"))
      .def("describe", &moetune::Layer::describe, py::arg("tokens") = 1,
           "The strategy and kernels run for `tokens`, and the selection's provenance.")
      .def_property_readonly("hidden", [](const moetune::Layer& l) { return l.shape().hidden; })
      .def_property_readonly("shape",
                             [](const moetune::Layer& l) {
                               const auto& s = l.shape();
                               py::dict d;
                               d["hidden"] = s.hidden;
                               d["intermediate"] = s.intermediate;
                               d["experts"] = s.experts;
                               d["top_k"] = s.top_k;
                               d["shared_intermediate"] = s.shared_intermediate;
                               d["norm_topk_prob"] = s.norm_topk_prob;
                               return d;
                             })
      .def_property("threads", &moetune::Layer::threads, &moetune::Layer::set_threads);
}
