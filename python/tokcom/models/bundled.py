"""The trained model bundled with the package (``tokcom/default_model/``).

Files (all weights-only, loadable with ``torch.load(weights_only=True)``):

* ``config.json``      tokenizer / transformer / classifier configs plus image geometry
* ``tokenizer.pt``     ``{"state_dict": ...}``        (taming/Lightning layout)
* ``transformer.pt``   ``{"model_state_dict": ...}``  (Halton-MaskGIT v1.0 layout)
* ``classifier.pt``    ``{"state_dict": ...}``        (semantic metric only)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .checkpoints import load_maskgit, load_state_dict_strict, load_vqgan
from .classifier import ClassifierConfig, SmallCNN
from .maskgit import MaskGITConfig, MaskTransformer
from .vqgan import VQConfig, VQModel

CONFIG_NAME = "config.json"
TOKENIZER_NAME = "tokenizer.pt"
TRANSFORMER_NAME = "transformer.pt"
CLASSIFIER_NAME = "classifier.pt"


def default_model_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "default_model"


@dataclass
class ImageGeometry:
    """How dataset images map onto the tokenizer input (pad, then scale to [-1, 1])."""

    image_size: int = 28
    pad: int = 2  # zero (black) border on every side: 28 + 2*2 = 32

    @property
    def padded_size(self) -> int:
        return self.image_size + 2 * self.pad


@dataclass
class BundleConfig:
    tokenizer: VQConfig
    transformer: MaskGITConfig
    classifier: ClassifierConfig | None = None
    geometry: ImageGeometry = field(default_factory=ImageGeometry)
    fill_token: int = 0  # token used by the "VQ-only" baseline for lost tokens
    class_names: list[str] = field(default_factory=list)
    notes: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer.to_dict(), "transformer": self.transformer.to_dict(),
                "classifier": None if self.classifier is None else self.classifier.to_dict(),
                "geometry": {"image_size": self.geometry.image_size, "pad": self.geometry.pad},
                "fill_token": self.fill_token, "class_names": self.class_names,
                "notes": self.notes}

    @classmethod
    def from_dict(cls, d: dict) -> BundleConfig:
        return cls(tokenizer=VQConfig.from_dict(d["tokenizer"]),
                   transformer=MaskGITConfig.from_dict(d["transformer"]),
                   classifier=(None if d.get("classifier") is None
                               else ClassifierConfig.from_dict(d["classifier"])),
                   geometry=ImageGeometry(**d.get("geometry", {})),
                   fill_token=int(d.get("fill_token", 0)),
                   class_names=list(d.get("class_names", [])), notes=dict(d.get("notes", {})))

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path) -> BundleConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


@dataclass
class Bundle:
    config: BundleConfig
    tokenizer: VQModel
    transformer: MaskTransformer
    classifier: SmallCNN | None = None


def load_classifier(path, cfg: ClassifierConfig) -> SmallCNN:
    state = torch.load(os.fspath(path), map_location="cpu", weights_only=True)["state_dict"]
    model = SmallCNN(cfg)
    load_state_dict_strict(model, state, source=str(path))
    return model.eval()


def load_bundle(directory=None, with_classifier: bool = True) -> Bundle:
    """Load tokenizer + transformer (+ classifier) from ``directory`` (default: bundled)."""
    d = Path(directory) if directory is not None else default_model_dir()
    cfg = BundleConfig.load(d / CONFIG_NAME)
    tok = load_vqgan(d / TOKENIZER_NAME, cfg.tokenizer)
    tr = load_maskgit(d / TRANSFORMER_NAME, cfg.transformer)
    clf = None
    if with_classifier and cfg.classifier is not None and (d / CLASSIFIER_NAME).exists():
        clf = load_classifier(d / CLASSIFIER_NAME, cfg.classifier)
    return Bundle(cfg, tok, tr, clf)


def to_model_input(images_u8: torch.Tensor, geometry: ImageGeometry) -> torch.Tensor:
    """uint8 (B, H, W) or (B, 1, H, W) in [0, 255] -> float (B, 1, H+2p, W+2p) in [-1, 1]."""
    x = images_u8.float()
    if x.dim() == 3:
        x = x.unsqueeze(1)
    x = x / 127.5 - 1.0
    p = geometry.pad
    return torch.nn.functional.pad(x, (p, p, p, p), value=-1.0) if p else x


def crop_output(x: torch.Tensor, geometry: ImageGeometry) -> torch.Tensor:
    """Undo the padding of :func:`to_model_input` and clamp to [-1, 1]."""
    p = geometry.pad
    if p:
        x = x[..., p:-p, p:-p]
    return x.clamp(-1.0, 1.0)
