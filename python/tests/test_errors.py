"""Every way a call can go wrong ends in a Python exception with a message, never a crash."""
import numpy as np
import pytest

import edgegen


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.egm"):
        edgegen.Model(tmp_path / "nope.egm")
    with pytest.raises(OSError, match="not a regular file"):
        edgegen.Model(tmp_path)


def test_corrupt_and_foreign_bytes(models, tmp_path):
    with pytest.raises(edgegen.InvalidModelError) as error:
        edgegen.Model.from_bytes(b"this is not a model at all" * 10)
    assert error.value.code in ("invalid model", "unsupported format version") and "<bytes>" in str(error.value)
    with pytest.raises(edgegen.InvalidModelError):
        edgegen.Model.from_bytes(b"")
    with open(models["flow"], "rb") as file:
        data = bytearray(file.read())
    with pytest.raises(edgegen.InvalidModelError):
        edgegen.Model.from_bytes(bytes(data[: len(data) // 2]))  # truncated
    (tmp_path / "bad.egm").write_bytes(bytes(64) + data[64:])
    with pytest.raises(edgegen.InvalidModelError, match="bad.egm"):
        edgegen.Model(tmp_path / "bad.egm")
    with pytest.raises(ValueError, match="expected bytes"):
        edgegen.Model.from_bytes("flow.egm")


def test_bad_options(models):
    with pytest.raises(ValueError, match="backend='gpu'"):
        edgegen.Model(models["flow"], backend="gpu")
    with pytest.raises(ValueError, match="threads=0"):
        edgegen.Model(models["flow"], threads=0)
    flow = edgegen.Model(models["flow"])
    with pytest.raises(ValueError, match="n=0"):
        flow.sample(0)
    with pytest.raises(ValueError, match="n=2.5"):
        flow.sample(2.5)
    with pytest.raises(ValueError, match="seed=-1"):
        flow.sample(2, seed=-1)
    with pytest.raises(ValueError, match="steps, guidance: diffusion options"):
        flow.sample(2, steps=4, guidance=2)
    with pytest.raises(ValueError, match="batch=0"):
        flow.score(np.zeros((2, 64)), batch=0)
    vae = edgegen.Model(models["vae"])
    with pytest.raises(ValueError, match="bound='exact'"):
        vae.score(np.zeros((2, 64)), bound="exact")
    with pytest.raises(ValueError, match="samples must be at least 1"):
        vae.score(np.zeros((2, 64)), samples=0)


def test_wrong_shapes_and_dtypes(models, digits):
    flow = edgegen.Model(models["flow"])
    with pytest.raises(ValueError, match=r"shape \(3, 63\) does not hold rows of \[64\]"):
        flow.score(np.zeros((3, 63), np.float32))
    with pytest.raises(ValueError, match=r"one row\? use x.reshape\(1, -1\)"):
        flow.score(np.zeros(64, np.float32))
    with pytest.raises(ValueError, match="expected real numbers, got dtype complex128"):
        flow.score(np.zeros((3, 64), complex))
    with pytest.raises(ValueError, match="expected real numbers, got dtype <U"):
        flow.score(np.array([["a"] * 64]))
    with pytest.raises(ValueError, match="expected an array of numbers, got str"):
        flow.score("rows.npy")
    assert flow.score(np.zeros((0, 64))).shape == (0,)
    vae = edgegen.Model(models["vae"])
    with pytest.raises(ValueError, match="z: shape"):
        vae.decode(np.zeros((2, 3)))
    # The extension checks sizes itself, whatever the Python half passes it.
    with pytest.raises(ValueError, match="holds 10 values; expected 2 x 64"):
        flow._handle.score(np.zeros(10, np.float32), 2, "iwae", 1, 0)
    with pytest.raises(ValueError, match="needs float32 values"):
        flow._handle.score(np.zeros((2, 64)), 2, "iwae", 1, 0)
    with pytest.raises(ValueError, match="C-contiguous"):
        flow._handle.score(np.zeros((64, 2), np.float32).T, 2, "iwae", 1, 0)


def test_wrong_capability(models, digits):
    gan = edgegen.Model(models["gan"])
    with pytest.raises(edgegen.UnsupportedError, match="a 'decoder' model cannot score") as error:
        gan.score(np.zeros((2, 64)))
    assert "flow, vae, autoregressive, energy" in str(error.value)
    flow = edgegen.Model(models["flow"])
    with pytest.raises(edgegen.UnsupportedError, match="a 'flow' model cannot impute"):
        flow.impute(digits["flow"])
    with pytest.raises(edgegen.UnsupportedError, match="cannot encode"):
        flow.encode(digits["flow"])
    with pytest.raises(ValueError, match="return_latents"):
        flow.sample(2, return_latents=True)


def test_runtime_errors_carry_the_runtime_message(models, digits):
    made = edgegen.Model(models["made"])
    rows = digits["made"][:2].copy()
    rows[1, 5] = 20.0  # the digits MADE is categorical over 0..16
    with pytest.raises(edgegen.InvalidArgumentError, match="item 1, dimension 5") as error:
        made.score(rows)
    assert error.value.code == "invalid argument" and models["made"] in str(error.value)
    assert isinstance(error.value, ValueError)


def test_run_errors(models):
    flow = edgegen.Model(models["flow"])
    name, graph = next(iter(flow.graphs.items()))
    good = {t.name: np.zeros(t.shape, t.dtype) for t in graph.inputs}
    with pytest.raises(ValueError, match="no graph 'nope'"):
        flow.run("nope", good)
    with pytest.raises(ValueError, match="missing inputs"):
        flow.run(name, {})
    with pytest.raises(ValueError, match="has no input 'extra'"):
        flow.run(name, dict(good, extra=np.zeros(1, np.float32)))
    first = graph.inputs[0]
    with pytest.raises(ValueError, match=f"input '{first.name}' of graph '{name}' needs float32"):
        flow.run(name, dict(good, **{first.name: np.zeros((1, 2), np.float32)}))
    with pytest.raises(ValueError, match="needs float32, got complex"):
        flow.run(name, dict(good, **{first.name: np.zeros(first.shape, complex)}))


def test_diffusion_option_errors(models):
    diffusion = edgegen.Model(models["diffusion"])
    with pytest.raises(ValueError, match="sampler='magic'"):
        diffusion.sample(1, sampler="magic", steps=2)
    with pytest.raises(ValueError, match="steps=0"):
        diffusion.sample(1, steps=0)
    with pytest.raises(ValueError, match="cls: class 99"):
        diffusion.sample(1, steps=2, cls=99)
    with pytest.raises(edgegen.CancelledError):
        diffusion.sample(1, steps=3, progress=lambda step, total, seconds: False)
    with pytest.raises(ZeroDivisionError):
        diffusion.sample(1, steps=3, progress=lambda step, total, seconds: 1 / 0)
    steps = []
    diffusion.sample(1, steps=3, progress=lambda step, total, seconds: steps.append((step, total)))
    assert steps[-1] == (3, 3)


def test_mutated_model_bytes_never_crash(models, digits):
    # Random byte changes anywhere in a real model: each load-and-score either
    # works (a changed weight) or raises an exception; the process survives.
    with open(models["flow"], "rb") as file:
        data = file.read()
    rng = np.random.default_rng(0)
    refused = 0
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(rng.integers(1, 8)):
            mutated[rng.integers(0, len(mutated))] = rng.integers(0, 256)
        try:
            edgegen.Model.from_bytes(bytes(mutated), backend="reference").score(digits["flow"])
        except (edgegen.Error, ValueError):  # ValueError: the rows no longer fit a changed event shape
            refused += 1
    assert refused > 0


def test_option_errors_list_what_the_runtime_supports(models):
    diffusion = edgegen.Model(models["diffusion"])
    with pytest.raises(ValueError, match=r"supported: ddim, euler, euler_a, heun, dpmpp_2m, dpmpp_3m, ddpm, lcm\)"):
        diffusion.sample(1, sampler="magic")
    with pytest.raises(ValueError, match=r"unknown capability 'fly' \(known: sample, decode, encode, interpolate, "
                                         r"score, impute, inpaint, class_conditional, generate, score_tokens, vocode, img2img\)"):
        diffusion.arena_bytes("fly")


def test_threshold_rule_is_the_runtimes():
    # edgegen::fit_threshold itself: element floor(fpr * n) of the sorted scores,
    # the last for fpr = 1; no scores, a NaN score or fpr outside [0, 1] refused.
    scores = np.array([-3.0, -1.0, -2.0, -5.0, -4.0])
    assert edgegen.threshold_from_scores(scores, 0.0) == -5.0
    assert edgegen.threshold_from_scores(scores, 0.2) == -4.0
    assert edgegen.threshold_from_scores(scores, 0.5) == -3.0
    assert edgegen.threshold_from_scores(scores, 1.0) == -1.0
    for fpr in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="fpr"):
            edgegen.threshold_from_scores(scores, fpr)
    with pytest.raises(edgegen.InvalidArgumentError, match="score 1 is NaN"):
        edgegen.threshold_from_scores([-1.0, float("nan")], 0.5)
    with pytest.raises(ValueError, match="no scores"):
        edgegen.threshold_from_scores([], 0.5)
