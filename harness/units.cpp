#include "harness/units.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace moetune {

std::string human_time(double ns, std::string_view micro) {
  const std::pair<double, std::string_view> units[] = {
      {1e9, "s"}, {1e6, "ms"}, {1e3, micro}, {1, "ns"}};
  for (const auto& [scale, unit] : units) {
    if (ns < scale && scale > 1) continue;
    const double v = ns / scale;
    const int digits = v > 0 ? static_cast<int>(std::floor(std::log10(v))) : 0;
    return fmt::format("{:.{}f} {}", v, std::clamp(2 - digits, 0, 2), unit);
  }
  return "";
}

}  // namespace moetune
