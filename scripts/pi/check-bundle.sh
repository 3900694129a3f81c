#!/usr/bin/env bash
# scripts/pi/check-bundle.sh aarch64|armhf: what CI does with a Pi bundle.
# Unpacks edgegen-pi-<arch>.tar.gz into a fresh directory, runs its
# run-demo.sh under qemu-user, runs the same commands with the host's
# build/edgegen on the same models, and compares the pictures
# (compare_pictures.py: identical latents, pixels within one level).
set -euo pipefail
cd "$(dirname "$0")/../.."
arch=$1
case "$arch" in
  aarch64) emulator="qemu-aarch64 -L /usr/aarch64-linux-gnu" ;;
  armhf)   emulator="qemu-arm -L /usr/arm-linux-gnueabihf" ;;
  *) echo "usage: scripts/pi/check-bundle.sh aarch64|armhf" >&2; exit 2 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/edgegen-pi-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "edgegen-pi-$arch.tar.gz"
bundle=$work/edgegen-pi-$arch
EDGEGEN_EMULATOR=$emulator "$bundle/run-demo.sh" "$work/device"

# The host's pictures: the same commands as run-demo.sh, on the same models.
models=$bundle/models host=$work/host
mkdir -p "$host"
build/edgegen sample "$models/digits_gan.egm" -n 64 --seed 1 --latents-out "$host/digits_gan_latents.npy" \
  -o "$host/digits_gan_samples.png" >/dev/null
build/edgegen interpolate "$models/digits_gan.egm" --seeds 3 7 --steps 10 --mode slerp \
  -o "$host/digits_gan_interpolation.png" >/dev/null
build/edgegen sample "$models/digits_vae.egm" -n 64 --seed 1 --latents-out "$host/digits_vae_latents.npy" \
  -o "$host/digits_vae_samples.png" >/dev/null
build/edgegen reconstruct "$models/digits_vae.egm" --input "$models/digits_vae_x.npy" \
  -o "$host/digits_vae_reconstruction.png" >/dev/null
/usr/bin/python3 scripts/pi/compare_pictures.py "$work/device" "$host"
