#!/bin/bash
# End-to-end test of the edgegen command-line tool on the example models:
# convert, info, bench, sample, interpolate, encode, reconstruct and run, with
# outputs compared against the PyTorch reference outputs, plus the error
# paths (exit codes, messages, no output left behind).
#
# Usage: end_to_end_test.sh EDGEGEN_BINARY REPOSITORY_ROOT
# Needs Debian's NumPy (/usr/bin/python3, installed by scripts/setup.sh --tests).
set -u
EDGEGEN=$1
ROOT=$2
PYTHON=/usr/bin/python3
VAE=$ROOT/examples/digits_vae
GAN=$ROOT/examples/digits_gan
"$PYTHON" -c "import numpy" 2>/dev/null || { echo "FAIL: no numpy for $PYTHON (apt-get install python3-numpy)"; exit 1; }
[ -f "$VAE/manifest.json" ] && [ -f "$GAN/manifest.json" ] || { echo "FAIL: example models missing"; exit 1; }

. "$ROOT/cli/end_to_end_lib.sh"
e2e_begin e2e
png_size() { "$PYTHON" -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); assert d[:8]==b'\x89PNG\r\n\x1a\n'; print(*struct.unpack('>II', d[16:24]))" "$1"; }

echo "== convert"
ok convert "$VAE/manifest.json" -o vae.egm
grep -q "2 graphs" last.out || fail "convert summary: $(cat last.out)"
ok convert "$VAE/manifest.json" -o vae4.egm --batch 4
ok convert "$GAN/manifest.json" -o gan.egm
ok convert "$GAN/manifest.json" -o gan4.egm --batch 4

echo "== info"
ok info vae.egm
grep -q "pipeline: vae" last.out || fail "info text: $(cat last.out)"
ok info gan.egm --json
"$PYTHON" - <<'PY' || fail "info --json content"
import json
info = json.load(open("last.out"))
assert info["pipeline"]["kind"] == "decoder", info["pipeline"]
assert info["pipeline"]["output_range"] == [-1.0, 1.0]
graph = info["graphs"][0]
assert graph["inputs"][0]["shape"] == [1, 64, 1, 1]
assert graph["parameters"] > 0 and graph["weight_bytes"] > 0
assert graph["plan_arena_bytes"] >= graph["plan_lower_bound_bytes"] > 0
assert info["session_arena_bytes"] >= graph["plan_arena_bytes"]
assert info["float32_file_bytes"] == info["file_bytes"]
assert all("quantization" not in t for t in graph["tensors"])
PY
ok convert "$GAN/manifest.json" -o gan_int8.egm --quantize int8
ok info gan_int8.egm --tensors
grep -q "precision: ops by output float32 x2, int8 x4" last.out || fail "info precision line: $(cat last.out)"
grep -q "x of the about .* it would take with float32 weights" last.out || fail "info size vs float32: $(cat last.out)"
ok info gan_int8.egm --json
"$PYTHON" - <<'PY' || fail "info --json of an int8 model"
import json
info = json.load(open("last.out"))
graph = info["graphs"][0]
assert graph["constant_bytes"]["int8"] > 0.99 * 263168, graph["constant_bytes"]
ratio = info["file_bytes"] / info["float32_file_bytes"]
assert 0.2 < ratio <= 0.27, ratio
weights = [t for t in graph["tensors"] if t["constant"] and t["dtype"] == "int8"]
assert len(weights) == 3, weights
for w in weights:
    q = w["quantization"]
    assert len(q["scales"]) in (1, w["shape"][q["axis"]]) and all(s > 0 for s in q["scales"]), q
    assert set(q["zero_points"]) == {0}, q
activations = [t for t in graph["tensors"] if not t["constant"] and t["dtype"] == "int8"]
assert all(len(t["quantization"]["scales"]) == 1 and -128 <= t["quantization"]["zero_points"][0] <= 127 for t in activations)
PY

ok convert "$GAN/manifest.json" -o gan_fp16.egm --weights fp16
grep -q "float16 weights: 3 constants" last.out || fail "convert --weights fp16 note: $(cat last.out)"
ok info gan_fp16.egm
grep -q "weight bytes float16 " last.out || fail "info precision line of fp16 weights: $(cat last.out)"
grep -q "x of the about .* it would take with float32 weights" last.out || fail "info fp16 size vs float32: $(cat last.out)"
ok info gan_fp16.egm --json --tensors
"$PYTHON" - <<'PY' || fail "info --json of an fp16-weights model"
import json
info = json.load(open("last.out"))
assert info["format_version"] == 2, info["format_version"]
graph = info["graphs"][0]
halves = [t for t in graph["tensors"] if t["constant"] and t["dtype"] == "float16"]
assert len(halves) == 3 and all(t["bytes"] == 2 * eval("*".join(map(str, t["shape"]))) for t in halves), halves
floats = [t for t in graph["tensors"] if t["constant"] and t["dtype"] == "float32"]
assert all(t["bytes"] < 4096 for t in floats), floats  # biases and the like stay float32
ratio = info["file_bytes"] / info["float32_file_bytes"]
assert 0.45 < ratio <= 0.55, ratio
PY
ok convert "$GAN/manifest.json" -o gan_int8_fp16.egm --quantize int8 --keep-float /net/net.6/ConvTranspose --weights fp16
ok info gan_int8_fp16.egm
grep -q "weight bytes .*float16 " last.out || fail "info of int8 + fp16: $(cat last.out)"
fails 2 "--weights" convert "$GAN/manifest.json" -o bad.egm --weights fp8
absent "bad.egm"

echo "== sample, interpolate, encode, reconstruct"
ok sample vae.egm -n 16 --seed 1 -o vae.png --latents-out z.npy
[ "$(png_size vae.png)" = "266 266" ] || fail "vae.png size $(png_size vae.png)"
ok sample gan.egm -n 9 --seed 5 -o gan1.npy
ok sample gan4.egm -n 9 --seed 5 -o gan4.npy
cmp -s gan1.npy gan4.npy || fail "samples depend on the batch size"
ok sample gan_fp16.egm -n 9 --seed 5 -o gan_fp16.npy --backend reference
ok sample gan_fp16.egm -n 9 --seed 5 -o gan_fp16_xnnpack.npy
"$PYTHON" - <<'PY' || fail "fp16-weights samples against float32"
import numpy as np
want = np.load("gan1.npy")
for name in ["gan_fp16.npy", "gan_fp16_xnnpack.npy"]:
    got = np.load(name)
    assert got.shape == want.shape and 0 < np.abs(got - want).max() < 0.02, (name, np.abs(got - want).max())
PY
ok sample gan.egm -n 25 --seed 3 -o gan.png --scale 2 --border 1
[ "$(png_size gan.png)" = "166 166" ] || fail "gan.png size $(png_size gan.png)"
ok interpolate gan.egm --seeds 3 4 --steps 10 -o strip.png
ok interpolate vae.egm --seeds 1 2 --steps 5 --mode linear -o strip.npy --latents-out strip_z.npy
ok encode vae.egm --input "$VAE/reference/x.npy" -o mean.npy --logvar-out logvar.npy
ok reconstruct vae.egm --input "$VAE/reference/x.npy" -o recon.png
ok reconstruct vae.egm --input "$VAE/reference/x.npy" -o recon.npy
"$PYTHON" - "$VAE/reference" <<'PY' || fail "sample/encode/interpolate outputs"
import sys
import numpy as np
ref = sys.argv[1]
z = np.load("z.npy"); assert z.shape == (16, 8) and z.dtype == np.float32
assert abs(z.std() - 1) < 0.3, z.std()
s = np.load("gan1.npy"); assert s.shape == (9, 1, 16, 16) and s.min() >= -1 and s.max() <= 1
strip, zs = np.load("strip.npy"), np.load("strip_z.npy")
assert strip.shape == (5, 1, 16, 16) and zs.shape == (5, 8)
assert np.allclose(zs[2], (zs[0] + zs[4]) / 2, atol=1e-5)  # linear midpoint
for name in ["mean", "logvar"]:
    got, want = np.load(f"{name}.npy"), np.load(f"{ref}/{name}.npy")
    assert np.abs(got - want).max() < 1e-4, (name, np.abs(got - want).max())
assert np.load("recon.npy").shape == (4, 1, 16, 16)
PY

echo "== bench"
ok bench vae.egm --runs 3 --warmup 1 --min-time 0
grep -q "graph decoder" last.out && grep -q "load + prepare" last.out || fail "bench text: $(cat last.out)"
ok bench vae.egm --json --profile --runs 3 --warmup 1 --min-time 0 --save-io bench_io
cp last.out bench.json
ok run vae.egm --graph decoder --input "z=bench_io/decoder.input0.npy" --output-dir bench_run
"$PYTHON" - <<'PY' || fail "bench --json content"
import json
import numpy as np
bench = json.load(open("bench.json"))
import os
want_kernels = os.environ.get("EDGEGEN_BACKEND") or ("xnnpack" if bench["xnnpack_linked"] else "reference")
assert bench["engine"] == "edgegen" and bench["kernels"] == want_kernels, bench
assert all(op["executor"] in ("xnnpack", "packed", "narrow", "simd", "reference") for g in bench["graphs"] for op in g["profile"]), bench
assert bench["load_ms"] > 0 and bench["peak_rss_bytes"] > 0
assert bench["arena_bytes"] >= bench["plan_arena_bytes"] >= bench["plan_lower_bound_bytes"] > 0
assert [g["name"] for g in bench["graphs"]] == ["encoder", "decoder"]
for graph in bench["graphs"]:
    assert graph["runs"] >= 3 and graph["min_ms"] <= graph["median_ms"] <= graph["max_ms"], graph
    assert graph["flops"] > 0 and graph["gflops_per_second"] > 0
    assert len(graph["profile"]) == graph["operators"]
    assert abs(sum(op["share"] for op in graph["profile"]) - 1) < 1e-6
    assert sum(op["flops"] for op in graph["profile"]) == graph["flops"]
decoder = bench["graphs"][1]
z = np.load(decoder["inputs"][0]["file"])
assert z.shape == (1, 8) and abs(z.std() - 1) < 0.8, z  # seeded normals
# What bench ran is what 'edgegen run' computes on the same input.
assert np.array_equal(np.load(decoder["outputs"][0]["file"]), np.load("bench_run/x_hat.npy"))
PY
fails 1 "no graph 'nope'" bench vae.egm --graph nope
fails 2 "runs" bench vae.egm --runs 0

echo "== run against the PyTorch reference outputs"
ok run vae4.egm --graph encoder --input "x=$VAE/reference/x.npy" --output-dir enc
ok run vae4.egm --graph decoder --input "z=$VAE/reference/z.npy" --output-dir dec
ok run gan4.egm --input "$GAN/reference/z.npy" --output-dir gan_out

echo "== symbolic dimensions fixed at convert time; a graph without inputs"
SHAPES="$ROOT/tests/dynamic_shapes"
fails 1 "fix it with --dim SYMBOL=VALUE or --input-shape 'serving/input:0'=D0,D1,..." convert "$SHAPES/sequence_mixer.onnx" -o mixer.egm
absent "mixer.egm"
ok convert "$SHAPES/sequence_mixer.onnx" -o mixer.egm --input-shape "serving/input:0=3,5,8"
ok run mixer.egm --input "serving/input:0=$SHAPES/sequence_mixer_input.npy" --output-dir mixer_out
ok convert "$SHAPES/sequence_mixer.onnx" -o mixer2.egm --dim seq=5 --dim batch=3
cmp -s mixer.egm mixer2.egm || fail "--dim and --input-shape gave different files"
fails 1 "dimension 'sq': no graph input has that symbolic dimension" convert "$SHAPES/sequence_mixer.onnx" -o bad.egm --dim seq=5 --dim sq=5
fails 1 "'x' is not a positive integer" convert "$SHAPES/sequence_mixer.onnx" -o bad.egm --input-shape "serving/input:0=3,x,8"
fails 1 "--dim gives 'seq' twice" convert "$SHAPES/sequence_mixer.onnx" -o bad.egm --dim seq=5 --dim seq=6
ok convert "$SHAPES/no_inputs.onnx" -o no_inputs.egm
ok run no_inputs.egm --output-dir no_inputs_out
[ -f no_inputs_out/y.npy ] || fail "run on a graph without inputs wrote no output"
echo "== a streaming graph run chunk by chunk with its state carried (--stateful)"
STREAM="$ROOT/tests/recurrent/gru_streaming"
ok convert "$STREAM/model.onnx" -o streaming.egm
ok run streaming.egm --stateful h0=h --input "x=$STREAM/x_steps.npy" --output-dir stream_out
grep -q "3 times, carrying 1 state tensor" last.out || fail "run --stateful did not say it ran 3 steps: $(cat last.out)"
fails 1 "missing --input for: h0" run streaming.egm --input "x=$STREAM/x_steps.npy" -d bad_out
fails 1 "graph 'main' has no output 'hh'" run streaming.egm --stateful h0=hh --input "x=$STREAM/x_steps.npy" -d bad_out
fails 1 "differ in dtype or shape" run streaming.egm --stateful h0=p --input "x=$STREAM/x_steps.npy" -d bad_out
fails 1 "expected INPUT=OUTPUT" run streaming.egm --stateful h0 --input "x=$STREAM/x_steps.npy" -d bad_out
fails 1 "--steps needs --stateful" run streaming.egm --steps 3 --input "x=$STREAM/x_steps.npy" -d bad_out
fails 1 "3 steps, but --steps gives 2" run streaming.egm --stateful h0=h --steps 2 --input "x=$STREAM/x_steps.npy" -d bad_out
absent bad_out/p.npy bad_out/h.npy
"$PYTHON" - "$STREAM" <<'PY' || fail "run --stateful differs from PyTorch over the whole sequence"
import sys
import numpy as np
folder = sys.argv[1]
p, h = np.load("stream_out/p.npy"), np.load("stream_out/h.npy")
want_p, want_h = np.load(f"{folder}/p_steps.npy"), np.load(f"{folder}/h_final.npy")
assert p.shape == want_p.shape and h.shape == want_h.shape, (p.shape, h.shape)
error = max(np.abs(p - want_p).max(), np.abs(h - want_h).max())
print(f"streamed: max abs error {error:.2e}")
assert error < 2e-5
PY

"$PYTHON" - "$VAE/reference" "$GAN/reference" <<'PY' || fail "run outputs differ from the reference"
import sys
import numpy as np
vae, gan = sys.argv[1], sys.argv[2]
for got, want in [("enc/mean.npy", f"{vae}/mean.npy"), ("enc/logvar.npy", f"{vae}/logvar.npy"),
                  ("dec/x_hat.npy", f"{vae}/x_hat.npy"), ("gan_out/image.npy", f"{gan}/image.npy")]:
    a, b = np.load(got), np.load(want)
    assert a.shape == b.shape and a.dtype == np.float32, (got, a.shape, b.shape)
    error = np.abs(a - b).max()
    print(f"{got}: max abs error {error:.2e}")
    assert error < 1e-4, got
PY

echo "== errors"
"$PYTHON" -c "
import numpy as np
x = np.load('$VAE/reference/x.npy')
np.save('x64.npy', x.astype(np.float64))
np.save('x1.npy', x[:1])
np.save('fortran.npy', np.asfortranarray(x[:1]))
open('truncated.npy', 'wb').write(open('x1.npy', 'rb').read()[:-3])
data = open('vae.egm', 'rb').read()
open('truncated.egm', 'wb').write(data[: len(data) // 2])
corrupt = bytearray(data); corrupt[40:48] = b'\xff' * 8
open('corrupt.egm', 'wb').write(bytes(corrupt))
"
fails 1 "choose one with --graph" run vae.egm --input x=x1.npy -d out1
fails 1 "needs float32 [1, 1, 16, 16], the file holds float64 [4, 1, 16, 16]" run vae.egm -g encoder --input x=x64.npy -d out1
fails 1 "convert with a.astype(np.float32)" run vae4.egm -g encoder --input x=x64.npy -d out1
fails 1 "has no input 'y' (inputs: x)" run vae.egm -g encoder --input y=x1.npy -d out1
fails 1 "Fortran-order arrays are not supported" run vae.egm -g encoder --input x=fortran.npy -d out1
fails 1 "truncated data" run vae.egm -g encoder --input x=truncated.npy -d out1
absent "out1"
# An op the converter does not support: the message names node, op and the
# supported list, and no output file appears.
ONNX_TESTDATA=${EDGEGEN_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
fails 1 "node #0 (Det), opset 11: op type is not supported (supported: Abs, Add" \
  convert "$ONNX_TESTDATA/node/test_det_2d/model.onnx" -o unsupported.egm
fails 1 "attribute 'mode' = 'cubic' is not supported (supported: nearest, linear)" \
  convert "$ONNX_TESTDATA/node/test_resize_downsample_scales_cubic/model.onnx" -o unsupported.egm
absent "unsupported.egm"
# A model in double converts to float32, saying so on stderr.
ok convert "$ONNX_TESTDATA/node/test_cast_DOUBLE_to_FLOAT/model.onnx" -o double.egm
grep -q "edgegen: warning: .* computes in double (float64); edgegen computes it in float32" last.err ||
  fail "converting a double model gave no warning: $(cat last.err)"
grep -q "warning" last.out && fail "the double warning went to stdout"
fails 1 "truncated.egm" info truncated.egm
fails 1 "corrupt.egm" info corrupt.egm
fails 1 "cannot open" info missing.egm
fails 1 "must end in .png or .npy" sample vae.egm -o out.jpg
fails 1 "needs a model with a vae pipeline" encode gan.egm --input x1.npy -o out.npy
fails 1 "exactly 2 items" interpolate vae.egm --inputs x1.npy -o out.png
fails 1 "cannot create a file" sample vae.egm -o /nonexistent/out.png
fails 2 "--count" sample vae.egm -n 0 -o out.png
fails 2 "--threads" sample vae.egm --threads 0 -o out.png
fails 2 "exactly one of --seeds" interpolate vae.egm -o out.png
fails 2 "not in {linear,slerp}" interpolate vae.egm --seeds 1 2 --mode cubic -o out.png
absent "out.* .out.*"
echo "previous" > keep.png
fails 1 "truncated.egm" sample truncated.egm -o keep.png
# Fails after keep.png's temporary file was opened: it must vanish.
fails 1 "cannot create a file" sample vae.egm -o keep.png --latents-out /nonexistent/z.npy
[ "$(cat keep.png)" = "previous" ] || fail "a failed command replaced keep.png"
ls -A | grep -q '\.tmp\.' && fail "temporary files left behind: $(ls -A | grep '\.tmp\.')"

e2e_end "end-to-end"
