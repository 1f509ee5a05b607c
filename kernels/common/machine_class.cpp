#include "kernels/common/machine_class.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "kernels/common/text.h"

namespace moetune {

namespace {

std::string kib_text(long long kib) { return kib > 0 ? std::to_string(kib) + "K" : "?"; }

}  // namespace

std::string MachineClass::key() const {
  return vendor + "/" + std::to_string(family) + "/" + std::to_string(model) + "/" + features +
         "/" + kib_text(l1d_kib) + "/" + kib_text(l2_kib) + "/" + kib_text(l3_kib);
}

std::string class_features(std::string_view cpu_features_line) {
  std::string out;
  for (Isa isa : isa_levels())
    if (isa != Isa::kBaseline && features_have(cpu_features_line, isa))
      out += (out.empty() ? "" : "+") + std::string(isa_name(isa));
  return out.empty() ? "baseline" : out;
}

MachineClass machine_class() {
  MachineClass c;
  const CpuId id = cpu_id();
  c.vendor = id.vendor.empty() ? "unknown" : id.vendor;
  c.family = id.family;
  c.model = id.model;
  c.features = class_features(cpu_features());
  auto kib = [](int name) {
    const long bytes = sysconf(name);
    return bytes > 0 ? static_cast<long long>(bytes) / 1024 : 0LL;
  };
  c.l1d_kib = kib(_SC_LEVEL1_DCACHE_SIZE);
  c.l2_kib = kib(_SC_LEVEL2_CACHE_SIZE);
  c.l3_kib = kib(_SC_LEVEL3_CACHE_SIZE);
  return c;
}

std::optional<MachineClass> parse_machine_class(std::string_view key, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<MachineClass> {
    if (error)
      *error = "'" + std::string(key) + "' is not a machine class: " + why +
               " (expected VENDOR/FAMILY/MODEL/FEATURES/L1D/L2/L3, e.g. "
               "AuthenticAMD/25/1/avx2/32K/512K/32768K, a cache '?' where unknown)";
    return std::nullopt;
  };
  std::vector<std::string> parts;
  for (const std::string_view part : split_text(key, '/')) parts.emplace_back(part);
  if (parts.size() != 7) return fail(std::to_string(parts.size()) + " parts");
  auto number = [](const std::string& s, long long* out) {
    if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos)
      return false;
    *out = std::stoll(s);
    return true;
  };
  MachineClass c;
  c.vendor = parts[0];
  if (c.vendor.empty()) return fail("no vendor");
  long long family = 0, model = 0;
  if (!number(parts[1], &family) || !number(parts[2], &model))
    return fail("family and model must be decimal numbers");
  c.family = static_cast<int>(family);
  c.model = static_cast<int>(model);
  c.features = parts[3];
  if (c.features != "baseline") {
    for (size_t at = 0; at <= c.features.size();) {
      const size_t plus = std::min(c.features.find('+', at), c.features.size());
      const std::string word = c.features.substr(at, plus - at);
      if (!parse_isa(word) || word == "baseline") return fail("unknown feature '" + word + "'");
      at = plus + 1;
    }
  }
  long long* caches[] = {&c.l1d_kib, &c.l2_kib, &c.l3_kib};
  for (int i = 0; i < 3; ++i) {
    const std::string& s = parts[4 + i];
    if (s == "?") continue;
    if (s.size() < 2 || s.back() != 'K' || !number(s.substr(0, s.size() - 1), caches[i]))
      return fail("cache '" + s + "' must be KiB with a K, or ?");
  }
  return c;
}

}  // namespace moetune
