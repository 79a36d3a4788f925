"""Pixel-level image quality metrics (per image).

All functions take images in [-1, 1] (the tokenizer's range), shape (B, C, H, W), and
return one value per image (shape (B,)) so callers can form confidence intervals.
They compare the images mapped to intensities in [0, 1], as the flowgraph compares uint8
images (SSIM depends on the offset).  PSNR and SSIM are the project's one definition in
``frame_quality`` (torch-free, shared with the flowgraph); MS-SSIM, which only the model
card reports, comes from torchmetrics.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

from .. import frame_quality

# MS-SSIM on small images: the standard 5 scales with an 11x11 window need at least
# 11 * 2**4 = 176 pixels per side.  For 28x28/32x32 we use 3 scales, a 3x3 Gaussian
# window (sigma 0.5) and the first three standard scale weights renormalised to sum to 1.
_STD_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _check(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"need two (B, C, H, W) tensors of equal shape, got "
                         f"{tuple(pred.shape)} and {tuple(target.shape)}")


def _per_image(fn, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """fn(reference, image, data_range) per image, on intensities in [0, 1].

    SSIM's luminance term is not invariant to an offset: it must see non-negative
    intensities, as the flowgraph's uint8 images are (x / 255 there, (x + 1) / 2 here
    give the same values). PSNR is the same either way."""
    _check(pred, target)

    def unit(x):
        return ((x.detach().cpu().double() + 1) / 2).numpy().transpose(0, 2, 3, 1)

    p, t = unit(pred), unit(target)  # (B, H, W, C)
    if p.shape[-1] == 1:
        p, t = p[..., 0], t[..., 0]
    return torch.tensor(np.array([fn(b, a, 1.0) for a, b in zip(p, t, strict=True)]),
                        dtype=torch.float32)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (peak = full [-1, 1] range)."""
    return _per_image(frame_quality.psnr, pred, target)


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SSIM per image (``frame_quality.ssim``: 11x11 Gaussian window, sigma 1.5) of the
    images mapped to [0, 1]."""
    return _per_image(frame_quality.ssim, pred, target)


def ms_ssim_params(size: int) -> dict:
    """Scales/window for MS-SSIM that fit an image side of ``size`` pixels."""
    if size >= 176:
        return {"kernel_size": 11, "sigma": 1.5, "betas": _STD_BETAS}
    scales = 3 if size >= 16 else 2
    betas = _STD_BETAS[:scales]
    total = sum(betas)
    return {"kernel_size": 3, "sigma": 0.5, "betas": tuple(b / total for b in betas)}


def ms_ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Multi-scale SSIM per image with scales adapted to the image size (see module doc)."""
    _check(pred, target)
    params = ms_ssim_params(min(pred.shape[-2:]))
    return multiscale_structural_similarity_index_measure(
        (pred.float() + 1) / 2, (target.float() + 1) / 2, data_range=1.0, reduction="none",
        **params)


def mean_ci95(values: torch.Tensor) -> tuple[float, float]:
    """Mean and half-width of a normal-approximation 95 % confidence interval."""
    v = values.double().flatten()
    n = v.numel()
    if n == 0:
        return float("nan"), float("nan")
    half = 1.96 * v.std(unbiased=True).item() / n ** 0.5 if n > 1 else float("nan")
    return v.mean().item(), half
