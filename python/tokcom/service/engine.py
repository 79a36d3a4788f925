"""The served models behind a numpy interface: tokenize, detokenize, mask-and-predict.

This is the only service module that imports torch.  Inputs arrive already validated
(``validation.py``); the engine converts uint8 images / uint16 tokens to tensors, runs the
models from ``tokcom.models`` and converts back.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from pathlib import Path

import numpy as np
import torch

from ..models import (
    SCHEDULES,
    ImageGeometry,
    MaskTransformer,
    VQModel,
    crop_output,
    default_model_dir,
    halton_maskgit_v1_base,
    load_bundle,
    load_maskgit,
    load_vqgan,
    mask_predict,
    taming_vqgan_f16_1024,
    to_model_input,
)
from .precision import serving_transformer
from .validation import Limits, ModelSpec

log = logging.getLogger("tokcom.service.engine")

MAX_CODEBOOK = 2**16  # tokens travel as uint16


def _mask_predict_defaults() -> dict:
    """Decoding defaults = mask_predict's own keyword defaults (one source of truth)."""
    params = inspect.signature(mask_predict).parameters
    return {k: params[k].default
            for k in ("steps", "schedule", "temperature", "seed", "llr_weight")}


def _digest(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:12]


class ModelEngine:
    def __init__(self, tokenizer: VQModel, transformer: MaskTransformer,
                 geometry: ImageGeometry, model_id: str, class_names=(), device: str = "cpu",
                 defaults: dict | None = None, bf16: bool = False, fill_token: int = 0,
                 precision: str = "float32"):
        tcfg, mcfg = tokenizer.config, transformer.config
        if (mcfg.grid_h, mcfg.grid_w) != tuple(tcfg.grid):
            raise ValueError(f"transformer grid {(mcfg.grid_h, mcfg.grid_w)} != tokenizer grid "
                             f"{tuple(tcfg.grid)}")
        if mcfg.codebook_size != tcfg.n_embed:
            raise ValueError(f"transformer codebook {mcfg.codebook_size} != tokenizer "
                             f"codebook {tcfg.n_embed}")
        if mcfg.codebook_size > MAX_CODEBOOK:
            raise ValueError(f"codebook {mcfg.codebook_size} does not fit uint16 tokens")
        if geometry.padded_size != tcfg.resolution:
            raise ValueError(f"image {geometry.image_size} + 2*{geometry.pad} padding != "
                             f"tokenizer resolution {tcfg.resolution}")
        self.device = torch.device(device)
        self.tokenizer = tokenizer.to(self.device).eval()
        self.transformer = transformer.to(self.device).eval()
        # Same function, about 2x faster on CPU (fused attention, oneDNN linears, last block
        # only at masked positions; see models/inference.py).  Equal to float32 rounding,
        # or int8 blocks where the start-up self-check allows it (precision.py).
        self._fast = serving_transformer(self.transformer, precision)
        self.precision = "int8" if self._fast.int8 else "float32"
        self.geometry = geometry
        self.model_id = model_id
        self.class_names = tuple(class_names)
        self.defaults = {**_mask_predict_defaults(), **(defaults or {})}
        # bfloat16 autocast for the transformer: opt-in.  It was ~1.4x faster per frame
        # with the plain forward pass; with InferenceTransformer's float32 path it gains
        # nothing measurable on the reference CPU (docs/service.md), and the logits round
        # differently, so predictions can differ from float32.
        self.bf16 = bf16
        if not 0 <= fill_token < mcfg.codebook_size:
            raise ValueError(f"fill token {fill_token} outside the codebook")
        self.fill_token = int(fill_token)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_bundle(cls, directory=None, device: str = "cpu", model_id: str | None = None,
                    defaults: dict | None = None, bf16: bool = False,
                    precision: str = "float32") -> ModelEngine:
        d = Path(directory) if directory is not None else default_model_dir()
        b = load_bundle(d, with_classifier=False)
        files = [d / n for n in ("config.json", "tokenizer.pt", "transformer.pt")]
        mid = model_id or f"{d.name}@{_digest(files)}"
        # A bundle may record its preferred decoding in notes["decoding"], and a calibration
        # fitted after training (calibration.json: the LLR weight of the soft receiver,
        # docs/models.md) outside the digested files; CLI wins.
        cal_path = d / "calibration.json"
        cal = json.loads(cal_path.read_text()).get("decoding", {}) if cal_path.exists() else {}
        merged = {**b.config.notes.get("decoding", {}), **cal, **(defaults or {})}
        log.info("loaded bundle %s (model id %s)", d, mid)
        return cls(b.tokenizer, b.transformer, b.config.geometry, mid, b.config.class_names,
                   device, merged, bf16, b.config.fill_token, precision)

    @classmethod
    def from_checkpoints(cls, vqgan_path, maskgit_path, device: str = "cpu",
                         model_id: str | None = None, trust_pickles: bool = False,
                         defaults: dict | None = None, bf16: bool = False,
                         precision: str = "float32") -> ModelEngine:
        """Public taming VQGAN f16/1024 + Halton-MaskGIT v1.0 base checkpoints (256x256 RGB)."""
        tok = load_vqgan(vqgan_path, taming_vqgan_f16_1024(), weights_only=not trust_pickles)
        tr = load_maskgit(maskgit_path, halton_maskgit_v1_base(),
                          weights_only=not trust_pickles)
        geometry = ImageGeometry(image_size=tok.config.resolution, pad=0)
        mid = model_id or f"vqgan-maskgit@{_digest([vqgan_path, maskgit_path])}"
        log.info("loaded checkpoints %s + %s (model id %s)", vqgan_path, maskgit_path, mid)
        return cls(tok, tr, geometry, mid, (), device, defaults, bf16, 0, precision)

    # -- description --------------------------------------------------------------------

    def spec(self, limits: Limits) -> ModelSpec:
        mcfg, tcfg = self.transformer.config, self.tokenizer.config
        d = self.defaults
        return ModelSpec(
            model_id=self.model_id, grid_h=mcfg.grid_h, grid_w=mcfg.grid_w,
            codebook_size=mcfg.codebook_size, num_classes=mcfg.nclass,
            image_height=self.geometry.image_size, image_width=self.geometry.image_size,
            image_channels=tcfg.in_channels, default_steps=int(d["steps"]),
            default_schedule=str(d["schedule"]), default_temperature=float(d["temperature"]),
            default_seed=int(d["seed"] or 0), schedules=tuple(SCHEDULES),
            class_names=self.class_names, fill_token=self.fill_token, limits=limits,
            default_llr_weight=float(d["llr_weight"]))

    # -- operations ---------------------------------------------------------------------

    @torch.inference_mode()
    def tokenize(self, images: np.ndarray) -> np.ndarray:
        """uint8 (B, H, W) or (B, H, W, C) -> uint16 tokens (B, h, w)."""
        x = torch.from_numpy(np.array(images, dtype=np.uint8))
        if x.dim() == 4:
            x = x.permute(0, 3, 1, 2)  # channels-last on the wire, channels-first in torch
        x = to_model_input(x.to(self.device), self.geometry)
        return self.tokenizer.tokenize(x).cpu().numpy().astype(np.uint16)

    @torch.inference_mode()
    def detokenize(self, tokens: np.ndarray) -> np.ndarray:
        """uint16 tokens (B, h, w) -> uint8 images (B, H, W) (1 channel) or (B, H, W, C)."""
        t = torch.from_numpy(tokens.astype(np.int64)).to(self.device)
        x = crop_output(self.tokenizer.decode_tokens(t), self.geometry)
        u8 = ((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu()
        if u8.shape[1] == 1:
            return u8[:, 0].numpy()
        return u8.permute(0, 2, 3, 1).contiguous().numpy()

    def predict(self, tokens: np.ndarray, mask: np.ndarray, labels: np.ndarray | None,
                steps: int, schedule: str, temperature: float, seed: int,
                llrs: np.ndarray | None = None, llr_weight: float | None = None,
                candidates: int = 0):
        """-> (uint16 tokens (B, h, w), float32 confidence (B, h, w)); with candidates = k
        > 0 also uint16 (B, h*w, k) candidate tokens and float32 log-probs (protocol v2).

        llrs: None or float32 (B, h*w, b) bit LLRs fused at masked positions
        (models/decoding.py); llr_weight None = the calibrated default."""
        t = torch.from_numpy(tokens.astype(np.int64))
        m = torch.from_numpy(np.array(mask, dtype=np.bool_))
        lab = None if labels is None else torch.from_numpy(labels.astype(np.int64))
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16,
                                                     enabled=self.bf16):
            out = mask_predict(self._fast, t, m, lab, steps=steps, schedule=schedule,
                               temperature=temperature, seed=seed,
                               bit_llrs=None if llrs is None else torch.from_numpy(
                                   np.array(llrs, dtype=np.float32)),
                               llr_weight=(self.defaults["llr_weight"] if llr_weight is None
                                           else llr_weight),
                               candidates=candidates)
        res = (out[0].cpu().numpy().astype(np.uint16),
               out[1].cpu().numpy().astype(np.float32, copy=False))
        if candidates > 0:
            res += (out[2].cpu().numpy().astype(np.uint16),
                    out[3].cpu().numpy().astype(np.float32, copy=False))
        return res
