"""The project's one TER, PSNR and SSIM (numpy + scipy; never torch).

TER follows the TokCom paper: the fraction of token positions that differ from the sent
frame, before prediction (lost tokens count as errors) and after it.

PSNR is 10 log10(data_range^2 / MSE) over all pixels of one image.  SSIM is Wang et al.
2004 with the constants most papers report: 11x11 Gaussian window (sigma 1.5, truncated at
3.5 sigma), K1 = 0.01, K2 = 0.03, population (not sample) variances, clipped at 0.  Like
torchmetrics >= 1.0 (and unlike Wang's MATLAB code and scikit-image, which average only
where the window lies inside the image), the SSIM map is computed at every pixel with the
image mirrored at its border (``d c b | a b c d``) and averaged over all pixels and
channels.  On 28x28 images the two conventions differ by up to ~0.08.  The flowgraph
(uint8 images, data range 255) and the model card (metrics/quality.py, floats in [-1, 1],
data range 2) both call these functions; tests/models/test_metrics.py checks them against
torchmetrics.
"""

import numpy as np
from scipy.ndimage import gaussian_filter

SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # window radius int(3.5 * 1.5 + 0.5) = 5 -> 11x11
SSIM_K1, SSIM_K2 = 0.01, 0.03


def token_error_rates(sent, received, mask, predicted) -> dict:
    """TER before and after prediction, and the accuracy on the lost positions.

    n_wrong counts delivered (unmasked) tokens that differ from the sent ones: errors the
    CRC did not catch. ter_before = (n_masked + n_wrong) / n_tokens.
    """
    sent, received, predicted = (np.asarray(a) for a in (sent, received, predicted))
    mask = np.asarray(mask, bool)
    n = sent.size
    wrong_before = mask | (received != sent)
    wrong_after = predicted != sent
    lost = int(mask.sum())
    return {
        "n_tokens": n,
        "n_masked": lost,
        "n_wrong": int(wrong_before.sum()) - lost,
        "ter_before": float(wrong_before.sum() / n),
        "ter_after": float(wrong_after.sum() / n),
        "masked_accuracy": float((~wrong_after[mask]).mean()) if lost else float("nan"),
    }


def psnr(reference, image, data_range=255.0) -> float:
    """PSNR in dB of `image` against `reference` (any shape; inf if they are equal)."""
    ref = np.asarray(reference, np.float64)
    err = np.mean((ref - np.asarray(image, np.float64)) ** 2)
    with np.errstate(divide="ignore"):
        return float(10 * np.log10(data_range ** 2 / err))


def ssim(reference, image, data_range=255.0) -> float:
    """SSIM (module doc) of `image` against `reference`, (H, W) or (H, W, C)."""
    x = np.asarray(reference, np.float64)
    y = np.asarray(image, np.float64)
    if x.shape != y.shape or x.ndim not in (2, 3):
        raise ValueError(f"need two (H, W) or (H, W, C) images of equal shape, got "
                         f"{x.shape} and {y.shape}")
    sigma = (SSIM_SIGMA, SSIM_SIGMA, 0)[:x.ndim]  # no smoothing across channels

    def mean(a):
        return gaussian_filter(a, sigma, mode="mirror", truncate=SSIM_TRUNCATE)

    mx, my = mean(x), mean(y)
    vx = np.maximum(mean(x * x) - mx * mx, 0.0)
    vy = np.maximum(mean(y * y) - my * my, 0.0)
    cxy = mean(x * y) - mx * my
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    ssim_map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(ssim_map.mean())


def image_quality(reference, image) -> dict:
    """PSNR (dB) and SSIM of `image` against `reference` (uint8, (H, W) or (H, W, C))."""
    ref = np.asarray(reference, np.uint8)
    img = np.asarray(image, np.uint8)
    return {"psnr": psnr(ref, img), "ssim": ssim(ref, img)}


def tce(n_tokens, channel_uses, bits_per_token, transmissions=1.0) -> float:
    """Token communication efficiency h*w / (T * N * log2 Q) of the TokCom paper:
    N channel uses carry the frame, T = 1 for TokCom and 1 / (1 - PER) with ARQ."""
    return float(n_tokens / (transmissions * channel_uses * bits_per_token))
