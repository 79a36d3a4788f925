"""Fashion-MNIST from the IDX files of Debian's ``dataset-fashion-mnist`` package."""

from __future__ import annotations

import numpy as np
import torch

from ..image_files import FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashion_mnist_dir, read_idx

DEFAULT_DIR = FASHION_MNIST_DIR
CLASS_NAMES = list(FASHION_MNIST_CLASSES)
_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def load_split(split: str, directory=None) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (images uint8 (N, 28, 28), labels int64 (N,)) of the official split."""
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    d = fashion_mnist_dir(directory)  # honours $TOKCOM_FASHION_MNIST
    img_name, lab_name = _FILES[split]
    images = torch.from_numpy(read_idx(d / img_name).copy())
    labels = torch.from_numpy(read_idx(d / lab_name).astype(np.int64))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{d}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels
