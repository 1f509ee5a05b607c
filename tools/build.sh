#!/usr/bin/env bash
# Configures and builds moetune into ${BUILD_DIR:-build} (Release). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
ninja -C "$build"
