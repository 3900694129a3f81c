#!/bin/sh
# run-demo.sh [OUT_DIR]: the edgegen demo on a Raspberry Pi. Generates digits
# with the GAN and the VAE that the bundle carries (converted on the host),
# writes the pictures (and the latents they came from) to OUT_DIR (default:
# demo-output beside this script) and prints how long each took.
#
# Runs from any directory; needs only the bundle (bin/, lib/, models/).
# EDGEGEN_EMULATOR: a command put in front of edgegen, for running the
# bundle elsewhere, e.g. "qemu-arm -L /usr/arm-linux-gnueabihf" (CI).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/demo-output}
mkdir -p "$out"

# The shared libraries edgegen needs that a Pi may lack (XNNPACK, cpuinfo,
# pthreadpool, spng) are in lib/.
edgegen() {
  env LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ${EDGEGEN_EMULATOR:-} "$here/bin/edgegen" "$@"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# timed LABEL COUNT edgegen-arguments...: runs edgegen, prints the time.
timed() {
  label=$1 count=$2
  shift 2
  start=$(now_ms)
  edgegen "$@" > /dev/null
  ms=$(( $(now_ms) - start ))
  [ "$ms" -gt 0 ] || ms=1
  tenths=$(( count * 10000 / ms ))
  echo "  $label: $count pictures in $ms ms ($(( tenths / 10 )).$(( tenths % 10 )) per second)"
}

echo "edgegen demo on $(uname -m)${EDGEGEN_EMULATOR:+ under $EDGEGEN_EMULATOR}, writing to $out"
timed "digits_gan sample     " 64 sample "$here/models/digits_gan.egm" -n 64 --seed 1 \
  --latents-out "$out/digits_gan_latents.npy" -o "$out/digits_gan_samples.png"
timed "digits_gan interpolate" 10 interpolate "$here/models/digits_gan.egm" --seeds 3 7 --steps 10 --mode slerp \
  -o "$out/digits_gan_interpolation.png"
timed "digits_vae sample     " 64 sample "$here/models/digits_vae.egm" -n 64 --seed 1 \
  --latents-out "$out/digits_vae_latents.npy" -o "$out/digits_vae_samples.png"
timed "digits_vae reconstruct" 4 reconstruct "$here/models/digits_vae.egm" --input "$here/models/digits_vae_x.npy" \
  -o "$out/digits_vae_reconstruction.png"
echo "Pictures written:"
for picture in "$out"/*.png; do echo "  $picture"; done
