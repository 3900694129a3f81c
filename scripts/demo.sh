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

# Diffusion (issue 4): per sampler, one grid of the ten classes at 1, 2, 4, 8
# and 20 steps; then the bottom half of four real digits in-painted (RePaint).
"$edgegen" convert examples/digits_diffusion/manifest.json -o "$out/digits_diffusion.egm" --batch 20
for sampler in ddim euler euler_a heun dpmpp_2m dpmpp_3m ddpm lcm; do
  for steps in 1 2 4 8 20; do
    "$edgegen" sample "$out/digits_diffusion.egm" --sampler "$sampler" --steps "$steps" --guidance 2 --class cycle \
      -n 10 --columns 10 --seed 1 -q -o "$out/digits_diffusion_${sampler}_${steps}steps.png"
  done
done
"$edgegen" inpaint "$out/digits_diffusion.egm" --image examples/digits_diffusion/reference/digits.npy \
  --mask examples/digits_diffusion/reference/mask_top_half.npy --class cycle -n 4 --sampler ddpm --steps 50 \
  --resample 2 --seed 1 -q -o "$out/digits_diffusion_inpainting.png"

echo
echo "Pictures written:"
for picture in "$out"/*.png; do echo "  $(realpath "$picture")"; done
