#!/usr/bin/env python3
"""Latency of predict with channel LLRs (protocol v2) against plain predict (v1), over ZMQ.

One tokcom-serve (bundled model, one torch thread, batching off) on 127.0.0.1:--port; one
Fashion-MNIST test frame tokenized, --loss of its tokens masked in whole 4-token packets
(random interleaver) as the link loses them, LLRs of strength ~N(2.5, 2) on the lost
positions. The three calls alternate (paired) so they see the same background load:
v1 predict, v2 predict with LLRs (fusion), v2 predict with LLRs and 8 candidates (the list
search's first pass). Prints p50/p99 and the p50 ratio to v1.
Run: .venv/bin/python benchmarks/bench_soft_predict.py
"""

import argparse
import os
import platform
import time

import numpy as np

from gnuradio.tokcom import tokcom_python as cpp
from gnuradio.tokcom.image_files import fashion_mnist_test
from gnuradio.tokcom.service import ServiceClient
from gnuradio.tokcom.service.launch import start_service, stop_service


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=60)
    ap.add_argument("--loss", type=float, default=0.2, help="fraction of packets lost")
    ap.add_argument("--port", type=int, default=5904)
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    proc, endpoint, info = start_service(f"tcp://127.0.0.1:{args.port}",
                                         extra_args=["--threads", "1", "--max-batch", "1"])
    try:
        with ServiceClient(endpoint, timeout=60) as c:
            images, labels = fashion_mnist_test()
            tokens = c.tokenize(images[:1])[0]
            g = np.random.default_rng(0)
            slots = np.asarray(cpp.token_layout(256, 4, 1024, "random", 1).slot_positions())
            lost = slots[g.random(slots.shape[0]) < args.loss].ravel()
            mask = np.zeros(256, bool)
            mask[lost] = True
            mask = mask.reshape(tokens.shape)
            bits = (tokens.reshape(-1, 1) >> np.arange(9, -1, -1)) & 1
            llrs = ((2 * bits - 1) * g.normal(2.5, 2.0, bits.shape)).astype(np.float32)
            llrs[~mask.ravel()] = 0
            label = int(labels[0])
            calls = {"v1 predict": lambda: c.predict(tokens, mask, label),
                     "v2 + LLRs": lambda: c.predict(tokens, mask, label, llrs=llrs),
                     "v2 + LLRs + 8 candidates": lambda: c.predict(tokens, mask, label,
                                                                   llrs=llrs, candidates=8)}
            times = {k: [] for k in calls}
            for _ in range(3):
                for fn in calls.values():
                    fn()
            for _ in range(args.repeat):
                for k, fn in calls.items():
                    t0 = time.perf_counter()
                    fn()
                    times[k].append(1e3 * (time.perf_counter() - t0))
    finally:
        stop_service(proc)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, model {info['model_id']}, "
          f"{int(mask.sum())} of 256 tokens lost, {args.repeat} paired calls")
    base = np.percentile(times["v1 predict"], 50)
    for k, t in times.items():
        p50, p99 = np.percentile(t, 50), np.percentile(t, 99)
        print(f"{k:<26} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  p50 / v1 {p50 / base:.3f}")


if __name__ == "__main__":
    main()
