"""Pixel-level image quality metrics (per image, via torchmetrics).

All functions take images in [-1, 1] (the tokenizer's range), shape (B, C, H, W), and
return one value per image (shape (B,)) so callers can form confidence intervals.
"""

from __future__ import annotations

import torch
from torchmetrics.functional.image import (
    multiscale_structural_similarity_index_measure,
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

DATA_RANGE = 2.0  # [-1, 1]

# MS-SSIM on small images: the standard 5 scales with an 11x11 window need at least
# 11 * 2**4 = 176 pixels per side.  For 28x28/32x32 we use 3 scales, a 3x3 Gaussian
# window (sigma 0.5) and the first three standard scale weights renormalised to sum to 1.
_STD_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _check(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"need two (B, C, H, W) tensors of equal shape, got "
                         f"{tuple(pred.shape)} and {tuple(target.shape)}")


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (peak = full [-1, 1] range)."""
    _check(pred, target)
    return peak_signal_noise_ratio(pred.float(), target.float(), data_range=DATA_RANGE,
                                   reduction="none", dim=(1, 2, 3))


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SSIM per image (11x11 Gaussian window, sigma 1.5, the usual constants)."""
    _check(pred, target)
    return structural_similarity_index_measure(pred.float(), target.float(),
                                               data_range=DATA_RANGE, reduction="none")


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
        pred.float(), target.float(), data_range=DATA_RANGE, reduction="none", **params)


def mean_ci95(values: torch.Tensor) -> tuple[float, float]:
    """Mean and half-width of a normal-approximation 95 % confidence interval."""
    v = values.double().flatten()
    n = v.numel()
    if n == 0:
        return float("nan"), float("nan")
    half = 1.96 * v.std(unbiased=True).item() / n ** 0.5 if n > 1 else float("nan")
    return v.mean().item(), half
