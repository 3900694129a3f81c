#!/usr/bin/env python3
"""compare_pictures.py DEVICE_DIR HOST_DIR: the demo pictures a device wrote
against the host's. Latents (*_latents.npy) must be identical (same seed,
same random numbers on every platform); each PNG's pixels may differ by at
most one level of 255 (the tests' 1e-4 tolerance on the float outputs can
move a value across a rounding boundary, never further)."""
import struct
import sys
import zlib
from pathlib import Path

import numpy as np


def read_png(path):
    """8-bit grayscale / RGB / RGBA, non-interlaced: what edgegen writes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0, f"{path}: unsupported PNG ({depth}-bit, interlace {interlace})"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(idat)
    stride = width * channels
    rows = np.zeros((height, stride), np.int32)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        row = np.zeros(stride, np.int32)
        for x in range(stride):
            left = row[x - channels] if x >= channels else 0
            up = previous[x]
            upper_left = previous[x - channels] if x >= channels else 0
            if kind == 0: predictor = 0
            elif kind == 1: predictor = left
            elif kind == 2: predictor = up
            elif kind == 3: predictor = (left + up) // 2
            else:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
            row[x] = (line[x] + predictor) & 0xFF
        rows[y] = previous = row
    return rows


def main():
    device, host = Path(sys.argv[1]), Path(sys.argv[2])
    failures = 0
    pictures = sorted(host.glob("*.png"))
    assert pictures, f"no pictures in {host}"
    for expected in pictures + sorted(host.glob("*_latents.npy")):
        actual = device / expected.name
        if not actual.exists():
            print(f"FAIL {expected.name}: the device did not write it")
            failures += 1
            continue
        if expected.suffix == ".npy":
            same = np.array_equal(np.load(actual), np.load(expected))
            print(f"{'ok  ' if same else 'FAIL'} {expected.name}: {'identical' if same else 'differs'}")
            failures += not same
        else:
            a, b = read_png(actual), read_png(expected)
            worst = int(np.abs(a - b).max()) if a.shape == b.shape else 256
            print(f"{'ok  ' if worst <= 1 else 'FAIL'} {expected.name}: {a.shape}, largest pixel difference {worst}")
            failures += worst > 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
