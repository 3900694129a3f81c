#!/usr/bin/env bash
# One-command benchmark: edgegen next to ONNX Runtime and PyTorch, same
# models, same inputs, 1 and 2 threads, one table. See bench/README.md.
#
#   bench/run.sh                 every model
#   bench/run.sh dcgan32 ...     only these (names from the MODELS list below)
#
# Environment: EDGEGEN_BENCH_OUT (default bench/out) for models and results,
# EDGEGEN_BENCH_BUILD (default build-bench) for the Release build it makes,
# EDGEGEN_BENCH_THREADS (default "1 2").
#
# Installs what is missing (as root): Debian's python3-torch, python3-onnx,
# python3-sklearn (the example training scripts import it) and
# libopenblas0-pthread (without it PyTorch's matmuls run on the reference
# BLAS, ~25x slower), and onnxruntime-node from the npm registry into
# bench/node_modules with --ignore-scripts (its install script only fetches
# GPU providers from the internet; the CPU library is inside the package).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=${EDGEGEN_BENCH_OUT:-$repo/bench/out}
build=${EDGEGEN_BENCH_BUILD:-$repo/build-bench}
thread_counts=${EDGEGEN_BENCH_THREADS:-1 2}
python=/usr/bin/python3  # Debian's, which has torch; the first python3 on PATH may not
started=$(date +%s)

log() { echo "bench: $*" >&2; }

# --- peers ------------------------------------------------------------------
packages=(python3-torch python3-onnx python3-numpy python3-sklearn libopenblas0-pthread nodejs)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n 's/^Value: //p')
[[ $blas == *openblas* ]] || log "warning: libblas.so.3 is '$blas', not OpenBLAS: PyTorch matmuls will be slow"
if [[ ! -f bench/node_modules/onnxruntime-node/package.json ]]; then
  # Debian's nodejs comes without npm; NodeSource's nodejs includes it.
  command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm >/dev/null
  log "installing onnxruntime-node (npm, --ignore-scripts)"
  (cd bench && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- edgegen, Release ---------------------------------------------------------
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEGEN_BUILD_TESTS=OFF >/dev/null ||
    { log "configuring failed; install the build packages with scripts/setup.sh"; exit 1; }
fi
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt" ||
  { log "$build is not a Release build; remove it or set EDGEGEN_BENCH_BUILD"; exit 1; }
cmake --build "$build" --target edgegen -j"$(nproc)" | grep -v '^ninja: no work to do' >&2 || true
edgegen=$build/edgegen

# --- models -------------------------------------------------------------------
# name | ONNX file | where PyTorch's module comes from | least runs | least seconds
# (least runs and seconds per engine and thread count: fewer for slow models,
# so the whole run stays within ~5 minutes on 2 cores)
MODELS=(
  "digits_gan|examples/digits_gan/generator.onnx|--example examples/digits_gan/generator.onnx|50|0.5"
  "digits_vae_encoder|examples/digits_vae/encoder.onnx|--example examples/digits_vae/encoder.onnx|50|0.5"
  "digits_vae_decoder|examples/digits_vae/decoder.onnx|--example examples/digits_vae/decoder.onnx|50|0.5"
  "dcgan32|$out/models/dcgan32.onnx|--model dcgan32|10|0.5"
  "vae64_decoder|$out/models/vae64_decoder.onnx|--model vae64_decoder|10|0.5"
  "realnvp_mlp|$out/models/realnvp_mlp.onnx|--model realnvp_mlp|50|0.5"
  "vocoder1d|$out/models/vocoder1d.onnx|--model vocoder1d|5|0.5"
  "unet_attention|$out/models/unet_attention.onnx|--model unet_attention|5|0.5"
  "mel_frontend|$out/models/mel_frontend.onnx|--model mel_frontend|50|0.5"
  "mobilenet_fpn_detector|$out/models/mobilenet_fpn_detector.onnx|--model mobilenet_fpn_detector|5|0.5"
  "crnn_recognizer|$out/models/crnn_recognizer.onnx|--model crnn_recognizer|20|0.5"
  "kws_gru|$out/models/kws_gru.onnx|--model kws_gru|50|0.5"
  "lstm128_256x100|$out/models/lstm128_256x100.onnx|--model lstm128_256x100|20|0.5"
  "vad_gru_step|$out/models/vad_gru_step.onnx|--model vad_gru_step|200|0.5"
  "conformer_block|$out/models/conformer_block.onnx|--model conformer_block|20|0.5"
)
selected=("$@")
wanted() { ((${#selected[@]} == 0)) || [[ " ${selected[*]} " == *" $1 "* ]]; }

mkdir -p "$out/models"
generated=()
for spec in "${MODELS[@]}"; do
  IFS='|' read -r name onnx _ <<<"$spec"
  wanted "$name" && [[ $onnx == "$out/models/"* ]] && generated+=("$name")
done
if ((${#generated[@]})); then
  "$python" bench/make_models.py "$out/models" "${generated[@]}" 2> "$out/models/make_models.log" ||
    { cat "$out/models/make_models.log" >&2; exit 1; }
fi

results=$out/results
# Only this command's results: bench/quantized.sh and the others write theirs beside them.
mkdir -p "$results"
for spec in "${MODELS[@]}"; do rm -rf "${results:?}/${spec%%|*}"; done
rm -f "$results"/{table.md,results.json,models.txt,loadavg.start}
: >"$results/models.txt"
cp /proc/loadavg "$results/loadavg.start"
conversion_errors=()
for spec in "${MODELS[@]}"; do
  IFS='|' read -r name onnx torch_source runs min_time <<<"$spec"
  wanted "$name" || continue
  egm=$out/models/$name.egm
  if [[ ! -f $egm || $onnx -nt $egm || $edgegen -nt $egm ]]; then
    if ! "$edgegen" convert "$onnx" -o "$egm" >"$out/models/$name.convert.log" 2>&1; then
      conversion_errors+=("$name: $(tail -n 1 "$out/models/$name.convert.log")")
      log "$name: conversion failed: $(tail -n 1 "$out/models/$name.convert.log")"
      continue
    fi
  fi
  echo "$name" >>"$results/models.txt"
  for threads in $thread_counts; do
    dir=$results/$name/t$threads
    mkdir -p "$dir"
    log "$name, $threads thread(s): edgegen"
    "$edgegen" bench "$egm" --threads "$threads" --runs "$runs" --warmup 3 --min-time "$min_time" \
      --json --save-io "$dir/edgegen_io" >"$dir/edgegen.json" || log "$name: edgegen bench failed"
    inputs=()
    while IFS= read -r input; do inputs+=(--input "$input"); done < <(
      "$python" -c 'import json,sys; g=json.load(open(sys.argv[1]))["graphs"][0]
for i in g["inputs"]: print(i["name"] + "=" + i["file"])' "$dir/edgegen.json")
    log "$name, $threads thread(s): onnxruntime"
    OMP_NUM_THREADS=$threads node bench/ort_bench.js "$onnx" --threads "$threads" --runs "$runs" --warmup 3 \
      --min-time "$min_time" "${inputs[@]}" --save-output "$dir/ort_out" >"$dir/ort.json" || log "$name: onnxruntime failed"
    log "$name, $threads thread(s): pytorch"
    # shellcheck disable=SC2086  # torch_source is two words
    OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$python" bench/torch_bench.py $torch_source \
      --threads "$threads" --runs "$runs" --warmup 3 --min-time "$min_time" "${inputs[@]}" \
      --save-output "$dir/torch_out" --state-dir "$out/torch_state" >"$dir/torch.json" 2>"$dir/torch.log" ||
      { log "$name: pytorch failed"; tail -n 3 "$dir/torch.log" >&2; }
  done
done

status=0
"$python" bench/report.py "$results" || status=$?
for error in "${conversion_errors[@]}"; do echo "not converted: $error"; done
echo "bench: $(($(date +%s) - started)) s; results in $results (table.md, results.json)"
exit $status
