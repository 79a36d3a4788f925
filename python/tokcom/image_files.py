"""Images for the image token source: the Fashion-MNIST test split or picture files.

numpy and Pillow only (flowgraph processes never import torch); the training code reads
Fashion-MNIST through the same reader.
"""

import gzip
import os
import struct
from pathlib import Path

import numpy as np

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian dataset-fashion-mnist
FASHION_MNIST_ENV = "TOKCOM_FASHION_MNIST"  # overrides FASHION_MNIST_DIR
FASHION_MNIST_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                       "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_idx(path) -> np.ndarray:
    """An IDX file (the MNIST format), gzipped or not: magic 0x0000 08 <ndim>, big-endian
    uint32 dims, uint8 data."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist_dir(explicit=None) -> Path:
    """`explicit`, else $TOKCOM_FASHION_MNIST, else Debian's dataset directory."""
    return Path(explicit or os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DIR)


def fashion_mnist_split(split: str, directory=None):
    """An official split ("train" or "test"): (images (N, 28, 28) uint8, labels (N,) int)."""
    if split not in FASHION_MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    d = fashion_mnist_dir(directory)
    image_file, label_file = FASHION_MNIST_FILES[split]
    images, labels = read_idx(d / image_file), read_idx(d / label_file).astype(int)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{d}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


def fashion_mnist_test(directory=None):
    """The held-out test split: (images (10000, 28, 28) uint8, labels (10000,) int)."""
    return fashion_mnist_split("test", directory)


def fashion_mnist_train(directory=None):
    """The training split (60000 images): for calibration only, never for results."""
    d = fashion_mnist_dir(directory)
    images = read_idx(d / "train-images-idx3-ubyte.gz")
    labels = read_idx(d / "train-labels-idx1-ubyte.gz").astype(int)
    return images, labels


def list_image_files(spec: str) -> list[Path]:
    """A folder (its image files, sorted) or a comma-separated list of files."""
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    else:
        files = [Path(s.strip()) for s in spec.split(",") if s.strip()]
    missing = [str(p) for p in files if not p.is_file()]
    if missing or not files:
        raise FileNotFoundError(f"no images at {spec!r}" + (f": missing {missing}" if missing
                                                           else ""))
    return files


def load_image(path: Path, height: int, width: int, channels: int) -> np.ndarray:
    """A picture file resized to the model's geometry: uint8 (H, W) or (H, W, C)."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("L" if channels == 1 else "RGB").resize((width, height),
                                                                 Image.Resampling.BICUBIC)
        return np.asarray(im, dtype=np.uint8)
