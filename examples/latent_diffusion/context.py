#!/usr/bin/python3
"""Writes the context for the latent diffusion example: the output of its toy
"text encoder" for prompts "COLOR LETTER" (e.g. "red A", "blue Q").

The example's UNet is conditioned on 2 tokens x 32 numbers: the letter's
vector and the ink colour's vector from text_encoder.npz (fixed random
vectors, standing in for a real text encoder run elsewhere). NumPy only.

  /usr/bin/python3 examples/latent_diffusion/context.py "red A" "blue Q" -o ctx.npy   # [2, 2, 32]
  /usr/bin/python3 examples/latent_diffusion/context.py --all -o all.npy             # 104 prompts, letters fastest
"""

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def encode(prompts, table=None):
    """[len(prompts), 2, 32] float32 for prompts "COLOR LETTER"."""
    table = table if table is not None else np.load(HERE / "text_encoder.npz")
    letters, colors = list(table["letter_names"]), list(table["color_names"])
    rows = []
    for prompt in prompts:
        words = prompt.split()
        if len(words) != 2 or words[0] not in colors or words[1] not in letters:
            sys.exit(f"'{prompt}': expected 'COLOR LETTER' with COLOR in {colors} and LETTER in A..Z")
        rows.append(np.stack([table["letters"][letters.index(words[1])], table["colors"][colors.index(words[0])]]))
    return np.stack(rows).astype(np.float32)


def all_prompts(table=None):
    table = table if table is not None else np.load(HERE / "text_encoder.npz")
    return [f"{c} {l}" for c in table["color_names"] for l in table["letter_names"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prompts", nargs="*")
    parser.add_argument("--all", action="store_true", help="every colour and letter")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    prompts = all_prompts() if args.all else args.prompts
    if not prompts:
        sys.exit("give prompts such as 'red A', or --all")
    np.save(args.output, encode(prompts))
    print(f"wrote {args.output}: {len(prompts)} contexts of 2 tokens x 32")


if __name__ == "__main__":
    main()
