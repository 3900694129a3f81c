#!/usr/bin/python3
"""Trains the tiny byte-level language model of this example.

Data: the license texts every Debian 12 system has in
/usr/share/common-licenses (package base-files, Essential: yes), regular files
only (GPL, LGPL and GFDL are symlinks to versions also present), sorted by
name. Each text becomes BOS + its bytes + EOS. The last 10% of each text is
held out; bits per byte are reported on it.

    nice -n 10 /usr/bin/python3 examples/tiny_lm/train.py [--steps N] [--out DIR]

One thread, fixed seeds: a rerun on the same machine gives the same weights.
Writes DIR/model.pt (config + state dict, float32) and DIR/training.json
(losses, time).
"""
import argparse
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, TinyLM  # noqa: E402

CORPUS_DIR = "/usr/share/common-licenses"
HELD_OUT_FRACTION = 0.10


def load_corpus(config):
    names = sorted(n for n in os.listdir(CORPUS_DIR) if not os.path.islink(os.path.join(CORPUS_DIR, n)))
    train, held_out = [], []
    for name in names:
        data = open(os.path.join(CORPUS_DIR, name), "rb").read()
        cut = int(len(data) * (1 - HELD_OUT_FRACTION))
        train += [config.bos] + list(data[:cut])
        held_out += list(data[cut:]) + [config.eos]
    return names, torch.tensor(train, dtype=torch.int64), torch.tensor(held_out, dtype=torch.int64)


def batches(stream, batch, length, generator):
    starts = torch.randint(0, len(stream) - length - 1, (batch,), generator=generator)
    window = torch.stack([stream[s:s + length + 1] for s in starts.tolist()])
    return window[:, :-1], window[:, 1:]


@torch.no_grad()
def bits_per_byte(model, stream, length):
    """Mean next-token loss over non-overlapping windows of the stream, in bits."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(stream) - 1, length):
        window = stream[start:start + length + 1]
        if len(window) < 2:
            break
        logits, _ = model.forward_dynamic(window[:-1].unsqueeze(0))
        loss = torch.nn.functional.cross_entropy(logits[0], window[1:], reduction="sum")
        total += float(loss)
        count += len(window) - 1
    model.train()
    return total / count / math.log(2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=256, help="training window (tokens)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = Config()
    names, train, held_out = load_corpus(config)
    print(f"corpus: {len(names)} texts from {CORPUS_DIR}: {len(train)} training tokens, "
          f"{len(held_out)} held out", flush=True)
    model = TinyLM(config)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"model: {parameters} parameters, {config}", flush=True)

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))
    warmup = max(1, args.steps // 20)

    def schedule(step):  # linear warm-up, then cosine down to 10%
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, args.steps - warmup)
        return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    generator = torch.Generator().manual_seed(1)
    log = []
    started = time.time()
    model.train()
    for step in range(args.steps):
        inputs, targets = batches(train, args.batch, args.length, generator)
        logits, _ = model.forward_dynamic(inputs)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, config.vocab_size), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 50 == 0 or step == args.steps - 1:
            bits = float(loss) / math.log(2)
            entry = {"step": step, "train_bits_per_byte": round(bits, 4), "seconds": round(time.time() - started, 1)}
            if step % 200 == 0 or step == args.steps - 1:
                entry["held_out_bits_per_byte"] = round(bits_per_byte(model, held_out, config.max_length), 4)
            log.append(entry)
            print(json.dumps(entry), flush=True)
    seconds = time.time() - started
    model.eval()
    result = {
        "corpus": CORPUS_DIR, "texts": names, "train_tokens": len(train), "held_out_tokens": len(held_out),
        "parameters": parameters, "steps": args.steps, "batch": args.batch, "window": args.length,
        "lr": args.lr, "seconds": round(seconds, 1), "threads": 1,
        "final_train_bits_per_byte": bits_per_byte(model, train, config.max_length),
        "final_held_out_bits_per_byte": bits_per_byte(model, held_out, config.max_length),
        "log": log,
    }
    torch.save({"config": config.to_dict(), "model": model.state_dict()}, os.path.join(args.out, "model.pt"))
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"done in {seconds:.0f} s: held-out {result['final_held_out_bits_per_byte']:.3f} bits/byte, "
          f"train {result['final_train_bits_per_byte']:.3f}")


if __name__ == "__main__":
    main()
