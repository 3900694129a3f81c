#!/usr/bin/env bash
# The edgegen runtime on a bare-metal Cortex-M4F, proven under QEMU:
#   1. builds the host tool if needed and converts examples/digits_gan,
#   2. cross-builds the firmware (runtime + demo + model) for mps2-an386,
#   3. runs it in qemu-system-arm with semihosting,
#   4. samples the same seed on the host and compares (check_output.cc),
#   5. prints flash and RAM use.
# Exits with 0 when every check passes.
#
# Environment (all optional):
#   EDGEGEN_HOST_BUILD        host build directory (default: build, as scripts/setup.sh makes it)
#   EDGEGEN_CORTEX_M_BUILD    firmware build directory (default: build-cortex-m)
#   EDGEGEN_CORTEX_M_TYPE     CMake build type of runtime and firmware (default: MinSizeRel)
#   EDGEGEN_FIRMWARE_SEED     seed of the sample (default: 7)
#   EDGEGEN_QEMU_TIMEOUT      seconds before QEMU is stopped (default: 120)
# Host packages: gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
# qemu-system-arm, and the host build's (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
start=$SECONDS

host_build=${EDGEGEN_HOST_BUILD:-build}
fw_build=${EDGEGEN_CORTEX_M_BUILD:-build-cortex-m}
build_type=${EDGEGEN_CORTEX_M_TYPE:-MinSizeRel}
seed=${EDGEGEN_FIRMWARE_SEED:-7}
qemu_timeout=${EDGEGEN_QEMU_TIMEOUT:-120}
jobs=$(nproc)

missing=()
for tool in arm-none-eabi-gcc arm-none-eabi-g++ qemu-system-arm cmake ninja; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ ! -e /usr/lib/arm-none-eabi/newlib/libc.a && ! -e /usr/lib/arm-none-eabi/lib/libc.a ]]; then
  missing+=("newlib")
fi
if ((${#missing[@]})); then
  echo "cortex-m: missing ${missing[*]}; install with:" >&2
  echo "  apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm" >&2
  exit 1
fi

mkdir -p "$fw_build"
fw_build=$(cd "$fw_build" && pwd)

echo "== host tool ($host_build/edgegen)"
if [[ ! -f "$host_build/CMakeCache.txt" ]]; then
  cmake -S . -B "$host_build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$host_build" -j"$jobs" --target edgegen >"$fw_build/host-build.log" 2>&1 || {
  tail -n 50 "$fw_build/host-build.log"
  exit 1
}
edgegen=$(cd "$host_build" && pwd)/edgegen
model=$fw_build/digits_gan.egm
"$edgegen" convert examples/digits_gan/manifest.json -o "$model"

echo "== firmware ($fw_build, $build_type)"
cmake -S targets/cortex_m -B "$fw_build" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/arm-none-eabi.cmake" \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DEDGEGEN_FIRMWARE_MODEL="$model" \
  -DEDGEGEN_HOST_TOOL="$edgegen" \
  -DEDGEGEN_FIRMWARE_SEED="$seed" | grep "edgegen firmware:" || true
cmake --build "$fw_build" -j"$jobs" > "$fw_build/build.log" 2>&1 || {
  cat "$fw_build/build.log"
  exit 1
}
elf=$fw_build/edgegen_firmware.elf

echo "== qemu-system-arm -M mps2-an386 (Cortex-M4F), semihosting"
log=$fw_build/firmware.log
qemu_start=$SECONDS
status=0
timeout "$qemu_timeout" qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$elf" </dev/null >"$log" 2>&1 || status=$?
# The log without the hex dumps of the floats (they are in $log).
grep -v -E '^( [0-9a-f]{8})+$' "$log"
echo "(QEMU exit status $status after $((SECONDS - qemu_start)) s; full output in $log)"
if ((status != 0)); then
  echo "cortex-m: the firmware failed (exit status $status; 124 means it timed out)" >&2
  exit 1
fi

echo "== comparison with the host (edgegen sample --seed $seed)"
"$edgegen" sample "$model" -n 1 --seed "$seed" -o "$fw_build/host_item.npy" \
  --latents-out "$fw_build/host_latent.npy" >/dev/null
checker=$fw_build/check_output
if [[ ! -x "$checker" || "$checker" -ot targets/cortex_m/check_output.cc ]]; then
  "${CXX:-c++}" -std=c++17 -O1 -Wall -o "$checker" targets/cortex_m/check_output.cc
fi
"$checker" "$log" "$fw_build/host_item.npy" "$fw_build/host_latent.npy" 1e-4

# The static arena is sized on the host for the firmware's kernels (the
# reference ones): it must be what the device needs plus the C handle's
# slack, not the host's XNNPACK arena with its packed weights.
read -r needed reserved < <(sed -n 's/^arena: \([0-9]*\) bytes needed, \([0-9]*\) reserved.*/\1 \2/p' "$log")
if [[ -z ${needed:-} ]] || ((reserved > needed + 4096)); then
  echo "cortex-m: the static arena is ${reserved:-?} bytes for ${needed:-?} needed (sized for the wrong backend?)" >&2
  exit 1
fi
echo "  ok    arena: $reserved bytes reserved for $needed needed"

echo "== size ($build_type)"
arm-none-eabi-size "$elf"
awk -f targets/cortex_m/map_sizes.awk "$fw_build/edgegen_firmware.map" | sort -k2,2nr | awk '
  BEGIN { printf "%-28s %12s %10s\n", "", "flash bytes", "RAM bytes" }
  { printf "%-28s %12d %10d\n", $1, $2, $3; flash += $2; ram += $3 }
  END { printf "%-28s %12d %10d   (+ the stack: RAM region total above)\n", "total", flash, ram }'
grep -A2 "^Memory region" "$fw_build/build.log" || true

echo "cortex-m: all checks passed in $((SECONDS - start)) s"
