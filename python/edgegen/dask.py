"""Anomaly scoring at scale with Dask: edgegen.dask.score(model_path, data).

    import dask.dataframe as dd, edgegen.dask
    from distributed import Client
    client = Client("tcp://scheduler:8786")                  # or Client(LocalCluster(...))
    frame = dd.read_csv("rows-*.csv")
    log_p = edgegen.dask.score("flow.egm", frame)             # lazy: a Series per partition
    threshold = edgegen.dask.fit_threshold("flow.egm", normal_frame, fpr=0.01)
    table = edgegen.dask.score_table("flow.egm", frame, threshold=threshold)
    table[table.anomaly].compute()

Partitions are scored where they are, block by block; each worker process
opens the model once (memory-mapped; a cache keyed by path, file version and
options) and reuses its prepared program for every partition it gets. The
model path must be readable on every worker (a shared file system, or the
same path on each machine). The scores equal the command line's ``edgegen score`` on the same
rows (see Model.score's ``offset`` for how a VAE's partitions line up).
"""

import math
import os
import threading

import numpy as np

import edgegen

__all__ = ["score", "score_table", "fit_threshold", "flag", "worker_model"]

_models = {}
_models_lock = threading.Lock()


def worker_model(model_path, backend="auto", threads=1):
    """The process's Model for this path and options, opened on first use.
    The key includes the file's inode and modification time: a model
    re-converted to the same path (edgegen writes files by renaming a new one
    over them) is opened afresh, not served from the old mapping."""
    info = os.stat(model_path)
    key = (os.path.realpath(model_path), info.st_ino, info.st_mtime_ns, backend, threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = edgegen.Model(model_path, backend=backend, threads=threads)
            _models[key] = model
        return model


def _dask():
    try:
        import dask.array as da
        import dask.dataframe as dd
    except ImportError as error:  # pragma: no cover - the test environment has Dask
        raise ImportError("edgegen.dask needs Dask: apt-get install python3-dask python3-distributed") from error
    return da, dd


def _score_block(block, model_path, runtime, options, offset):
    model = worker_model(model_path, **runtime)
    return model.score(np.asarray(block), offset=offset, **options)


def _runtime_and_options(backend, threads, batch, bound, samples, seed):
    runtime = {"backend": backend, "threads": threads}
    options = {"batch": int(batch), "bound": bound, "samples": int(samples), "seed": int(seed)}
    return runtime, options


def _feature_frame(model, frame, columns):
    frame = frame[list(columns)] if columns is not None else frame
    width = len(frame.columns)
    if width != model.event_size:
        raise ValueError(f"the data has {width} columns; the model scores rows of {model.event_size} values "
                         f"(choose them with columns=[...])")
    return frame


def _partition_offsets(frame):
    """Row offset of every partition (one pass over the data to count rows)."""
    lengths = frame.map_partitions(len).compute()
    return np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1]]).tolist()


def score(model_path, data, *, columns=None, batch=edgegen.DEFAULT_BATCH, bound="iwae", samples=16, seed=0,
          backend="auto", threads=1):
    """Log-likelihoods (float64) of every row of ``data``, computed blockwise.

    ``data``: a dask array [rows, features] (features in one chunk or
    re-chunked so) or a dask DataFrame (``columns``: the feature columns,
    default all). Returns a lazy dask array [rows] or a Series named
    "log_likelihood" with the frame's index. ``threads``: XNNPACK threads in
    each task (1: Dask's own parallelism uses the cores). Other options as
    edgegen.Model.score. The model is opened here once to check the data's width."""
    da, dd = _dask()
    model_path = os.fspath(model_path)
    model = edgegen.Model(model_path, backend=backend, threads=threads)
    if "score" not in model.declared_capabilities:
        raise edgegen.UnsupportedError(f"{model_path}: a '{model.kind}' model cannot score "
                                       "(flow, vae, autoregressive and energy models can)", "unsupported operator")
    runtime, options = _runtime_and_options(backend, threads, batch, bound, samples, seed)
    aligned = model.kind == "vae"  # only a VAE's numbers depend on where a batch starts

    if isinstance(data, dd.DataFrame):
        frame = _feature_frame(model, data, columns)
        offsets = _partition_offsets(frame) if aligned else None

        def score_partition(part, partition_info=None):
            offset = offsets[partition_info["number"]] if offsets is not None and partition_info else 0
            values = _score_block(part.to_numpy(), model_path, runtime, options, offset)
            import pandas as pd
            return pd.Series(values, index=part.index, name="log_likelihood", dtype=np.float64)

        return frame.map_partitions(score_partition, meta=("log_likelihood", np.float64))

    if isinstance(data, da.Array):
        if columns is not None:
            raise ValueError("columns= is for DataFrames; slice a dask array yourself")
        if data.ndim != 2:
            raise ValueError(f"data: a dask array of rows [n, features] is needed, got {data.ndim} dimensions")
        if data.shape[1] != model.event_size:
            raise ValueError(f"data: rows of {data.shape[1]} values; the model scores rows of {model.event_size}")
        if data.dtype.kind not in "fiub":
            raise ValueError(f"data: expected real numbers, got dtype {data.dtype}")
        if len(data.chunks[1]) != 1:
            data = data.rechunk({1: -1})
        if any(np.isnan(c) for c in data.chunks[0]):
            raise ValueError("data: unknown chunk sizes; call data.compute_chunk_sizes() first")

        def score_array_block(block, block_info=None):
            offset = block_info[0]["array-location"][0][0] if block_info else 0
            return _score_block(block, model_path, runtime, options, offset if aligned else 0)

        return data.map_blocks(score_array_block, drop_axis=1, dtype=np.float64, meta=np.empty((0,), np.float64))

    raise ValueError(f"data: expected a dask array or DataFrame, got {type(data).__name__} "
                     "(use edgegen.Model(...).score for NumPy arrays)")


def fit_threshold(model_path, normal, fpr=0.01, **options):
    """The log-likelihood below which a row is flagged, so that a fraction
    ``fpr`` (0 to 1) of the ``normal`` rows would be: what ``edgegen score
    --fit-threshold --fpr`` stores, computed on the cluster (only the
    floor(fpr * n) + 1 lowest scores come back, and the runtime's rule,
    :func:`edgegen.threshold_from_scores`, picks from them). Returns a float."""
    da, _ = _dask()
    if not 0.0 <= fpr <= 1.0:
        raise ValueError(f"fpr={fpr}: must be in [0, 1]")
    import dask
    scores = score(model_path, normal, **options)
    values = scores.to_dask_array(lengths=True) if hasattr(scores, "to_dask_array") else scores
    count = int(values.shape[0])
    if count == 0:
        raise ValueError("no rows to fit a threshold on")
    index = min(int(np.floor(fpr * count)), count - 1)
    # One pass over the scores: the lowest index + 1 and the NaN count.
    lowest, nans = dask.compute(da.topk(values, -(index + 1)), da.isnan(values).sum())
    if nans:
        raise edgegen.InvalidArgumentError(f"fit_threshold: {int(nans)} scores are NaN", "invalid argument")
    # Its last element is the sorted scores' element `index`: the same rule.
    return edgegen.threshold_from_scores(lowest, 1.0)


def flag(scores, threshold):
    """True where a score is below ``threshold`` or NaN (lazy, like ``scores``)."""
    return ~(scores >= threshold)


def score_table(model_path, data, threshold=None, *, columns=None, **options):
    """A dask DataFrame of the command line's columns: log_likelihood,
    bits_per_dim and, with a threshold (a number or a threshold file's path),
    anomaly; the index is the data's (a dask array's row numbers from 0)."""
    da, dd = _dask()
    if isinstance(threshold, (str, os.PathLike)):
        threshold = edgegen.read_threshold(threshold)
    model = edgegen.Model(model_path, backend=options.get("backend", "auto"), threads=options.get("threads", 1))
    scores = score(model_path, data, columns=columns, **options)
    if isinstance(scores, da.Array):
        scores = dd.from_dask_array(scores, columns="log_likelihood")
    dims = model.event_size
    table = scores.to_frame(name="log_likelihood")
    table["bits_per_dim"] = scores.map_partitions(lambda s: -s / (dims * math.log(2.0)),
                                                  meta=("bits_per_dim", np.float64))
    if threshold is not None:
        table["anomaly"] = flag(scores, float(threshold))
    return table
