"""Train the bundled TokCom models on Fashion-MNIST (official train split only).

Stages, in order: tokenizer -> classifier -> token pre-computation -> transformer -> export.
The transformer gets whatever remains of ``--budget-minutes`` after the other stages.
Every stage checkpoints (weights, optimizer, step, elapsed time, RNG) into ``--work-dir``;
rerunning the same command resumes where it stopped.

Runs as ``python python/tokcom/training/train.py ...`` from a source tree and as
``python -m gnuradio.tokcom.training ...`` once installed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: load this package without tokcom/__init__
    _here = Path(__file__).resolve().parent
    sys.path.insert(0, str(_here))
    import _script_shim

    _script_shim.run_package_main("training.train", _here.parent)

import torch

from ..models.bundled import (
    CLASSIFIER_NAME,
    CONFIG_NAME,
    TOKENIZER_NAME,
    TRANSFORMER_NAME,
    BundleConfig,
    ImageGeometry,
    to_model_input,
)
from ..models.checkpoints import save_maskgit, save_vqgan
from ..models.classifier import ClassifierConfig, SmallCNN
from ..models.maskgit import MaskGITConfig, MaskTransformer
from ..models.vqgan import VQConfig, VQModel
from .classifier_stage import ClassifierTrainer, accuracy
from .fashion_mnist import CLASS_NAMES, load_split
from .loop import run_stage
from .tokenizer_stage import TokenizerTrainer, reconstruction_psnr
from .transformer_stage import TransformerTrainer

log = logging.getLogger("tokcom.training")

PRESETS = {
    # The bundled model: 32x32 input (28x28 padded by 2), one 2x downsampling -> 16x16 grid.
    "bundled": {
        "tokenizer": VQConfig(in_channels=1, out_ch=1, resolution=32, ch=32, ch_mult=[1, 2],
                              num_res_blocks=1, attn_resolutions=[], z_channels=64, embed_dim=16,
                              n_embed=1024),
        "transformer": MaskGITConfig(grid_h=16, grid_w=16, codebook_size=1024, nclass=10,
                                     hidden_dim=128, depth=4, heads=4, mlp_dim=512, dropout=0.0),
        "classifier": ClassifierConfig(in_channels=1, resolution=32, nclass=10, width=32),
        "tok_batch": 32, "tr_batch": 32, "clf_batch": 64, "ae_warmup": 300, "restart_every": 200,
        "kmeans_samples": 20000, "tr_bf16": True},
    # For tests: tiny models, same code paths, 8x8 grid and 64 codes.
    "tiny": {
        "tokenizer": VQConfig(in_channels=1, out_ch=1, resolution=32, ch=32, ch_mult=[1, 2, 2],
                              num_res_blocks=1, attn_resolutions=[], z_channels=32, embed_dim=8,
                              n_embed=64),
        "transformer": MaskGITConfig(grid_h=8, grid_w=8, codebook_size=64, nclass=10,
                                     hidden_dim=32, depth=1, heads=2, mlp_dim=64, dropout=0.0),
        "classifier": ClassifierConfig(in_channels=1, resolution=32, nclass=10, width=8),
        "tok_batch": 4, "tr_batch": 4, "clf_batch": 4, "ae_warmup": 2, "restart_every": 2,
        "kmeans_samples": 256, "tr_bf16": False},
}

# Shares of the total budget; the transformer gets the remainder.
TOKENIZER_SHARE = 0.27
CLASSIFIER_SHARE = 0.05


def parse_args(argv):
    p = argparse.ArgumentParser(prog="tokcom-train", description=__doc__.split("\n\n")[0])
    p.add_argument("--work-dir", type=Path, required=True,
                   help="checkpoints and logs; rerun with the same dir to resume")
    p.add_argument("--out-dir", type=Path, default=None,
                   help="where to export the bundle (default: WORK_DIR/bundle)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist)")
    p.add_argument("--budget-minutes", type=float, default=60.0, help="total wall-time budget")
    p.add_argument("--preset", choices=sorted(PRESETS), default="bundled")
    p.add_argument("--max-steps", type=int, default=None,
                   help="cap every stage at this many steps (smoke tests)")
    p.add_argument("--limit-images", type=int, default=None,
                   help="use only the first N training images (smoke tests)")
    p.add_argument("--val-images", type=int, default=2000,
                   help="last N images of the train split held out for validation")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-bf16", action="store_true",
                   help="train the transformer in float32 (default: bfloat16 autocast)")
    return p.parse_args(argv)


def _stage_seed(seed: int, stage: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed * 1000 + stage)
    return g


@torch.no_grad()
def encode_all(model: VQModel, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
    model.eval()
    out = [model.tokenize(images[i:i + batch]) for i in range(0, images.shape[0], batch)]
    return torch.cat(out).to(torch.int16)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    out_dir = args.out_dir or work / "bundle"
    budget = args.budget_minutes * 60.0

    geometry = ImageGeometry(image_size=28, pad=(preset["tokenizer"].resolution - 28) // 2)
    images_u8, labels = load_split("train", args.data_dir)
    if args.limit_images:
        images_u8, labels = images_u8[: args.limit_images], labels[: args.limit_images]
    n_val = min(args.val_images, images_u8.shape[0] // 5)
    x_all = to_model_input(images_u8, geometry)
    x_tr, y_tr, x_val, y_val = x_all[:-n_val], labels[:-n_val], x_all[-n_val:], labels[-n_val:]
    log.info("train %d / validation %d images (test split untouched)", len(x_tr), len(x_val))

    # 1. tokenizer
    vq = VQModel(preset["tokenizer"])
    tt = TokenizerTrainer(vq, x_tr, _stage_seed(args.seed, 1), preset["tok_batch"],
                          ae_warmup=preset["ae_warmup"], restart_every=preset["restart_every"],
                          kmeans_samples=preset["kmeans_samples"])
    s_tok = run_stage("tokenizer", work / "tokenizer.ckpt", vq, tt.opt, tt.gen,
                      TOKENIZER_SHARE * budget, tt.step, args.max_steps)
    val_psnr = reconstruction_psnr(vq, x_val)
    log.info("tokenizer validation PSNR %.2f dB", val_psnr)

    # 2. classifier (semantic metric)
    clf = SmallCNN(preset["classifier"])
    ct = ClassifierTrainer(clf, x_tr, y_tr, _stage_seed(args.seed, 3), preset["clf_batch"])
    s_clf = run_stage("classifier", work / "classifier.ckpt", clf, ct.opt, ct.gen,
                      CLASSIFIER_SHARE * budget, ct.step, args.max_steps)
    clf_acc = accuracy(clf, x_val, y_val)
    log.info("classifier validation accuracy %.4f", clf_acc)

    # 3. tokens of the training images, cached for resume
    tok_path = work / "tokens_train.pt"
    if tok_path.exists():
        cached = torch.load(tok_path, weights_only=True)
        tokens, encode_s = cached["tokens"], cached["seconds"]
    else:
        t0 = time.monotonic()
        tokens = encode_all(vq, x_tr)
        encode_s = time.monotonic() - t0
        torch.save({"tokens": tokens, "seconds": encode_s}, tok_path)
    counts = torch.bincount(tokens.long().flatten(), minlength=vq.config.n_embed)
    fill_token = int(counts.argmax())
    used = int((counts > 0).sum())
    log.info("codes used on train: %d / %d; most frequent token %d (%.1f %%)", used,
             vq.config.n_embed, fill_token, 100 * counts.max().item() / counts.sum().item())

    # 4. transformer: what the earlier stages left of the budget (stage times are summed
    # from their checkpoints, so this holds across resumes), minus a reserve for export.
    tr_budget = budget - s_tok.elapsed - s_clf.elapsed - encode_s - 30.0
    if args.max_steps is not None:
        tr_budget = budget
    tf = MaskTransformer(preset["transformer"])
    bf16 = preset["tr_bf16"] and not args.no_bf16
    trt = TransformerTrainer(tf, tokens, y_tr, _stage_seed(args.seed, 2), preset["tr_batch"],
                             bf16=bf16)
    s_tr = run_stage("transformer", work / "transformer.ckpt", tf, trt.opt, trt.gen,
                     tr_budget, trt.step, args.max_steps)

    # 5. export the bundle (weights only, public layouts)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_vqgan(vq.eval(), out_dir / TOKENIZER_NAME)
    save_maskgit(tf.eval(), out_dir / TRANSFORMER_NAME)
    torch.save({"state_dict": clf.eval().state_dict()}, out_dir / CLASSIFIER_NAME)
    notes = {
        "trained_on": f"Fashion-MNIST official train split, first {len(x_tr)} images",
        "validation": f"last {len(x_val)} train images: tokenizer PSNR {val_psnr:.2f} dB, "
                      f"classifier acc {clf_acc:.4f}",
        "codes_used_on_train": used,
        "steps": {"tokenizer": s_tok.step, "classifier": s_clf.step, "transformer": s_tr.step},
        "wall_seconds": {"tokenizer": round(s_tok.elapsed), "classifier": round(s_clf.elapsed),
                         "encode_train_tokens": round(encode_s),
                         "transformer": round(s_tr.elapsed)},
        "threads": args.threads, "seed": args.seed, "preset": args.preset,
        "transformer_bf16_autocast": bf16,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "date": datetime.date.today().isoformat(),
    }
    BundleConfig(tokenizer=vq.config, transformer=tf.config, classifier=clf.config,
                 geometry=geometry, fill_token=fill_token, class_names=CLASS_NAMES,
                 notes=notes).save(out_dir / CONFIG_NAME)
    log.info("bundle written to %s", out_dir)
    print(json.dumps(notes, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
