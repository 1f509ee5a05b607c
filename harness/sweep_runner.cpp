#include "harness/sweep_runner.h"

#include <fmt/core.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "harness/decision.h"
#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/kernel_bench.h"
#include "harness/kernel_ops.h"
#include "harness/layer_bench.h"
#include "harness/load.h"
#include "harness/roofline.h"
#include "harness/sha256.h"
#include "harness/stats.h"
#include "harness/sweep_config.h"
#include "kernels/common/machine_class.h"

namespace moetune {
namespace {

using Clock = std::chrono::steady_clock;

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

// Tokens one expert sees when `tokens` tokens are spread evenly over the experts: what a gemv
// inside the layer multiplies at once.
int64_t tokens_per_expert(const MoeShape& s, int64_t tokens) {
  return std::max<int64_t>(1, (tokens * s.top_k + s.experts - 1) / s.experts);
}

// The kernel a case times, at the size the layer calls it with. gemv: an expert's gate (or
// up) projection, [I, H] as stored in oi, for the tokens one expert sees; swiglu: that many
// rows of I; softmax and top-k: one token's E router probabilities.
KernelCase kernel_case(const BenchCase& b, uint64_t seed) {
  KernelCase k;
  k.op = b.point.op;
  k.variant = b.variant;
  k.threads = b.point.threads;
  k.seed = static_cast<uint32_t>(seed);
  const MoeShape& s = b.point.shape;
  kernel_op(k.op)->size_in_layer(s, tokens_per_expert(s, b.point.tokens), k);
  return k;
}

LayerCase layer_case(const BenchCase& b, const SweepConfig& cfg) {
  LayerCase l;
  l.point = b.point;
  l.variant = b.variant;
  l.skewed_routing = cfg.routing == RoutingKind::kSkewed;
  l.activations = cfg.activations;
  l.seed = cfg.seed;
  l.name = b.id;
  return l;
}

CaseResult blank_result(const BenchCase& b, const SweepConfig& cfg) {
  CaseResult r;
  r.name = b.id;
  r.op = op_name(b.point.op);
  r.variant = b.variant;
  r.dtype = dtype_name(b.point.dtype);
  r.layout = b.point.layout_text();
  r.shape = b.point.shape;
  r.tokens = b.point.tokens;
  r.threads = b.point.threads;
  const MoeShape& s = b.point.shape;
  if (b.point.op == Op::kGemv) {
    const bool oi = b.point.layout == Layout::kOI;
    r.rows = oi ? s.intermediate : s.hidden;
    r.cols = oi ? s.hidden : s.intermediate;
    r.activations = dtype_name(find_gemv(b.variant)->acts);
  }
  if (b.point.op == Op::kLayer) {
    const KernelSelection k = layer_kernels(layer_case(b, cfg));
    r.activations = dtype_name(k.gemv->acts);
    r.kernels = kernels_label(k);
  }
  return r;
}

double counter(const benchmark::BenchmarkReporter::Run& run, const char* name) {
  const auto it = run.counters.find(name);
  return it == run.counters.end() ? 0.0 : double(it->second);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

// Turns Google Benchmark's runs into CaseResults of the point being measured: a round of
// repetitions appends to what the earlier rounds of the same point found.
class SweepReporter : public benchmark::BenchmarkReporter {
 public:
  SweepReporter(const std::map<std::string, const BenchCase*>& by_id, const SweepConfig& cfg)
      : by_id_(by_id), cfg_(cfg) {}

  // The point's results so far, by case id; the caller empties it for each point.
  std::map<std::string, CaseResult>& point() { return point_; }

  bool ReportContext(const Context&) override { return true; }

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      // Google Benchmark reports a case twice: its repetitions, then their aggregates, which
      // the results file recomputes from the repetitions.
      if (run.run_type != Run::RT_Iteration && !run.error_occurred) continue;
      const auto it = by_id_.find(run.run_name.function_name);
      if (it == by_id_.end()) continue;
      auto slot = point_.try_emplace(it->first, blank_result(*it->second, cfg_)).first;
      CaseResult& c = slot->second;
      if (run.error_occurred) {
        c.error = run.error_message.empty() ? "failed" : run.error_message;
        c.verified = false;
        c.repetitions.clear();
        continue;
      }
      if (c.failed()) continue;
      Repetition rep;
      rep.real_time = run.GetAdjustedRealTime();
      rep.cpu_time = run.GetAdjustedCPUTime();
      rep.iterations = run.iterations;
      rep.roofline_pct = counter(run, "roofline_pct");
      rep.bytes_per_second = counter(run, "bytes_per_second");
      rep.flops_per_second = counter(run, "flops");
      c.time_unit = benchmark::GetTimeUnitString(run.time_unit);
      c.verified = counter(run, "verified") > 0;
      if (it->second->point.op == Op::kLayer) {
        c.allocs_per_call = counter(run, "allocs_per_call");
        c.heap_bytes_per_call = counter(run, "heap_bytes_per_call");
        c.workspace_bytes = counter(run, "workspace_bytes");
        c.rel_error_vs_f32 = counter(run, "rel_error_vs_f32");
      }
      c.repetitions.push_back(rep);
    }
  }

  void Finalize() override {}

 private:
  const std::map<std::string, const BenchCase*>& by_id_;
  const SweepConfig& cfg_;
  std::map<std::string, CaseResult> point_;
};

// The terminal's width in columns (80 when stderr is no terminal or will not say).
int terminal_columns() {
  winsize w{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) return w.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) return std::atoi(c);
  return 80;
}

class Progress {
 public:
  // On a terminal one line redrawn in place, never wider than the terminal (a wrapped line
  // cannot be redrawn); elsewhere (a log, CI) one line per update.
  Progress(bool enabled, size_t total)
      : enabled_(enabled && total > 0), tty_(isatty(STDERR_FILENO)), total_(total) {}
  // What happens before the first case (the roofline).
  void status(const std::string& text) {
    if (!enabled_) return;
    line(text);
  }
  void show(size_t done, const std::string& current) {
    if (!enabled_) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
    const double eta = done ? elapsed / double(done) * double(total_ - done) : NAN;
    const std::string counts =
        fmt::format("{}/{} cases, {}, ETA {}", done, total_, format_duration(elapsed),
                    done ? format_duration(eta) : "?");
    const int columns = tty_ ? terminal_columns() - 1 : 160;
    // The bar gives way first, then the case name.
    const int room = columns - int(counts.size()) - 2;
    const int width = std::clamp(room - 30, 0, 24);
    const int filled = static_cast<int>(width * done / total_);
    const std::string bar = width > 0 ? "[" + std::string(filled, '#') +
                                            std::string(width - filled, '.') + "] "
                                      : "";
    const int label_room = columns - int(bar.size() + counts.size()) - 2;
    std::string label = current;
    if (label_room < 4)
      label.clear();
    else if (int(label.size()) > label_room)
      label = label.substr(0, label_room - 3) + "...";
    line(bar + counts + (label.empty() ? "" : "  " + label));
  }
  // A message of its own (a warning) that the progress line must not overwrite or split.
  void message(const std::string& text) {
    if (enabled_ && tty_) fmt::print(stderr, "\r\033[K");
    fmt::print(stderr, "{}\n", text);
    if (enabled_ && tty_ && !last_.empty()) fmt::print(stderr, "{}", last_);
    std::fflush(stderr);
  }
  void done() {
    if (enabled_ && tty_) fmt::print(stderr, "\n");
  }

 private:
  void line(const std::string& text) {
    last_ = text;
    fmt::print(stderr, "{}{}{}", tty_ ? "\r\033[K" : "", text, tty_ ? "" : "\n");
    std::fflush(stderr);
  }
  bool enabled_, tty_;
  size_t total_;
  std::string last_;
  Clock::time_point t0_ = Clock::now();
};

// The weights the layer benchmarks of a sweep hold at once (every shape, layout and dtype is
// cached until the sweep ends; bf16 and int8 weights are converted from f32 ones, which stay
// cached for the f32 reference), plus the reference layer's and the gemv benchmarks' cold
// copies.
int64_t bytes_needed(const std::vector<BenchCase>& cases) {
  std::set<Point> seen;  // weight sets: a layer point's shape, layout and dtype
  int64_t bytes = 0;
  for (const auto& b : cases) {
    if (b.point.op != Op::kLayer) continue;
    Point weights = b.point;
    weights.tokens = weights.threads = 1;
    const DType dtype = weights.dtype;
    const int64_t params = weights.shape.parameter_count();
    weights.dtype = DType::kF32;
    if (seen.insert(weights).second) bytes += params * int64_t(sizeof(float));
    weights.dtype = dtype;
    // A byte per weight more for a dtype with row scales: a generous bound on them.
    if (dtype != DType::kF32 && seen.insert(weights).second)
      bytes += params * (dtype_bytes(dtype) + (dtype_traits(dtype).row_scales ? 1 : 0));
  }
  return bytes + (int64_t{256} << 20);
}

void check_memory(const std::vector<BenchCase>& cases, const std::string& file) {
  const int64_t available = available_memory_bytes();
  const int64_t need = bytes_needed(cases);
  if (available > 0 && need > available * 9 / 10)
    throw InputError(file, "shapes",
                     fmt::format("the weights of this sweep need {:.1f} GiB but this machine has "
                                 "{:.1f} GiB available (90% may be used); run fewer shapes or "
                                 "layouts at a time (--filter)",
                                 double(need) / (1 << 30), double(available) / (1 << 30)));
}

// Google Benchmark's context date format, e.g. "2026-11-30T04:50:00+00:00".
std::string iso8601_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string s = buf;
  if (s.size() > 2) s.insert(s.size() - 2, ":");  // +0000 -> +00:00
  return s;
}

int64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return int64_t(u.ru_maxrss) * 1024;
}

void init_google_benchmark() {
  static bool done = false;
  if (done) return;
  done = true;
  // Interleaving shuffles the repetitions of one group's cases (one group per point).
  static char arg0[] = "moetune";
  static char arg1[] = "--benchmark_enable_random_interleaving=true";
  char* argv[] = {arg0, arg1, nullptr};
  int argc = 2;
  benchmark::Initialize(&argc, argv);
}

}  // namespace

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

ResultsFile run_sweep(const SweepOptions& opt, std::string* written_path) {
  const SweepConfig cfg = load_sweep(opt.config);
  const std::string output = opt.output.empty() ? cfg.name + ".json" : opt.output;
  const std::string dir = directory_of(output);
  if (access(dir.c_str(), W_OK) != 0)
    throw InputError(output, "", fmt::format("cannot write into directory '{}'", dir));
  const std::string journal_file = journal_path(output);

  std::vector<BenchCase> cases = expand(cfg);
  if (opt.shard_count < 1 || opt.shard_index < 0 || opt.shard_index >= opt.shard_count)
    throw InputError(
        "command line", "--shard",
        fmt::format("expected I/N with 0 <= I < N, got {}/{}", opt.shard_index, opt.shard_count));
  if (opt.shard_count > 1) {
    // Whole points to a shard: the variants of one point are compared with each other, so
    // they run together, interleaved, and add repetitions together (harness/decision.h).
    std::map<Point, size_t> point_of;
    std::vector<BenchCase> part;
    for (const auto& b : cases) {
      const size_t point = point_of.try_emplace(b.point, point_of.size()).first->second;
      if (int(point % size_t(opt.shard_count)) == opt.shard_index) part.push_back(b);
    }
    cases = std::move(part);
  }
  if (!opt.filter.empty()) {
    std::regex re;
    try {
      re = std::regex(opt.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw InputError(
          "command line", "--filter",
          fmt::format("'{}' is not a valid regular expression: {}", opt.filter, e.what()));
    }
    std::vector<BenchCase> kept;
    for (auto& b : cases)
      if (std::regex_search(b.id, re)) kept.push_back(b);
    cases = std::move(kept);
    if (cases.empty())
      throw InputError("command line", "--filter",
                       fmt::format("'{}' matches none of the sweep's cases", opt.filter));
  }

  std::vector<CaseResult> finished;
  if (exists(journal_file)) {
    if (!opt.resume)
      throw InputError(journal_file, "",
                       "an earlier run of this sweep was interrupted and left this journal; "
                       "run again with --resume to finish it, or delete the journal to start over");
    finished = read_journal(journal_file);
  } else if (exists(output) && opt.resume && !opt.force) {
    // Resuming into a finished results file: its cases count as done, the rest is added.
    finished = read_results(output).cases;
  } else if (exists(output) && !opt.force) {
    // A results file is what someone measured: replacing it takes asking.
    throw InputError(output, "",
                     "a results file is already there; choose another -o, pass --resume to add "
                     "the cases it lacks, or --force to replace it");
  }
  std::set<std::string> done_ids;
  for (const auto& c : finished) done_ids.insert(c.name);
  std::vector<BenchCase> todo;
  for (const auto& b : cases)
    if (!done_ids.count(b.id)) todo.push_back(b);
  check_memory(todo, opt.config);
  const std::string sweep_sha256 = sha256_of_file(opt.config);

  // Before anything runs: the tree's commit (and whether it was dirty) as the sweep starts,
  // not after whatever edits were made while a long sweep ran.
  const Fingerprint fingerprint = machine_fingerprint();
  int max_threads = 1;
  for (int t : cfg.threads) max_threads = std::max(max_threads, t);
  Progress progress(opt.progress, todo.size());
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& w) {
    warnings.push_back(w);
    progress.message("moetune: warning: " + w);
  };
  if (opt.wait_quiet && !wait_until_quiet(fingerprint.cores, max_threads, *opt.wait_quiet))
    warnings.push_back(fmt::format("the machine was still busy after --wait-quiet={:g}",
                                   *opt.wait_quiet));
  const LoadSample load_start = sample_load(5);
  if (busy(load_start, fingerprint.cores, max_threads))
    warn(fmt::format("{} other threads were runnable as the sweep started (1-minute load {:.2f}) "
                     "but its {} thread{} leave{} {} of {} cores free: its timings include theirs",
                     load_start.others_runnable, load_start.load_1m, max_threads,
                     max_threads == 1 ? "" : "s", max_threads == 1 ? "s" : "",
                     free_cores(fingerprint.cores, max_threads), fingerprint.cores));
  progress.status("measuring the roofline...");
  const RooflineResult roofline = measure_roofline(max_threads, RooflineOptions::for_sweeps());
  if (const std::string w = check_and_record_roofline(machine_class().key(), roofline); !w.empty())
    warn(w);

  init_google_benchmark();
  Journal journal(journal_file);
  std::map<std::string, const BenchCase*> by_id;
  for (const auto& b : todo) by_id[b.id] = &b;
  SweepReporter reporter(by_id, cfg);
  const std::vector<int> schedule = repetition_schedule(cfg.repetitions, cfg.max_repetitions);
  DecisionRule rule;
  rule.looks = static_cast<int>(schedule.size());

  // Points in expansion order. The cases of a point (the tuner's decision unit) are compared
  // with each other, so they run as one group, their repetitions randomly interleaved, so that
  // a drift of the machine touches them all alike.
  std::vector<std::vector<const BenchCase*>> groups;
  std::map<Point, size_t> group_of;
  for (const auto& b : todo) {
    auto [it, fresh] = group_of.try_emplace(b.point, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(&b);
  }
  std::vector<CaseResult> measured;
  int busy_points = 0, noisy_points = 0;
  std::string first_busy, first_noisy;
  std::string last_shape;
  for (const auto& group : groups) {
    const BenchCase& g = *group.front();
    const std::string shape_key = g.point.shape.key();
    if (!last_shape.empty() && shape_key != last_shape) clear_layer_bench_cache();
    last_shape = shape_key;
    const std::string label = fmt::format("{} {} {} {} tokens:{} threads:{}", op_name(g.point.op),
                                          g.shape_label, dtype_name(g.point.dtype),
                                          g.point.layout_text(), g.point.tokens, g.point.threads);
    progress.show(measured.size(), label);

    // The default this machine would run here: what the point's decision is against.
    const std::string_view default_name =
        default_variant(g.point.op, g.point.dtype, g.point.layout, true, g.point.tokens,
                        cfg.activations);
    PointRun run;
    const LoadSample before = sample_load(3);
    run.load_1m_before = before.load_1m;
    run.others_runnable_before = before.others_runnable;
    const auto t0 = Clock::now();
    reporter.point().clear();
    int done = 0;
    for (size_t look = 0;; ++look) {
      benchmark::ClearRegisteredBenchmarks();
      for (const BenchCase* b : group) {
        const auto found = reporter.point().find(b->id);
        if (found != reporter.point().end() && found->second.failed()) continue;
        benchmark::internal::Benchmark* bm =
            b->point.op == Op::kLayer
                ? register_layer_benchmark(layer_case(*b, cfg), roofline)
                : register_kernel_benchmark(kernel_case(*b, cfg.seed), roofline);
        bm->Name(b->id)->Repetitions(schedule[look] - done)->MinTime(cfg.min_time);
      }
      benchmark::RunSpecifiedBenchmarks(&reporter);
      done = schedule[look];
      run.looks = static_cast<int>(look + 1);
      if (default_name.empty()) {
        run.stopped = "no default";
        break;
      }
      std::vector<const CaseResult*> point;
      for (const BenchCase* b : group) {
        const auto found = reporter.point().find(b->id);
        if (found != reporter.point().end()) point.push_back(&found->second);
      }
      const Decision d = decide_point(point, default_name, cfg.activations, rule);
      if (settled(d)) {
        run.stopped = "settled: " + std::string(verdict_name(d.verdict));
        break;
      }
      if (look + 1 == schedule.size()) {
        run.stopped = "max_repetitions";
        break;
      }
      if (std::chrono::duration<double>(Clock::now() - t0).count() >= cfg.max_time) {
        run.stopped = "max_time";
        break;
      }
      progress.show(measured.size(),
                    fmt::format("{} (more: {} repetitions)", label, schedule[look + 1]));
    }
    run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    const LoadSample after = sample_load(3);
    run.load_1m_after = after.load_1m;
    run.others_runnable_after = after.others_runnable;

    double worst_cv = 0;
    for (const BenchCase* b : group) {
      const auto found = reporter.point().find(b->id);
      if (found == reporter.point().end()) continue;
      CaseResult& c = found->second;
      c.point_run = run;
      if (!c.failed() && !c.repetitions.empty())
        worst_cv = std::max(worst_cv, robust_cv(c.real_times_ns()));
      journal.append(c);
      measured.push_back(c);
    }
    if (busy(before, fingerprint.cores, g.point.threads) ||
        busy(after, fingerprint.cores, g.point.threads)) {
      if (busy_points++ == 0) first_busy = label;
      progress.message(fmt::format(
          "moetune: warning: {}: {} other threads were runnable (before, after: {}, {}) with "
          "{} of {} cores left free",
          label, std::max(before.others_runnable, after.others_runnable),
          before.others_runnable, after.others_runnable, free_cores(fingerprint.cores, g.point.threads),
          fingerprint.cores));
    }
    if (worst_cv > rule.max_cv) {
      if (noisy_points++ == 0) first_noisy = label;
      progress.message(fmt::format("moetune: warning: {}: ended with a robust cv of {:.0f}% "
                                   "(above {:.0f}%) after {} repetitions ({})",
                                   label, 100 * worst_cv, 100 * rule.max_cv, done, run.stopped));
    }
  }
  benchmark::ClearRegisteredBenchmarks();
  clear_layer_bench_cache();
  progress.show(measured.size(), "done");
  progress.done();
  const LoadSample load_end = sample_load(5);
  if (busy_points)
    warnings.push_back(fmt::format(
        "{} of {} points ran while other threads competed for the cores the sweep needs (the "
        "first: {})",
        busy_points, groups.size(), first_busy));
  if (noisy_points)
    warnings.push_back(fmt::format(
        "{} of {} points ended with a variant's robust cv above {:.0f}% (the first: {})",
        noisy_points, groups.size(), 100 * rule.max_cv, first_noisy));

  // Everything finished, this run's and an earlier one's, in the sweep's order.
  std::map<std::string, CaseResult> all;
  for (auto& c : finished) all[c.name] = c;
  for (auto& c : measured) all[c.name] = c;
  ResultsFile results;
  results.context = to_json(fingerprint);
  results.context["roofline"] = to_json(roofline);
  results.context["read_bandwidth_gbs"] = roofline.read_bandwidth_gbs;
  results.context["peak_gflops"] = roofline.peak_gflops;
  results.context["sweep"] = cfg.name;
  results.context["sweep_file"] = opt.config;
  results.context["sweep_sha256"] = sweep_sha256;
  results.context["routing"] = std::string(routing_kind_name(cfg.routing));
  results.context["rounded_activations"] = cfg.activations == Activations::kMayRound;
  results.context["repetitions"] = cfg.repetitions;
  results.context["adaptive"] = {{"min_repetitions", cfg.repetitions},
                                 {"max_repetitions", cfg.max_repetitions},
                                 {"max_time", cfg.max_time},
                                 {"looks", rule.looks}};
  results.context["min_time"] = cfg.min_time;
  results.context["seed"] = cfg.seed;
  results.context["peak_rss_bytes"] = peak_rss_bytes();
  results.context["date"] = iso8601_now();
  results.context["load"] = {{"start", to_json(load_start)}, {"end", to_json(load_end)}};
  results.context["warnings"] = warnings;
  if (opt.shard_count > 1)
    results.context["shard"] = fmt::format("{}/{}", opt.shard_index, opt.shard_count);
  for (const auto& b : cases) {
    const auto it = all.find(b.id);
    if (it != all.end()) results.cases.push_back(it->second);
  }
  write_results(output, results);
  std::remove(journal_file.c_str());
  if (written_path) *written_path = output;
  return results;
}

}  // namespace moetune
