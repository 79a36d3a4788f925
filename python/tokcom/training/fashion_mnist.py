"""Fashion-MNIST from the IDX files of Debian's ``dataset-fashion-mnist`` package."""

from __future__ import annotations

import numpy as np
import torch

from ..image_files import FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashion_mnist_split

DEFAULT_DIR = FASHION_MNIST_DIR
CLASS_NAMES = list(FASHION_MNIST_CLASSES)


def load_split(split: str, directory=None) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (images uint8 (N, 28, 28), labels int64 (N,)) of the official split, read from
    `directory`, else $TOKCOM_FASHION_MNIST, else Debian's dataset directory."""
    images, labels = fashion_mnist_split(split, directory)
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))
