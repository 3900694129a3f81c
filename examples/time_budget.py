"""What the examples trained for a wall-clock budget (latent_diffusion,
vocoder) share: the check that PyTorch runs on OpenBLAS.

A budget in seconds buys whatever steps the machine manages; on Debian's
reference BLAS (what libblas.so.3 is until libopenblas0-pthread is
installed) PyTorch's convolutions run some 50x slower, and the budget
silently buys an under-trained model (it did: 100 autoencoder steps, 213
vocoder steps). So training refuses to start there.
"""

import glob
import os


def require_openblas():
    blas = [os.path.realpath(p) for p in glob.glob("/usr/lib/*/libblas.so.3")]
    if blas and not any("openblas" in p for p in blas):
        raise SystemExit(f"libblas.so.3 is {blas[0]}, the reference BLAS: PyTorch would train some 50x slower "
                         "within the same time budget. Install OpenBLAS first: apt-get install libopenblas0-pthread")
