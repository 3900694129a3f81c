#!/usr/bin/env bash
# Stable-Diffusion-1.5-shaped graphs (random weights, bench/make_sd15.py):
# one UNet denoising step and one VAE decode, edgegen beside ONNX Runtime in
# one run, at the same thread count: time, peak RSS, file sizes, the arena.
#
#   bench/sd15.sh [--latent 64|32] [--threads 2] [--runs 1] [--skip-ort]
#
# EDGEGEN=path/to/edgegen runs another build (a before/after comparison in
# one window); the default is build/edgegen.
#
# Builds the ONNX files (bench/out/sd15, gitignored; the UNet is 3.4 GB of
# external data) and converts them, both only when missing. edgegen runs
# twice per graph: as by default (every weight packed once at prepare) and
# with --low-memory (weights streamed: packed just before each layer runs,
# their mapped pages released after). Peak RSS is the process's maxRSS
# (getrusage) for both engines. Not part of CI: minutes and ~8 GB of disk.
set -euo pipefail
cd "$(dirname "$0")/.."

latent=64 threads=2 runs=1 skip_ort=0
while (($#)); do
  case "$1" in
    --latent) latent=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
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

  for mode in default low-memory; do
    local flags=()
    [[ $mode == low-memory ]] && flags=(--low-memory)
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
    for mode in default low-memory; do
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
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
