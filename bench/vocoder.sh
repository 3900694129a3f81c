#!/usr/bin/env bash
# Vocoder benchmark (issue 14): examples/vocoder in edgegen (`edgegen bench`
# per window, `edgegen vocode` over 30 s of mel) and ONNX Runtime (the same
# ONNX graph per window, and over the whole mel at once) at 1 and 2
# threads: ms per window and the ratio, real-time factors, the CPU and the
# load. See bench/README.md, "Vocoder".
#
#   bench/vocoder.sh            # EDGEGEN_BENCH_THREADS="1 2", EDGEGEN_BIN=build/edgegen
#
# Installs what is missing (as root), like bench/run.sh: python3-numpy and
# onnxruntime-node into bench/node_modules. Does not build edgegen: point
# EDGEGEN_BIN at a Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3
log() { echo "vocoder: $*" >&2; }

packages=(python3-numpy nodejs)
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
exec "$python" bench/vocoder.py --threads ${EDGEGEN_BENCH_THREADS:-1 2} --edgegen "${EDGEGEN_BIN:-build/edgegen}" "$@"
