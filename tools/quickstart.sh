#!/usr/bin/env bash
# The main job on a fresh machine: install, build, run the quick sweep and print its table.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
build=${BUILD_DIR:-build}
mkdir -p out
"$build/moetune" roofline
# --force: the main job replaces the results of its own earlier run.
"$build/moetune" sweep "${1:-sweeps/quick.yaml}" -o "out/$(basename "${1:-quick}" .yaml).json" --force
