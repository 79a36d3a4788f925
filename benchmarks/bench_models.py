"""Time the bundled models on CPU: tokenize, decode and mask-and-predict per image.

Usage: OMP_NUM_THREADS=1 PYTHONPATH=<dir with gnuradio/tokcom> python benchmarks/bench_models.py
(after installation the PYTHONPATH is not needed).  Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import time

import torch

from gnuradio.tokcom.models import load_bundle, mask_predict


def _time(fn, repeat: int) -> float:
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--loss", type=float, default=0.2, help="fraction of tokens masked")
    p.add_argument("--steps", type=int, default=4)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    b = load_bundle(with_classifier=False)
    cfg = b.config
    side = cfg.geometry.padded_size
    g = torch.Generator().manual_seed(0)
    for batch in (1, 16):
        x = torch.rand(batch, 1, side, side, generator=g) * 2 - 1
        with torch.no_grad():
            tokens = b.tokenizer.tokenize(x)
            mask = torch.rand(tokens.shape, generator=g) < args.loss
            t_tok = _time(lambda x=x: b.tokenizer.tokenize(x), args.repeat)
            t_dec = _time(lambda t=tokens: b.tokenizer.decode_tokens(t), args.repeat)
        t_mp = _time(lambda t=tokens, m=mask: mask_predict(b.transformer, t, m, None,
                                                           args.steps), args.repeat)
        print(f"batch {batch:2d}: tokenize {1e3 * t_tok / batch:7.2f} ms/img, "
              f"decode {1e3 * t_dec / batch:7.2f} ms/img, mask_predict ({args.steps} steps, "
              f"{args.loss:.0%} masked) {1e3 * t_mp / batch:7.2f} ms/img")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
