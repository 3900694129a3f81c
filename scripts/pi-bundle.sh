#!/usr/bin/env bash
# scripts/pi-bundle.sh [aarch64|armhf]: makes edgegen-pi-<arch>.tar.gz, what a
# Raspberry Pi needs to run the demo:
#   bin/edgegen     the command line, cross-built (no converter: it stays on the host)
#   lib/            the shared libraries it needs from Debian's <arch> packages
#                   (XNNPACK is shared-only in Debian; cpuinfo, pthreadpool, spng, zlib)
#   models/         the example GAN and VAE converted here, by the host's edgegen
#   run-demo.sh     writes the demo pictures and prints the speed
# aarch64: 64-bit Raspberry Pi OS (Pi 3, 4, 5, Zero 2); armhf: 32-bit (ARMv7 +
# NEON: Pi 2 v1.1, 3, Zero 2). Default: aarch64.
#
# Builds what is missing (host build/ for the converter, build-<arch>/ for
# the device, with its dependency sysroot); idempotent. Environment:
#   EDGEGEN_PI_BUILD_DIR   the cross build directory (default build-<arch>)
#   EDGEGEN_PI_OUTPUT      the archive (default edgegen-pi-<arch>.tar.gz)
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-aarch64}
case "$arch" in
  aarch64) toolchain=toolchains/aarch64-linux-gnu.cmake triplet=aarch64-linux-gnu sysroot_name=aarch64-sysroot ;;
  armhf)   toolchain=toolchains/arm-linux-gnueabihf.cmake triplet=arm-linux-gnueabihf sysroot_name=armhf-sysroot ;;
  *) echo "usage: scripts/pi-bundle.sh [aarch64|armhf]" >&2; exit 2 ;;
esac
jobs=$(nproc)
build=${EDGEGEN_PI_BUILD_DIR:-build-$arch}
output=$(realpath -m "${EDGEGEN_PI_OUTPUT:-edgegen-pi-$arch.tar.gz}")

# The converter: the host's edgegen (configured by scripts/setup.sh, or as it is).
[[ -f build/CMakeCache.txt ]] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEGEN_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$jobs" --target edgegen
# The device's edgegen. An existing build keeps its cached options (the test
# build of scripts/test.sh is reused); the tool is switched on.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$PWD/$toolchain" \
  -DEDGEGEN_BUILD_TOOLS=ON >/dev/null
cmake --build "$build" -j"$jobs" --target edgegen

name=edgegen-pi-$arch
stage=$(mktemp -d "${TMPDIR:-/tmp}/edgegen-pi-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
mkdir -p "$root/bin" "$root/lib" "$root/models"
cp "$build/edgegen" "$root/bin/edgegen"
"$triplet-strip" "$root/bin/edgegen"

# lib/: edgegen's DT_NEEDED libraries (and theirs) that the sysroot holds; the
# C and C++ libraries come with Raspberry Pi OS.
sysroot=$(sed -n "s/^EDGEGEN_[A-Z0-9]*_SYSROOT:PATH=//p" "$build/CMakeCache.txt")
[[ -n "$sysroot" ]] || sysroot=$build/$sysroot_name
needed() { "$triplet-readelf" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
queue=("$root/bin/edgegen")
while ((${#queue[@]})); do
  file=${queue[0]}
  queue=("${queue[@]:1}")
  for library in $(needed "$file"); do
    [[ -e "$root/lib/$library" ]] && continue
    for dir in "$sysroot/usr/lib/$triplet" "$sysroot/lib/$triplet"; do
      if [[ -e "$dir/$library" ]]; then
        cp -L "$dir/$library" "$root/lib/$library"
        queue+=("$root/lib/$library")
        break
      fi
    done
  done
done

for model in digits_gan digits_vae; do
  build/edgegen convert "examples/$model/manifest.json" -o "$root/models/$model.egm" >/dev/null
done
cp examples/digits_vae/reference/x.npy "$root/models/digits_vae_x.npy"
cp scripts/pi/run-demo.sh "$root/run-demo.sh"

tar -C "$stage" -czf "$output.tmp" "$name"
mv "$output.tmp" "$output"
echo "wrote $output ($(du -k "$output" | cut -f1) KiB): bin/edgegen $(du -k "$root/bin/edgegen" | cut -f1) KiB," \
     "lib/ $(ls "$root/lib" | tr '\n' ' ')"
