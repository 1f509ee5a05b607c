#include "variants/point.h"

#include <charconv>
#include <tuple>
#include <vector>

#include "kernels/common/text.h"

namespace moetune {

// op_name, parse_op and op_reads_weights read the op traits table (variants/op_traits.cpp).

std::optional<Layout> parse_layout(std::string_view name) {
  if (name == "oi") return Layout::kOI;
  if (name == "io") return Layout::kIO;
  return std::nullopt;
}

std::string_view layout_text(std::optional<Layout> layout) {
  return layout ? layout_name(*layout) : std::string_view("any");
}

std::optional<Layout> op_layout(Op op, Layout weights) {
  return op_reads_weights(op) ? std::optional<Layout>(weights) : std::nullopt;
}

std::string_view Point::layout_text() const { return moetune::layout_text(layout); }

std::string Point::id() const {
  std::string s(op_name(op));
  s += '/';
  s += shape.key();
  s += '/';
  s += dtype_name(dtype);
  s += '/';
  s += layout_text();
  s += "/tokens:" + std::to_string(tokens) + "/threads:" + std::to_string(threads);
  return s;
}

std::string Point::case_id(std::string_view variant) const {
  std::string s(op_name(op));
  s += '/';
  s += variant;
  s += id().substr(op_name(op).size());
  return s;
}

namespace {

auto fields(const Point& p) {
  const MoeShape& s = p.shape;
  return std::make_tuple(static_cast<int>(p.op), s.hidden, s.intermediate, s.experts, s.top_k,
                         s.shared_intermediate, s.norm_topk_prob, p.tokens, p.threads,
                         static_cast<int>(p.dtype), p.layout ? static_cast<int>(*p.layout) : -1);
}

// A whole decimal number of at least `min`, nothing around it.
template <typename T>
std::optional<T> parse_int(std::string_view s, T min) {
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < min) return std::nullopt;
  return v;
}

template <typename T>
std::optional<T> parse_tagged(std::string_view s, std::string_view tag, T min) {
  if (s.substr(0, tag.size()) != tag) return std::nullopt;
  return parse_int<T>(s.substr(tag.size()), min);
}

}  // namespace

bool Point::operator==(const Point& o) const { return fields(*this) == fields(o); }
bool Point::operator<(const Point& o) const { return fields(*this) < fields(o); }

std::string point_problem(const Point& p) {
  if (!op_reads_weights(p.op)) {
    if (p.dtype != DType::kF32 || p.layout)
      return std::string(op_name(p.op)) + " does not read weights: dtype f32, layout any";
    return {};
  }
  if (!p.layout) return std::string(op_name(p.op)) + " needs a layout, oi or io";
  return {};
}

std::optional<MoeShape> parse_shape_key(std::string_view key) {
  const auto parts = split_text(key, '_');
  if (parts.size() != 6) return std::nullopt;
  MoeShape s;
  const auto h = parse_tagged<int64_t>(parts[0], "H", 1);
  const auto i = parse_tagged<int64_t>(parts[1], "I", 1);
  const auto e = parse_tagged<int64_t>(parts[2], "E", 1);
  const auto k = parse_tagged<int64_t>(parts[3], "k", 1);
  const auto sh = parse_tagged<int64_t>(parts[4], "S", 0);
  if (!h || !i || !e || !k || !sh) return std::nullopt;
  if (parts[5] != "norm" && parts[5] != "nonorm") return std::nullopt;
  s = {*h, *i, *e, *k, *sh, parts[5] == "norm"};
  if (!s.validate().empty()) return std::nullopt;
  return s;
}

std::optional<Point> parse_point_fields(std::string_view op, const MoeShape& shape,
                                        std::string_view dtype, std::string_view layout,
                                        int64_t tokens, int threads) {
  const auto o = parse_op(op);
  const auto d = parse_dtype(dtype);
  if (!o || !d) return std::nullopt;
  Point p;
  p.op = *o;
  p.shape = shape;
  p.dtype = *d;
  if (layout != "any" && !(p.layout = parse_layout(layout))) return std::nullopt;
  p.tokens = tokens;
  p.threads = threads;
  if (!point_problem(p).empty()) return std::nullopt;
  return p;
}

std::optional<Point> parse_point(std::string_view id) {
  const auto parts = split_text(id, '/');
  if (parts.size() != 6) return std::nullopt;
  Point p;
  const auto op = parse_op(parts[0]);
  const auto shape = parse_shape_key(parts[1]);
  const auto dtype = parse_dtype(parts[2]);
  const auto tokens = parse_tagged<int64_t>(parts[4], "tokens:", 1);
  const auto threads = parse_tagged<int>(parts[5], "threads:", 1);
  if (!op || !shape || !dtype || !tokens || !threads) return std::nullopt;
  p.op = *op;
  p.shape = *shape;
  p.dtype = *dtype;
  if (parts[3] != "any") {
    p.layout = parse_layout(parts[3]);
    if (!p.layout) return std::nullopt;
  }
  p.tokens = *tokens;
  p.threads = *threads;
  if (!point_problem(p).empty()) return std::nullopt;
  return p;
}

std::optional<PointCase> parse_case_id(std::string_view id) {
  const size_t first = id.find('/');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = id.find('/', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::string point_text(id.substr(0, first));
  point_text += id.substr(second);
  auto p = parse_point(point_text);
  const std::string_view variant = id.substr(first + 1, second - first - 1);
  if (!p || variant.empty()) return std::nullopt;
  return PointCase{*p, std::string(variant)};
}

}  // namespace moetune
