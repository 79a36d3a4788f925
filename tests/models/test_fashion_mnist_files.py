"""One IDX reader (image_files.read_idx) for the flowgraph's image source and the
training/evaluation code; both honour $TOKCOM_FASHION_MNIST."""

import gzip
import struct

import numpy as np
import pytest

from gnuradio.tokcom.image_files import fashion_mnist_test, read_idx
from gnuradio.tokcom.training.fashion_mnist import load_split


def _write_idx(path, array, compress=True):
    data = struct.pack(">HBB", 0, 0x08, array.ndim)
    data += struct.pack(">" + "I" * array.ndim, *array.shape) + array.astype(np.uint8).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


@pytest.fixture
def fake_dataset(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    for split in ("t10k", "train"):
        _write_idx(tmp_path / f"{split}-images-idx3-ubyte.gz", images)
        _write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", labels)
    monkeypatch.setenv("TOKCOM_FASHION_MNIST", str(tmp_path))
    return images, labels


def test_both_loaders_honour_the_environment_variable(fake_dataset):
    images, labels = fake_dataset
    x, y = fashion_mnist_test()
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    for split in ("test", "train"):
        xt, yt = load_split(split)
        np.testing.assert_array_equal(xt.numpy(), images)
        np.testing.assert_array_equal(yt.numpy(), labels)


def test_read_idx_plain_and_gzip_and_rejects_other_files(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.idx", a, compress=False)
    _write_idx(tmp_path / "a.idx.gz", a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), a)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + bytes(8))  # float IDX
    with pytest.raises(ValueError):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00")
    with pytest.raises(ValueError):
        read_idx(tmp_path / "short")
