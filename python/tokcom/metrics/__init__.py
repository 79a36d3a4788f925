"""Image quality metrics for TokCom reconstructions (imports torch and torchmetrics)."""

from .perceptual import LPIPS, CLIPImageSimilarity, MetricUnavailableError
from .quality import mean_ci95, ms_ssim, ms_ssim_params, psnr, ssim
from .semantic import classifier_correct

__all__ = [
    "LPIPS",
    "CLIPImageSimilarity",
    "MetricUnavailableError",
    "classifier_correct",
    "mean_ci95",
    "ms_ssim",
    "ms_ssim_params",
    "psnr",
    "ssim",
]
