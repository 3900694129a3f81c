"""edgegen.Model against the edgegen command line: the same numbers, bit for bit."""
import threading
import time

import numpy as np
import pytest

import edgegen
from conftest import ROOT, read_scores_csv, tool


def cli_scores(model, rows, tmp_path, *args):
    np.save(tmp_path / "rows.npy", rows.astype(np.float32))
    tool("score", model, "--input", tmp_path / "rows.npy", "-o", tmp_path / "scores.csv", *args)
    return read_scores_csv(tmp_path / "scores.csv")


def cli_npy(tmp_path, *args):
    tool(*args, "-o", tmp_path / "out.npy")
    return np.load(tmp_path / "out.npy")


def same_float32(python, cli):
    """The CLI prints float32 scores with 9 significant digits, which round-trips exactly."""
    assert python.dtype == np.float64 and python.shape == cli.shape
    np.testing.assert_array_equal(python.astype(np.float32), cli.astype(np.float32))
    np.testing.assert_array_equal(python, python.astype(np.float32).astype(np.float64))


@pytest.mark.parametrize("name", ["flow", "made"])
def test_scores_equal_the_command_line(name, models, digits, tmp_path):
    model = edgegen.Model(models[name])
    rows = digits[name]
    cli = cli_scores(models[name], rows, tmp_path)
    same_float32(model.score(rows), cli["log_likelihood"])
    np.testing.assert_allclose(model.bits_per_dim(model.score(rows)), cli["bits_per_dim"], rtol=1e-8)
    # Any layout of the same values gives the same scores: [n, 64], [n, 8, 8], float64, a non-contiguous view.
    same_float32(model.score(rows.astype(np.float64)), cli["log_likelihood"])
    same_float32(model.score(np.asfortranarray(rows)), cli["log_likelihood"])


def test_energy_scores_equal_the_command_line(models, tmp_path):
    rows = np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32)
    cli = cli_scores(models["energy"], rows, tmp_path)
    same_float32(edgegen.Model(models["energy"]).score(rows), cli["log_likelihood"])


@pytest.mark.parametrize("args", [dict(bound="elbo", samples=1, seed=2), dict(bound="iwae", samples=64, seed=0),
                                  dict(bound="iwae", samples=4, seed=7)])
def test_vae_bounds_equal_the_command_line_across_batches(args, models, digits, tmp_path):
    # 600 rows: three of the command line's 256-row batches; the posterior
    # noise restarts with each, and so it does in Model.score.
    rows = np.tile(digits["vae"], (600 // len(digits["vae"]) + 1, 1))[:600]
    cli = cli_scores(models["vae"], rows, tmp_path, "--bound", args["bound"], "-k", args["samples"], "--seed",
                     args["seed"])
    model = edgegen.Model(models["vae"])
    scores = model.score(rows, **args)
    same_float32(scores, cli["log_likelihood"])
    # A slice scored with its offset gets the same numbers as inside the whole (a Dask partition).
    same_float32(model.score(rows[300:451], offset=300, **args), cli["log_likelihood"][300:451])
    # With --batch 100 the command line restarts the noise every 100 rows.
    cli100 = cli_scores(models["vae"], rows, tmp_path, "--batch", 100, "--bound", args["bound"], "-k",
                        args["samples"], "--seed", args["seed"])
    same_float32(model.score(rows, batch=100, **args), cli100["log_likelihood"])


def test_threshold_and_flags_equal_the_command_line(models, digits, tmp_path):
    rows = digits["flow"]
    np.save(tmp_path / "normal.npy", rows)
    tool("score", models["flow"], "--fit-threshold", tmp_path / "normal.npy", "--fpr", 0.25, "--threshold-file",
         tmp_path / "t.json")
    model = edgegen.Model(models["flow"])
    threshold = model.fit_threshold(rows, fpr=0.25)
    assert threshold == edgegen.read_threshold(tmp_path / "t.json")
    tool("score", models["flow"], "--input", tmp_path / "normal.npy", "-o", tmp_path / "flagged.csv",
         "--threshold-file", tmp_path / "t.json")
    cli = read_scores_csv(tmp_path / "flagged.csv")
    table = model.score_table(rows, threshold=tmp_path / "t.json")
    np.testing.assert_array_equal(table["row"], cli["row"])
    same_float32(table["log_likelihood"], cli["log_likelihood"])
    np.testing.assert_array_equal(table["anomaly"], cli["anomaly"] == 1)
    assert table["anomaly"].sum() == 4  # a quarter of 16 normal rows
    # A threshold written by Python is read by the command line.
    edgegen.write_threshold(tmp_path / "py.json", threshold, model.event_size, fpr=0.25)
    tool("score", models["flow"], "--input", tmp_path / "normal.npy", "-o", tmp_path / "flagged2.csv",
         "--threshold-file", tmp_path / "py.json")
    np.testing.assert_array_equal(read_scores_csv(tmp_path / "flagged2.csv")["anomaly"], cli["anomaly"])
    assert edgegen.flag(np.array([np.nan, threshold, threshold - 1]), threshold).tolist() == [True, False, True]


@pytest.mark.parametrize("name,args,cli_args", [
    ("flow", dict(seed=3), ["--seed", 3]),
    ("flow", dict(seed=5, temperature=0.7), ["--seed", 5, "-t", 0.7]),
    ("made", dict(seed=1, top_k=2), ["--seed", 1, "--top-k", 2]),
    ("gan", dict(seed=4), ["--seed", 4]),
    ("vae", dict(seed=9, temperature=0.5), ["--seed", 9, "-t", 0.5]),
    ("energy", dict(seed=2), ["--seed", 2]),
    ("diffusion", dict(seed=1, sampler="ddim", steps=4, guidance=2.0, cls="cycle"),
     ["--seed", 1, "--sampler", "ddim", "--steps", 4, "--guidance", 2, "--class", "cycle", "-q"]),
])
def test_samples_equal_the_command_line(name, args, cli_args, models, tmp_path):
    expected = cli_npy(tmp_path, "sample", models[name], "-n", 5, *cli_args)
    samples = edgegen.Model(models[name]).sample(5, **args)
    assert samples.dtype == np.float32
    np.testing.assert_array_equal(samples, expected)


def test_impute_encode_decode_equal_the_command_line(models, digits, tmp_path):
    partial = digits["made"][:3].copy()
    partial[:, 50:] = np.nan
    np.save(tmp_path / "partial.npy", partial)
    expected = cli_npy(tmp_path, "impute", models["made"], "--input", tmp_path / "partial.npy", "--seed", 1,
                       "--top-k", 3)
    filled = edgegen.Model(models["made"]).impute(partial, seed=1, top_k=3)
    np.testing.assert_array_equal(filled, expected)
    assert np.isnan(partial[:, 50:]).all()  # the input is not modified

    vae = edgegen.Model(models["vae"])
    mean, logvar = vae.encode(digits["vae"])
    assert mean.shape == logvar.shape == (len(digits["vae"]),) + vae.latent_shape
    items, latents = vae.sample(3, seed=2, return_latents=True)
    np.testing.assert_array_equal(vae.decode(latents), items)


def test_properties(models):
    flow = edgegen.Model(models["flow"], backend="reference")
    assert flow.kind == "flow" and flow.backend == "reference"
    assert flow.capabilities == {"score", "sample"}
    assert flow.event_shape == (64,) and flow.event_size == 64 and flow.batch == 8
    assert set(flow.graphs) == set(flow.inputs) == set(flow.outputs)
    forward = flow.graphs["forward"] if "forward" in flow.graphs else next(iter(flow.graphs.values()))
    assert forward.inputs[0].dtype == np.float32 and forward.inputs[0].shape[0] == 8
    assert flow.arena_bytes("score") > 0
    vae = edgegen.Model(models["vae"])
    assert vae.capabilities >= {"sample", "decode", "encode", "score"} and vae.latent_shape
    gan = edgegen.load(models["gan"])
    assert "score" not in gan.capabilities and "sample" in gan.capabilities
    info = gan.info()
    assert info["kind"] == "decoder" and info["arena_bytes"] > 0
    with open(models["flow"], "rb") as file:
        from_bytes = edgegen.Model.from_bytes(file.read())
    assert from_bytes.kind == "flow" and "<bytes>" in repr(from_bytes)


def test_run_one_graph(models):
    flow = edgegen.Model(models["flow"])
    name, graph = next(iter(flow.graphs.items()))
    inputs = {t.name: np.zeros(t.shape, t.dtype) + 1.0 for t in graph.inputs}
    outputs = flow.run(name, inputs)
    assert [o.name for o in graph.outputs] == list(outputs)
    for spec in graph.outputs:
        assert outputs[spec.name].shape == spec.shape and outputs[spec.name].dtype == spec.dtype
    np.testing.assert_array_equal(flow.run(name, **inputs)[graph.outputs[0].name], outputs[graph.outputs[0].name])


def test_run_carries_state_from_call_to_call(tmp_path):
    # The streaming GRU of tests/recurrent: three chunks with the state
    # carried equal PyTorch over the whole sequence.
    folder = ROOT / "tests" / "recurrent" / "gru_streaming"
    tool("convert", folder / "model.onnx", "-o", tmp_path / "streaming.egm")
    model = edgegen.Model(str(tmp_path / "streaming.egm"))
    frames = np.load(folder / "x_steps.npy")
    expected = np.load(folder / "p_steps.npy")
    graph = next(iter(model.graphs))
    streamed = [model.run(graph, x=chunk, carry_state={"h0": "h"})["p"] for chunk in frames]
    np.testing.assert_allclose(np.stack(streamed), expected, atol=2e-5)
    model.reset_state()
    np.testing.assert_array_equal(model.run(graph, x=frames[0], carry_state={"h0": "h"})["p"], streamed[0])
    with pytest.raises(ValueError, match="carried state"):
        model.run(graph, x=frames[0], h0=np.zeros((1, 1, 8), np.float32), carry_state={"h0": "h"})
    with pytest.raises(ValueError, match="no output 'nope'"):
        model.run(graph, x=frames[0], carry_state={"h0": "nope"})
    # Without carry_state the graph runs statelessly: h0 is required.
    with pytest.raises(ValueError, match="missing inputs: h0"):
        model.run(graph, x=frames[0])


def test_threads_share_one_model(models, digits):
    model = edgegen.Model(models["flow"])
    rows = np.tile(digits["flow"], (64, 1))
    expected = model.score(rows)
    results = [None] * 4

    def work(i):
        results[i] = model.score(rows)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_memory_stays_bounded_for_a_memmap(models, digits, tmp_path):
    # float64 rows on disk, read a batch at a time: same scores as in memory.
    rows = np.tile(digits["flow"], (100, 1)).astype(np.float64)
    mapped = np.lib.format.open_memmap(tmp_path / "rows.npy", mode="w+", dtype=np.float64, shape=rows.shape)
    mapped[:] = rows
    mapped.flush()
    model = edgegen.Model(models["flow"])
    np.testing.assert_array_equal(model.score(np.load(tmp_path / "rows.npy", mmap_mode="r")), model.score(rows))


def test_the_gil_is_released_while_the_runtime_runs(models, digits):
    # One long runtime call (a single batch) in a thread: the main thread
    # keeps running Python meanwhile, so no gap between its loop iterations
    # comes near the call's length (holding the GIL, one gap would be all of it).
    model = edgegen.Model(models["flow"], threads=1)
    probe = np.tile(digits["flow"], (128, 1))
    start = time.perf_counter()
    model.score(probe, batch=len(probe))
    per_row = (time.perf_counter() - start) / len(probe)
    # About 0.8 s, but never more rows than one batch may hold (a fast machine
    # would ask for more).
    wanted = min(max(len(probe), int(0.8 / per_row)), edgegen.MAX_ITEMS)
    rows = np.tile(digits["flow"], (wanted // len(digits["flow"]) + 1, 1))[:wanted]
    start = time.perf_counter()
    model.score(rows, batch=len(rows))
    duration = time.perf_counter() - start
    worker = threading.Thread(target=model.score, args=(rows,), kwargs=dict(batch=len(rows)))
    gaps, last = [], time.perf_counter()
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    assert max(gaps) < duration / 3, (max(gaps), duration)


def test_inpaint_equals_the_command_line(models, tmp_path):
    reference = ROOT / "examples" / "digits_diffusion" / "reference"
    known = np.load(reference / "digits.npy")[:2]  # [2, 1, 16, 16]
    mask = np.load(reference / "mask_top_half.npy")[0]  # one item's mask, [1, 16, 16]: used for every item
    np.save(tmp_path / "known.npy", known)
    np.save(tmp_path / "mask.npy", np.broadcast_to(mask, known.shape).astype(np.float32))
    expected = cli_npy(tmp_path, "inpaint", models["diffusion"], "--image", tmp_path / "known.npy", "--mask",
                       tmp_path / "mask.npy", "-n", 2, "--sampler", "ddpm", "--steps", 5, "--resample", 2,
                       "--class", "cycle", "--seed", 1, "-q")
    got = edgegen.Model(models["diffusion"]).inpaint(known, mask, n=2, seed=1, sampler="ddpm", steps=5, resample=2,
                                                     cls="cycle")
    np.testing.assert_array_equal(got, expected)


def test_vocode_equals_the_command_line(models, tmp_path):
    mel = np.load(ROOT / "examples" / "vocoder" / "reference" / "mel.npy")  # [1, 80, frames]
    model = edgegen.Model(models["vocoder"])
    assert (model.kind, model.sample_rate, model.hop_length) == ("vocoder", 22050, 256)
    assert model.capabilities == frozenset({"vocode"})
    assert edgegen.Model(models["gan"]).sample_rate is None
    expected = cli_npy(tmp_path, "vocode", models["vocoder"], "--mel", ROOT / "examples" / "vocoder" / "reference" / "mel.npy")
    got = model.vocode(mel)
    assert got.dtype == np.float32 and got.shape == (mel.shape[2] * 256,)
    np.testing.assert_array_equal(got, expected.reshape(-1))
    np.testing.assert_array_equal(model.vocode(mel[0].astype(np.float64)), got)  # [mels, frames], any float
    with pytest.raises(ValueError, match=r"expected \[80, frames\]"):
        model.vocode(mel[:, :79])
    with pytest.raises(edgegen.Error, match="cannot vocode"):
        edgegen.Model(models["gan"]).vocode(mel)


def test_latent_diffusion_context_and_img2img_equal_the_command_line(models, tmp_path):
    example = ROOT / "examples" / "latent_diffusion"
    table = np.load(example / "text_encoder.npz")
    context = np.stack([np.stack([table["letters"][0], table["colors"][0]]),
                        np.stack([table["letters"][16], table["colors"][2]])]).astype(np.float32)  # red A, blue Q
    np.save(tmp_path / "ctx.npy", context)
    model = edgegen.Model(models["latent_diffusion"])
    expected = cli_npy(tmp_path, "sample", models["latent_diffusion"], "--context", tmp_path / "ctx.npy", "-n", 2,
                       "--steps", 3, "--guidance", 3, "--seed", 1, "-q")
    got = model.sample(2, seed=1, steps=3, guidance=3, context=context)
    np.testing.assert_array_equal(got, expected)
    # img2img at strength 1 is plain sampling; at 0 the picture through the autoencoder.
    pictures = np.load(example / "reference" / "pictures.npy")[:2]
    np.testing.assert_array_equal(model.img2img(pictures, strength=1.0, seed=1, steps=3, guidance=3, context=context),
                                  expected)
    decoded = np.load(example / "reference" / "decoded.npy")[:2]
    assert np.abs(model.img2img(pictures, strength=0.0) - decoded).max() < 5e-3
    with pytest.raises(ValueError, match="context: shape"):
        model.sample(2, context=np.zeros((3, 32), np.float32))
