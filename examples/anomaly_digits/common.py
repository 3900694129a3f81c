"""The split shared by every model of examples/anomaly_digits.

scikit-learn's 8x8 digits, pixel values 0..16 as float32 [N, 64].
Normal = digits 0-4: 70% for training, 30% held out; anomalies = digits 5-9.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

HERE = Path(__file__).resolve().parent


def load_split():
    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target
    rng = np.random.RandomState(0)
    normal = np.where(y <= 4)[0]
    rng.shuffle(normal)
    cut = int(0.7 * len(normal))
    return {"train": x[normal[:cut]], "test_normal": x[normal[cut:]], "test_anomaly": x[y >= 5]}
