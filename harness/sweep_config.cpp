#include "harness/sweep_config.h"

#include <omp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "harness/error.h"
#include "variants/selection.h"

namespace moetune {
namespace {

std::string where(const YAML::Mark& m) {
  if (m.is_null()) return "";
  return "line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1);
}

std::string join(const std::vector<std::string_view>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : ", ") + std::string(x);
  return s;
}

// The sweep's ops or dtypes, as a message names them.
template <class T, class Name>
std::string join_names(const std::vector<T>& items, Name name) {
  std::vector<std::string_view> names;
  for (const T& item : items) names.push_back(name(item));
  return join(names);
}

// Reads one sweep file's nodes; every error names the file, the node's place and the key.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key,
                         const std::string& message) const {
    throw InputError(file_, where(at.Mark()), (key.empty() ? "" : "'" + key + "': ") + message);
  }

  // What the node holds, for "got ..." in messages.
  static std::string shown(const YAML::Node& n) {
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a map";
    return "nothing";
  }

  std::string scalar(const YAML::Node& n, const std::string& key, const std::string& expected) {
    if (!n.IsScalar()) fail(n, key, "expected " + expected + ", got " + shown(n));
    return n.Scalar();
  }

  int64_t integer(const YAML::Node& n, const std::string& key, int64_t lo, int64_t hi) {
    const std::string expected = "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
    const std::string s = scalar(n, key, expected);
    int64_t v = 0;
    const char* end = s.data() + s.size();
    const auto r = std::from_chars(s.data() + (!s.empty() && s[0] == '+'), end, v);
    if (r.ec == std::errc::result_out_of_range) fail(n, key, expected + ", got '" + s + "'");
    if (r.ec != std::errc() || r.ptr != end)
      fail(n, key, "expected " + expected + ", got '" + s + "'");
    if (v < lo || v > hi) fail(n, key, "expected " + expected + ", got " + s);
    return v;
  }

  double real(const YAML::Node& n, const std::string& key, double lo_exclusive, double hi) {
    std::ostringstream ex;
    ex << "a number greater than " << lo_exclusive << " and at most " << hi;
    const std::string s = scalar(n, key, ex.str());
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v))
      fail(n, key, "expected " + ex.str() + ", got '" + s + "'");
    if (!(v > lo_exclusive && v <= hi)) fail(n, key, "expected " + ex.str() + ", got " + s);
    return v;
  }

  bool boolean(const YAML::Node& n, const std::string& key) {
    const std::string s = scalar(n, key, "true or false");
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    fail(n, key, "expected true or false, got '" + s + "'");
  }

  std::string choice(const YAML::Node& n, const std::string& key,
                     const std::vector<std::string_view>& allowed) {
    const std::string expected = "one of " + join(allowed);
    const std::string s = scalar(n, key, expected);
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
      fail(n, key, "expected " + expected + ", got '" + s + "'");
    return s;
  }

  // A list (or, when `scalar_ok`, one value standing for a list of one), non-empty, without
  // duplicates.
  std::vector<YAML::Node> list(const YAML::Node& n, const std::string& key,
                               const std::string& expected, bool scalar_ok) {
    std::vector<YAML::Node> items;
    if (n.IsSequence()) {
      for (const auto& item : n) items.push_back(item);
    } else if (scalar_ok && n.IsScalar()) {
      items.push_back(n);
    } else {
      fail(n, key, "expected a list of " + expected + ", got " + shown(n));
    }
    if (items.empty()) fail(n, key, "expected a non-empty list of " + expected);
    std::set<std::string> seen;
    for (const auto& item : items) {
      if (item.IsScalar() && !seen.insert(item.Scalar()).second)
        fail(item, key, "'" + item.Scalar() + "' is listed twice");
    }
    return items;
  }

  // Checks that a map has only `allowed` keys and each at most once.
  void keys(const YAML::Node& map, const std::string& context,
            const std::vector<std::string_view>& allowed) {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      const YAML::Node& k = kv.first;
      if (!k.IsScalar()) fail(k, context, "expected a key name, got " + shown(k));
      const std::string& name = k.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
        fail(k, context.empty() ? name : context + "." + name,
             "unknown key; expected one of " + join(allowed));
      if (!seen.insert(name).second) fail(k, name, "key given twice");
    }
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

constexpr int64_t kMaxDim = int64_t{1} << 20;

SweepShape parse_shape(Reader& r, const YAML::Node& n) {
  SweepShape s;
  auto preset = [&](const YAML::Node& name_node) {
    const std::string name = r.scalar(name_node, "shapes.model", "a preset name");
    const auto found = find_preset(name);
    if (!found) {
      std::vector<std::string_view> names;
      for (const auto& p : moe_presets()) names.push_back(p.name);
      r.fail(name_node, "shapes.model",
             "unknown preset '" + name + "'; expected one of " + join(names));
    }
    s.preset = name;
    s.shape = *found;
  };
  if (n.IsScalar()) {
    preset(n);
    return s;
  }
  if (!n.IsMap()) r.fail(n, "shapes", "expected a preset name or a map, got " + Reader::shown(n));
  if (n["model"]) {
    r.keys(n, "shapes", {"model"});
    preset(n["model"]);
    return s;
  }
  r.keys(n, "shapes",
         {"model", "hidden", "intermediate", "experts", "top_k", "shared_intermediate",
          "norm_topk_prob"});
  for (const char* required : {"hidden", "intermediate", "experts", "top_k"})
    if (!n[required])
      r.fail(n, "shapes",
             std::string("missing key '") + required +
                 "'; a shape is {model: PRESET} or hidden, intermediate, experts, "
                 "top_k[, shared_intermediate, norm_topk_prob]");
  s.shape.hidden = r.integer(n["hidden"], "hidden", 1, kMaxDim);
  s.shape.intermediate = r.integer(n["intermediate"], "intermediate", 1, kMaxDim);
  s.shape.experts = r.integer(n["experts"], "experts", 1, 4096);
  s.shape.top_k = r.integer(n["top_k"], "top_k", 1, s.shape.experts);
  if (n["shared_intermediate"])
    s.shape.shared_intermediate =
        r.integer(n["shared_intermediate"], "shared_intermediate", 0, kMaxDim);
  if (n["norm_topk_prob"])
    s.shape.norm_topk_prob = r.boolean(n["norm_topk_prob"], "norm_topk_prob");
  const std::string problem = s.shape.validate();
  if (!problem.empty()) r.fail(n, "shapes", problem);
  return s;
}

// Variant names spelled out in the file, with where.
using Named = std::map<std::string, YAML::Node>;

// The names of one op's entry ("all" or a list), checked against its registry.
std::vector<std::string> all_variants(const SweepConfig& c, Op op);

std::vector<std::string> op_variants(Reader& r, const YAML::Node& n, const SweepConfig& c, Op op,
                                     Named& named) {
  const auto registered = registered_variants(op);
  const std::string op_text(op_name(op));
  const std::string key = "variants." + op_text;
  if (n.IsScalar() && n.Scalar() == "all") return all_variants(c, op);
  std::set<std::string> wanted;
  for (const auto& item : r.list(n, key, op_text + " variant names", false)) {
    const std::string name = r.scalar(item, key, "a variant name");
    if (!is_registered(op, name))
      r.fail(item, key,
             "unknown " + op_text + " variant '" + name + "'; expected one of " + join(registered));
    wanted.insert(name);
    named.emplace(name, item);
  }
  std::vector<std::string> out;
  for (auto name : registered)
    if (wanted.count(std::string(name))) out.emplace_back(name);
  return out;
}

// The op whose registry has this variant, if any.
std::optional<Op> op_of(std::string_view variant) {
  for (Op op : kOps)
    if (is_registered(op, variant)) return op;
  return std::nullopt;
}

// What to offer instead of an unknown variant name: the variants of the op its prefix names
// ("gemv_..." -> every gemv variant), else the ops a name must start with.
std::string valid_choices(const std::string& name) {
  const std::string prefix = name.substr(0, name.find('_'));
  std::string list;
  if (const auto op = parse_op(prefix)) {
    for (auto v : registered_variants(*op)) list += (list.empty() ? "" : ", ") + std::string(v);
    return "valid " + prefix + " variants: " + list;
  }
  for (auto op : op_names()) list += (list.empty() ? "" : ", ") + std::string(op);
  return "a variant name starts with its op: " + list;
}

// Every registered variant of op that the sweep's activations allow: `all` never means the
// variants that round the activations unless the file opts in.
std::vector<std::string> all_variants(const SweepConfig& c, Op op) {
  std::vector<std::string> out;
  for (auto name : registered_variants(op))
    if (allowed(c.activations, op, name)) out.emplace_back(name);
  return out;
}

void parse_variants(Reader& r, const YAML::Node& n, SweepConfig& c, Named& named) {
  const auto in_sweep = [&](std::optional<Op> op) {
    return op && std::find(c.ops.begin(), c.ops.end(), *op) != c.ops.end();
  };
  if (!n || (n.IsScalar() && n.Scalar() == "all")) {
    for (Op op : c.ops) c.variants[op] = all_variants(c, op);
    return;
  }
  if (n.IsMap()) {
    for (const auto& kv : n) {
      const std::string text = r.scalar(kv.first, "variants", "an op name");
      const std::optional<Op> op = parse_op(text);
      if (!in_sweep(op))
        r.fail(
            kv.first, "variants",
            "op '" + text + "' is not one of the sweep's ops (" + join_names(c.ops, op_name) + ")");
      if (c.variants.count(*op)) r.fail(kv.first, "variants." + text, "key given twice");
      c.variants[*op] = op_variants(r, kv.second, c, *op, named);
    }
    for (Op op : c.ops)
      if (!c.variants.count(op)) c.variants[op] = all_variants(c, op);
    return;
  }
  if (!n.IsSequence())
    r.fail(n, "variants",
           "expected all, a list of variant names, or a map op -> list, got " + Reader::shown(n));
  std::map<Op, std::set<std::string>> wanted;
  for (const auto& item : r.list(n, "variants", "variant names", false)) {
    const std::string name = r.scalar(item, "variants", "a variant name");
    const std::optional<Op> op = op_of(name);
    if (!op) r.fail(item, "variants", "unknown variant '" + name + "'; " + valid_choices(name));
    if (!in_sweep(op))
      r.fail(item, "variants",
             "variant '" + name + "' is of op '" + std::string(op_name(*op)) +
                 "', which is not in the sweep's ops");
    wanted[*op].insert(name);
    named.emplace(name, item);
  }
  for (Op op : c.ops) {
    const std::string text(op_name(op));
    if (!wanted.count(op))
      r.fail(
          n, "variants",
          "no variant of op '" + text + "' is listed; list one or remove '" + text + "' from ops");
    for (auto name : registered_variants(op))
      if (wanted[op].count(std::string(name))) c.variants[op].emplace_back(name);
  }
}

// A variant named in the file must have a layout and a dtype the sweep runs: listing it and
// seeing it never run would be a silent surprise.
void check_named_variants(Reader& r, const SweepConfig& c, const Named& named) {
  for (const auto& [name, node] : named) {
    const Op o = *op_of(name);
    const DType dtype = *variant_dtype(o, name);
    if (op_reads_weights(o) && std::find(c.dtypes.begin(), c.dtypes.end(), dtype) == c.dtypes.end())
      r.fail(node, "variants",
             std::string(op_name(o)) + " variant '" + name + "' is for " +
                 std::string(dtype_name(dtype)) +
                 " weights, which is not in the sweep's dtype list (" +
                 join_names(c.dtypes, dtype_name) + ")");
    const GemvVariant* v = find_gemv(name);
    if (!v) continue;
    if (!allowed(c.activations, o, name))
      r.fail(node, "variants",
             "gemv variant '" + name + "' rounds the activations to " +
                 std::string(dtype_name(v->acts)) +
                 ", which changes the results: set `rounded_activations: true` to run it");
    if (std::find(c.layouts.begin(), c.layouts.end(), v->layout) == c.layouts.end())
      r.fail(node, "variants",
             "gemv variant '" + name + "' needs layout " + std::string(layout_name(v->layout)) +
                 ", which is not in the sweep's layout list");
  }
}

SweepConfig parse_root(Reader& r, const YAML::Node& root) {
  if (!root.IsMap())
    r.fail(
        root, "",
        "expected a map of sweep settings (name, shapes, tokens, ...), got " + Reader::shown(root));
  r.keys(root, "",
         {"name", "shapes", "tokens", "threads", "ops", "variants", "dtype", "layout", "routing",
          "rounded_activations", "repetitions", "max_repetitions", "max_time", "min_time", "seed"});
  for (const char* required : {"name", "shapes", "tokens"})
    if (!root[required]) r.fail(root, required, "missing required key");

  SweepConfig c;
  c.file = r.file();
  c.name = r.scalar(root["name"], "name", "a name");
  if (c.name.empty() || c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                                                 "XYZ0123456789._-") != std::string::npos)
    r.fail(root["name"], "name",
           "expected a name of letters, digits, '.', '_' and '-' (it names the results file), "
           "got '" +
               c.name + "'");

  std::set<std::string> shape_keys;
  for (const auto& n : r.list(root["shapes"], "shapes", "shapes", false)) {
    SweepShape s = parse_shape(r, n);
    if (!shape_keys.insert(s.shape.key()).second)
      r.fail(n, "shapes", "shape " + s.shape.key() + " is listed twice");
    c.shapes.push_back(std::move(s));
  }

  for (const auto& n : r.list(root["tokens"], "tokens", "token counts", true))
    c.tokens.push_back(r.integer(n, "tokens", 1, 1 << 16));

  if (root["threads"]) {
    for (const auto& n : r.list(root["threads"], "threads", "thread counts", true))
      c.threads.push_back(static_cast<int>(r.integer(n, "threads", 1, 1024)));
  } else {
    c.threads = {std::max(1, omp_get_num_procs())};
  }

  if (root["ops"]) {
    std::set<Op> wanted;
    for (const auto& n : r.list(root["ops"], "ops", "ops", true))
      wanted.insert(*parse_op(r.choice(n, "ops", op_names())));
    for (Op op : kOps)
      if (wanted.count(op)) c.ops.push_back(op);
  } else {
    c.ops.assign(std::begin(kOps), std::end(kOps));
  }

  if (root["dtype"]) {
    const std::vector<std::string> names = dtype_names();
    const std::vector<std::string_view> allowed(names.begin(), names.end());
    for (const auto& n : r.list(root["dtype"], "dtype", "dtypes", true))
      c.dtypes.push_back(*parse_dtype(r.choice(n, "dtype", allowed)));
  } else {
    c.dtypes = {DType::kF32};
  }

  if (root["layout"]) {
    for (const auto& n : r.list(root["layout"], "layout", "layouts", true))
      c.layouts.push_back(*parse_layout(r.choice(n, "layout", {"oi", "io"})));
  } else {
    c.layouts = {Layout::kOI};
  }

  if (root["routing"])
    c.routing = r.choice(root["routing"], "routing", {"uniform", "skewed"}) == "uniform"
                    ? RoutingKind::kUniform
                    : RoutingKind::kSkewed;
  if (root["rounded_activations"] && r.boolean(root["rounded_activations"], "rounded_activations"))
    c.activations = Activations::kMayRound;
  if (root["repetitions"])
    c.repetitions = static_cast<int>(r.integer(root["repetitions"], "repetitions", 1, 1000));
  c.max_repetitions = std::min(4 * c.repetitions, 1000);
  if (root["max_repetitions"]) {
    c.max_repetitions =
        static_cast<int>(r.integer(root["max_repetitions"], "max_repetitions", 1, 1000));
    if (c.max_repetitions < c.repetitions)
      r.fail(root["max_repetitions"], "max_repetitions",
             "expected at least `repetitions` (" + std::to_string(c.repetitions) +
                 "), the repetitions every point gets; got " + std::to_string(c.max_repetitions));
  }
  if (root["max_time"]) c.max_time = r.real(root["max_time"], "max_time", 0, 86400);
  if (root["min_time"]) c.min_time = r.real(root["min_time"], "min_time", 0, 3600);
  if (root["seed"])
    c.seed = static_cast<uint64_t>(
        r.integer(root["seed"], "seed", 0, std::numeric_limits<int64_t>::max()));

  Named named;
  parse_variants(r, root["variants"], c, named);
  check_named_variants(r, c, named);
  return c;
}

SweepConfig parse_text(const std::string& yaml, const std::string& file) {
  Reader r(file);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw InputError(file, where(e.mark), "YAML syntax error: " + e.msg);
  }
  try {
    return parse_root(r, root);
  } catch (const YAML::Exception& e) {
    // Anything yaml-cpp still throws while reading nodes is a malformed file too.
    throw InputError(file, where(e.mark), e.msg);
  }
}

}  // namespace

std::string_view routing_kind_name(RoutingKind r) {
  return r == RoutingKind::kUniform ? "uniform" : "skewed";
}

SweepConfig load_sweep(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path, "", std::string("cannot read the sweep file: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path, "", "cannot read the sweep file");
  return parse_text(text.str(), path);
}

SweepConfig parse_sweep(const std::string& yaml, const std::string& file) {
  return parse_text(yaml, file);
}

std::vector<BenchCase> expand(const SweepConfig& config) {
  std::vector<BenchCase> cases;
  for (const auto& shape : config.shapes) {
    for (Op op : config.ops) {
      const auto found = config.variants.find(op);
      if (found == config.variants.end()) continue;
      Point at;
      at.op = op;
      at.shape = shape.shape;
      // Only gemv and layer read the weights: the other ops run once per point, as f32 and in
      // any layout, whatever dtypes and layouts the sweep lists.
      std::vector<std::optional<Layout>> layouts = {std::nullopt};
      std::vector<DType> dtypes = {DType::kF32};
      if (op_reads_weights(at.op)) {
        layouts.assign(config.layouts.begin(), config.layouts.end());
        dtypes = config.dtypes;
      }
      for (const auto& layout : layouts) {
        at.layout = layout;
        for (DType dtype : dtypes) {
          at.dtype = dtype;
          for (int64_t tokens : config.tokens) {
            at.tokens = tokens;
            for (int threads : config.threads) {
              at.threads = threads;
              for (const auto& variant : found->second) {
                if (at.op == Op::kGemv) {
                  const GemvVariant* v = find_gemv(variant);
                  if (!v || v->layout != *layout) continue;
                }
                const auto d = variant_dtype(at.op, variant);
                if (!d || *d != dtype) continue;
                cases.push_back({at, variant, shape.label(), at.case_id(variant)});
              }
            }
          }
        }
      }
    }
  }
  return cases;
}

}  // namespace moetune
