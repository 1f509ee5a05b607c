#!/usr/bin/env bash
# Installs the Debian packages moetune builds with, only those missing. Needs root (or sudo).
# The python3-* ones: the Python module (pybind11), its test (numpy, pytest) and the results
# schema test (jsonschema); the C++ build and its other tests do without them.
set -euo pipefail
packages=(cmake ninja-build g++ git libomp-dev libbenchmark-dev libgtest-dev libeigen3-dev
          libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev pkg-config libopenblas-dev libsimde-dev
          libssl-dev python3-dev python3-pybind11 python3-numpy python3-pytest python3-jsonschema
          ${MOETUNE_EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "moetune: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
