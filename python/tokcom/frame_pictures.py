"""Side-by-side pictures of a received frame: original | VQ-only (lost areas marked) |
predicted. Used by the frame evaluator and the demo's grids."""

from pathlib import Path

import numpy as np

SCALE = 4  # Fashion-MNIST's 28 x 28 pixels are too small to look at


def mark_lost(image, mask):
    """The image with the pixels of lost token positions brightened."""
    h, w = image.shape[:2]
    gh, gw = mask.shape
    cell = np.kron(mask, np.ones((-(-h // gh), -(-w // gw)), bool))[:h, :w]
    marked = image.copy()
    marked[cell] = 255 - marked[cell] // 4
    return marked


def frame_row(original, vq_only, predicted, mask):
    return np.concatenate([original, mark_lost(vq_only, mask), predicted], axis=1)


def write_png(path: Path, picture) -> None:
    from PIL import Image

    img = Image.fromarray(np.asarray(picture, np.uint8))
    img.resize((img.width * SCALE, img.height * SCALE), Image.NEAREST).save(path)
