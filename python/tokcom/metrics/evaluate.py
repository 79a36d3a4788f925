"""Evaluate a TokCom model bundle on held-out Fashion-MNIST test images.

For each packet-loss rate, every test image's 16x16 token grid is split into packets of 4
tokens through a fixed random interleaver (packet p carries positions perm[4p:4p+4]);
each packet is lost independently with the given probability.  The same losses are then
concealed three ways:

* ``pred+label``  mask-and-predict with the class label,
* ``pred-label``  mask-and-predict without label (dropped-label token),
* ``vq-only``     lost tokens replaced by the bundle's ``fill_token`` (the most frequent
  training token, i.e. background), then decoded.

Runs as ``python python/tokcom/metrics/evaluate.py`` from a source tree and as
``python -m gnuradio.tokcom.metrics.evaluate`` once installed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: load this package without tokcom/__init__
    _tokcom = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(_tokcom / "training"))
    import _script_shim

    _script_shim.run_package_main("metrics.evaluate", _tokcom)

import torch
from tqdm import tqdm

from ..frame_quality import token_error_rates
from ..models.bundled import crop_output, load_bundle, to_model_input
from ..models.decoding import mask_predict
from ..training.fashion_mnist import load_split
from ..training.masking import packet_loss_mask
from .quality import mean_ci95, ms_ssim, psnr, ssim
from .semantic import classifier_correct

log = logging.getLogger("tokcom.evaluate")
METHODS = ("pred+label", "pred-label", "vq-only")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="tokcom-evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", type=Path, default=None, help="bundle (default: bundled)")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--n-images", type=int, default=1000, help="first N test-split images")
    p.add_argument("--loss-rates", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4])
    p.add_argument("--tokens-per-packet", type=int, default=4)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--schedule", default="arccos")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json-out", type=Path, default=None)
    return p.parse_args(argv)


def _image_metrics(rec_padded, ref, labels, classifier, geometry) -> dict:
    rec = crop_output(rec_padded, geometry)
    pad = geometry.pad
    out = {"psnr": psnr(rec, ref), "ssim": ssim(rec, ref), "ms_ssim": ms_ssim(rec, ref)}
    if classifier is not None:
        # The classifier sees the same black border it was trained with.
        clf_in = torch.nn.functional.pad(rec, (pad, pad, pad, pad), value=-1.0)
        out["classifier_acc"] = classifier_correct(classifier, clf_in, labels)
    return out


def _summary(per_image: dict) -> dict:
    return {k: dict(zip(("mean", "ci95"), mean_ci95(v), strict=True)) | {"n": int(v.numel())}
            for k, v in per_image.items()}


@torch.no_grad()
def evaluate(args) -> dict:
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.model_dir)
    cfg, vq, tf, clf = bundle.config, bundle.tokenizer, bundle.transformer, bundle.classifier
    images_u8, labels = load_split("test", args.data_dir)
    images_u8, labels = images_u8[: args.n_images], labels[: args.n_images]
    geometry = cfg.geometry
    x = to_model_input(images_u8, geometry)
    ref = crop_output(x, geometry)
    n = x.shape[0]
    h, w = cfg.transformer.grid_h, cfg.transformer.grid_w
    t0 = time.monotonic()

    tokens = torch.cat([vq.tokenize(x[i:i + args.batch]) for i in range(0, n, args.batch)])

    def decode(tok):
        return torch.cat([vq.decode_tokens(tok[i:i + args.batch])
                          for i in range(0, n, args.batch)])

    result = {"n_images": n, "settings": {k: (str(v) if isinstance(v, Path) else v)
                                          for k, v in vars(args).items()},
              "fill_token": cfg.fill_token}
    result["no_loss"] = _summary(_image_metrics(decode(tokens), ref, labels, clf, geometry))
    if clf is not None:
        result["classifier_on_originals"] = _summary(
            {"classifier_acc": classifier_correct(clf, x, labels)})

    gen = torch.Generator()
    gen.manual_seed(args.seed)
    interleaver = torch.randperm(h * w, generator=gen)
    result["loss"] = {}
    for rate in args.loss_rates:
        mask = packet_loss_mask(n, h, w, rate, gen, args.tokens_per_packet, interleaver)
        lost = mask.view(n, -1).sum(1)
        has_loss = lost > 0
        filled = {"vq-only": torch.where(mask, torch.full_like(tokens, cfg.fill_token), tokens)}
        for method, lab in (("pred+label", labels), ("pred-label", None)):
            parts = []
            for i in tqdm(range(0, n, args.batch), desc=f"{method} @ {rate:.0%}", leave=False):
                sl = slice(i, i + args.batch)
                parts.append(mask_predict(tf, tokens[sl], mask[sl],
                                          None if lab is None else lab[sl], args.steps,
                                          args.schedule, args.temperature,
                                          seed=args.seed + i)[0])
            filled[method] = torch.cat(parts)
        per_rate = {"mean_lost_token_fraction": (lost.float() / (h * w)).mean().item()}
        correct = {}
        for method in METHODS:
            tok = filled[method]
            acc = [token_error_rates(t, t, m, f)["masked_accuracy"]
                   for t, m, f in zip(tokens.numpy(), mask.numpy(), tok.numpy(), strict=True)]
            correct[method] = torch.tensor(acc, dtype=torch.float32)[has_loss]
            metrics = _image_metrics(decode(tok), ref, labels, clf, geometry)
            metrics = {"masked_token_acc": correct[method], **metrics}
            per_rate[method] = _summary(metrics)
        diff = correct["pred+label"] - correct["pred-label"]
        per_rate["masked_token_acc_label_gain_paired"] = _summary({"diff": diff})["diff"]
        result["loss"][f"{rate:g}"] = per_rate
        log.info("loss %.0f %% done (%.0f s)", 100 * rate, time.monotonic() - t0)
    result["seconds"] = round(time.monotonic() - t0, 1)
    return result


def _fmt(s: dict, scale: float = 1.0, digits: int = 3) -> str:
    return f"{s['mean'] * scale:.{digits}f} ± {s['ci95'] * scale:.{digits}f}"


def markdown(result: dict) -> str:
    """Tables for the model card."""
    nl = result["no_loss"]
    lines = [f"No loss ({result['n_images']} test images): PSNR {_fmt(nl['psnr'], digits=2)} dB, "
             f"SSIM {_fmt(nl['ssim'])}, MS-SSIM {_fmt(nl['ms_ssim'])}"
             + (f", classifier acc {_fmt(nl['classifier_acc'])}" if "classifier_acc" in nl else "")]
    if "classifier_on_originals" in result:
        lines[-1] += (" (classifier on original images: "
                      f"{_fmt(result['classifier_on_originals']['classifier_acc'])})")
    lines += ["",
              "| loss | method | masked-token acc | PSNR (dB) | SSIM | MS-SSIM | classifier acc |",
              "|---|---|---|---|---|---|---|"]
    for rate, r in result["loss"].items():
        for m in METHODS:
            s = r[m]
            clf = _fmt(s["classifier_acc"]) if "classifier_acc" in s else "n/a"
            lines.append(f"| {float(rate):.0%} | {m} | {_fmt(s['masked_token_acc'])} | "
                         f"{_fmt(s['psnr'], digits=2)} | {_fmt(s['ssim'])} | "
                         f"{_fmt(s['ms_ssim'])} | {clf} |")
    lines += ["", "Paired gain in masked-token accuracy from the label (with - without):"]
    for rate, r in result["loss"].items():
        lines.append(f"- {float(rate):.0%}: {_fmt(r['masked_token_acc_label_gain_paired'], 1, 4)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = evaluate(args)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    print(f"\n({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
