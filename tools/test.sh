#!/usr/bin/env bash
# Install, build, and run every test. Extra arguments go to cmake (tools/build.sh), e.g.
# -DMOETUNE_WERROR=ON as CI passes them.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh "$@"
build=${BUILD_DIR:-build}
cd "$build"
ctest --output-on-failure -j2 --timeout 600
