#!/bin/bash
# End-to-end test of `edgegen vocode` and WAV output (issue 14):
# examples/vocoder converted and run from the command line on its reference
# mel (the WAV read back equals PyTorch's waveform: float32 exactly as the
# .npy, pcm16 within one quantization step), info's fields, 1 and 2 threads
# giving the same bytes, `edgegen sample -o x.wav` on a decoder of
# waveforms (one file per item), and the error paths (exit codes, messages,
# no output file left behind).
#
# Usage: vocode_end_to_end_test.sh EDGEGEN_BINARY REPOSITORY_ROOT
set -u
EDGEGEN=$1
ROOT=$2
PYTHON=/usr/bin/python3
EXAMPLE=$ROOT/examples/vocoder
. "$ROOT/cli/end_to_end_lib.sh"
e2e_begin vocode

echo "== convert, info"
ok convert "$EXAMPLE/manifest.json" -o vocoder.egm
grep -q "vocoder pipeline" last.out || fail "convert summary: $(cat last.out)"
ok info vocoder.egm --json
"$PYTHON" - <<'PY' || fail "info --json fields"
import json
p = json.load(open("last.out"))["pipeline"]
assert p["kind"] == "vocoder", p
assert p["sample_rate"] == 22050 and p["hop_length"] == 256 and p["mel_channels"] == 80, p
assert p["window_frames"] > 2 * p["context_frames"], p
PY
ok info vocoder.egm
grep -q "context_frames" last.out || fail "info text lacks context_frames: $(cat last.out)"

echo "== vocode: WAV files equal PyTorch's waveform"
ok vocode vocoder.egm --mel "$EXAMPLE/reference/mel.npy" -o speech.wav
grep -q "16-bit PCM" last.out || fail "vocode summary: $(cat last.out)"
grep -q "x real time" last.out || fail "vocode summary lacks the speed: $(cat last.out)"
ok vocode vocoder.egm --mel "$EXAMPLE/reference/mel.npy" -o speech_float.wav --format float32 --threads 2
ok vocode vocoder.egm --mel "$EXAMPLE/reference/mel.npy" -o speech.npy --threads 1
ok vocode vocoder.egm --mel "$EXAMPLE/reference/mel.npy" -o speech2.npy --threads 2
cmp -s speech.npy speech2.npy || fail "1 and 2 threads give different waveforms"
"$PYTHON" - "$EXAMPLE/reference/audio.npy" <<'PY' || fail "WAV contents"
import struct, sys, wave
import numpy as np
expected = np.load(sys.argv[1]).reshape(-1)
npy = np.load("speech.npy").reshape(-1)
assert npy.shape == expected.shape, (npy.shape, expected.shape)
assert np.abs(npy - expected).max() < 1e-4, np.abs(npy - expected).max()
with wave.open("speech.wav") as w:
    assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
assert pcm.shape == expected.shape
# The PCM is edgegen's waveform (npy, within 1e-4 of PyTorch's above) rounded to 16 bits.
assert np.abs(pcm - np.clip(npy, -1, 1)).max() <= 1.01 / 32768, np.abs(pcm - np.clip(npy, -1, 1)).max()
# 32-bit float WAV: RIFF, format tag 3 (IEEE float), the samples exactly.
data = open("speech_float.wav", "rb").read()
assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
fmt = data.index(b"fmt ")
tag, channels, rate = struct.unpack("<HHI", data[fmt + 8:fmt + 16])
assert tag in (3, 0xFFFE) and channels == 1 and rate == 22050, (tag, channels, rate)
start = data.index(b"data") + 8
floats = np.frombuffer(data[start:start + 4 * expected.size], dtype="<f4")
assert np.array_equal(floats, npy), np.abs(floats - npy).max()
PY

echo "== sample: a decoder of waveforms writes WAV, one file per item"
ok convert "$ROOT/tests/vocoder/wave_manifest.json" -o wave.egm
ok info wave.egm --json
grep -q '"sample_rate": 8000' last.out || fail "info lacks the decoder's sample_rate"
ok sample wave.egm -n 3 --seed 4 -o noise.wav
for i in 0 1 2; do [ -s noise_$i.wav ] || fail "noise_$i.wav missing"; done
absent noise.wav
ok sample wave.egm -n 1 --seed 4 -o one.wav --format float32
ok sample wave.egm -n 3 --seed 4 -o noise.npy
"$PYTHON" - <<'PY' || fail "sampled WAV contents"
import wave
import numpy as np
items = np.load("noise.npy").reshape(3, -1)
for i in range(3):
    with wave.open(f"noise_{i}.wav") as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (1, 8000, 128)
        pcm = np.frombuffer(w.readframes(128), dtype="<i2") / 32768
    assert np.abs(pcm - items[i]).max() <= 1.01 / 32768
PY

echo "== errors"
"$PYTHON" -c "
import numpy as np
np.save('mel2.npy', np.zeros((79, 30), np.float32))
np.save('mel3.npy', np.zeros((2, 80, 30), np.float32))
m = np.zeros((80, 30), np.float32); m[3, 4] = np.nan; np.save('nan.npy', m)
np.save('empty.npy', np.zeros((80, 0), np.float32))"
fails 1 "79 mel channels; the vocoder reads 80" vocode vocoder.egm --mel mel2.npy -o bad.wav
fails 1 "expected [mels, frames] or [1, mels, frames]" vocode vocoder.egm --mel mel3.npy -o bad.wav
fails 1 "holds a NaN or infinite value" vocode vocoder.egm --mel nan.npy -o bad.wav
fails 1 "0 frames; expected 1 to" vocode vocoder.egm --mel empty.npy -o bad.wav
fails 1 "a waveform is written as .wav or .npy" vocode vocoder.egm --mel "$EXAMPLE/reference/mel.npy" -o bad.png
fails 1 "cannot vocode" vocode wave.egm --mel "$EXAMPLE/reference/mel.npy" -o bad.wav
fails 1 "no_such.npy" vocode vocoder.egm --mel no_such.npy -o bad.wav
fails 2 "--format" vocode vocoder.egm --mel "$EXAMPLE/reference/mel.npy" -o bad.wav --format pcm8
ok convert "$ROOT/examples/digits_gan/manifest.json" -o gan.egm
fails 1 "this model's items are not waveforms" sample gan.egm -n 2 -o bad.wav
fails 1 "has a vocoder pipeline (turn mel frames into sound with 'edgegen vocode')" sample vocoder.egm -n 1 -o bad.wav
absent bad.wav bad_0.wav bad.png .bad.wav.* .*.tmp*
# An existing output is replaced only by a complete one.
echo keep > kept.wav
fails 1 "holds a NaN" vocode vocoder.egm --mel nan.npy -o kept.wav
[ "$(cat kept.wav)" = keep ] || fail "a failed vocode changed kept.wav"

e2e_end "vocode end-to-end"
