#!/bin/bash
# Time per sample of the digits diffusion model for 1/2/4/8 steps (batch 1,
# no guidance, one thread): edgegen's whole `sample` beside the denoiser alone
# run the same number of times by edgegen (`edgegen bench`) and by ONNX Runtime
# (bench/ort_bench.js). The difference between edgegen's sample and its
# denoiser runs is the sampler's own overhead (schedule, update rules, copies).
#
#   bench/diffusion_bench.sh [build/edgegen]    (ONNX Runtime needs bench/node_modules, see bench/run.sh)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EDGEGEN=$(realpath "${1:-$ROOT/build/edgegen}")
PYTHON=/usr/bin/python3
WORK=$(mktemp -d /tmp/edgegen_diffusion_bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
MODEL=$ROOT/examples/digits_diffusion
"$EDGEGEN" convert "$MODEL/manifest.json" -o "$WORK/dd.egm" --batch 1 > /dev/null
"$EDGEGEN" bench "$WORK/dd.egm" --threads 1 --runs 50 --json > "$WORK/edgegen_bench.json"
eval_ms=$("$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); g=d['graphs'][0] if 'graphs' in d else d; print(g['median_ms'])" "$WORK/edgegen_bench.json")
ort_ms=""
if [ -d "$ROOT/bench/node_modules/onnxruntime-node" ] || [ -n "${NODE_PATH:-}" ]; then
  "$PYTHON" - "$WORK" <<'PY'
import sys, numpy as np
w = sys.argv[1]
np.save(w + "/x_t.npy", np.random.default_rng(0).standard_normal((1, 1, 16, 16)).astype(np.float32))
np.save(w + "/t.npy", np.array([500.0], np.float32))
np.save(w + "/y.npy", np.array([3], np.int64))
PY
  ort_ms=$(node "$ROOT/bench/ort_bench.js" "$MODEL/unet.onnx" --threads 1 --runs 50 \
    --input "x_t=$WORK/x_t.npy" --input "t=$WORK/t.npy" --input "y=$WORK/y.npy" |
    "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['mean_ms'])")
fi
COUNT=8
echo "| steps | edgegen sample, ms per sample | of which denoiser graphs, ms | sampler overhead | edgegen denoiser alone x steps (edgegen bench), ms | ONNX Runtime denoiser x steps, ms |"
echo "|---|---|---|---|---|---|"
for steps in 1 2 4 8; do
  line=$("$EDGEGEN" sample "$WORK/dd.egm" --threads 1 --sampler dpmpp_2m --steps "$steps" --class 3 -n $COUNT --seed 1 -q -o "$WORK/s.npy" |
    grep "^sampling took")
  "$PYTHON" -c "
import re, sys
line, evals, ort, steps, n = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
total, graphs, sampler = map(float, re.findall(r'([0-9.e+-]+) ms', line))
print(f'| {steps} | {total / n:.1f} | {graphs / n:.1f} | {100 * sampler / total:.2f}% | {evals * steps:.1f} | ' +
      (f'{float(ort) * steps:.1f}' if ort else 'n/a') + ' |')
" "$line" "$eval_ms" "$ort_ms" "$steps" "$COUNT"
done
echo
echo "In-process timing of DiffusionPipeline::sample over $COUNT samples at batch 1 (dpmpp_2m, no guidance);"
echo "'sampler overhead' is the time outside the denoiser graph runs: schedule, update rules, copies."
