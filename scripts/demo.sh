#!/usr/bin/env bash
# The main demo: sets everything up, converts the example models, generates
# digits with each and writes the pictures. Prints where they are.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

out=demo-output
mkdir -p "$out"
edgegen=build/edgegen

for name in digits_gan digits_vae; do
  "$edgegen" convert "examples/$name/manifest.json" -o "$out/$name.egm"
done

"$edgegen" sample "$out/digits_gan.egm" -n 64 --seed 1 -o "$out/digits_gan_samples.png"
"$edgegen" interpolate "$out/digits_gan.egm" --seeds 3 7 --steps 10 --mode slerp -o "$out/digits_gan_interpolation.png"
"$edgegen" sample "$out/digits_vae.egm" -n 64 --seed 1 -o "$out/digits_vae_samples.png"
"$edgegen" interpolate "$out/digits_vae.egm" --inputs examples/digits_vae/reference/pair.npy --steps 10 \
  -o "$out/digits_vae_interpolation.png"
"$edgegen" reconstruct "$out/digits_vae.egm" --input examples/digits_vae/reference/x.npy -o "$out/digits_vae_reconstruction.png"

echo
echo "Pictures written:"
for picture in "$out"/*.png; do echo "  $(realpath "$picture")"; done
