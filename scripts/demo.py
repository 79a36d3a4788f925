#!/usr/bin/env python3
"""gr-tokcom demo (./run.sh demo): TokCom over a simulated coded radio link.

Starts the model service (tokcom-serve) with the bundled default model on a free loopback
port, then runs the TokCom loopback flowgraph (gnuradio.tokcom.loopback_flowgraph, the one
the sweep and the tests build) at three Es/N0, in simulation mode (every frame predicted):
held-out Fashion-MNIST test images -> VQ tokens -> token packets (4 tokens, CRC-16, K=7
convolutional code, Gray 16-QAM) -> AWGN -> soft Viterbi -> packets that fail their CRC
become [MASK] -> MaskGIT predicts them, with the class label as side information. Prints
PER, TER before -> after prediction and PSNR of the VQ-only -> predicted images. The same
run also feeds the soft receivers (docs/models.md, "Fusion"): tokcom_soft keeps the failed
packets' bit LLRs (log-MAP BCJR), fuses them with the prior and runs a CRC-aided list
search; hard_kept uses the failed packets' hard tokens without a model. Writes a CSV, a
plot and picture grids (grid_*: mask-and-predict, grid_soft_*: soft receiver) and stops
the service.
"""

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

from gnuradio.tokcom.link_config import LinkConfig
from gnuradio.tokcom.loopback_flowgraph import LoopbackConfig, build_loopback
from gnuradio.tokcom.service.client import ServiceClient
from gnuradio.tokcom.service.launch import free_loopback_endpoint, start_service, stop_service

ROOT = Path(__file__).resolve().parent.parent

# Es/N0 where the link's PER is about 5 %, 20 % and 40 % (docs/link.md)
DEFAULT_SNRS = "6.8,5.8,5.0"


# The demo's predictors: (name, class label as CMI, receiver), all on one channel run.
PREDICTORS = (("tokcom_cmi", True, "mask"), ("hard_kept", False, "hard_kept"),
              ("tokcom_soft", True, "soft"))


def grid(png_dir: Path, out: Path, rows=6, predictor="tokcom_cmi"):
    """Stacks the first frames' PNGs (original | received | predicted) into one picture."""
    from PIL import Image

    files = sorted(png_dir.glob(f"frame_*_{predictor}.png"))[:rows]
    if not files:
        return None
    pics = [np.asarray(Image.open(f)) for f in files]
    Image.fromarray(np.concatenate(pics, axis=0)).save(out)
    return out


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["esn0_db"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    a.plot(x, [r["per"] for r in rows], "o-", label="PER")
    a.plot(x, [r["ter_before"] for r in rows], "s--", label="TER before prediction")
    a.plot(x, [r["ter_after"] for r in rows], "^-", label="TER after prediction")
    a.set_xlabel("Es/N0 (dB)")
    a.set_yscale("log")
    a.grid(True, alpha=0.3)
    a.legend()
    b.plot(x, [r["psnr_received"] for r in rows], "s--", label="VQ-only (lost tokens = fill token)")
    b.plot(x, [r["psnr_predicted"] for r in rows], "^-", label="MaskGIT prediction")
    b.plot(x, [r["psnr_lossless"] for r in rows], ":", label="no loss")
    b.set_xlabel("Es/N0 (dB)")
    b.set_ylabel("PSNR (dB)")
    b.grid(True, alpha=0.3)
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48, help="images per Es/N0")
    parser.add_argument("--snrs", default=DEFAULT_SNRS, help="Es/N0 values in dB")
    parser.add_argument("--out", default=str(ROOT / "out" / "demo"))
    parser.add_argument("--model", default=None, help="model bundle (default: bundled)")
    parser.add_argument("--service", default=None,
                        help="use this running service instead of starting one")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    proc = None
    endpoint = args.service or free_loopback_endpoint()
    if args.service is None:
        log_path = out / "service.log"
        print(f"starting tokcom-serve on {endpoint} (log: {log_path}) ...")
        with open(log_path, "w") as log:
            try:
                proc, _, info = start_service(endpoint, model=args.model, log=log)
            except RuntimeError as err:
                raise SystemExit(f"{err}; see {log_path}") from None
    else:
        with ServiceClient(endpoint, timeout=5.0) as client:
            info = client.info()
    link = LinkConfig.from_info(info)
    print(f"model {info['model_id']}: {info['grid_h']}x{info['grid_w']} tokens, "
          f"Q = {info['codebook_size']}, {info['num_classes']} classes; "
          f"{link.packets_per_frame} packets x {link.symbols_per_packet} symbols "
          f"+ {link.guard_symbols} guard = {link.channel_uses_per_frame} channel uses per frame\n")

    rows = []
    try:
        header = (f"{'Es/N0':>6} {'frames':>6} {'predicted':>9} {'PER':>6}  "
                  f"{'TER before -> after':>19}  {'PSNR VQ-only -> predicted':>25}  "
                  f"{'(no loss)':>9}")
        print(header)
        for esn0 in (float(s) for s in args.snrs.split(",")):
            png_dir = out / f"frames_{esn0:.1f}dB"
            cfg = LoopbackConfig(service=endpoint, esn0_db=esn0, n_frames=args.frames,
                                 output_dir=str(png_dir), predictors=PREDICTORS)
            tb = build_loopback(cfg, link)
            tb.run_to_completion()
            t = tb.evaluator.totals("tokcom_cmi")
            per = tb.per()
            rows.append(dict(esn0_db=esn0, frames=t["frames"], predicted=t["predicted"],
                             per=per, **{k: t[k] for k in (
                                 "ter_before", "ter_after", "masked_accuracy",
                                 "psnr_received", "psnr_predicted", "psnr_lossless",
                                 "ssim_received", "ssim_predicted", "tce")}))
            print(f"{esn0:>6.1f} {t['frames']:>6} {t['predicted']:>9} {per:>6.3f}  "
                  f"{t['ter_before']:>8.3f} -> "
                  f"{t['ter_after']:<8.3f}  {t['psnr_received']:>10.2f} -> "
                  f"{t['psnr_predicted']:<8.2f} dB  {t['psnr_lossless']:>6.2f} dB")
            soft = {p: tb.evaluator.totals(p) for p in ("hard_kept", "tokcom_soft")}
            print(f"{'':>6} soft receiver: TER after {soft['tokcom_soft']['ter_after']:.3f}, "
                  f"PSNR {soft['tokcom_soft']['psnr_predicted']:.2f} dB; failed packets' hard "
                  f"tokens: TER {soft['hard_kept']['ter_after']:.3f}, "
                  f"PSNR {soft['hard_kept']['psnr_predicted']:.2f} dB")
            rows[-1].update(ter_after_soft=soft["tokcom_soft"]["ter_after"],
                            psnr_soft=soft["tokcom_soft"]["psnr_predicted"],
                            ter_after_hard_kept=soft["hard_kept"]["ter_after"],
                            psnr_hard_kept=soft["hard_kept"]["psnr_predicted"])
            grid(png_dir, out / f"grid_{esn0:.1f}dB.png")
            grid(png_dir, out / f"grid_soft_{esn0:.1f}dB.png", predictor="tokcom_soft")
    finally:
        if proc is not None:
            stop_service(proc)

    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "results.png")
    print(f"\nPictures (original | received, lost regions bright | predicted): "
          f"{out}/grid_*dB.png and {out}/frames_*dB/")
    print(f"Table: {out / 'results.csv'}; plot: {out / 'results.png'}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
