#!/usr/bin/env bash
# The whole test suite: sets everything up, then runs
#   0. the README's demo with the test-only packages hidden (it must not need them),
#   1. the suite under AddressSanitizer + UndefinedBehaviorSanitizer, then
#      every fuzzer (fuzz/run.sh) for 10 s,
#   2. the runtime's unit tests, the diffusion samplers and real models
#      cross-compiled for aarch64 and armhf (64- and 32-bit Raspberry Pi OS),
#      under qemu-user, and each Pi bundle's demo checked against the host,
#   3. the firmware demo on bare-metal Cortex-M4F, M7 and M33 under QEMU, checked against the host,
#   4. edgegen installed from the Release build, used by an outside project
#      (find_package and pkg-config),
#   5. the suite in the Release build (last, so the run ends with its summary).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# Each stage prints when it starts, so a slow CI run shows where its time went.
stage() { echo "== $1  [${SECONDS} s]"; }

stage "The demo, as a new user runs it: without the test-only packages"
# The demo configures and builds build/ without the tests; the folders of the
# test-only packages (when a previous run installed them) are hidden under
# empty tmpfs mounts in a private mount namespace, so anything the demo
# wrongly needed from them fails here. The test build below reuses build/.
test_only_dirs=(/usr/share/libonnx-testdata /usr/include/doctest /usr/lib/python3/dist-packages/numpy
                /usr/include/pybind11 /usr/lib/cmake/pybind11 /usr/lib/python3/dist-packages/dask
                /usr/aarch64-linux-gnu /usr/arm-linux-gnueabihf /usr/lib/arm-none-eabi)
hidden=()
for dir in "${test_only_dirs[@]}"; do [[ -d $dir ]] && hidden+=("$dir"); done
unshare --mount --propagation private bash -c \
  'for dir in "$@"; do mount -t tmpfs -o size=1m,ro edgegen-hidden "$dir"; done; exec scripts/demo.sh' \
  hide "${hidden[@]}" >demo.log 2>&1 || { cat demo.log; echo "the demo failed (log above)"; exit 1; }
tail -n 3 demo.log

scripts/setup.sh --tests

stage "AddressSanitizer + UndefinedBehaviorSanitizer"
# -O1 -g1: line numbers in reports, and half the compile time of -O2 -g.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DEDGEGEN_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "-- built  [${SECONDS} s]"
# allocator_may_return_null: corrupt models that claim huge arenas must get a
# clean "out of memory" status, which ASan would otherwise turn into an abort.
# The command line's end-to-end scripts and the example models run once
# here, on XNNPACK: their _reference twins exercise the same command-line
# and pipeline code, and the reference kernels are under ASan in every other
# _reference test (example_models_reference alone took 209 s under ASan).
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan -j"$jobs" --output-on-failure \
  -E '^(cli_[a-z_]*end_to_end_reference|example_models_reference)$'

stage "Fuzzing: every libFuzzer target for a short fixed time (clang, ASan + UBSan)"
# Replays fuzz/regressions/ and the seeds, then mutates; any crash fails the
# run with its input in fuzz/findings/. README "Fuzzing" has the long run.
fuzz/run.sh 10

stage "Raspberry Pi: aarch64 and armhf (cross-compiled, run under qemu-aarch64 / qemu-arm)"
# Per architecture: the runtime's unit tests, the diffusion samplers and real
# models on both backends; then the Pi bundle (scripts/pi-bundle.sh, reusing
# this build) unpacked and its run-demo.sh run, pictures checked against the host's.
# Real models for tests/device_models_test.cc, converted by the host's tool.
device_models=$PWD/build-device-models
mkdir -p "$device_models"
build/edgegen convert examples/digits_gan/manifest.json -o "$device_models/digits_gan.egm" --batch 4 >/dev/null
build/edgegen convert examples/digits_vae/manifest.json -o "$device_models/digits_vae.egm" --batch 4 >/dev/null
build/edgegen convert examples/anomaly_digits/flow_manifest.json -o "$device_models/anomaly_flow.egm" --batch 8 >/dev/null
build/edgegen convert tests/flow_layers/spline/manifest.json -o "$device_models/spline_flow.egm" --batch 8 >/dev/null
build/edgegen convert examples/tiny_lm/manifest.json -o "$device_models/tiny_lm.egm" >/dev/null
for arch in aarch64 armhf; do
  case $arch in
    aarch64) toolchain=toolchains/aarch64-linux-gnu.cmake ;;
    armhf)   toolchain=toolchains/arm-linux-gnueabihf.cmake ;;
  esac
  echo "-- $arch"
  cmake -S . -B "build-$arch" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$PWD/$toolchain" \
    -DEDGEGEN_BUILD_TOOLS=ON -DEDGEGEN_DEVICE_MODELS_DIR="$device_models" >/dev/null
  cmake --build "build-$arch" -j"$jobs"
  echo "-- built  [${SECONDS} s]"
  ctest --test-dir "build-$arch" -j"$jobs" --output-on-failure
  scripts/pi-bundle.sh "$arch"
  scripts/pi/check-bundle.sh "$arch"
done

stage "Cortex-M4F, M7 and M33 firmware (bare metal, qemu-system-arm)"
targets/cortex_m/run.sh

stage "Install: an outside project against the installed package"
tests/install/run.sh build

stage "Release"
ctest --test-dir build -j"$jobs" --output-on-failure
