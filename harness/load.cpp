#include "harness/load.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "harness/results.h"

namespace moetune {
namespace {

LoadSample read_loadavg() {
  LoadSample s;
  std::ifstream in("/proc/loadavg");
  double five = 0, fifteen = 0;
  std::string running;  // "runnable/total"
  if (!(in >> s.load_1m >> five >> fifteen >> running)) return s;
  const auto slash = running.find('/');
  if (slash == std::string::npos) return s;
  s.others_runnable = std::max(0, std::atoi(running.substr(0, slash).c_str()) - 1);
  return s;
}

std::filesystem::path cache_file() {
  if (const char* dir = std::getenv("MOETUNE_CACHE_DIR"); dir && *dir)
    return std::filesystem::path(dir) / "roofline.json";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "moetune" / "roofline.json";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "moetune" / "roofline.json";
  return {};
}

}  // namespace

LoadSample sample_load(int samples) {
  LoadSample s = read_loadavg();
  if (samples <= 1 || s.others_runnable < 0) return s;
  std::vector<int> others = {s.others_runnable};
  for (int i = 1; i < samples; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    others.push_back(read_loadavg().others_runnable);
  }
  std::nth_element(others.begin(), others.begin() + others.size() / 2, others.end());
  s.others_runnable = others[others.size() / 2];
  return s;
}

nlohmann::json to_json(const LoadSample& s) {
  return {{"load_1m", s.load_1m}, {"others_runnable", s.others_runnable}};
}

bool wait_until_quiet(int cores, int threads, double max_seconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int quiet = 0;
  bool said = false;
  for (;;) {
    const LoadSample s = sample_load(5);
    quiet = busy(s, cores, threads) ? 0 : quiet + 1;
    if (quiet >= 3) {
      if (said) fmt::print(stderr, "moetune: the machine is quiet now\n");
      return true;
    }
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    if (waited >= max_seconds) {
      fmt::print(stderr, "moetune: still busy after {:.0f} s ({} other runnable); starting anyway\n",
                 waited, s.others_runnable);
      return false;
    }
    if (!said && quiet == 0) {
      fmt::print(stderr,
                 "moetune: waiting up to {:.0f} s for a quiet machine: {} other runnable, the sweep "
                 "leaves {} of {} cores free (1-minute load {:.2f})\n",
                 max_seconds, s.others_runnable, free_cores(cores, threads), cores, s.load_1m);
      said = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(750));
  }
}

std::string check_and_record_roofline(const std::string& machine_key, const RooflineResult& now) {
  const std::filesystem::path path = cache_file();
  if (path.empty()) return "";
  nlohmann::json cache = nlohmann::json::object();
  {
    std::ifstream in(path);
    if (in) {
      try {
        in >> cache;
      } catch (const nlohmann::json::exception&) {
        return "";  // not ours to repair: leave it, warn about nothing
      }
      if (!cache.is_object()) return "";
    }
  }
  std::string warning;
  nlohmann::json& best = cache[machine_key];
  auto check = [&](const char* key, double value, const char* what, const char* unit) {
    const auto it = best.is_object() ? best.find(key) : best.end();
    const double before = it != best.end() && it->is_number() ? it->get<double>() : 0;
    if (before > 0 && value < 0.8 * before)
      warning += fmt::format("{}the {} measured now, {:.1f} {}, is {:.0f}% below the {:.1f} {} "
                             "recorded on this machine before",
                             warning.empty() ? "" : "; ", what, value, unit,
                             100 * (1 - value / before), before, unit);
    if (value > before) best[key] = value;
  };
  if (!best.is_object()) best = nlohmann::json::object();
  check("peak_gflops", now.peak_gflops, "FMA peak", "GFLOP/s");
  check("read_bandwidth_gbs", now.read_bandwidth_gbs, "read bandwidth", "GB/s");
  try {
    std::filesystem::create_directories(path.parent_path());
    write_file_atomically(path.string(), cache.dump(1) + "\n");
  } catch (const std::exception&) {
    // A read-only home loses the record, not the sweep.
  }
  if (!warning.empty())
    warning += fmt::format(" ({}): the machine is busy or throttled, and its timings with it",
                           path.string());
  return warning;
}

}  // namespace moetune
