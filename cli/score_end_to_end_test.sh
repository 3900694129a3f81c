#!/bin/bash
# End-to-end test of `edgegen score` and `edgegen sample` on the flow of
# examples/anomaly_digits: scores against PyTorch's, bad rows named or
# skipped, a fitted threshold stored and reused, atomic outputs, and memory
# that does not grow with the input (peak RSS of 20,000 rows vs 10 rows).
#
# Usage: score_end_to_end_test.sh EDGEGEN_BINARY REPOSITORY_ROOT
set -u
EDGEGEN=$1
ROOT=$2
PYTHON=/usr/bin/python3
FLOW=$ROOT/examples/anomaly_digits
"$PYTHON" -c "import numpy" 2>/dev/null || { echo "FAIL: no numpy for $PYTHON"; exit 1; }
. "$ROOT/cli/end_to_end_lib.sh"
e2e_begin score_e2e

echo "== convert + score vs PyTorch"
ok convert "$FLOW/flow_manifest.json" -o flow.egm --batch 8
ok score flow.egm --input "$FLOW/reference/flow_x.npy" -o scores.csv --batch 5
"$PYTHON" - "$FLOW/reference/flow_log_prob.npy" scores.csv <<'PY' || fail "scores differ from PyTorch"
import sys, numpy as np
ref = np.load(sys.argv[1]); got = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
assert got.shape == (len(ref), 3), got.shape
assert (got[:, 0] == np.arange(1, len(ref) + 1)).all()
assert np.max(np.abs(got[:, 1] - ref) / np.abs(ref)) < 1e-4
assert np.allclose(got[:, 2], -got[:, 1] / (64 * np.log(2)), rtol=1e-6)
PY

echo "== float16 weights: the forward and inverse graphs share them, widened once"
ok convert "$FLOW/flow_manifest.json" -o flow_fp16.egm --batch 8 --weights fp16
grep -q "float16 weights: 24 constants" last.out || fail "convert --weights fp16 note: $(cat last.out)"
ok score flow_fp16.egm --input "$FLOW/reference/flow_x.npy" -o scores_fp16.csv --batch 5
"$PYTHON" - "$FLOW/reference/flow_log_prob.npy" scores_fp16.csv <<'PY' || fail "fp16-weights scores differ from PyTorch"
import sys, numpy as np
ref = np.load(sys.argv[1]); got = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
assert 0 < np.max(np.abs(got[:, 1] - ref) / np.abs(ref)) < 2e-3
PY
ok info flow_fp16.egm --json
"$PYTHON" - <<'PY' || fail "info of the fp16 flow: shared weights widened once"
import json
info = json.load(open("last.out"))
assert info["format_version"] == 2
assert info["file_bytes"] / info["float32_file_bytes"] < 0.55
assert 1.0e6 < info["widened_weight_bytes"] < 1.4e6, info["widened_weight_bytes"]  # once, not per graph
PY

echo "== int8: calibrated on data rows (through the flow's preprocess), scores near float32"
"$PYTHON" -c "
import numpy as np
x = np.load('$FLOW/reference/flow_x.npy')
rng = np.random.default_rng(0)
np.save('calibration.npy', np.clip(np.tile(x, (16, 1)) + rng.uniform(-0.5, 0.5, (256, 64)), 0.01, 16.99).astype(np.float32))
"
ok convert "$FLOW/flow_manifest.json" -o flow_int8.egm --batch 8 --quantize int8 --calibration calibration.npy
grep -qF "calibration data given (data, through the flow's preprocess), generated (normal base samples for the inverse)" \
  last.out || { fail "int8 flow calibration report"; cat last.out; }
ok score flow_int8.egm --input "$FLOW/reference/flow_x.npy" -o scores_int8.csv
"$PYTHON" - "$FLOW/reference/flow_log_prob.npy" scores_int8.csv <<'PY' || fail "int8 flow scores far from float32"
import sys, numpy as np
ref = np.load(sys.argv[1]); got = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)[:, 1]
# Within 10% of the float log-likelihood on average, and the same ranking
# (what anomaly detection uses) nearly everywhere.
assert np.mean(np.abs(got - ref)) < 0.1 * np.mean(np.abs(ref)), (got, ref)
rank = lambda v: np.argsort(np.argsort(v))
assert np.corrcoef(rank(got), rank(ref))[0, 1] > 0.9, (got, ref)
PY
ok sample flow_int8.egm -n 4 --seed 3 -o samples_int8.npy

echo "== csv input, bad rows"
"$PYTHON" -c "
import numpy as np
x = np.load('$FLOW/reference/flow_x.npy')
np.savetxt('good.csv', x[:4], delimiter=',', fmt='%.6g')
lines = open('good.csv').read().splitlines()
open('short.csv', 'w').write('\n'.join(lines[:2] + [','.join(lines[2].split(',')[:10])] + lines[3:]) + '\n')
row = lines[1].split(','); row[5] = 'hello'; open('word.csv', 'w').write('\n'.join([lines[0], ','.join(row)] + lines[2:]) + '\n')
row = lines[3].split(','); row[0] = 'nan'; open('nan.csv', 'w').write('\n'.join(lines[:3] + [','.join(row)]) + '\n')
"
ok score flow.egm --input good.csv -o good_scores.csv
[ "$(wc -l < good_scores.csv)" = 5 ] || fail "good.csv: expected a header and 4 rows"
fails 1 "short.csv: row 3: has 10 values; the model needs 64" score flow.egm --input short.csv -o bad.csv
fails 1 "word.csv: row 2: value 6 'hello' is not a number" score flow.egm --input word.csv -o bad.csv
fails 1 "nan.csv: row 4: value 1 is NaN" score flow.egm --input nan.csv -o bad.csv
[ -e bad.csv ] && fail "bad.csv written by a failed score"
ok score flow.egm --input short.csv -o skipped.csv --skip-bad-rows
grep -q "3 rows scored, 1 bad rows skipped" last.out || { fail "skip-bad-rows report"; cat last.out; }
cut -d, -f1 skipped.csv | tr '\n' ' ' | grep -q "row 1 2 4" || fail "skipped.csv keeps the input row numbers"

echo "== threshold"
ok score flow.egm --fit-threshold "$FLOW/reference/flow_x.npy" --fpr 0.25 --threshold-file t.json
grep -q log_likelihood_threshold t.json || fail "t.json lacks the threshold"
ok score flow.egm --input "$FLOW/reference/flow_x.npy" -o flagged.csv --threshold-file t.json
head -1 flagged.csv | grep -q "row,log_likelihood,bits_per_dim,anomaly" || fail "flagged.csv header"
"$PYTHON" -c "
import numpy as np; s = np.loadtxt('flagged.csv', delimiter=',', skiprows=1)
assert s[:, 3].sum() == 4, s[:, 3]   # fpr 0.25 of 16 rows
" || fail "threshold flags a quarter of the fitting rows"

echo "== sample"
ok sample flow.egm -n 5 --seed 3 -o samples.npy
"$PYTHON" -c "
import numpy as np; s = np.load('samples.npy'); assert s.shape == (5, 64) and np.isfinite(s).all()
" || fail "flow samples"
# Samples are in the data's units (0..17 here); a PNG must map the declared
# range, not 0..1 (which drew almost every pixel white). The glow flow's
# events are [1, 8, 8]; the PNG is read back with zlib alone (no PIL).
ok convert "$ROOT/tests/flow_layers/glow/manifest.json" -o glow.egm --batch 4
ok sample glow.egm -n 16 --seed 3 -o glow.npy
ok sample glow.egm -n 16 --seed 3 -o glow.png --columns 16 --scale 1 --border 0
grep -qF "black = 0, white = 17 (the flow's preprocess.dequantize_scale)" last.out || { fail "glow.png range report"; cat last.out; }
"$PYTHON" - <<'PY' || fail "glow.png does not draw the samples over [0, 17]"
import struct, zlib, numpy as np
def read_gray_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat = 8, b""
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + size]
        at += 12 + size
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, color, interlace) == (8, 0, 0), (depth, color, interlace)
        elif kind == b"IDAT":
            idat += body
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width + 1)
    rows, previous = [], np.zeros(width, np.int64)
    for line in raw:  # undo the PNG row filters (none, sub, up, average, Paeth)
        kind, row = line[0], line[1:].astype(np.int64)
        out = np.zeros(width, np.int64)
        for x in range(width):
            a = out[x - 1] if x else 0
            b = previous[x]
            c = previous[x - 1] if x else 0
            if kind == 0: p = 0
            elif kind == 1: p = a
            elif kind == 2: p = b
            elif kind == 3: p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[x] = (row[x] + p) & 255
        rows.append(out)
        previous = out
    return np.array(rows)
pixels = read_gray_png("glow.png")
samples = np.load("glow.npy")
assert pixels.shape == (8, 16 * 8), pixels.shape
expected = np.clip(np.rint(samples[:, 0] / 17 * 255), 0, 255).transpose(1, 0, 2).reshape(8, 16 * 8)
assert np.abs(pixels - expected).max() <= 1, np.abs(pixels - expected).max()
saturated = (pixels == 255).mean()
assert saturated < 0.2 and pixels.std() > 30, (saturated, pixels.std())
print("glow.png: %.1f%% white, mean %.0f, std %.0f" % (100 * saturated, pixels.mean(), pixels.std()))
PY
# Events that are not pictures are refused before any work, naming .npy.
fails 1 "items of shape [64] cannot be drawn as images" sample flow.egm -n 4 -o flat.png
[ -e flat.png ] && fail "flat.png written by a refused sample"

echo "== vae bounds, MADE scores, imputation, energy"
VAE_MADE=$ROOT/examples/anomaly_digits
ok convert "$VAE_MADE/vae_manifest.json" -o vae.egm --batch 4
ok score vae.egm --input "$VAE_MADE/reference/vae_x.npy" -o elbo.csv --bound elbo -k 1 --seed 2
ok score vae.egm --input "$VAE_MADE/reference/vae_x.npy" -o iwae1.csv --bound iwae -k 1 --seed 2
cmp -s elbo.csv iwae1.csv || fail "IWAE with k=1 differs from the ELBO"
ok score vae.egm --input "$VAE_MADE/reference/vae_x.npy" -o iwae64.csv -k 64
"$PYTHON" -c "
import numpy as np; a = np.loadtxt('elbo.csv', delimiter=',', skiprows=1)[:, 1]; b = np.loadtxt('iwae64.csv', delimiter=',', skiprows=1)[:, 1]
assert b.mean() > a.mean(), (a.mean(), b.mean())
" || fail "IWAE k=64 does not exceed the ELBO on average"
ok convert "$VAE_MADE/made_manifest.json" -o made.egm --batch 4
ok score made.egm --input "$VAE_MADE/reference/made_x.npy" -o made.csv
"$PYTHON" -c "
import numpy as np; ref = np.load('$VAE_MADE/reference/made_log_prob.npy'); got = np.loadtxt('made.csv', delimiter=',', skiprows=1)[:, 1]
assert np.max(np.abs(got - ref) / np.abs(ref)) < 1e-4
x = np.load('$VAE_MADE/reference/made_x.npy')[:3].copy(); x[:, 50:] = np.nan; np.save('partial.npy', x)
" || fail "MADE scores differ from PyTorch"
ok impute made.egm --input partial.npy -o filled.npy --seed 1 --top-k 3
grep -q "3 rows, 42 missing entries filled" last.out || { fail "impute report"; cat last.out; }
ok sample made.egm -n 2 --top-k 2 -o made_samples.npy
fails 1 "impute needs an autoregressive model" impute flow.egm --input partial.npy -o nothing.npy
[ -e nothing.npy ] && fail "nothing.npy written by a failed impute"
ok convert "$ROOT/examples/energy_gaussian/manifest.json" -o energy.egm --batch 16
ok sample energy.egm -n 32 --seed 1 -o energy_samples.npy
ok score energy.egm --input energy_samples.npy -o energy.csv

echo "== memory does not grow with the input"
"$PYTHON" -c "
import numpy as np
x = np.load('$FLOW/reference/flow_x.npy')
rows = np.tile(x, (20000 // len(x), 1))
np.savetxt('small.csv', rows[:10], delimiter=',', fmt='%.4g')
np.savetxt('large.csv', rows, delimiter=',', fmt='%.4g')
"
rss() { /usr/bin/time -f %M "$EDGEGEN" score flow.egm --input "$1" -o "$2" --batch 256 2>&1 >/dev/null | tail -1; }
SMALL=$(rss small.csv small_scores.csv)
LARGE=$(rss large.csv large_scores.csv)
echo "peak RSS: 10 rows ${SMALL} KiB, 20,000 rows ($(du -k large.csv | cut -f1) KiB of CSV) ${LARGE} KiB"
[ "$(wc -l < large_scores.csv)" = 20001 ] || fail "large.csv: expected 20,000 scored rows"
[ "$LARGE" -le $((SMALL + 2048)) ] || fail "peak RSS grew with the input: $SMALL KiB -> $LARGE KiB"

e2e_end "score end-to-end"
