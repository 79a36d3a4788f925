"""Side-by-side pictures of a received frame: original | VQ-only (lost areas marked) |
predicted, and the frame evaluator's "images" PDU that carries them (docs/formats.md).
Used by the frame evaluator, the frame image panel and the demo's grids."""

from pathlib import Path

import numpy as np
import pmt

SCALE = 4  # Fashion-MNIST's 28 x 28 pixels are too small to look at


def mark_lost(image, mask):
    """The image with the pixels of lost token positions brightened."""
    h, w = image.shape[:2]
    gh, gw = mask.shape
    cell = np.kron(mask, np.ones((-(-h // gh), -(-w // gw)), bool))[:h, :w]
    marked = image.copy()
    marked[cell] = 255 - marked[cell] // 4
    return marked


def images_pdu(frame_id: int, predictor: str, original, received, predicted, mask):
    """The "images" PDU of one completed frame (docs/formats.md, Images PDU). original
    None (no reference) travels as a zero image with has_original False."""
    stack = np.stack([np.zeros_like(received) if original is None else original,
                      received, predicted]).astype(np.uint8)
    mask = np.asarray(mask, bool)
    meta = pmt.to_pmt({"frame_id": int(frame_id), "predictor": str(predictor),
                       "shape": [int(n) for n in stack.shape],
                       "has_original": original is not None,
                       "grid_h": int(mask.shape[0]), "grid_w": int(mask.shape[1])})
    meta = pmt.dict_add(meta, pmt.intern("mask"), pmt.to_pmt(mask.astype(np.uint8).ravel()))
    return pmt.cons(meta, pmt.to_pmt(stack.ravel()))


def parse_images_pdu(msg):
    """(meta dict, images (3, H, W[, C]) uint8, mask (grid_h, grid_w) bool) of an
    "images" PDU; ValueError naming what is wrong."""
    if not pmt.is_pair(msg) or not pmt.is_dict(pmt.car(msg)):
        raise ValueError("not a PDU with a meta dict")
    if not pmt.is_u8vector(pmt.cdr(msg)):
        raise ValueError("images must be a u8vector")
    meta = pmt.to_python(pmt.car(msg))
    try:
        shape = tuple(int(n) for n in meta["shape"])
        grid = int(meta["grid_h"]), int(meta["grid_w"])
        mask = np.asarray(meta["mask"], np.uint8)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"images meta lacks shape, grid_h, grid_w or mask ({err})") from None
    data = pmt.to_python(pmt.cdr(msg))
    if len(shape) not in (3, 4) or shape[0] != 3 or data.size != int(np.prod(shape)):
        raise ValueError(f"{data.size} bytes do not make 3 images of shape {shape[1:]}")
    if mask.size != grid[0] * grid[1] or min(grid) < 1:
        raise ValueError(f"mask of {mask.size} flags for a {grid[0]}x{grid[1]} grid")
    return meta, data.reshape(shape), mask.astype(bool).reshape(grid)


def frame_row(original, vq_only, predicted, mask):
    return np.concatenate([original, mark_lost(vq_only, mask), predicted], axis=1)


def write_png(path: Path, picture) -> None:
    from PIL import Image

    img = Image.fromarray(np.asarray(picture, np.uint8))
    img.resize((img.width * SCALE, img.height * SCALE), Image.NEAREST).save(path)
