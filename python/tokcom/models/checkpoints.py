"""Strict loading and saving of the two public checkpoint layouts.

* Tokenizer: Lightning-style ``{"state_dict": {...}}`` as written by taming-transformers
  (``VQModel``).  Taming checkpoints also carry the training loss module (LPIPS network and
  discriminator) under ``loss.``; those keys are not part of the tokenizer and are dropped
  by one explicit rule, :data:`TAMING_IGNORED_PREFIXES`.  Nothing else is ever ignored.
* Transformer: ``{"model_state_dict": {...}, ...}`` as written by Halton-MaskGIT v1.0
  (``Trainer/trainer.py``: ``save_network``).  No key is ignored.

Any missing key, unexpected key or shape mismatch raises :class:`CheckpointError` naming it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import torch
from torch import nn

from .maskgit import MaskGITConfig, MaskTransformer
from .vqgan import VQConfig, VQModel

log = logging.getLogger(__name__)

#: Key prefixes dropped from taming checkpoints: the training-only loss module
#: (``VQLPIPSWithDiscriminator``: ``loss.perceptual_loss.*``, ``loss.discriminator.*``,
#: ``loss.logvar``).  This is the only ignore rule of the loaders.
TAMING_IGNORED_PREFIXES: tuple[str, ...] = ("loss.",)


class CheckpointError(ValueError):
    """A checkpoint does not match the model (message names the offending keys)."""


def _read(path: str | os.PathLike, weights_only: bool = True) -> Mapping:
    # weights_only=True by default: checkpoints are data, never code.  Real Lightning files
    # may pickle extra objects (hyper-parameters); pass weights_only=False only for files
    # you trust.
    obj = torch.load(os.fspath(path), map_location="cpu", weights_only=weights_only)
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(obj).__name__}")
    return obj


def _section(obj: Mapping, key: str, path) -> Mapping:
    if key not in obj:
        raise CheckpointError(f"{path}: no {key!r} entry (top-level keys: {sorted(obj)})")
    return obj[key]


def load_state_dict_strict(model: nn.Module, state: Mapping[str, torch.Tensor],
                           source: str = "checkpoint") -> None:
    """Copy ``state`` into ``model``; every key must match by name and shape."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k}: checkpoint {tuple(state[k].shape)} != model {tuple(v.shape)}"
             for k, v in expected.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if wrong:
        problems.append("wrong shapes: " + "; ".join(wrong))
    if problems:
        raise CheckpointError(f"{source}: " + " | ".join(problems))
    model.load_state_dict(state, strict=True)


def strip_taming_training_keys(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Apply :data:`TAMING_IGNORED_PREFIXES` (and only it)."""
    kept = {k: v for k, v in state.items() if not k.startswith(TAMING_IGNORED_PREFIXES)}
    if len(kept) != len(state):
        log.info("ignored %d training-only keys (%s)", len(state) - len(kept),
                 ", ".join(TAMING_IGNORED_PREFIXES))
    return kept


def load_vqgan(path, cfg: VQConfig, weights_only: bool = True) -> VQModel:
    """Load a Lightning/taming ``{"state_dict": ...}`` tokenizer checkpoint strictly."""
    state = strip_taming_training_keys(_section(_read(path, weights_only), "state_dict", path))
    model = VQModel(cfg)
    load_state_dict_strict(model, state, source=str(path))
    return model.eval()


def load_maskgit(path, cfg: MaskGITConfig, weights_only: bool = True) -> MaskTransformer:
    """Load a Halton-MaskGIT v1.0 ``{"model_state_dict": ...}`` checkpoint strictly."""
    state = _section(_read(path, weights_only), "model_state_dict", path)
    model = MaskTransformer(cfg)
    load_state_dict_strict(model, state, source=str(path))
    return model.eval()


def save_vqgan(model: VQModel, path, **extra) -> None:
    """Write the tokenizer in the Lightning/taming layout (weights only, plus ``extra``)."""
    torch.save({"state_dict": model.state_dict(), **extra}, os.fspath(path))


def save_maskgit(model: MaskTransformer, path, **extra) -> None:
    """Write the transformer in the Halton-MaskGIT v1.0 layout."""
    torch.save({"model_state_dict": model.state_dict(), **extra}, os.fspath(path))
