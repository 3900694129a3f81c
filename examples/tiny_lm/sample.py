#!/usr/bin/python3
"""Prints text from the trained model (eager PyTorch, growing cache).

    /usr/bin/python3 examples/tiny_lm/sample.py "prompt" [-n 200] [--temperature 0.8] [--seed 0]

--temperature 0 is greedy decoding (as in the references). Stops at EOS.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import load  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prompt", nargs="?", default="")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(args.seed)
    model = load(os.path.join(HERE, "model.pt"))
    config = model.config
    prompt = [config.bos] + list(args.prompt.encode())
    limit = config.max_length - len(prompt)
    out = []
    with torch.inference_mode():
        logits, past = model.forward_dynamic(torch.tensor([prompt]))
        for _ in range(min(args.n, limit)):
            last = logits[0, -1]
            if args.temperature <= 0:
                token = int(torch.argmax(last))
            else:
                token = int(torch.multinomial(torch.softmax(last / args.temperature, -1), 1, generator=generator))
            if token == config.eos:
                break
            out.append(token)
            logits, past = model.forward_dynamic(torch.tensor([[token]]), past)
    print(args.prompt + bytes(t for t in out if t < 256).decode("utf-8", errors="replace"))


if __name__ == "__main__":
    main()
