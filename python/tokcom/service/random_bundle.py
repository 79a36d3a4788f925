"""Random-weight bundles for tests and benchmarks (torch; never used when serving).

The architectures are the training presets (``training/train.py``: ``tiny`` for tests,
``bundled`` for timing runs before the trained model exists - its compute cost does not
depend on the weights).  Files are written with the models package's own save functions,
so the server loads them exactly like a real bundle.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..models import BundleConfig, ImageGeometry, MaskTransformer, VQModel
from ..models.bundled import CONFIG_NAME, TOKENIZER_NAME, TRANSFORMER_NAME
from ..models.checkpoints import save_maskgit, save_vqgan


def write_random_bundle(directory, preset: str = "tiny", seed: int = 0) -> Path:
    from ..training.train import PRESETS

    cfg = PRESETS[preset]
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    vq = VQModel(cfg["tokenizer"]).eval()
    tr = MaskTransformer(cfg["transformer"]).eval()
    geometry = ImageGeometry(image_size=28, pad=(cfg["tokenizer"].resolution - 28) // 2)
    save_vqgan(vq, d / TOKENIZER_NAME)
    save_maskgit(tr, d / TRANSFORMER_NAME)
    BundleConfig(tokenizer=vq.config, transformer=tr.config, classifier=None,
                 geometry=geometry, class_names=[f"class{i}" for i in range(tr.config.nclass)],
                 notes={"random_weights": True, "preset": preset}).save(d / CONFIG_NAME)
    return d
