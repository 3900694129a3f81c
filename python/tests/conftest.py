"""Fixtures: the example models converted once per session by the edgegen tool.

CTest sets EDGEGEN_TOOL (the built tool), EDGEGEN_ROOT (the repository) and
PYTHONPATH (build/python). Run by hand:
    PYTHONPATH=build/python EDGEGEN_TOOL=build/edgegen /usr/bin/python3 -m pytest python/tests
"""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(os.environ.get("EDGEGEN_ROOT", Path(__file__).resolve().parents[2]))
TOOL = os.environ.get("EDGEGEN_TOOL", str(ROOT / "build" / "edgegen"))
DIGITS = ROOT / "examples" / "anomaly_digits"

# name: (manifest, batch), converted as cli/score_end_to_end_test.sh and cli/end_to_end_test.sh do.
MODELS = {
    "flow": (DIGITS / "flow_manifest.json", 8),
    "vae": (DIGITS / "vae_manifest.json", 4),
    "made": (DIGITS / "made_manifest.json", 4),
    "gan": (ROOT / "examples" / "digits_gan" / "manifest.json", 4),
    "energy": (ROOT / "examples" / "energy_gaussian" / "manifest.json", 16),
    "diffusion": (ROOT / "examples" / "digits_diffusion" / "manifest.json", None),
    "vocoder": (ROOT / "examples" / "vocoder" / "manifest.json", None),
    "latent_diffusion": (ROOT / "examples" / "latent_diffusion" / "manifest.json", 2),
}


def tool(*args, cwd=None):
    """Runs the edgegen tool; fails the test with its stderr when it fails."""
    done = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, f"edgegen {' '.join(map(str, args))}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """{name: path of the converted .egm}, converted on first use."""
    directory = tmp_path_factory.mktemp("models")

    class Models(dict):
        def __missing__(self, name):
            manifest, batch = MODELS[name]
            output = directory / f"{name}.egm"
            tool("convert", manifest, "-o", output, *(["--batch", batch] if batch else []))
            self[name] = str(output)
            return self[name]

    return Models()


@pytest.fixture(scope="session")
def digits():
    """The anomaly_digits reference rows: {"flow": [16, 64], "vae": ..., "made": ...}."""
    return {name: np.load(DIGITS / "reference" / f"{name}_x.npy") for name in ("flow", "vae", "made")}


def read_scores_csv(path):
    """edgegen score's CSV as a dict of columns."""
    with open(path) as file:
        header = file.readline().strip().split(",")
    values = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: values[:, i] for i, name in enumerate(header)}
