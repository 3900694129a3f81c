#!/usr/bin/env bash
# Stable-Diffusion-1.5-shaped graphs (random weights, bench/make_sd15.py):
# one UNet denoising step and one VAE decode, edgegen beside ONNX Runtime in
# one run, at the same thread count: time, peak RSS, file sizes, the arena.
#
#   bench/sd15.sh [--latent 64|32] [--threads 2] [--runs 1] [--tile 40] [--skip-ort]
#
# Last, the two as one pipeline (a diffusion manifest: the UNet and the
# VAE decoder, converted for the whole latent and for --tile latent tiles):
# `edgegen sample --steps 1`, one denoising step and the decode in one
# process and one arena, beside ONNX Runtime's step and whole decode (the
# sum of their times, the larger of their peak RSS: what one process
# running both needs at least).
#
# EDGEGEN=path/to/edgegen runs another build (a before/after comparison in
# one window); the default is build/edgegen.
#
# Builds the ONNX files (bench/out/sd15, gitignored; the UNet is 3.4 GB of
# external data) and converts them, both only when missing. edgegen runs
# three times per graph: as by default (every weight packed once at
# prepare), with --low-memory (weights streamed: packed just before each
# layer runs, their mapped pages released after), and with --low-memory
# --prepacked FILE (streamed, but read already packed from FILE, which the
# first run writes: no repacking in the runs). Peak RSS is the process's maxRSS
# (getrusage) for both engines. Not part of CI: ~10 minutes and ~24 GB of disk.
set -euo pipefail
cd "$(dirname "$0")/.."

latent=64 threads=2 runs=1 tile=40 skip_ort=0
while (($#)); do
  case "$1" in
    --latent) latent=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --tile) tile=$2; shift 2 ;;
    --skip-ort) skip_ort=1; shift ;;
    *) echo "sd15.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
out=bench/out/sd15
edgegen=${EDGEGEN:-build/edgegen}
# Debian's PyTorch and ONNX build the graphs (as bench/run.sh's peers).
for package in python3-torch python3-onnx libopenblas0-pthread; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    { echo "sd15.sh: missing $package: sudo apt-get install $package" >&2; exit 1; }
done
[[ -x $edgegen ]] || { echo "sd15.sh: build edgegen first (scripts/setup.sh)" >&2; exit 1; }
[[ $skip_ort == 1 || -d bench/node_modules/onnxruntime-node ]] ||
  { echo "sd15.sh: cd bench && npm install --ignore-scripts onnxruntime-node" >&2; exit 1; }
mkdir -p "$out"

echo "== SD 1.5 shapes: latent ${latent}x${latent} ($((latent * 8))x$((latent * 8)) pixels), batch 1, ${threads} threads"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; RAM $(free -g | awk '/Mem:/ {print $2}') GB"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows both engines alike)"

/usr/bin/python3 bench/make_sd15.py "$out" --latent "$latent" >/dev/null
inputs=$out/inputs_$latent

human() { numfmt --to=iec --suffix=B --format=%.2f "$1"; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$3"; }

bench_one() {
  local name=$1 onnx=$2; shift 2
  local egm=${onnx%.onnx}.egm ort_inputs=("$@")
  if [[ ! -f $egm || $egm -ot $onnx ]]; then
    /usr/bin/time -f "%M" -o "$out/$name.convert_rss" "$edgegen" convert "$onnx" -o "$egm" >"$out/$name.convert.log"
  fi
  echo
  echo "-- $name: $(basename "$onnx") $(human $(( $(stat -c %s "$onnx") + $(stat -c %s "$onnx.data") ))) (with its .data)," \
    "$(basename "$egm") $(human "$(stat -c %s "$egm")")"
  [[ -f $out/$name.convert_rss ]] && echo "   convert: peak RSS $(human $(( $(cat "$out/$name.convert_rss") * 1024 )))"

  for mode in default low-memory prepacked; do
    local flags=()
    [[ $mode == low-memory ]] && flags=(--low-memory)
    # The pre-packed weights file is written by the first use (its time is
    # in that run's prepare, not in the timed runs) and read after.
    [[ $mode == prepacked ]] && flags=(--low-memory --prepacked "${egm%.egm}.prepacked")
    "$edgegen" bench "$egm" --threads "$threads" --runs "$runs" --warmup 1 --min-time 0 --json "${flags[@]}" \
      >"$out/$name.edgegen.$mode.json"
    local result=$out/$name.edgegen.$mode.json
    printf '   %-22s %9.0f ms   peak RSS %10s   (prepare %.0f ms, arena %s, packed weights %s)\n' "edgegen $mode" \
      "$(json x "d['graphs'][0]['median_ms']" "$result")" "$(human "$(json x "d['peak_rss_bytes']" "$result")")" \
      "$(json x "d['load_ms']" "$result")" "$(human "$(json x "d['arena_bytes']" "$result")")" \
      "$(human "$(json x "d['packed_weight_bytes']" "$result")")"
  done
  echo "   activation plan: $(human "$(json x "d['plan_arena_bytes']" "$result")")," \
    "lower bound $(human "$(json x "d['plan_lower_bound_bytes']" "$result")")"
  if [[ $skip_ort == 0 ]]; then
    OMP_NUM_THREADS=$threads node bench/ort_bench.js "$onnx" --by-path --threads "$threads" --runs "$runs" \
      --warmup 1 --min-time 0 "${ort_inputs[@]}" >"$out/$name.ort.json"
    printf '   %-22s %9.0f ms   peak RSS %10s   (session create %.0f ms)\n' "onnxruntime" \
      "$(json x "d['median_ms']" "$out/$name.ort.json")" \
      "$(human "$(json x "d['peak_rss_bytes']" "$out/$name.ort.json")")" \
      "$(json x "d['load_ms']" "$out/$name.ort.json")"
    for mode in default low-memory prepacked; do
      /usr/bin/python3 - "$out/$name.edgegen.$mode.json" "$out/$name.ort.json" "$mode" <<'EOF'
import json, sys
e, o = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t = e["graphs"][0]["median_ms"] / o["median_ms"]
m = e["peak_rss_bytes"] / o["peak_rss_bytes"]
print(f"   edgegen {sys.argv[3]} / onnxruntime: time x{t:.2f}, peak RSS x{m:.2f}")
EOF
    done
  fi
}

/usr/bin/python3 bench/make_sd15.py "$out" --latent "$latent" --only vae >/dev/null
bench_one "VAE decode" "$out/vae_decoder_$latent.onnx" --input "latent=$inputs/latent.npy"
/usr/bin/python3 bench/make_sd15.py "$out" --latent "$latent" --only unet >/dev/null
bench_one "UNet step" "$out/unet_$latent.onnx" --input "sample=$inputs/sample.npy" \
  --input "timestep=$inputs/timestep.npy" --input "encoder_hidden_states=$inputs/encoder_hidden_states.npy"

# One denoising step + the decode as edgegen's latent diffusion pipeline runs
# them, in one session whose arena holds the larger graph's activations:
# the decoder converted for the whole latent, then for tile x tile latent
# tiles (tiles overlap by a fifth and are blended: a smaller arena for more
# decoder work). The bench's decoder divides by SD's 0.18215 itself:
# latent_scale 1. Streamed (--low-memory), with and without --prepacked.
manifest=$out/sd15_pipeline_$latent.json
cat >"$manifest" <<EOF
{"kind": "diffusion", "graphs": {"denoiser": "unet_$latent.onnx", "decoder": "vae_decoder_tiles.onnx"},
 "inputs": {"sample": "sample", "timestep": "timestep", "context": "encoder_hidden_states"},
 "latent_scale": 1.0, "prediction": "epsilon", "output_range": [-1, 1], "sample_shape": [4, $latent, $latent],
 "schedule": {"type": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "train_steps": 1000}}
EOF
for decode_tile in "$latent" "$tile"; do
  pipeline=$out/sd15_pipeline_${latent}_tile$decode_tile.egm
  if [[ ! -f $pipeline || $pipeline -ot $out/unet_$latent.onnx || $pipeline -ot $out/vae_decoder_tiles.onnx ]]; then
    "$edgegen" convert "$manifest" -o "$pipeline" --tile "$decode_tile" --tile-overlap $((decode_tile / 5)) \
      >"$out/pipeline.convert.log"
  fi
  what="the whole latent at once"
  [[ $decode_tile != "$latent" ]] && what="${decode_tile}x${decode_tile}-latent tiles"
  echo
  echo "-- one denoising step + the decode of $what, as one pipeline (edgegen sample --steps 1 --low-memory):" \
    "$(basename "$pipeline") $(human "$(stat -c %s "$pipeline")")"
  "$edgegen" info "$pipeline" --low-memory | grep -E "decoder_tile|session arena" | sed 's/^ */   /'
  for mode in low-memory prepacked; do
    flags=(--low-memory)
    [[ $mode == prepacked ]] && flags=(--low-memory --prepacked "${pipeline%.egm}.prepacked")
    if [[ $mode == prepacked && ! -f ${pipeline%.egm}.prepacked ]]; then  # written by a first, untimed run
      "$edgegen" sample "$pipeline" --steps 1 --context "$inputs/encoder_hidden_states.npy" -n 1 "${flags[@]}" -q \
        -o "$out/pipeline.first.npy" >/dev/null
    fi
    figures=$out/pipeline_tile$decode_tile.$mode
    /usr/bin/time -f "%M" -o "$figures.rss" "$edgegen" sample "$pipeline" --steps 1 --sampler ddim \
      --context "$inputs/encoder_hidden_states.npy" --seed 1 --threads "$threads" -n 1 "${flags[@]}" \
      -o "$figures.png" >"$figures.log" 2>&1 || { cat "$figures.log"; exit 1; }
    ms=$(sed -n 's/^sampling took \([0-9.]*\) ms.*/\1/p' "$figures.log")
    rss=$(( $(cat "$figures.rss") * 1024 ))
    printf '   %-22s %9.0f ms   peak RSS %10s   (the step and the decode, without loading)\n' "edgegen $mode" "$ms" \
      "$(human "$rss")"
    echo "$ms $rss" >"$figures.figures"
  done
  if [[ $skip_ort == 0 ]]; then
    /usr/bin/python3 - "$out" "$decode_tile" <<'EOF'
import json, sys
out, tile = sys.argv[1], sys.argv[2]
unet, vae = (json.load(open(f"{out}/{name}.ort.json")) for name in ("UNet step", "VAE decode"))
ms, rss = unet["median_ms"] + vae["median_ms"], max(unet["peak_rss_bytes"], vae["peak_rss_bytes"])
print(f"   {'onnxruntime':22s} {ms:9.0f} ms   peak RSS {rss / 2**30:8.2f}GiB   (its UNet step + whole decode above)")
for mode in ("low-memory", "prepacked"):
    e_ms, e_rss = (float(v) for v in open(f"{out}/pipeline_tile{tile}.{mode}.figures").read().split())
    print(f"   edgegen {mode} / onnxruntime: time x{e_ms / ms:.2f}, peak RSS x{e_rss / rss:.2f}")
EOF
  fi
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
