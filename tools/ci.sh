#!/usr/bin/env bash
# The CI builds beyond tools/test.sh (README "Robustness"), each in its own build directory:
#   asan   GCC, -fsanitize=address,undefined at -O1 -g, the whole ctest suite
#   clang  clang++-14, Release, with libomp's OpenMP, the whole ctest suite
#   fuzz   clang++-14 libFuzzer targets (ASan+UBSan), each run for FUZZ_SECONDS (60) over its seeds
# All three build with -DMOETUNE_WERROR=ON: a compiler warning in the project's own code fails.
# usage: tools/ci.sh [asan] [clang] [fuzz]   (no argument: all three, in that order)
# Installs what it needs (the Clang compiler and its sanitizer/libFuzzer runtimes) the way
# tools/install-deps.sh does for the main build. A sanitizer finding, a fuzzer crash or a failed
# test exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
MOETUNE_EXTRA_PACKAGES="clang-14 libclang-rt-14-dev ${MOETUNE_EXTRA_PACKAGES:-}" \
  tools/install-deps.sh
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(asan clang fuzz)
jobs=${CI_JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-60}

# detect_leaks=0: LeakSanitizer reports libgomp's thread pool, which lives until exit by design
# and is not ours to free; every other ASan check stays on. abort_on_error gives a core and a
# non-zero status even where a test harness swallows the exit code. UBSan halts on the first
# finding (the build also has -fno-sanitize-recover), with a stack to find it by.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

step_asan() {
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g" \
    -DMOETUNE_SANITIZE=address,undefined -DMOETUNE_WERROR=ON >/dev/null
  ninja -j"$jobs" -C build-asan
  (cd build-asan && ctest --output-on-failure -j"$jobs" --timeout 1200)
}

step_clang() {
  cmake -S . -B build-clang -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Release \
    -DMOETUNE_WERROR=ON >/dev/null
  ninja -j"$jobs" -C build-clang
  (cd build-clang && ctest --output-on-failure -j"$jobs" --timeout 600)
}

step_fuzz() {
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug \
    "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g" -DMOETUNE_FUZZ=ON -DMOETUNE_BUILD_TESTS=OFF -DMOETUNE_WERROR=ON \
    >/dev/null
  ninja -j"$jobs" -C build-fuzz fuzz_safetensors fuzz_sweep
  for name in safetensors sweep; do
    # New inputs go to a scratch corpus in the build directory; the seeds in the repository are
    # only read. Crash inputs land in build-fuzz/artifacts/: add them to the seeds once fixed.
    local work=build-fuzz/corpus-$name
    mkdir -p "$work" build-fuzz/artifacts
    local dict=()
    [ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
    echo "fuzz_$name: ${fuzz_seconds} s"
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a parser asked for gigabytes
    # by a small input is a finding too.
    "build-fuzz/tests/fuzz/fuzz_$name" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$name-" "${dict[@]}" \
      "$work" "tests/fuzz/corpus/$name"
  done
}

for step in "${steps[@]}"; do
  case "$step" in
    asan | clang | fuzz)
      echo "=== ci: $step"
      start=$SECONDS
      "step_$step"
      echo "=== ci: $step passed in $((SECONDS - start)) s"
      ;;
    *)
      echo "tools/ci.sh: unknown step '$step' (expected asan, clang or fuzz)" >&2
      exit 2
      ;;
  esac
done
