#!/usr/bin/env bash
# aarch64 instruction counts of examples/vocoder (issue 14): the cross-built
# tool (build-aarch64, `cmake -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
# -DEDGEGEN_BUILD_TOOLS=ON`) runs `edgegen vocode` under qemu-aarch64 with a
# TCG plugin that counts executed guest instructions (bench/qemu_insn_count.c).
# Two lengths of mel, so loading and preparing cancel out: instructions per
# second of audio = (I(long) - I(short)) / (seconds(long) - seconds(short)).
# Emulated time means nothing; instruction counts are what qemu can give.
# The waveform is checked against the host's (same model file).
#
#   bench/vocoder_aarch64.sh [BUILD_AARCH64_DIR] [HOST_EDGEGEN]
set -euo pipefail
cd "$(dirname "$0")/.."
build_arm=${1:-build-aarch64}
arm=$build_arm/edgegen
# The cross build's dependency sysroot (XNNPACK, cpuinfo, pthreadpool, spng), as its ctest runs them.
libs=$(ls -d "$build_arm"/aarch64-sysroot/usr/lib/aarch64-linux-gnu "$build_arm"/aarch64-sysroot/lib/aarch64-linux-gnu \
  2>/dev/null | paste -sd:)
host=${2:-build/edgegen}
python=/usr/bin/python3
work=$(mktemp -d /tmp/edgegen_vocoder_aarch64.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -shared -fPIC -O2 -o "$work/insn_count.so" bench/qemu_insn_count.c
"$host" convert examples/vocoder/manifest.json -o "$work/vocoder.egm" >/dev/null
"$python" - "$work" <<'PY'
import sys
import numpy as np
mel = np.load("examples/vocoder/reference/mel.npy")[0]
np.save(f"{sys.argv[1]}/short.npy", mel[:, :64])                   # one window
np.save(f"{sys.argv[1]}/long.npy", np.tile(mel, (1, 2))[:, :864])  # 864 frames: 17 windows
PY
count() {  # instructions of one vocode run of $1.npy on aarch64
  qemu-aarch64 -L /usr/aarch64-linux-gnu -E "LD_LIBRARY_PATH=$libs" -plugin "$work/insn_count.so" -d plugin -D "$work/$1.count" \
    "$arm" vocode "$work/vocoder.egm" --mel "$work/$1.npy" -o "$work/$1.arm.npy" --threads 1 >/dev/null
  awk '/^instructions/ {print $2}' "$work/$1.count"
}
short=$(count short)
long=$(count long)
"$host" vocode "$work/vocoder.egm" --mel "$work/long.npy" -o "$work/long.host.npy" --threads 1 >/dev/null
"$python" - "$work" "$short" "$long" <<'PY'
import sys
import numpy as np
import json
work, short, long = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
context = json.load(open("examples/vocoder/manifest.json"))["context_frames"]
arm, host = np.load(f"{work}/long.arm.npy"), np.load(f"{work}/long.host.npy")
diff = float(np.abs(arm - host).max())
seconds = lambda frames: frames * 256 / 22050
per_second = (long - short) / (seconds(864) - seconds(64))
print(f"aarch64 (qemu-aarch64, 1 thread): vocode of 64 frames {short:,} instructions, 864 frames {long:,}")
print(f"  {per_second / 1e6:,.0f} M instructions per second of audio "
      f"(windows of 64 frames, context {context}); aarch64 vs x86-64 waveform: max |difference| {diff:.2e}")
assert diff < 1e-4, diff
PY
