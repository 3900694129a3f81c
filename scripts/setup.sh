#!/usr/bin/env bash
# Installs what edgegen needs from Debian 12's apt, then configures and
# builds it in build/. Idempotent: installs only what is missing and
# rebuilds only what changed.
#   scripts/setup.sh            build tools and runtime (what the demo needs)
#   scripts/setup.sh --tests    also what the test suite needs, and the tests
# The demo's build must need nothing only the tests need (doctest, ONNX's
# conformance data, NumPy, cross toolchains): scripts/test.sh proves it by
# running the demo with those folders hidden.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config
  flatbuffers-compiler libflatbuffers-dev
  libxnnpack-dev libcpuinfo-dev libpthreadpool-dev
  libprotobuf-dev protobuf-compiler libonnx-dev
  nlohmann-json3-dev libcli11-dev libspng-dev
)
build_tests=OFF
if [[ "${1:-}" == "--tests" ]]; then
  build_tests=ON
  # doctest, ONNX's conformance data, NumPy for the end-to-end checks, the aarch64
  # and armhf cross compilers + emulators (64- and 32-bit Raspberry Pi OS), the
  # bare-metal Cortex-M toolchain + QEMU, and
  # clang with its sanitizer and libFuzzer runtimes for fuzz/run.sh.
  packages+=(doctest-dev libonnx-testdata python3-numpy g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user
             gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
             clang llvm libclang-rt-14-dev)
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

# EDGEGEN_BUILD_TESTS is always passed: a build the test suite configured
# once must not keep requiring the test packages when the demo reuses it.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEGEN_BUILD_TESTS="$build_tests" >/dev/null
cmake --build build -j"$(nproc)"
