#!/usr/bin/python3
"""Trains examples/vocoder: a small MelGAN/HiFi-GAN-style generator from log-mel
frames [1, 80, frames] to a waveform [1, 1, frames * 256] at 22050 Hz, on
speech that espeak-ng synthesizes from text Debian ships (the GPL-3 and
Apache-2.0 licence texts), in several voices and speeds.

Writes, next to this script:
  vocoder.onnx          the generator (opset 13, dynamic 'frames' axis)
  manifest.json         kind 'vocoder' (sample_rate, hop_length, context_frames)
  reference/mel.npy     a held-out sentence's log-mel [1, 80, T]
  reference/audio.npy   PyTorch's waveform for it [1, 1, T * 256]
  training.json         steps, time, losses and the quality figures

The mel front end (mel_spectrogram below) is the one the vocoder is trained on:
a mel from another front end (other fft size, mel scale or log floor) will
sound wrong.

    /usr/bin/python3 examples/vocoder/train.py [--minutes 15]

Needs Debian's python3-torch and espeak-ng. Training is bounded in time, not
steps, so a rerun on a busier machine trains fewer steps (training.json says
how many).
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from time_budget import require_openblas  # noqa: E402
SAMPLE_RATE = 22050
N_FFT = 1024
HOP = 256
WIN = 1024
N_MELS = 80
F_MIN = 0.0
F_MAX = 8000.0
LOG_FLOOR = 1e-5  # log(1e-5) = -11.51 is silence; also the pad value of short inputs
VOICES = ["en-us", "en-gb", "en+f3", "en-us+m3", "en+f2", "en-gb+m5"]
SPEEDS = [140, 165, 190]


# ---------------------------------------------------------------- mel front end
def hz_to_mel(f):
    # Slaney's scale (librosa's default): linear below 1 kHz, log above.
    f = np.asarray(f, dtype=np.float64)
    mel = f / (200.0 / 3)
    log_part = f >= 1000.0
    mel = np.where(log_part, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)
    return mel


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f = m * (200.0 / 3)
    log_part = m >= 15.0
    return np.where(log_part, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), f)


def mel_filterbank():
    """[n_mels, n_fft/2 + 1] triangular filters, Slaney area normalization."""
    bins = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), N_MELS + 2))
    bank = np.zeros((N_MELS, bins.size))
    for m in range(N_MELS):
        lower = (bins - edges[m]) / (edges[m + 1] - edges[m])
        upper = (edges[m + 2] - bins) / (edges[m + 2] - edges[m + 1])
        bank[m] = np.maximum(0, np.minimum(lower, upper)) * 2.0 / (edges[m + 2] - edges[m])
    return torch.tensor(bank, dtype=torch.float32)


MEL_BANK = mel_filterbank()
WINDOW = torch.hann_window(WIN)


def magnitude(audio, n_fft=N_FFT, hop=HOP, win=WIN):
    """|STFT| [batch, n_fft/2+1, frames], frames = samples / hop (reflect padding of (n_fft - hop) / 2)."""
    pad = (n_fft - hop) // 2
    audio = F.pad(audio.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(audio, n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win),
                      center=False, return_complex=True)
    return spec.abs().clamp_min(1e-9)


def mel_spectrogram(audio):
    """audio [batch, samples] in [-1, 1] -> natural-log mel [batch, 80, samples / 256]."""
    return torch.log(torch.clamp(MEL_BANK @ magnitude(audio), min=LOG_FLOOR))


# ---------------------------------------------------------------- data
def sentences():
    text = ""
    for name in ["GPL-3", "Apache-2.0"]:
        with open(f"/usr/share/common-licenses/{name}") as f:
            text += f.read() + "\n"
    text = re.sub(r"\s+", " ", text)
    parts = [p.strip() for p in re.split(r"(?<=[.;:!?])\s+", text)]
    return [p for p in parts if 30 <= len(p) <= 220 and re.search(r"[a-z]", p)]


def speak(text, voice, speed, directory):
    path = os.path.join(directory, "s.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", path, text], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with wave.open(path) as w:
        assert w.getframerate() == SAMPLE_RATE and w.getsampwidth() == 2 and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    audio = pcm.astype(np.float32) / 32768.0
    peak = np.abs(audio).max()
    return audio * (0.9 / peak) if peak > 0 else audio


def corpus(seconds, held_out):
    rng = np.random.default_rng(0)
    lines = [s for s in sentences() if s != held_out]
    rng.shuffle(lines)
    clips, total = [], 0
    with tempfile.TemporaryDirectory() as directory:
        for i, line in enumerate(lines):
            audio = speak(line, VOICES[i % len(VOICES)], SPEEDS[(i // len(VOICES)) % len(SPEEDS)], directory)
            audio = audio[: len(audio) // HOP * HOP]
            if len(audio) < 8192 + HOP:
                continue
            clips.append(audio)
            total += len(audio)
            if total >= seconds * SAMPLE_RATE:
                break
    return clips, total / SAMPLE_RATE


# ---------------------------------------------------------------- model
class ResUnit(nn.Module):
    def __init__(self, channels, dilation):
        super().__init__()
        self.dilated = nn.utils.weight_norm(nn.Conv1d(channels, channels, 3, dilation=dilation, padding=dilation))
        self.pointwise = nn.utils.weight_norm(nn.Conv1d(channels, channels, 1))

    def forward(self, x):
        y = self.dilated(F.leaky_relu(x, 0.2))
        return x + self.pointwise(F.leaky_relu(y, 0.2))


class Generator(nn.Module):
    """conv 7 -> 3 x (LeakyReLU, ConvTranspose x r, residual stack of dilations 1, 3, 9) -> conv 7 -> tanh."""

    def __init__(self, channels=(64, 32, 16, 8), rates=(8, 8, 4)):
        super().__init__()
        self.pre = nn.utils.weight_norm(nn.Conv1d(N_MELS, channels[0], 7, padding=3))
        stages = []
        for i, rate in enumerate(rates):
            stages.append(nn.ModuleDict({
                "up": nn.utils.weight_norm(nn.ConvTranspose1d(channels[i], channels[i + 1], 2 * rate, stride=rate,
                                                              padding=rate // 2)),
                "res": nn.Sequential(*[ResUnit(channels[i + 1], d) for d in (1, 3, 9)]),
            }))
        self.stages = nn.ModuleList(stages)
        self.post = nn.utils.weight_norm(nn.Conv1d(channels[-1], 1, 7, padding=3))

    def forward(self, mel):
        x = self.pre(mel)
        for stage in self.stages:
            x = stage["res"](stage["up"](F.leaky_relu(x, 0.2)))
        return torch.tanh(self.post(F.leaky_relu(x, 0.2)))

    def remove_weight_norm(self):
        for module in self.modules():
            if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
                nn.utils.remove_weight_norm(module)


# ---------------------------------------------------------------- losses and quality
RESOLUTIONS = [(512, 128, 512), (1024, 256, 1024), (2048, 512, 2048)]


def stft_loss(fake, real):
    """Multi-resolution STFT loss: spectral convergence + log-magnitude L1 (Yamamoto et al. 2020)."""
    total = 0
    for n_fft, hop, win in RESOLUTIONS:
        a, b = magnitude(fake, n_fft, hop, win), magnitude(real, n_fft, hop, win)
        total = total + torch.norm(b - a) / torch.norm(b) + F.l1_loss(torch.log(a), torch.log(b))
    return total / len(RESOLUTIONS)


def griffin_lim(log_mel, iterations=32):
    """The mel's magnitude through the filterbank's pseudo-inverse, phase by Griffin-Lim: the cheap baseline."""
    mag = torch.clamp(torch.linalg.pinv(MEL_BANK) @ torch.exp(log_mel), min=0)
    length = mag.shape[-1] * HOP
    # Centered frames (istft needs them); frame i of the front end is centered at i * hop + hop / 2.
    angles = torch.exp(2j * math.pi * torch.rand(mag.shape, generator=torch.Generator().manual_seed(0)))
    for _ in range(iterations):
        audio = torch.istft(mag * angles, N_FFT, HOP, WIN, window=WINDOW, center=True, length=length)
        spec = torch.stft(audio, N_FFT, HOP, WIN, window=WINDOW, center=True, return_complex=True)[..., :mag.shape[-1]]
        angles = torch.exp(1j * torch.angle(spec))
    audio = torch.istft(mag * angles, N_FFT, HOP, WIN, window=WINDOW, center=True, length=length)
    shift = HOP // 2
    return torch.cat([torch.zeros(audio.shape[:-1] + (shift,)), audio[..., :length - shift]], dim=-1)


def quality(audio, real, log_mel):
    """Log-mel L1 (of the vocoded audio's mel vs the input mel) and MR-STFT distance to the original."""
    with torch.no_grad():
        return {"log_mel_l1": float(F.l1_loss(mel_spectrogram(audio), log_mel)),
                "mr_stft": float(stft_loss(audio, real))}


def context_frames(model):
    """Frames of context each side an output frame depends on, measured: perturb one input frame."""
    with torch.no_grad():
        mel = torch.randn(1, N_MELS, 96, generator=torch.Generator().manual_seed(1)) - 5
        base = model(mel)
        mel[:, :, 48] += 1.0
        changed = torch.nonzero((model(mel) - base).abs().flatten() > 0).flatten()
    first, last = int(changed.min()) // HOP, int(changed.max()) // HOP
    return max(48 - first, last - 48)



# ---------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=20.0, help="training time bound")
    parser.add_argument("--seconds-of-speech", type=float, default=300.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    require_openblas()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    os.makedirs(os.path.join(HERE, "reference"), exist_ok=True)

    held_out = "The quick brown fox jumps over the lazy dog while the program runs on a small device."
    with tempfile.TemporaryDirectory() as directory:
        test_audio = speak(held_out, "en-us+m3", 170, directory)
    test_audio = torch.tensor(test_audio[: len(test_audio) // HOP * HOP]).unsqueeze(0)
    test_mel = mel_spectrogram(test_audio)

    clips, seconds = corpus(args.seconds_of_speech, held_out)
    print(f"corpus: {len(clips)} clips, {seconds:.0f} s of speech", flush=True)
    clips = [torch.tensor(c) for c in clips]

    model = Generator()
    print("parameters:", sum(p.numel() for p in model.parameters()), flush=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3, betas=(0.8, 0.99))
    segment, batch = 8192, 8
    rng = np.random.default_rng(0)
    start, step, history = time.time(), 0, []
    deadline = start + args.minutes * 60
    while time.time() < deadline:
        real = []
        for _ in range(batch):
            clip = clips[rng.integers(len(clips))]
            offset = int(rng.integers(0, (len(clip) - segment) // HOP + 1)) * HOP
            real.append(clip[offset:offset + segment])
        real = torch.stack(real)
        with torch.no_grad():
            mel = mel_spectrogram(real)
        fake = model(mel).squeeze(1)
        loss = stft_loss(fake, real) + F.l1_loss(mel_spectrogram(fake), mel)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % 10 == 0:
            history.append(float(loss))
            print(f"step {step} loss {float(loss):.4f} ({time.time() - start:.0f} s)", flush=True)
        if step % 600 == 0:
            for group in optimizer.param_groups:
                group["lr"] *= 0.7
    train_seconds = time.time() - start

    model.eval()
    model.remove_weight_norm()
    with torch.no_grad():
        vocoded = model(test_mel).squeeze(1)
    baseline = griffin_lim(test_mel)
    context = context_frames(model)
    report = {
        "steps": step, "train_seconds": round(train_seconds), "threads": args.threads,
        "speech_seconds": round(seconds), "clips": len(clips), "segment_samples": segment, "batch": batch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "loss_every_10_steps": [round(x, 4) for x in history],
        "context_frames_measured": context,
        "held_out": {"text": held_out, "voice": "en-us+m3", "speed": 170, "frames": test_mel.shape[-1],
                     "vocoder": quality(vocoded, test_audio, test_mel),
                     "griffin_lim_32": quality(baseline, test_audio, test_mel)},
    }
    print(json.dumps(report["held_out"], indent=1))

    np.save(os.path.join(HERE, "reference", "mel.npy"), test_mel.numpy().astype(np.float32))
    np.save(os.path.join(HERE, "reference", "audio.npy"), vocoded.unsqueeze(1).numpy().astype(np.float32))
    torch.onnx.export(model, test_mel[:, :, :64], os.path.join(HERE, "vocoder.onnx"), opset_version=13,
                      input_names=["mel"], output_names=["audio"],
                      dynamic_axes={"mel": {0: "batch", 2: "frames"}, "audio": {0: "batch", 2: "samples"}})
    manifest = {"kind": "vocoder", "graphs": {"vocoder": "vocoder.onnx"}, "sample_rate": SAMPLE_RATE,
                "hop_length": HOP, "context_frames": context, "pad_value": math.log(LOG_FLOOR),
                "dims": {"frames": 64}}
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    with open(os.path.join(HERE, "training.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
