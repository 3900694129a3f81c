#!/bin/bash
# End-to-end test of edgegen on the latent diffusion example: convert (three
# graphs, a stored unconditional context), sample with --context and
# guidance, img2img at strength 0 / 1 / 0.5, latent in-painting with --mask,
# a tiled decoder, and the error paths (exit codes, messages, no output left).
#
# Usage: latent_diffusion_end_to_end_test.sh EDGEGEN_BINARY REPOSITORY_ROOT
set -u
EDGEGEN=$1
ROOT=$2
PYTHON=/usr/bin/python3
EXAMPLE=$ROOT/examples/latent_diffusion
"$PYTHON" -c "import numpy" 2>/dev/null || { echo "FAIL: no numpy for $PYTHON"; exit 1; }
. "$ROOT/cli/end_to_end_lib.sh"
e2e_begin latent_diffusion_e2e

echo "== convert"
ok convert "$EXAMPLE/manifest.json" -o ld.egm --batch 4
grep -q "diffusion pipeline" last.out || fail "convert does not report a diffusion pipeline"
ok info ld.egm
grep -q "encoder_graph" last.out || fail "info does not name the encoder"
"$PYTHON" "$EXAMPLE/context.py" "red A" "blue Q" -o ctx.npy >/dev/null || fail "context.py failed"

echo "== sample with a context and guidance"
ok sample ld.egm --context ctx.npy --guidance 3 --steps 3 -n 2 --seed 1 -q -o a.npy
ok sample ld.egm --context ctx.npy --guidance 3 --steps 3 -n 2 --seed 1 -q -o b.npy
ok sample ld.egm --context ctx.npy --guidance 1 --steps 3 -n 2 --seed 1 -q -o unguided.npy
ok sample ld.egm --steps 3 -n 2 --seed 1 -q -o uncond.npy
ok sample ld.egm --context ctx.npy --guidance 3 --steps 3 -n 2 --seed 1 -o grid.png
"$PYTHON" - <<'PY' || fail "context sampling: not reproducible, wrong shape, or the context/guidance changed nothing"
import numpy as np
a, b, u, n = (np.load(f) for f in ("a.npy", "b.npy", "unguided.npy", "uncond.npy"))
assert a.shape == (2, 3, 64, 64) and np.array_equal(a, b) and np.isfinite(a).all()
assert np.abs(a - u).max() > 1e-2 and np.abs(u - n).max() > 1e-2
PY

echo "== img2img"
ok img2img ld.egm --image "$EXAMPLE/reference/picture.png" --strength 0 --context ctx.npy -n 2 -q -o s0.npy
ok img2img ld.egm --image "$EXAMPLE/reference/picture.png" --strength 1 --context ctx.npy --guidance 3 --steps 3 \
  -n 2 --seed 1 -q -o s1.npy
ok img2img ld.egm --image "$EXAMPLE/reference/picture.png" --strength 0.5 --context ctx.npy --steps 4 -n 2 -o s5.png
ok img2img ld.egm --image "$EXAMPLE/reference/picture.png" --mask "$EXAMPLE/reference/mask_right_half.png" \
  --strength 0.8 --context ctx.npy --steps 4 -n 2 -q -o masked.npy
"$PYTHON" - "$EXAMPLE" <<'PY' || fail "img2img: strength 0 is not the picture's reconstruction, 1 is not plain sampling, or the mask moved kept pixels"
import sys, numpy as np
s0, s1, a, m = (np.load(f) for f in ("s0.npy", "s1.npy", "a.npy", "masked.npy"))
assert np.array_equal(s1, a), "strength 1 differs from sample"
pictures = np.load(sys.argv[1] + "/reference/pictures.npy")
picture = pictures[0]  # picture.png before rounding to 8 bits
# Strength 0: PyTorch's decoder(encoder mean) of the picture (the PNG is rounded to 8 bits).
decoded = np.load(sys.argv[1] + "/reference/decoded.npy")[0]
assert s0.shape == (2, 3, 64, 64) and np.abs(s0[0] - decoded).max() < 0.05, np.abs(s0[0] - decoded).max()
assert np.abs(m[:, :, :, :32] - picture[:, :, :32]).max() < 1.01 / 127.5
PY

echo "== a tiled decoder: 8x8 latent tiles of a 16x16 latent (a 128x128 picture)"
"$PYTHON" - "$EXAMPLE" <<'PY' || fail "could not write the tiled manifest"
import json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
for role in m["graphs"]:
    m["graphs"][role] = sys.argv[1] + "/" + m["graphs"][role]
m["unconditional_context"] = sys.argv[1] + "/" + m["unconditional_context"]
del m["graphs"]["encoder"]
m["sample_shape"] = [4, 16, 16]
m["dims"].update(latent_height=16, latent_width=16)
del m["dims"]["image_height"], m["dims"]["image_width"]  # the encoder's
m["tile_overlap"] = 4
json.dump(m, open("tiled.json", "w"))
PY
ok convert tiled.json -o tiled.egm
ok sample tiled.egm --context ctx.npy --steps 2 -n 2 --seed 3 -q -o tiled.png
ok info tiled.egm
grep -q "decoder_tile_overlap" last.out || fail "info does not describe the tiled decoder"

echo "== --tile at convert time: the same tiling from the command line, and the whole latent at once"
ok convert tiled.json -o tile8.egm --tile 8 --tile-overlap 4
ok info tile8.egm
grep -q "decoder_tile: \[4, 8, 8\]" last.out || fail "info does not give the decoder's tile"
ok convert tiled.json -o whole.egm --tile 16
ok info whole.egm
grep -q "decoder_tile" last.out && fail "a 16x16 tile of a 16x16 latent is no tiling, yet info reports a tile"
for model in tiled tile8 whole; do ok sample $model.egm --context ctx.npy --steps 2 -n 2 --seed 3 -q -o $model.npy; done
"$PYTHON" - <<'PY' || fail "--tile 8 --tile-overlap 4 differs from the manifest's tiling, or tiled decoding is far from whole"
import numpy as np
tiled, tile8, whole = (np.load(f"{name}.npy") for name in ("tiled", "tile8", "whole"))
assert tiled.shape == whole.shape == (2, 3, 128, 128)
assert np.array_equal(tiled, tile8)
assert np.abs(tiled - whole).mean() < 0.05, np.abs(tiled - whole).mean()
PY

echo "== int8: generated calibration runs real contexts (given ones, else N(0, 1) draws) and the unconditional one"
ok convert "$EXAMPLE/manifest.json" -o ld8.egm --batch 4 --quantize int8
grep -q "N(0, 1) contexts and the unconditional one" last.out || fail "int8 calibration does not say which contexts it ran"
mkdir -p calibration
"$PYTHON" "$EXAMPLE/context.py" --all -o calibration/context.npy >/dev/null || fail "context.py --all failed"
ok convert "$EXAMPLE/manifest.json" -o ld8c.egm --batch 4 --quantize int8 --calibration calibration
grep -q "the contexts given and the unconditional one" last.out || fail "int8 calibration ignored the contexts given"
ok sample ld8c.egm --context ctx.npy --guidance 3 --steps 3 -n 2 --seed 1 -q -o int8.npy
"$PYTHON" -c "import numpy as np; assert np.load('int8.npy').shape == (2, 3, 64, 64)" || fail "int8 sample"

echo "== --low-memory --prepacked: the streamed layers read packed from a file the first run writes"
# The letter classifier at batch 64: its 4096 -> 64 fully connected layer
# (1 MiB of weights) is streamed with --low-memory, on our own kernel.
ok convert "$EXAMPLE/classifier.onnx" -o clf.egm --batch 64
"$PYTHON" -c "import numpy as np; np.save('letters.npy', np.random.default_rng(5).uniform(-1, 1, (64, 3, 64, 64)).astype('float32'))"
ok run clf.egm --input x=letters.npy --output-dir packed
ok run clf.egm --input x=letters.npy --output-dir streamed --low-memory
ok run clf.egm --input x=letters.npy --output-dir first --low-memory --prepacked clf.prepacked
grep -q "wrote pre-packed weights clf.prepacked" last.err || fail "the first --prepacked run did not write the file"
ok run clf.egm --input x=letters.npy --output-dir second --low-memory --prepacked clf.prepacked
grep -q "pre-packed" last.err && fail "the second --prepacked run did not just use the file: $(cat last.err)"
truncate -s 8192 clf.prepacked
ok run clf.egm --input x=letters.npy --output-dir third --low-memory --prepacked clf.prepacked
grep -q "cut short.*writing it again" last.err || fail "a truncated pre-packed file was not rewritten: $(cat last.err)"
"$PYTHON" - <<'PY' || fail "--low-memory / --prepacked changed the classifier's outputs"
import os, numpy as np
# Our own kernel runs the layer on XNNPACK with AVX-512 (elsewhere XNNPACK
# does, and the file holds a header only).
if os.environ.get("EDGEGEN_BACKEND") != "reference" and " avx512f" in open("/proc/cpuinfo").read():
    assert os.path.getsize("clf.prepacked") > 1 << 20, os.path.getsize("clf.prepacked")
base = np.load("packed/logits.npy")
for run in ("streamed", "first", "second", "third"):
    assert np.array_equal(np.load(f"{run}/logits.npy"), base), run
PY
fails 1 "needs --low-memory" run clf.egm --input x=letters.npy --output-dir bad --prepacked clf.prepacked

echo "== errors"
fails 1 "img2img" img2img tiled.egm --image "$EXAMPLE/reference/picture.png" -o bad1.png
fails 1 "holds 2 contexts; expected 1 or 3" sample ld.egm --context ctx.npy -n 3 -q -o bad2.png
fails 1 "without an encoder; in-painting needs one" inpaint tiled.egm --image "$EXAMPLE/reference/picture.png" \
  --mask "$EXAMPLE/reference/mask_right_half.png" -o bad3.png
fails 2 "--strength" img2img ld.egm --image "$EXAMPLE/reference/picture.png" --strength 2 -o bad4.png
ok convert "$ROOT/examples/digits_diffusion/manifest.json" -o dd.egm
fails 1 "this model takes no context" sample dd.egm --context ctx.npy -q -o bad5.png
fails 1 "does not match the decoder input" convert tiled.json -o bad6.egm --tile 32
fails 1 "apply to a diffusion manifest" convert "$ROOT/examples/digits_diffusion/manifest.json" -o bad7.egm --tile 4
fails 1 "must be smaller than the decoder's tile" convert tiled.json -o bad8.egm --tile 8 --tile-overlap 8
absent bad1.png bad2.png bad3.png bad4.png bad5.png bad6.egm bad7.egm bad8.egm

e2e_end "latent diffusion end-to-end"
