#!/usr/bin/env bash
# Installs what edgegen needs from Debian 12's apt, then configures and
# builds it in build/. Idempotent: installs only what is missing and
# rebuilds only what changed.
#   scripts/setup.sh            build tools and runtime
#   scripts/setup.sh --tests    also what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config
  flatbuffers-compiler libflatbuffers-dev
  libxnnpack-dev libcpuinfo-dev libpthreadpool-dev
  libprotobuf-dev protobuf-compiler libonnx-dev
  nlohmann-json3-dev libcli11-dev libspng-dev doctest-dev
)
if [[ "${1:-}" == "--tests" ]]; then
  # ONNX's conformance data, NumPy for the end-to-end checks, the aarch64
  # cross compiler + emulator, and the bare-metal Cortex-M toolchain + QEMU.
  packages+=(libonnx-testdata python3-numpy g++-aarch64-linux-gnu qemu-user
             gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "edgegen setup: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "edgegen setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
