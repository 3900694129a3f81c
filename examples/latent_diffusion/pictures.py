#!/usr/bin/python3
"""Draws pictures/overview.png of the README with edgegen: three rows, 2x enlarged.

  1. `edgegen sample` with the contexts "red A", "blue B", "green C", "black D",
     "red E", "blue F", "green G", "black H" (dpmpp_2m, 20 steps, guidance 3);
  2. `edgegen img2img` of reference/picture.png at strength 0 (the autoencoder's
     reconstruction), 0.3, 0.6 and 0.9 with the context of its own letter and
     colour, then strength 0.6 towards "blue Q", "green R", "black S";
  3. latent in-painting of its right half (--mask reference/mask_right_half.png,
     strength 1) with four seeds, then the picture and the mask themselves.

  /usr/bin/python3 examples/latent_diffusion/pictures.py [--edgegen build/edgegen]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import context as text_encoder  # noqa: E402

PROMPTS = ["red A", "blue B", "green C", "black D", "red E", "blue F", "green G", "black H"]
REFERENCE_PROMPT = "red A"  # reference/picture.png (train.py prints its letter and colour)


def edgegen(binary, *args):
    subprocess.run([str(binary), *map(str, args)], check=True, capture_output=True, text=True)


def to_pixels(items):
    """[N, 3, H, W] in [-1, 1] -> list of uint8 HWC pictures."""
    return [((item.transpose(1, 2, 0) + 1) * 127.5).clip(0, 255).round().astype(np.uint8) for item in items]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edgegen", default="build/edgegen")
    parser.add_argument("-o", "--output", default=str(HERE / "pictures" / "overview.png"))
    args = parser.parse_args()
    picture, mask = HERE / "reference" / "picture.png", HERE / "reference" / "mask_right_half.png"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = tmp / "latent.egm"
        edgegen(args.edgegen, "convert", HERE / "manifest.json", "-o", model, "--batch", 2)

        def context(prompts, name):
            path = tmp / name
            np.save(path, text_encoder.encode(prompts))
            return path

        rows = []
        edgegen(args.edgegen, "sample", model, "--context", context(PROMPTS, "prompts.npy"), "--guidance", 3,
                "--steps", 20, "-n", len(PROMPTS), "--seed", 1, "-q", "-o", tmp / "samples.npy")
        rows.append(to_pixels(np.load(tmp / "samples.npy")))

        edits = []
        for strength, prompt in [(0, REFERENCE_PROMPT), (0.3, REFERENCE_PROMPT), (0.6, REFERENCE_PROMPT),
                                 (0.9, REFERENCE_PROMPT), (0.6, "blue Q"), (0.6, "green R"), (0.6, "black S")]:
            edgegen(args.edgegen, "img2img", model, "--image", picture, "--strength", strength, "--context",
                    context([prompt], "edit.npy"), "--guidance", 3, "--steps", 20, "-n", 1, "--seed", 2, "-q",
                    "-o", tmp / "edit.npy")
            edits.append(to_pixels(np.load(tmp / "edit.npy"))[0])
        rows.append(edits + [np.asarray(Image.open(picture).convert("RGB"))])

        edgegen(args.edgegen, "img2img", model, "--image", picture, "--mask", mask, "--strength", 1, "--context",
                context([REFERENCE_PROMPT], "inpaint.npy"), "--guidance", 3, "--steps", 20, "-n", 6, "--seed", 3,
                "-q", "-o", tmp / "inpainted.npy")
        rows.append(to_pixels(np.load(tmp / "inpainted.npy")) +
                    [np.asarray(Image.open(picture).convert("RGB")), np.asarray(Image.open(mask).convert("RGB"))])

    size, border = 64, 4
    columns = max(len(row) for row in rows)
    sheet = np.full((len(rows) * (size + border) + border, columns * (size + border) + border, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, item in enumerate(row):
            y, x = border + r * (size + border), border + c * (size + border)
            sheet[y:y + size, x:x + size] = item
    image = Image.fromarray(sheet)
    image = image.resize((image.width * 2, image.height * 2), Image.NEAREST)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    image.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
