// How busy the machine is while a sweep runs (README "Busy machines"): what a sweep records at
// its start, its end and around every point, the warnings it gives, and the per-user record of
// the roofline each machine reached before, so a roofline far below it can be called out.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "harness/roofline.h"

namespace moetune {

struct LoadSample {
  double load_1m = 0;  // the kernel's 1-minute load average (/proc/loadavg)
  // Runnable threads other than the one reading, at that instant (/proc/loadavg's 4th field
  // minus 1): what competes with the sweep right now. -1 when /proc/loadavg cannot be read.
  int others_runnable = -1;
};

// One reading; `samples` > 1 takes the median of that many others_runnable readings 50 ms
// apart (one instant catches a short-lived process as often as a busy one).
LoadSample sample_load(int samples = 1);
nlohmann::json to_json(const LoadSample& s);

// The cores a run of `threads` threads leaves to everything else on a machine of `cores`.
inline int free_cores(int cores, int threads) { return cores > threads ? cores - threads : 0; }

// Whether `s` says other work competes for the cores the sweep needs: more runnable threads
// than the cores it leaves free.
inline bool busy(const LoadSample& s, int cores, int threads) {
  return s.others_runnable > free_cores(cores, threads);
}

// Waits until the machine has been quiet (busy() false) for three readings a second apart, at
// most `max_seconds`. Says on stderr what it waits for. True when it became quiet.
bool wait_until_quiet(int cores, int threads, double max_seconds);

// The best roofline recorded on this machine class before (MachineClass::key(), the class a
// fleet's tables are chosen by), in
// ${MOETUNE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/moetune}/roofline.json. check_and_record
// compares `now` with it, returns a warning when peak or bandwidth is more than 20% below
// (else ""), and keeps the better figures. A cache it cannot read or write is left alone,
// and costs only the warning it would have given.
std::string check_and_record_roofline(const std::string& machine_key, const RooflineResult& now);

}  // namespace moetune
