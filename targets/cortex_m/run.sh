#!/usr/bin/env bash
# The edgegen runtime on bare-metal Cortex-M4F, M7 and M33, proven under QEMU:
#   1. builds the host tool if needed and converts examples/digits_gan, in float32
#      and quantized to int8 (and the 2 KB examples/energy_gaussian, which the
#      firmware must refuse),
#   2. for each board, cross-builds the firmware (runtime with the GAN's kernels
#      only, demo, model via edgegen_embed_model),
#   3. runs it in qemu-system-arm with semihosting,
#   4. compares it with the same seed sampled on the host (check_output.cc),
#   5. prints flash and RAM use, and checks the runtime's code is at most 48 KB
#      and the int8 model's flash at most 0.27x the float32 one's.
# The float32 GAN runs on every board, the int8 GAN on the boards of
# EDGEGEN_CORTEX_M_INT8_BOARDS. Exits with 0 when every check passes.
#
#   targets/cortex_m/run.sh [BOARD...]    boards: mps2-an386 (Cortex-M4F), mps2-an500 (M7),
#                                         mps2-an505 (M33, Secure state); default: all three
# Environment (all optional):
#   EDGEGEN_HOST_BUILD        host build directory (default: build, as scripts/setup.sh makes it)
#   EDGEGEN_CORTEX_M_BUILD    firmware build directories' parent (default: build-cortex-m; one per board)
#   EDGEGEN_CORTEX_M_TYPE     CMake build type of runtime and firmware (default: MinSizeRel)
#   EDGEGEN_CORTEX_M_KERNELS  model (default: only the GAN's kernels) or all
#   EDGEGEN_FIRMWARE_SEED     seed of the sample (default: 7)
#   EDGEGEN_QEMU_TIMEOUT      seconds before QEMU is stopped (default: 120)
#   EDGEGEN_CORTEX_M_INT8_BOARDS  boards that also run the int8 GAN (default: mps2-an386; "" for none)
# Host packages: gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
# qemu-system-arm, and the host build's (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
start=$SECONDS

host_build=${EDGEGEN_HOST_BUILD:-build}
fw_root=${EDGEGEN_CORTEX_M_BUILD:-build-cortex-m}
build_type=${EDGEGEN_CORTEX_M_TYPE:-MinSizeRel}
kernels=${EDGEGEN_CORTEX_M_KERNELS:-model}
seed=${EDGEGEN_FIRMWARE_SEED:-7}
qemu_timeout=${EDGEGEN_QEMU_TIMEOUT:-120}
jobs=$(nproc)
boards=("$@")
((${#boards[@]})) || boards=(mps2-an386 mps2-an500 mps2-an505)
read -r -a int8_boards <<<"${EDGEGEN_CORTEX_M_INT8_BOARDS-mps2-an386}"
# The int8 model's flash against the float32 one's (issue 10: at most 0.27).
int8_flash_budget=0.27
# The runtime's code with only the GAN's kernels at -Os (issue 11: at most 48 KB).
runtime_budget=$((48 * 1024))

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

mkdir -p "$fw_root"
fw_root=$(cd "$fw_root" && pwd)

echo "== host tool ($host_build/edgegen)"
if [[ ! -f "$host_build/CMakeCache.txt" ]]; then
  cmake -S . -B "$host_build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$host_build" -j"$jobs" --target edgegen >"$fw_root/host-build.log" 2>&1 || {
  tail -n 50 "$fw_root/host-build.log"
  exit 1
}
edgegen=$(cd "$host_build" && pwd)/edgegen
model=$fw_root/digits_gan.egm
other_model=$fw_root/energy_gaussian.egm
"$edgegen" convert examples/digits_gan/manifest.json -o "$model"
"$edgegen" convert examples/energy_gaussian/manifest.json -o "$other_model" >/dev/null
"$edgegen" sample "$model" -n 1 --seed "$seed" -o "$fw_root/host_item.npy" \
  --latents-out "$fw_root/host_latent.npy" >/dev/null
# int8: weights and activations quantized, calibrated on latents from the prior.
"$edgegen" convert examples/digits_gan/manifest.json -o "$fw_root/digits_gan_int8.egm" --quantize int8 >/dev/null
"$edgegen" sample "$fw_root/digits_gan_int8.egm" -n 1 --seed "$seed" -o "$fw_root/host_item_int8.npy" \
  --latents-out "$fw_root/host_latent_int8.npy" >/dev/null
checker=$fw_root/check_output
if [[ ! -x "$checker" || "$checker" -ot targets/cortex_m/check_output.cc ]]; then
  "${CXX:-c++}" -std=c++17 -O1 -Wall -o "$checker" targets/cortex_m/check_output.cc
fi

summary=()
declare -A model_flash
run_board() {  # <board> <float32|int8>
  local board=$1 precision=$2 board_start=$SECONDS
  local fw_build=$fw_root/$board model=$model host_item=$fw_root/host_item.npy host_latent=$fw_root/host_latent.npy
  if [[ $precision == int8 ]]; then
    fw_build=$fw_root/$board-int8 model=$fw_root/digits_gan_int8.egm
    host_item=$fw_root/host_item_int8.npy host_latent=$fw_root/host_latent_int8.npy
  fi
  echo "== firmware for $board, $precision GAN ($fw_build, $build_type, kernels: $kernels)"
  cmake -S targets/cortex_m -B "$fw_build" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/arm-none-eabi.cmake" \
    -DCMAKE_BUILD_TYPE="$build_type" \
    -DEDGEGEN_FIRMWARE_BOARD="$board" \
    -DEDGEGEN_FIRMWARE_MODEL="$model" \
    -DEDGEGEN_FIRMWARE_OTHER_MODEL="$other_model" \
    -DEDGEGEN_FIRMWARE_KERNELS="$kernels" \
    -DEDGEGEN_HOST_TOOL="$edgegen" \
    -DEDGEGEN_FIRMWARE_SEED="$seed" | grep -E "edgegen(_embed_model)?:" | sed 's/^-- /  /' || true
  cmake --build "$fw_build" -j"$jobs" >"$fw_build/build.log" 2>&1 || {
    cat "$fw_build/build.log"
    return 1
  }
  local elf=$fw_build/edgegen_firmware.elf log=$fw_build/firmware.log qemu_start=$SECONDS status=0
  echo "== qemu-system-arm -M $board, semihosting"
  timeout "$qemu_timeout" qemu-system-arm -M "$board" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$elf" </dev/null >"$log" 2>&1 || status=$?
  # The log without the hex dumps of the floats (they are in $log).
  grep -v -E '^( [0-9a-f]{8})+$' "$log"
  echo "(QEMU exit status $status after $((SECONDS - qemu_start)) s; full output in $log)"
  if ((status != 0)); then
    echo "cortex-m: the firmware failed on $board (exit status $status; 124 means it timed out)" >&2
    return 1
  fi

  echo "== comparison with the host (edgegen sample --seed $seed)"
  # int8 too: the device's reference kernels and the host's fast ones give
  # the same integers (same rounding), so only the float ops' libm differs.
  "$checker" "$log" "$host_item" "$host_latent" 1e-4

  # The static arena is sized on the host for the firmware: the reference
  # kernels (not the host's XNNPACK with its packed weights) on a 32-bit CPU
  # (edgegen/data_model.h). It must be exactly what the device says it needs.
  local needed reserved
  read -r needed reserved < <(sed -n 's/^arena: \([0-9]*\) bytes needed, \([0-9]*\) reserved.*/\1 \2/p' "$log")
  if [[ -z ${needed:-} ]] || ((reserved != needed)); then
    echo "cortex-m: the static arena is ${reserved:-?} bytes for ${needed:-?} needed (EG_ARENA_BYTES is not exact)" >&2
    return 1
  fi
  echo "  ok    arena: $reserved bytes reserved, exactly the $needed the device needs"
  if [[ $kernels == model ]]; then
    grep -q "^refused other model (.*): unsupported operator: .*add [A-Za-z0-9]* to EDGEGEN_KERNELS" "$log" || {
      echo "cortex-m: the model with other operators was not refused with EG_UNSUPPORTED_OP" >&2
      return 1
    }
    echo "  ok    kernels: a model with operators this runtime left out is refused (EG_UNSUPPORTED_OP)"
  fi
  if [[ $board == mps2-an505 ]]; then
    grep -q "^security state: Secure$" "$log" || { echo "cortex-m: the M33 did not run Secure" >&2; return 1; }
    echo "  ok    TrustZone: the firmware runs in the Secure state"
  fi

  echo "== size on $board, $precision GAN ($build_type, kernels: $kernels)"
  local sizes runtime_bytes
  sizes=$(awk -f targets/cortex_m/map_sizes.awk "$fw_build/edgegen_firmware.map" | sort -k2,2nr)
  awk '
    BEGIN { printf "%-28s %12s %10s\n", "", "flash bytes", "RAM bytes" }
    { printf "%-28s %12d %10d\n", $1, $2, $3; flash += $2; ram += $3 }
    END { printf "%-28s %12d %10d   (+ the stack: RAM region total above)\n", "total", flash, ram }' <<<"$sizes"
  grep -A2 "^Memory region" "$fw_build/build.log" || true
  runtime_bytes=$(awk '$1 == "libedgegen_runtime.a" { print $2 }' <<<"$sizes")
  model_flash[$board-$precision]=$(awk '$1 == "edgegen_model.S.obj" { print $2 }' <<<"$sizes")
  if [[ $kernels == model && $build_type == MinSizeRel ]]; then
    if ((runtime_bytes > runtime_budget)); then
      echo "cortex-m: the runtime takes $runtime_bytes bytes of flash on $board, over $runtime_budget" >&2
      return 1
    fi
    echo "  ok    runtime: $runtime_bytes bytes of code (at most $runtime_budget)"
  fi
  summary+=("$(printf '%-11s %-8s %14d %12d %12d %10d %6d s' "$board" "$precision" "$runtime_bytes" \
    "${model_flash[$board-$precision]}" "$(awk '{ flash += $2 } END { print flash }' <<<"$sizes")" \
    "$(awk '{ ram += $3 } END { print ram }' <<<"$sizes")" $((SECONDS - board_start)))")
}

for board in "${boards[@]}"; do
  run_board "$board" float32 || { echo "cortex-m: $board failed" >&2; exit 1; }
  for int8_board in "${int8_boards[@]}"; do
    [[ $int8_board == "$board" ]] || continue
    run_board "$board" int8 || { echo "cortex-m: $board (int8 GAN) failed" >&2; exit 1; }
    ratio=$(awk -v a="${model_flash[$board-int8]}" -v b="${model_flash[$board-float32]}" 'BEGIN { printf "%.3f", a / b }')
    if awk -v r="$ratio" -v max="$int8_flash_budget" 'BEGIN { exit !(r > max) }'; then
      echo "cortex-m: the int8 GAN takes ${ratio}x the float32 GAN's flash on $board, over $int8_flash_budget" >&2
      exit 1
    fi
    echo "  ok    int8 model: ${model_flash[$board-int8]} bytes of flash, ${ratio}x the float32 model's (at most $int8_flash_budget)"
  done
done

echo "== summary ($build_type, kernels: $kernels; RAM without the stack)"
printf '%-11s %-8s %14s %12s %12s %10s %8s\n' board model "runtime flash" "model flash" "flash total" RAM time
printf '%s\n' "${summary[@]}"
echo "cortex-m: all checks passed on ${boards[*]} in $((SECONDS - start)) s"
