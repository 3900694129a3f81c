"""edgegen: run generative models (.egm files) from Python.

    import edgegen
    model = edgegen.Model("flow.egm")            # or edgegen.load(...)
    log_p = model.score(x)                       # float64, one per row
    samples = model.sample(16, seed=3)           # float32 [16, *event_shape]

Results are bit-identical to the ``edgegen`` command line's for the same
model, inputs, options and seed. The runtime (C++) runs without the GIL;
one Model may be shared by threads (their calls are serialized on it).
NumPy arrays go in without a copy when they already are C-contiguous
float32, and results are written by the runtime straight into the arrays
returned. See docs/python.md for the whole API and edgegen.dask for scoring
data that does not fit one machine.
"""

import math
import os
import shutil
import subprocess
from collections import namedtuple

import numpy as np

from . import _edgegen
from .errors import (CancelledError, Error, InvalidArgumentError, InvalidModelError, OutOfMemoryError,
                     UnsupportedError)

__all__ = [
    "Model", "load", "convert", "TensorSpec", "GraphSpec", "bits_per_dim", "threshold_from_scores", "flag",
    "read_threshold", "write_threshold", "Error", "InvalidModelError", "UnsupportedError", "InvalidArgumentError",
    "OutOfMemoryError", "CancelledError", "DEFAULT_BATCH",
]

#: Rows scored per runtime call; the command line's ``score --batch`` default.
#: The VAE bounds draw their posterior noise per call, so the same batch gives
#: the command line's exact numbers.
DEFAULT_BATCH = 256

#: The most items one call generates (the command line's limit, too).
MAX_ITEMS = 1 << 16

TensorSpec = namedtuple("TensorSpec", "name dtype shape")
TensorSpec.__doc__ = "A graph input or output: its name, NumPy dtype and shape (with the batch dimension)."
GraphSpec = namedtuple("GraphSpec", "name inputs outputs")
GraphSpec.__doc__ = "A graph of the model: its name and its inputs and outputs (lists of TensorSpec)."


def bits_per_dim(log_likelihood, dims):
    """Bits per dimension of log-likelihoods in nats over ``dims`` dimensions: -log p / (dims ln 2)."""
    return -np.asarray(log_likelihood, dtype=np.float64) / (dims * math.log(2.0))


def threshold_from_scores(scores, fpr=0.01):
    """The log-likelihood below which a row is an anomaly, so that a fraction
    ``fpr`` (0 to 1) of ``scores`` (normal rows) would be flagged: exactly what
    ``edgegen score --fit-threshold --fpr`` stores (the element at index
    floor(fpr * n) of the sorted scores, the last for fpr = 1; the runtime's
    own rule). Raises InvalidArgumentError (a ValueError) for no scores, a
    NaN score or fpr outside [0, 1]."""
    return _edgegen.fit_threshold(np.asarray(scores, dtype=np.float32).ravel(), float(fpr))


def flag(scores, threshold):
    """True where a row is an anomaly: its log-likelihood is below ``threshold``
    (or NaN), as the command line's ``anomaly`` column."""
    return ~(np.asarray(scores) >= threshold)


def read_threshold(path):
    """The log-likelihood threshold of a ``--threshold-file`` JSON (from
    ``edgegen score --fit-threshold`` or :func:`write_threshold`)."""
    import json
    with open(path) as file:
        root = json.load(file)
    if not isinstance(root, dict) or not isinstance(root.get("log_likelihood_threshold"), (int, float)):
        raise ValueError(f"{path}: needs a number 'log_likelihood_threshold'")
    return float(root["log_likelihood_threshold"])


def write_threshold(path, threshold, dims, fpr=None, rows=None, model=None, fit_on=None):
    """Writes a threshold file the command line's ``score --threshold-file`` reads."""
    import json
    root = {"model": model, "fit_on": fit_on, "rows": rows, "skipped_rows": 0, "fpr": fpr,
            "log_likelihood_threshold": float(threshold),
            "bits_per_dim_threshold": float(bits_per_dim(threshold, dims))}
    with open(path, "w") as file:
        json.dump({k: v for k, v in root.items() if v is not None}, file, indent=2)
        file.write("\n")


def _numeric_rows(x, what, item_shape):
    """``x`` as an array of rows of ``item_shape``, or a ValueError saying why not."""
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{what}: expected an array of numbers, got {type(x).__name__}")
    array = np.asarray(x)
    if array.dtype.kind not in "fiub":
        raise ValueError(f"{what}: expected real numbers, got dtype {array.dtype}")
    item_shape = tuple(item_shape)
    size = int(np.prod(item_shape, dtype=np.int64))
    if array.ndim >= 2 and (array.shape[1:] == item_shape or (array.ndim == 2 and array.shape[1] == size)):
        return array
    if array.ndim == 1 and array.shape[0] == size:
        hint = f" (one row? use {what}.reshape(1, -1))"
    else:
        hint = ""
    raise ValueError(f"{what}: shape {array.shape} does not hold rows of {list(item_shape)} "
                     f"({size} values each); expected (n, {size}) or (n, {', '.join(map(str, item_shape))})" + hint)


def _float32_chunk(array):
    """A C-contiguous float32 view of ``array`` (no copy when it already is one)."""
    return np.ascontiguousarray(array, dtype=np.float32)


class Model:
    """An opened .egm model.

    ``Model(path, backend="auto", threads=None)`` memory-maps and verifies the
    file; ``Model.from_bytes(data)`` takes the bytes instead. ``backend``:
    "auto" (XNNPACK when available), "xnnpack" or "reference" (the portable
    oracle); ``threads``: XNNPACK's worker threads (None: the performance
    cores). Programs (sampling, scoring, ...) are prepared on first use and
    kept. Raises FileNotFoundError, edgegen.InvalidModelError for a corrupt
    or foreign file, ValueError for a bad option.
    """

    def __init__(self, path, backend="auto", threads=None, _handle=None):
        if _handle is None:
            path = os.fspath(path)
            if not os.path.exists(path):
                raise FileNotFoundError(2, "No such file or directory", path)
            _handle = _edgegen.ModelHandle.open(path, backend, _threads(threads))
        self._handle = _handle
        self.path = path
        self._programs = {}

    @classmethod
    def from_bytes(cls, data, backend="auto", threads=None):
        """A model from the bytes of a .egm file (copied once, aligned)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError(f"from_bytes: expected bytes, got {type(data).__name__}")
        return cls(None, _handle=_edgegen.ModelHandle.from_bytes(bytes(data), backend, _threads(threads)))

    def __repr__(self):
        where = self.path if self.path is not None else "<bytes>"
        return f"edgegen.Model({where!r}, kind={self.kind!r}, backend={self.backend!r})"

    # ---- what the model is ---------------------------------------------------------
    @property
    def kind(self):
        """The pipeline kind: "decoder", "vae", "flow", "diffusion", "autoregressive", "energy" or "graphs"."""
        return self._handle.kind

    @property
    def declared_capabilities(self):
        """What the model's kind can offer (frozenset of names), without preparing anything."""
        return frozenset(self._handle.declared_capabilities)

    @property
    def capabilities(self):
        """What this model can do, exactly (frozenset of "sample", "decode", "encode",
        "interpolate", "score", "impute", "inpaint", "class_conditional"): a flow
        without an inverse graph declares "sample" but cannot. Prepares the
        programs of the declared capabilities to find out."""
        found = set()
        for capability in self.declared_capabilities:
            try:
                found.update(self._program(capability)["capabilities"])
            except UnsupportedError:
                pass
        return frozenset(found)

    def can(self, capability):
        """Whether the model can do ``capability`` (see :attr:`capabilities`)."""
        return capability in self.capabilities

    @property
    def batch(self):
        """Items per graph run: the batch the model was converted for."""
        return self._handle.batch

    @property
    def backend(self):
        """The kernels that run the model ("xnnpack" or "reference"), "auto" resolved."""
        return self._handle.backend

    @property
    def graphs(self):
        """The graphs by name: GraphSpec(name, inputs, outputs), each tensor a TensorSpec."""
        graphs = {}
        for graph in self._handle.graphs():
            spec = lambda tensors: [TensorSpec(name, np.dtype(dtype), tuple(shape)) for name, dtype, shape in tensors]
            graphs[graph["name"]] = GraphSpec(graph["name"], spec(graph["inputs"]), spec(graph["outputs"]))
        return graphs

    @property
    def inputs(self):
        """Inputs of every graph: {graph name: [TensorSpec, ...]}."""
        return {name: graph.inputs for name, graph in self.graphs.items()}

    @property
    def outputs(self):
        """Outputs of every graph: {graph name: [TensorSpec, ...]}."""
        return {name: graph.outputs for name, graph in self.graphs.items()}

    @property
    def event_shape(self):
        """The shape of one item (without the batch dimension) as sample() returns and score() reads it."""
        return tuple(self._program(self._first_capability())["event_shape"])

    @property
    def event_size(self):
        """Values in one item."""
        return int(np.prod(self.event_shape, dtype=np.int64))

    @property
    def latent_shape(self):
        """The shape of one latent (decode / encode); () when the model has none."""
        for capability in ("decode", "encode"):
            if capability in self.declared_capabilities:
                return tuple(self._program(capability)["latent_shape"])
        return ()

    @property
    def sample_rate(self):
        """Samples per second of the waveforms this model writes (a vocoder, or a decoder/vae whose
        items are waveforms: its manifest's "sample_rate"); None when its outputs are not audio."""
        return self._program(self._first_capability()).get("sample_rate")

    @property
    def hop_length(self):
        """A vocoder's samples per mel frame; None for other kinds."""
        return self._program("vocode")["hop_length"] if "vocode" in self.declared_capabilities else None

    def arena_bytes(self, capability=None):
        """Bytes of working memory (arena) the program for ``capability``
        (None: the kind's first) needs with this model's backend and threads:
        the fixed memory a device would set aside."""
        return self._handle.arena_bytes_needed(capability or "none")

    def info(self):
        """A summary: kind, capabilities, batch, backend, shapes, graphs and arena bytes."""
        return {
            "path": self.path, "kind": self.kind, "capabilities": sorted(self.capabilities), "batch": self.batch,
            "backend": self.backend, "event_shape": self.event_shape, "latent_shape": self.latent_shape,
            "arena_bytes": self.arena_bytes(), "file_bytes": self._handle.size,
            "graphs": {name: {"inputs": g.inputs, "outputs": g.outputs} for name, g in self.graphs.items()},
        }

    # ---- generating --------------------------------------------------------------------
    def sample(self, n, seed=0, temperature=1.0, top_k=0, *, sampler=None, steps=None, guidance=None, cls=None,
               spacing=None, karras=None, eta=None, init_noise=None, return_latents=False, progress=None,
               context=None, uncond_context=None):
        """``n`` new items, float32 [n, *event_shape], the same as ``edgegen sample -n n --seed seed``.

        temperature: decoder/vae/flow latent noise scale; autoregressive logits / T.
        top_k: autoregressive categorical only. Diffusion only: sampler ("ddim",
        "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_3m", "ddpm", "lcm"), steps,
        guidance (classifier-free scale), cls (an int for every item, -1 for
        unconditional, "cycle", or a sequence of n classes), spacing, karras,
        eta, init_noise ([n, *sample_shape] float32), progress (called as
        progress(step, total, seconds) after each step; returning False cancels
        with edgegen.CancelledError; Ctrl-C cancels too), context (models with
        a context input: [tokens, dim] for every item or [n, tokens, dim]),
        uncond_context ([tokens, dim]; default: the model's). return_latents
        (decoder/vae): also return the latents used, as (items, latents).
        """
        n = _count(n)
        diffusion = None
        labels = None
        diffusion_values = dict(sampler=sampler, steps=steps, guidance=guidance, spacing=spacing, karras=karras,
                                eta=eta, init_noise=init_noise)
        if self.kind == "diffusion":
            diffusion = {k: v for k, v in diffusion_values.items() if v is not None}
            if init_noise is not None:
                info = self._program("sample")
                diffusion["init_noise"] = _float32_chunk(_numeric_rows(init_noise, "init_noise", info["sample_shape"]))
                if diffusion["init_noise"].shape[0] != n:
                    raise ValueError(f"init_noise: holds {diffusion['init_noise'].shape[0]} items; n is {n}")
            labels = self._labels(cls, n)
            diffusion.update(self._contexts(context, uncond_context, n))
        else:
            given = [k for k, v in diffusion_values.items() if v is not None] + (["cls"] if cls is not None else [])
            given += [k for k, v in (("context", context), ("uncond_context", uncond_context)) if v is not None]
            if given:
                raise ValueError(f"{', '.join(given)}: diffusion options; this is a '{self.kind}' model")
            if progress is not None:
                raise ValueError(f"progress: only diffusion sampling reports progress; this is a '{self.kind}' model")
        items, latents = self._handle.sample(n, _seed(seed), float(temperature), int(top_k), diffusion, labels,
                                             bool(return_latents), progress)
        return (items, latents) if return_latents else items

    def _contexts(self, context, uncond_context, n):
        """The diffusion options for a context ([tokens, dim] or [n, tokens, dim]) and an unconditional one."""
        options = {}
        if context is None and uncond_context is None:
            return options
        shape = tuple(self._program("sample").get("context_shape", ()))
        if not shape:
            raise ValueError("context: this diffusion model takes no context")
        if context is not None:
            context = np.asarray(context, dtype=np.float32)
            context = np.broadcast_to(context, (n,) + shape) if context.shape == shape else context
            if context.shape != (n,) + shape:
                raise ValueError(f"context: shape {context.shape}; expected {shape} or {(n,) + shape}")
            options["context"] = _float32_chunk(context)
        if uncond_context is not None:
            uncond_context = np.asarray(uncond_context, dtype=np.float32).reshape(shape)
            options["unconditional_context"] = _float32_chunk(uncond_context[None])
        return options

    def img2img(self, image, strength=0.6, n=None, seed=0, mask=None, context=None, uncond_context=None, **options):
        """Image-to-image (SDEdit), as ``edgegen img2img``: ``image`` (one picture
        [*event_shape] or n of them, in the output range) is encoded, noised to
        ``strength`` (0: the picture, 1: pure noise) of the step plan and
        denoised by the remaining steps. ``mask`` (1 = keep the picture) makes
        it in-painting. Other options as sample()."""
        shape = tuple(self._program("img2img")["event_shape"])
        image = np.asarray(image, dtype=np.float32)
        n = _count(n if n is not None else (image.shape[0] if image.shape != shape else 1))
        image = _float32_chunk(np.broadcast_to(image, (n,) + shape) if image.shape == shape else image)
        if image.shape != (n,) + shape:
            raise ValueError(f"image: shape {image.shape}; expected {shape} or {(n,) + shape}")
        progress = options.pop("progress", None)
        cls = options.pop("cls", None)
        diffusion = {k: v for k, v in options.items() if v is not None}
        diffusion.update(init_image=image, strength=float(strength))
        diffusion.update(self._contexts(context, uncond_context, n))
        if mask is not None:
            mask = np.asarray(mask, dtype=np.float32)
            mask = _float32_chunk(np.broadcast_to(mask, (n,) + shape) if mask.shape == shape else mask)
            if mask.shape != (n,) + shape:
                raise ValueError(f"mask: shape {mask.shape}; expected {shape} or {(n,) + shape}")
            diffusion.update(known=image, mask=(mask > 0.5).astype(np.float32))
        items, _ = self._handle.sample(n, _seed(seed), 1.0, 0, diffusion, self._labels(cls, n), False, progress)
        return items

    def _labels(self, cls, n):
        if cls is None:
            return None
        classes = self._program("sample").get("num_classes", 0)
        if isinstance(cls, str):
            if cls != "cycle":
                raise ValueError(f"cls={cls!r}: expected a class, -1, 'cycle' or a sequence of classes")
            if classes == 0:
                raise ValueError("cls: this diffusion model is not class-conditional")
            return [i % classes for i in range(n)]
        if np.ndim(cls) == 0:
            return [int(cls)] * n
        labels = [int(c) for c in np.asarray(cls).ravel()]
        if len(labels) != n:
            raise ValueError(f"cls: {len(labels)} classes given for {n} samples")
        return labels

    def inpaint(self, known, mask, n=None, seed=0, **options):
        """Diffusion in-painting (RePaint): items where ``mask`` is 1 keep
        ``known``, the rest is generated. ``known`` and ``mask`` are one item
        ([*event_shape]: the picture, for latent models with an encoder) or n
        of them. Other options as sample(), plus resample and context."""
        shape = tuple(self._program("inpaint")["event_shape"])
        known = np.asarray(known, dtype=np.float32)
        mask = np.asarray(mask, dtype=np.float32)
        n = _count(n if n is not None else (known.shape[0] if known.shape != shape else 1))
        known = _float32_chunk(np.broadcast_to(known, (n,) + shape) if known.shape == shape else known)
        mask = _float32_chunk(np.broadcast_to(mask, (n,) + shape) if mask.shape == shape else mask)
        for name, array in (("known", known), ("mask", mask)):
            if array.shape != (n,) + shape:
                raise ValueError(f"{name}: shape {array.shape}; expected {shape} or {(n,) + shape}")
        resample = options.pop("resample", None)
        progress = options.pop("progress", None)
        cls = options.pop("cls", None)
        contexts = self._contexts(options.pop("context", None), options.pop("uncond_context", None), n)
        diffusion = {k: v for k, v in options.items() if v is not None}
        diffusion.update(known=known, mask=(mask > 0.5).astype(np.float32))
        diffusion.update(contexts)
        if resample is not None:
            diffusion["resample"] = resample
        items, _ = self._handle.sample(n, _seed(seed), 1.0, 0, diffusion, self._labels(cls, n), False, progress)
        return items

    def decode(self, z):
        """Items from latents z ([n, *latent_shape] or [n, latent_size]): float32 [n, *event_shape]."""
        latents = _float32_chunk(_numeric_rows(z, "z", self._program("decode")["latent_shape"]))
        return self._handle.decode(latents, latents.shape[0])

    def vocode(self, mel):
        """The waveform of log-mel frames ``mel`` ([mels, frames] or [1, mels, frames]) with a vocoder:
        float32 [frames * hop_length] at ``program_info("vocode")["sample_rate"]`` samples per second.
        Any number of frames (they run in overlapping windows), as ``edgegen vocode``."""
        info = self._program("vocode")
        values = np.asarray(mel)
        if values.ndim == 3 and values.shape[0] == 1:
            values = values[0]
        if values.ndim != 2 or values.shape[0] != info["mel_channels"]:
            raise ValueError(f"mel: shape {tuple(np.shape(mel))}; expected [{info['mel_channels']}, frames] "
                             f"or [1, {info['mel_channels']}, frames]")
        if not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"mel: needs numbers, got {values.dtype}")
        values = np.ascontiguousarray(values, dtype=np.float32)
        return self._handle.vocode(values, values.shape[1])

    def encode(self, x):
        """The posterior of items x (VAE): (mean, logvar), float32 [n, *latent_shape] each."""
        items = _float32_chunk(_numeric_rows(x, "x", self._program("encode")["event_shape"]))
        return self._handle.encode(items, items.shape[0])

    def impute(self, x, seed=0, temperature=1.0, top_k=0):
        """A copy of x with its NaN entries filled (autoregressive models), as ``edgegen impute``."""
        info = self._program("impute")
        items = np.array(_numeric_rows(x, "x", info["event_shape"]), dtype=np.float32, order="C", copy=True)
        self._handle.impute(items, items.shape[0], _seed(seed), float(temperature), int(top_k))
        return items

    # ---- scoring -----------------------------------------------------------------------------
    def score(self, x, *, batch=DEFAULT_BATCH, bound="iwae", samples=16, seed=0, offset=0):
        """The log-likelihood in nats of every row of x: float64 [n].

        Exact for flows and autoregressive models, a lower bound for a VAE
        (bound "iwae" or "elbo" with ``samples`` posterior samples drawn from
        ``seed``), -E(x) for energy models (up to a constant). x is [n, *event_shape]
        or [n, event_size] of real numbers; it is read ``batch`` rows at a time
        (converted to float32 one batch at a time, so a float64 array or a
        np.memmap larger than memory is fine).

        The same as ``edgegen score --batch batch`` on the same rows. The VAE
        bounds' noise restarts with every batch of the command line; ``offset``
        says where x starts in the data the command line would read (so that a
        slice of a file, e.g. a Dask partition, gets the same numbers)."""
        info = self._program("score")
        rows = _numeric_rows(x, "x", info["event_shape"])
        batch, offset = int(batch), int(offset)
        if not 1 <= batch <= MAX_ITEMS:
            raise ValueError(f"batch={batch}: expected 1 to {MAX_ITEMS}")
        if offset < 0:
            raise ValueError(f"offset={offset}: must be >= 0")
        count = rows.shape[0]
        out = np.empty(count, dtype=np.float64)
        flat = rows.reshape(count, -1) if count else rows
        # The first call covers what is left of the command line's batch that
        # x starts in; a VAE's first rows are put at their place in it.
        lead = offset % batch
        start = 0
        while start < count:
            stop = min(count, start + batch - (lead if start == 0 else 0))
            chunk = _float32_chunk(flat[start:stop])
            if start == 0 and lead and self.kind == "vae":
                padded = np.empty((lead + chunk.shape[0], chunk.shape[1]), dtype=np.float32)
                padded[:lead] = chunk[0]
                padded[lead:] = chunk
                scores = self._handle.score(padded, padded.shape[0], bound, int(samples), _seed(seed))[lead:]
            else:
                scores = self._handle.score(chunk, chunk.shape[0], bound, int(samples), _seed(seed))
            out[start:stop] = scores
            start = stop
        return out

    def bits_per_dim(self, log_likelihood):
        """Bits per dimension of log-likelihoods from score(): -log p / (event_size ln 2)."""
        return bits_per_dim(log_likelihood, self.event_size)

    def score_table(self, x, threshold=None, **options):
        """The columns of ``edgegen score``'s CSV as a dict of arrays: row
        (1-based, counted from ``offset``), log_likelihood, bits_per_dim and,
        with a threshold (a number or a threshold file's path), anomaly."""
        scores = self.score(x, **options)
        first = int(options.get("offset", 0)) + 1
        table = {"row": np.arange(first, first + scores.shape[0], dtype=np.int64), "log_likelihood": scores,
                 "bits_per_dim": self.bits_per_dim(scores)}
        if threshold is not None:
            if isinstance(threshold, (str, os.PathLike)):
                threshold = read_threshold(threshold)
            table["anomaly"] = flag(scores, threshold)
        return table

    def fit_threshold(self, normal, fpr=0.01, **options):
        """The log-likelihood threshold flagging a fraction ``fpr`` of the
        ``normal`` rows, as ``edgegen score --fit-threshold``."""
        return threshold_from_scores(self.score(normal, **options), fpr)

    # ---- graphs ---------------------------------------------------------------------------
    def run(self, graph, inputs=None, *, carry_state=None, **named):
        """Runs one graph: ``inputs`` ({name: array}, or as keywords) must match
        the graph's inputs' dtypes and shapes exactly (batch included; see
        :attr:`graphs`). Returns {output name: array} (copies).

        A streaming graph (a recurrent layer's state, a causal convolution's
        past frames): ``carry_state={"h0": "h"}`` feeds each state input from
        its output of the call before, kept inside the runtime's arena; the
        state inputs are then left out (zeros at first; :meth:`reset_state`
        starts a new stream)."""
        given = dict(inputs or {})
        given.update(named)
        spec = self.graphs.get(graph)
        if spec is None:
            raise ValueError(f"no graph {graph!r} in {self.path or '<bytes>'} (graphs: {', '.join(self.graphs)})")
        arrays = {}
        for name, value in given.items():
            expected = next((t for t in spec.inputs if t.name == name), None)
            array = np.asarray(value)
            if expected is not None and array.dtype != expected.dtype:
                if array.dtype.kind not in "fiub" or not np.can_cast(array.dtype, expected.dtype, "same_kind"):
                    raise ValueError(f"input {name!r} of graph {graph!r} needs {expected.dtype}, got {array.dtype}")
                array = array.astype(expected.dtype)
            arrays[name] = np.ascontiguousarray(array)
        carry = {str(k): str(v) for k, v in (carry_state or {}).items()}
        return self._handle.run(graph, arrays, carry)

    def reset_state(self):
        """Zeroes the state carried by :meth:`run` with ``carry_state``."""
        self._handle.reset_state()

    # ---- internals --------------------------------------------------------------------------
    def _first_capability(self):
        for capability in ("sample", "score", "decode", "vocode"):
            if capability in self.declared_capabilities:
                return capability
        return "none"

    def _program(self, capability):
        info = self._programs.get(capability)
        if info is None:
            info = self._handle.program_info(capability)
            self._programs[capability] = info
        return info


def load(path, backend="auto", threads=None):
    """Opens a .egm model: the same as Model(path, backend, threads)."""
    return Model(path, backend=backend, threads=threads)


def convert(source, output, *, batch=None, quantize=None, calibration=None, tool=None, extra_args=()):
    """Converts an ONNX model + JSON manifest (``source``) into ``output`` (.egm)
    by running the ``edgegen convert`` command line (``tool``: its path; default
    $EDGEGEN_TOOL or ``edgegen`` on PATH). Returns the tool's report; raises
    edgegen.Error with the tool's message when it fails."""
    tool = tool or os.environ.get("EDGEGEN_TOOL") or shutil.which("edgegen")
    if not tool:
        raise FileNotFoundError("convert: the edgegen command-line tool is not on PATH (set EDGEGEN_TOOL)")
    args = [tool, "convert", os.fspath(source), "-o", os.fspath(output)]
    if batch is not None:
        args += ["--batch", str(int(batch))]
    if quantize is not None:
        args += ["--quantize", str(quantize)]
    if calibration is not None:
        args += ["--calibration", os.fspath(calibration)]
    args += list(extra_args)
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise Error((done.stderr or done.stdout).strip(), "invalid argument")
    return done.stdout


def _threads(threads):
    if threads is None:
        return 0
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"threads={threads}: expected a positive number (or None for the performance cores)")
    return threads


def _seed(seed):
    seed = int(seed)
    if not 0 <= seed < 1 << 64:
        raise ValueError(f"seed={seed}: expected 0 to 2**64 - 1")
    return seed


def _count(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n={n!r}: expected an integer number of items")
    if not 1 <= n <= MAX_ITEMS:
        raise ValueError(f"n={n}: expected 1 to {MAX_ITEMS}")
    return int(n)
