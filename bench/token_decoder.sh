#!/usr/bin/env bash
# Token-decoder benchmark (issue 13): the examples/tiny_lm model in PyTorch
# eager (its own growing KV cache), ONNX Runtime (step.onnx in a loop, the
# cache outputs fed back as inputs) and edgegen (`edgegen generate`, only if
# the build has it), at 1 and 2 threads: decode tokens/s, ms per step at
# position 10 and max_length - 10, prefill tokens/s, load ms, peak RSS per
# process, ratios side by side. See bench/README.md, "Token decoders".
#
#   bench/token_decoder.sh            # EDGEGEN_BENCH_THREADS="1 2", EDGEGEN_BIN=build/edgegen
#
# Installs what is missing (as root), like bench/run.sh: Debian's
# python3-torch, python3-numpy, libopenblas0-pthread; onnxruntime-node into
# bench/node_modules. Does not build edgegen: point EDGEGEN_BIN at a build
# that has `generate` (a Release build, e.g. build-bench/edgegen).
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3  # Debian's, which has torch; the first python3 on PATH may not
log() { echo "token_decoder: $*" >&2; }

packages=(python3-torch python3-numpy libopenblas0-pthread nodejs)
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
if [[ ! -f bench/node_modules/onnxruntime-node/package.json ]]; then
  command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm >/dev/null
  log "installing onnxruntime-node (npm, --ignore-scripts)"
  (cd bench && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

# shellcheck disable=SC2086  # the thread counts are words
exec "$python" bench/token_decoder.py --threads ${EDGEGEN_BENCH_THREADS:-1 2} \
  --edgegen "${EDGEGEN_BIN:-build/edgegen}" "$@"
