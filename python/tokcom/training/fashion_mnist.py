"""Fashion-MNIST from the IDX files of Debian's ``dataset-fashion-mnist`` package."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import torch

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def data_dir(explicit=None) -> Path:
    return Path(explicit or os.environ.get("TOKCOM_FASHION_MNIST", DEFAULT_DIR))


def load_split(split: str, directory=None) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (images uint8 (N, 28, 28), labels int64 (N,)) of the official split."""
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    d = data_dir(directory)
    img_name, lab_name = _FILES[split]
    images = torch.from_numpy(_read_idx(d / img_name).copy())
    labels = torch.from_numpy(_read_idx(d / lab_name).astype(np.int64))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{d}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels
