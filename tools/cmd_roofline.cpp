// moetune roofline [--json] [--threads N] [--buffer-mb MB]: this machine's streaming read
// bandwidth and the peak of each arithmetic instruction class it has (f32 FMA at 256 and 512
// bits, bf16 and int8 dot products), with all threads and with one.
#include <fmt/core.h>
#include <omp.h>

#include <memory>

#include "harness/roofline.h"
#include "kernels/common/isa.h"
#include "kernels/common/machine_class.h"
#include "tools/commands.h"

namespace moetune::cli {

void add_roofline_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("roofline",
                         "Measure this machine's streaming read bandwidth and the peak of each "
                         "arithmetic instruction class it has");
  struct Options {
    bool json = false;
    int threads = omp_get_num_procs();
    int buffer_mb = 512;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_flag("--json", opt->json,
                "print {threads, read_bandwidth_gbs, peak_gflops, single_thread, cpu_model, isa, "
                "peaks}");
  cmd->add_option("--threads", opt->threads, "threads of the all-thread figures")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--buffer-mb", opt->buffer_mb,
                  "size of the read buffer in MiB; keep it far above the L3")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->callback([opt] {
    RooflineOptions ro;
    ro.read_bytes = std::size_t(opt->buffer_mb) << 20;
    const RooflineResult r = measure_roofline(opt->threads, ro);
    if (opt->json) {
      fmt::print("{}\n", to_json(r).dump(2));
      return;
    }
    fmt::print("{}\nmachine class: {}\nFMA probe: {}, read probe: {} ({} stream{} per thread), "
               "read buffer {} MiB\n\n",
               cpu_model_name(), machine_class().key(), r.isa, r.read_isa, r.read_streams, r.read_streams == 1 ? "" : "s",
               opt->buffer_mb);
    fmt::print("{:>7}  {:>13}  {:>14}\n", "threads", "read GB/s", "peak GFLOP/s");
    fmt::print("{:>7}  {:>13.1f}  {:>14.1f}\n", r.threads, r.read_bandwidth_gbs, r.peak_gflops);
    fmt::print("{:>7}  {:>13.1f}  {:>14.1f}\n", 1, r.single_read_bandwidth_gbs,
               r.single_peak_gflops);
    fmt::print("\npeak of each instruction class (G operations/s; a multiply or an add is one)\n");
    fmt::print("{:<16} {:<9} {:<11} {:>10} {:>10}\n", "class", "arith", "isa",
               fmt::format("{} thr", r.threads), "1 thr");
    for (const PeakFigure& p : r.peaks)
      fmt::print("{:<16} {:<9} {:<11} {:>10.1f} {:>10.1f}\n", p.name, arith_name(p.arith), p.isa,
                 p.gflops, p.single_gflops);
  });
}

}  // namespace moetune::cli
