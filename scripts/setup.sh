#!/usr/bin/env bash
# Installs what edgegen needs from Debian 12's apt, then configures and
# builds it in build/. Idempotent: installs only what is missing and
# rebuilds only what changed.
#   scripts/setup.sh            build tools and runtime (what the demo needs)
#   scripts/setup.sh --python   also the Python module `edgegen` (pybind11),
#                               installed for Debian's python3 in /usr/local
#   scripts/setup.sh --tests    also what the test suite needs, and the tests
#                               (the Python module and its pytest suite included)
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
  nlohmann-json3-dev libcli11-dev libspng-dev libsndfile1-dev
)
build_tests=OFF
build_python=OFF
install_python=OFF
python_packages=(pybind11-dev python3-dev python3-numpy python3-pandas python3-dask python3-distributed)
for argument in "$@"; do
  case "$argument" in
    --tests) build_tests=ON ;;
    --python) build_python=ON install_python=ON ;;
    *) echo "edgegen setup: unknown option '$argument' (expected --tests and/or --python)" >&2; exit 1 ;;
  esac
done
if [[ $build_python == ON ]]; then
  packages+=("${python_packages[@]}")
fi
if [[ $build_tests == ON ]]; then
  # The Python module is built and tested with the suite (pytest, Dask on a
  # LocalCluster), but only installed with --python.
  build_python=ON
  packages+=("${python_packages[@]}" python3-pytest)
  # doctest, ONNX's conformance data, NumPy for the end-to-end checks, the aarch64
  # and armhf cross compilers + emulators (64- and 32-bit Raspberry Pi OS), the
  # bare-metal Cortex-M toolchain + QEMU,
  # clang with its sanitizer and libFuzzer runtimes for fuzz/run.sh, and
  # SentencePiece (the tool's optional tokenizer module and spm_train).
  packages+=(doctest-dev libonnx-testdata python3-numpy g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user
             gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
             clang llvm libclang-rt-14-dev libsentencepiece-dev sentencepiece)
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

# EDGEGEN_BUILD_TESTS and EDGEGEN_BUILD_PYTHON are always passed: a build the
# test suite configured once must not keep requiring the test packages (or
# pybind11) when the demo reuses it.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEGEN_BUILD_TESTS="$build_tests" \
  -DEDGEGEN_BUILD_PYTHON="$build_python" >/dev/null
cmake --build build -j"$(nproc)"
if [[ $install_python == ON ]]; then
  # Only the package (the "python" install component), into
  # /usr/local/lib/python3.X/dist-packages, which Debian's python3 reads.
  cmake --install build --component python --prefix /usr/local >/dev/null
  echo "edgegen setup: installed the Python module: $(/usr/bin/python3 -c 'import edgegen; print(edgegen.__file__)')"
fi
