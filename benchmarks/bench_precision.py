"""float32 vs int8 transformer for serving: held-out accuracy and predict latency.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_precision.py \\
        [--n-images 1000] [--loss 0.2] [--steps 4] [--repeat 40]

Held-out frames: the first ``--n-images`` Fashion-MNIST *test* images (never trained on),
tokenized by the bundle, packets of 4 tokens lost with probability ``--loss`` through the
evaluation's interleaver (metrics/evaluate.py), predicted with the class label.  Prints
the masked-token accuracy of each precision (pooled over lost tokens, with a 95 % interval
over images), how many predicted tokens differ, the paired accuracy difference, and the
one-frame predict latency (p50 / p99 wall clock and p50 CPU time of the calling thread;
the variants alternate so both see the same background load).  Also prints what the
service's start-up self-check (service/precision.py) measures and decides here.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from gnuradio.tokcom.models import InferenceTransformer, load_bundle, mask_predict
from gnuradio.tokcom.models.bundled import default_model_dir, to_model_input
from gnuradio.tokcom.service.precision import self_check
from gnuradio.tokcom.training.fashion_mnist import load_split
from gnuradio.tokcom.training.masking import packet_loss_mask


def _predict_all(model, tokens, mask, labels, steps, batch=50):
    out = []
    with torch.inference_mode():
        for i in range(0, tokens.shape[0], batch):
            sl = slice(i, i + batch)
            out.append(mask_predict(model, tokens[sl], mask[sl], labels[sl], steps)[0])
    return torch.cat(out)


def _timings(models: dict, tok, mask, lab, steps, repeat):
    wall = {k: [] for k in models}
    cpu = {k: [] for k in models}
    with torch.inference_mode():
        for _ in range(3):
            for m in models.values():
                mask_predict(m, tok, mask, lab, steps)
        for _ in range(repeat):
            for k, m in models.items():
                t0, c0 = time.perf_counter(), time.thread_time()
                mask_predict(m, tok, mask, lab, steps)
                cpu[k].append(time.thread_time() - c0)
                wall[k].append(time.perf_counter() - t0)
    return wall, cpu


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="bundle directory (default: the bundled default model)")
    p.add_argument("--n-images", type=int, default=1000)
    p.add_argument("--loss", type=float, default=0.2, help="packet loss probability")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--repeat", type=int, default=40, help="timed one-frame predicts each")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    load0 = os.getloadavg()

    bundle = load_bundle(args.model or default_model_dir(), with_classifier=False)
    cfg = bundle.config
    models = {"float32": InferenceTransformer(bundle.transformer),
              "int8": InferenceTransformer(bundle.transformer, int8=True)}
    images, labels = load_split("test")
    images, labels = images[: args.n_images], labels[: args.n_images]
    with torch.inference_mode():
        x = to_model_input(images, cfg.geometry)
        tokens = torch.cat([bundle.tokenizer.tokenize(x[i:i + 100])
                            for i in range(0, len(x), 100)])
    n, h, w = tokens.shape
    gen = torch.Generator().manual_seed(args.seed)
    interleaver = torch.randperm(h * w, generator=gen)
    mask = packet_loss_mask(n, h, w, args.loss, gen, 4, interleaver)
    lost = mask.view(n, -1).sum(1)
    keep = lost > 0

    print(f"held-out: first {n} Fashion-MNIST test images, packet loss {args.loss:.0%} "
          f"({int(lost.sum())} lost tokens), {args.steps} steps, with label; torch threads "
          f"{args.threads}; CPU {torch.backends.cpu.get_cpu_capability()}")
    filled = {k: _predict_all(m, tokens, mask, labels, args.steps) for k, m in models.items()}
    acc = {}
    for k, f in filled.items():
        hit = ((f == tokens) & mask).view(n, -1).sum(1).float()
        per_image = hit[keep] / lost[keep].float()
        pooled = float(hit.sum() / lost.sum())
        ci = 1.96 * float(per_image.std()) / np.sqrt(len(per_image))
        acc[k] = per_image
        print(f"{k:8s} masked-token accuracy {pooled:.4f} (pooled); per image "
              f"{float(per_image.mean()):.4f} +- {ci:.4f}")
    diff = acc["int8"] - acc["float32"]
    changed = int(((filled["int8"] != filled["float32"]) & mask).sum())
    print(f"int8 - float32: {float(diff.mean()):+.4f} +- "
          f"{1.96 * float(diff.std()) / np.sqrt(len(diff)):.4f} (paired, per image); "
          f"{changed} of {int(lost.sum())} predicted tokens differ")

    tok1, mask1, lab1 = tokens[:1], mask[:1], labels[:1]
    if not mask1.any():
        mask1 = mask[keep][:1]
    wall, cpu = _timings(models, tok1, mask1, lab1, args.steps, args.repeat)
    for k in models:
        ms = 1e3 * np.asarray(wall[k])
        print(f"{k:8s} predict 1 frame ({int(mask1.sum())} lost): wall p50 "
              f"{np.percentile(ms, 50):6.2f} ms p99 {np.percentile(ms, 99):6.2f} ms; CPU p50 "
              f"{1e3 * np.median(cpu[k]):6.2f} ms")
    print("speed-up int8 (median of CPU time): "
          f"{np.median(cpu['float32']) / np.median(cpu['int8']):.2f}x")
    check = self_check(models["float32"], models["int8"])
    print(f"start-up self-check: {check}")
    print("load average (1/5/15 min) at start {:.2f} {:.2f} {:.2f}, at end {:.2f} {:.2f} {:.2f}"
          .format(*load0, *os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
