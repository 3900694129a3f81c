"""Rows/s of anomaly scoring: the edgegen command line, edgegen.Model in one
process, and edgegen.dask on a LocalCluster of 1 and 2 worker processes, all
on the same CSV of the anomaly_digits flow's rows.

    PYTHONPATH=build/python /usr/bin/python3 bench/dask_score.py [--rows 2000000] [--tool build/edgegen]

Writes the CSV (rows of 64 values, a header line) and the model into a
temporary directory; prints one line per configuration. Every configuration
reads the CSV itself (parsing is part of the cost) and the Dask ones check
their scores against the in-process ones.
"""
import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import edgegen
import edgegen.dask

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--tool", default=str(ROOT / "build" / "edgegen"))
    parser.add_argument("--partition-rows", type=int, default=100_000)
    args = parser.parse_args()

    import dask.dataframe as dd
    import distributed
    import pandas as pd

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        model = work / "flow.egm"
        subprocess.run([args.tool, "convert", ROOT / "examples/anomaly_digits/flow_manifest.json", "-o", model,
                        "--batch", "64"], check=True, capture_output=True)
        base = np.load(ROOT / "examples/anomaly_digits/reference/flow_x.npy")
        rows = np.tile(base, (args.rows // len(base) + 1, 1))[: args.rows]
        csv = work / "rows.csv"
        columns = [f"p{i}" for i in range(64)]
        pd.DataFrame(rows, columns=columns).to_csv(csv, index=False, float_format="%.6g")
        print(f"{args.rows} rows x 64 in {csv.stat().st_size / 1e6:.0f} MB of CSV; load: {os.getloadavg()[0]:.1f}")

        def report(name, seconds):
            print(f"  {name:<34} {seconds:7.2f} s  {args.rows / seconds:12,.0f} rows/s")

        start = time.perf_counter()
        subprocess.run([args.tool, "score", model, "--input", csv, "-o", work / "scores.csv", "--header",
                        "--threads", "1"], check=True, capture_output=True)
        report("edgegen score (1 thread)", time.perf_counter() - start)

        start = time.perf_counter()
        frame = pd.read_csv(csv, dtype=np.float32)
        expected = edgegen.Model(model, threads=1).score(frame.to_numpy())
        report("edgegen.Model.score (pandas read)", time.perf_counter() - start)

        for workers in (1, 2):
            with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                          dashboard_address=None, silence_logs=40) as cluster, \
                    distributed.Client(cluster):
                start = time.perf_counter()
                frame = dd.read_csv(csv, dtype=np.float32, blocksize=args.partition_rows * 64 * 5)
                scores = edgegen.dask.score(model, frame).compute()
                report(f"edgegen.dask.score, {workers} worker(s)", time.perf_counter() - start)
                np.testing.assert_array_equal(scores.to_numpy(), expected)


if __name__ == "__main__":
    main()
