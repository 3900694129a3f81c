#!/usr/bin/python3
"""PyTorch eager peer of `edgegen bench`: one model, one thread count, one process.

  /usr/bin/python3 bench/torch_bench.py --model dcgan32 --threads 1 --runs 20 --warmup 3 \\
      --input z=in.npy --save-output out_dir/ [--min-time 1.0] [--state-dir DIR]
  /usr/bin/python3 bench/torch_bench.py --example examples/digits_vae/decoder.onnx ...

--model NAME rebuilds a module of bench/make_models.py (identical seeded
weights to its ONNX file); --example ONNX rebuilds the module of the
training script next to an example model and loads the trained weights
from the ONNX file. Either way the module's weights are first saved once as
a state dict (DIR/<name>.pt, untimed), and "load" times what an application
does: construct the module, torch.load the state dict, load_state_dict.

Prints one JSON object: load_ms, warm-up, runs, median/min/max latency,
threads, peak RSS (resource.getrusage) and RSS after `import torch`.
"""

import argparse
import importlib.util
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The class each example ONNX file was exported from (see examples/*/train.py).
EXAMPLE_CLASSES = {"generator": "Generator", "encoder": "Encoder", "decoder": "Decoder"}


def example_constructor(onnx_path):
    train = import_file(onnx_path.parent / "train.py", f"train_{onnx_path.parent.name}")
    return getattr(train, EXAMPLE_CLASSES[onnx_path.stem])


def state_from_onnx(module, onnx_path):
    """Loads the initializers of `onnx_path` into `module`.

    The exporter keeps parameter names (net.0.weight) where it can, renames
    what it constant-folded (onnx::Conv_29, onnx::Mul_54) and folds
    BatchNorm into the preceding convolution. So: match by name first, then
    the remaining parameters in order by element count; BatchNorm layers
    that were folded away become the identity (running_var = 1 - eps)."""
    import onnx
    import torch
    from onnx import numpy_helper
    from torch import nn

    initializers = [(i.name, numpy_helper.to_array(i)) for i in onnx.load(str(onnx_path)).graph.initializer]
    by_name = dict(initializers)
    state = module.state_dict()
    used = set()
    loaded = {}
    for key, value in state.items():
        if key in by_name and by_name[key].size == value.numel():
            loaded[key] = torch.from_numpy(by_name[key].copy()).reshape(value.shape)
            used.add(key)
    rest = [(name, array) for name, array in initializers if name not in used]
    folded_norms = [
        prefix for prefix, layer in module.named_modules()
        if isinstance(layer, nn.modules.batchnorm._BatchNorm) and f"{prefix}.running_mean" not in loaded
    ]
    folded_keys = {f"{p}.{k}" for p in folded_norms for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):  # a training counter, not in the ONNX file
            loaded[key] = value
        if key in loaded or key in folded_keys:
            continue
        if not rest or rest[0][1].size != value.numel():
            raise SystemExit(f"torch_bench: cannot match parameter {key} {tuple(value.shape)} in {onnx_path}")
        loaded[key] = torch.from_numpy(rest.pop(0)[1].copy()).reshape(value.shape)
    for prefix in folded_norms:
        layer = module.get_submodule(prefix)
        n = layer.num_features
        loaded.update({f"{prefix}.weight": torch.ones(n), f"{prefix}.bias": torch.zeros(n),
                       f"{prefix}.running_mean": torch.zeros(n), f"{prefix}.running_var": torch.full((n,), 1 - layer.eps)})
    module.load_state_dict(loaded)
    return module


def load_npy(spec):
    import numpy as np

    name, _, path = spec.partition("=")
    return name, np.load(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a model name of bench/make_models.py")
    source.add_argument("--example", type=Path, help="an example model's ONNX file")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument("--input", action="append", default=[], help="NAME=FILE.npy, in the module's argument order")
    parser.add_argument("--save-output", type=Path, help="directory for output<i>.npy of the first run")
    parser.add_argument("--state-dir", type=Path, default=HERE / "out" / "torch_state")
    args = parser.parse_args()

    baseline_rss = rss_bytes()
    start = time.perf_counter()
    import numpy as np
    import torch

    import_ms = (time.perf_counter() - start) * 1e3
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    rss_after_import = rss_bytes()

    # The module's weights as a state dict, once (untimed).
    if args.model:
        sys.path.insert(0, str(HERE))
        import make_models

        name = args.model
        constructor = make_models.MODELS[name][0]
        state_path = args.state_dir / f"{name}.pt"
        if not state_path.exists():
            args.state_dir.mkdir(parents=True, exist_ok=True)
            torch.save(make_models.build(name)[0].state_dict(), state_path)
        make_module = constructor
    else:
        name = f"{args.example.parent.name}_{args.example.stem}"
        constructor = example_constructor(args.example)
        state_path = args.state_dir / f"{name}.pt"
        if not state_path.exists():
            args.state_dir.mkdir(parents=True, exist_ok=True)
            torch.save(state_from_onnx(constructor().eval(), args.example).state_dict(), state_path)
        make_module = constructor

    start = time.perf_counter()
    module = make_module()
    module.load_state_dict(torch.load(state_path))
    module.eval()
    load_ms = (time.perf_counter() - start) * 1e3

    inputs = [torch.from_numpy(np.ascontiguousarray(array)) for _, array in map(load_npy, args.input)]

    with torch.inference_mode():
        outputs = module(*inputs)
        outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        if args.save_output:
            args.save_output.mkdir(parents=True, exist_ok=True)
            for i, output in enumerate(outputs):
                np.save(args.save_output / f"output{i}.npy", output.numpy())
        for _ in range(max(args.warmup, 1) - 1):
            module(*inputs)
        times = []
        measured = 0.0
        while len(times) < args.runs or measured < args.min_time:
            start = time.perf_counter()
            module(*inputs)
            elapsed = time.perf_counter() - start
            measured += elapsed
            times.append(elapsed * 1e3)

    print(json.dumps({
        "engine": "pytorch",
        "version": torch.__version__,
        "model": args.model or str(args.example),
        "threads": torch.get_num_threads(),
        "import_ms": import_ms,
        "load_ms": load_ms,
        "warmup": max(args.warmup, 1),
        "runs": len(times),
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "mean_ms": measured * 1e3 / len(times),
        "baseline_rss_bytes": baseline_rss,
        "rss_after_import_bytes": rss_after_import,
        "peak_rss_bytes": rss_bytes(),
    }))


if __name__ == "__main__":
    main()
