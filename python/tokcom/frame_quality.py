"""Per-frame quality of a received and predicted token frame (numpy + scikit-image).

TER follows the TokCom paper: the fraction of token positions that differ from the sent
frame, before prediction (lost tokens count as errors) and after it. PSNR and SSIM compare
decoded images with the original image; SSIM is scikit-image's (Wang et al. 2004, 7x7
window); images are uint8 with data range 255.
"""

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def token_error_rates(sent, received, mask, predicted) -> dict:
    """TER before and after prediction, and the accuracy on the lost positions."""
    sent, received, predicted = (np.asarray(a) for a in (sent, received, predicted))
    mask = np.asarray(mask, bool)
    n = sent.size
    wrong_before = mask | (received != sent)
    wrong_after = predicted != sent
    lost = int(mask.sum())
    return {
        "n_tokens": n,
        "n_masked": lost,
        "ter_before": float(wrong_before.sum() / n),
        "ter_after": float(wrong_after.sum() / n),
        "masked_accuracy": float((~wrong_after[mask]).mean()) if lost else float("nan"),
    }


def image_quality(reference, image) -> dict:
    """PSNR (dB) and SSIM of `image` against `reference` (uint8, (H, W) or (H, W, C))."""
    ref = np.asarray(reference, np.uint8)
    img = np.asarray(image, np.uint8)
    channel_axis = None if ref.ndim == 2 else -1
    return {
        "psnr": float(peak_signal_noise_ratio(ref, img, data_range=255)),
        "ssim": float(structural_similarity(ref, img, data_range=255,
                                            channel_axis=channel_axis)),
    }


def tce(n_tokens, channel_uses, bits_per_token, transmissions=1.0) -> float:
    """Token communication efficiency h*w / (T * N * log2 Q) of the TokCom paper:
    N channel uses carry the frame, T = 1 for TokCom and 1 / (1 - PER) with ARQ."""
    return float(n_tokens / (transmissions * channel_uses * bits_per_token))
