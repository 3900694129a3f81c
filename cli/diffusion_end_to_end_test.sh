#!/bin/bash
# End-to-end test of edgegen on the diffusion example: convert, sample with
# guidance and a class, --init-noise reproducibility, inpaint, and the error
# paths (exit codes, messages, no output left behind).
#
# Usage: diffusion_end_to_end_test.sh EDGEGEN_BINARY REPOSITORY_ROOT
set -u
EDGEGEN=$1
ROOT=$2
PYTHON=/usr/bin/python3
EXAMPLE=$ROOT/examples/digits_diffusion
"$PYTHON" -c "import numpy" 2>/dev/null || { echo "FAIL: no numpy for $PYTHON"; exit 1; }
. "$ROOT/cli/end_to_end_lib.sh"
e2e_begin diffusion_e2e

echo "== convert"
ok convert "$EXAMPLE/manifest.json" -o dd.egm --batch 4
grep -q "diffusion pipeline" last.out || fail "convert does not report a diffusion pipeline"

echo "== sample"
ok sample dd.egm --sampler dpmpp_2m --steps 2 --guidance 3 --class 7 -n 3 --seed 1 -q -o a.npy
ok sample dd.egm --sampler dpmpp_2m --steps 2 --guidance 3 --class 7 -n 3 --seed 1 -q -o b.npy
# Same seed, same sampler, same steps: the same bytes whatever the thread count.
ok sample dd.egm --sampler dpmpp_2m --steps 2 --guidance 3 --class 7 -n 3 --seed 1 -q --threads 1 -o t1.npy
ok sample dd.egm --sampler dpmpp_2m --steps 2 --guidance 3 --class 7 -n 3 --seed 1 -q --threads 2 -o t2.npy
cmp -s t1.npy t2.npy || fail "samples differ between 1 and 2 threads"
ok sample dd.egm --sampler euler_a --steps 2 --class cycle -n 4 --seed 2 -o grid.png
grep -q "steps" last.err || fail "no progress bar on stderr"
"$PYTHON" - <<'PY' || fail "samples differ between runs or have the wrong shape"
import numpy as np
a, b = np.load("a.npy"), np.load("b.npy")
assert a.shape == (3, 1, 16, 16) and np.array_equal(a, b) and np.isfinite(a).all()
PY

echo "== --init-noise: the deterministic samplers start from the given x_T"
"$PYTHON" -c "import numpy as np; np.save('noise.npy', np.random.default_rng(0).standard_normal((2,1,16,16)).astype(np.float32))"
ok sample dd.egm --sampler ddim --steps 2 --class 3 -n 2 --seed 1 -q --init-noise noise.npy -o n1.npy
ok sample dd.egm --sampler ddim --steps 2 --class 3 -n 2 --seed 99 -q --init-noise noise.npy -o n2.npy
"$PYTHON" -c "import numpy as np; assert np.array_equal(np.load('n1.npy'), np.load('n2.npy'))" ||
  fail "--init-noise samples depend on the seed"

echo "== inpaint"
ok inpaint dd.egm --image "$EXAMPLE/reference/digits.npy" --mask "$EXAMPLE/reference/mask_top_half.npy" \
  --class cycle -n 4 --sampler ddim --steps 3 --resample 2 -q -o inpainted.npy
"$PYTHON" - "$EXAMPLE" <<'PY' || fail "in-painting changed the known pixels"
import sys, numpy as np
out = np.load("inpainted.npy"); known = np.load(sys.argv[1] + "/reference/digits.npy")
assert out.shape == (4, 1, 16, 16)
assert np.abs(out[..., :8, :] - known[..., :8, :]).max() < 1e-6
PY

echo "== errors"
fails 1 "--class 12: expected a class in [0, 10)" sample dd.egm --class 12 -q -o bad1.png
fails 2 "--sampler" sample dd.egm --sampler plms -o bad2.png
fails 1 "holds 2 samples but -n is 3" sample dd.egm -n 3 --init-noise noise.npy -q -o bad3.npy
ok convert "$ROOT/examples/digits_gan/manifest.json" -o gan.egm
fails 1 "'inpaint' needs a model with a diffusion pipeline" inpaint gan.egm --image x.png --mask y.png -o bad4.png
fails 1 "nope.npy" inpaint dd.egm --image nope.npy --mask "$EXAMPLE/reference/mask_top_half.npy" -o bad5.png
absent bad1.png bad2.png bad3.npy bad4.png bad5.png

e2e_end "diffusion end-to-end"
