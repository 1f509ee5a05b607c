#!/usr/bin/env bash
# The peers on one sweep, in one command, then moetune against them:
#
#   tools/run_peers.sh sweeps/qwen3-30b-a3b.yaml [OUT_DIR]
#
# 1. moetune's own sweep (OpenBLAS's gemv is a registered variant: it is in there), unless
#    MOETUNE_RESULTS names results of that sweep already made;
# 2. tools/peer_pytorch.py and, when llama-cpp-python and gguf are installed,
#    tools/peer_llamacpp.py, on the sweep's shapes, tokens and threads, quoting the roofline
#    that the moetune results hold;
# 3. `moetune compare --match point` (Markdown) and `moetune report` of all of them.
# Everything lands in OUT_DIR (default peers/). Extra peer options: PEER_ARGS (e.g.
# "--dtype f32"). Run it on a quiet machine: the figures are only as good as the machine's calm.
set -euo pipefail
cd "$(dirname "$0")/.."
sweep=${1:?usage: tools/run_peers.sh SWEEP.yaml [OUT_DIR]}
out=${2:-peers}
build=${BUILD_DIR:-build}
mkdir -p "$out"
[ -x "$build/moetune" ] || tools/build.sh

results=${MOETUNE_RESULTS:-$out/moetune.json}
if [ -z "${MOETUNE_RESULTS:-}" ]; then
  "$build/moetune" sweep "$sweep" -o "$results" --no-progress
fi

files=()
# shellcheck disable=SC2086
python3 tools/peer_pytorch.py --sweep "$sweep" --roofline-json "$results" ${PEER_ARGS:-} \
  -o "$out/pytorch.json"
files+=("$out/pytorch.json")
if python3 -c 'import llama_cpp, gguf' 2>/dev/null; then
  # shellcheck disable=SC2086
  python3 tools/peer_llamacpp.py --sweep "$sweep" --roofline-json "$results" ${PEER_ARGS:-} \
    -o "$out/llamacpp.json"
  files+=("$out/llamacpp.json")
else
  echo "run_peers: llama-cpp-python or gguf is not installed: llama.cpp skipped" \
       "(pip install llama-cpp-python gguf)" >&2
fi

"$build/moetune" compare "$results" "${files[@]}" --match point --format markdown \
  > "$out/compare.md"
"$build/moetune" report "$results" "${files[@]}" -o "$out/report.html"
echo "run_peers: $out/compare.md and $out/report.html written" >&2
