#!/usr/bin/env bash
# One-command int8 benchmark: edgegen fp32 vs int8 vs ONNX Runtime fp32 and int8
# (QDQ with edgegen's own calibration ranges, bench/qdq.py): file sizes (fp32, --weights fp16, int8),
# latency at 1 and 2 threads (interleaved rounds), PSNR against fp32. See
# bench/README.md, section "int8".
#
#   bench/quantized.sh                   every model
#   bench/quantized.sh dcgan32 ...       only these
#
# Environment: EDGEGEN_BENCH_OUT (default bench/out), EDGEGEN_BENCH_BUILD
# (default build-bench), EDGEGEN_BENCH_THREADS (default "1 2"),
# EDGEGEN_QBENCH_ROUNDS (default 5). Needs what bench/run.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${EDGEGEN_BENCH_OUT:-$PWD/bench/out}
build=${EDGEGEN_BENCH_BUILD:-$PWD/build-bench}
python=/usr/bin/python3
started=$(date +%s)
if [[ ! -f bench/node_modules/onnxruntime-node/package.json ]]; then
  (cd bench && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
[[ -f $build/CMakeCache.txt ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEGEN_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target edgegen -j"$(nproc)" | grep -v '^ninja: no work to do' >&2 || true
mkdir -p "$out/models"
"$python" bench/make_models.py "$out/models" dcgan32 vae64_decoder vocoder1d realnvp_mlp unet_attention \
  2>"$out/models/make_models.log" || { cat "$out/models/make_models.log" >&2; exit 1; }
"$python" bench/quantized.py "$build/edgegen" "$out" "$@"
echo "quantized: $(($(date +%s) - started)) s; results in $out/results (int8.md, int8.json)"
