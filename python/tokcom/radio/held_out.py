"""The held-out images both ends agree on: Fashion-MNIST test image i is frame_id i.

The TX sends them; the RX tokenizes the same images with the same model service to get
the reference of each frame it receives (the reference travels nowhere over the air).
"""

import numpy as np

from ..frame_pdu import Frame
from ..image_files import fashion_mnist_test

TOKENIZE_BATCH = 16
FRAME_ID_MODULUS = 1 << 16  # the burst header carries frame_id mod 2^16 (docs/ota.md)


def held_out_frames(client, info: dict, first: int, count: int, with_images: bool = False):
    """Yields the Frame of test images first ... first + count - 1 (frame_id = index mod
    2^16), tokenized by the service; with_images puts the picture in meta "image"."""
    images, labels = fashion_mnist_test()
    if first < 0 or count < 0 or first + count > len(images):
        raise ValueError(f"images {first} ... {first + count - 1}: the test split has "
                         f"{len(images)}")
    for start in range(first, first + count, TOKENIZE_BATCH):
        idx = np.arange(start, min(start + TOKENIZE_BATCH, first + count))
        tokens = client.tokenize(images[idx])
        for j, i in enumerate(idx):
            frame = Frame(np.asarray(tokens[j], np.uint16), int(i) % FRAME_ID_MODULUS,
                          info["codebook_size"], label=int(labels[i]),
                          model_id=info["model_id"])
            if with_images:
                frame.meta = {"image": np.ascontiguousarray(images[i], np.uint8).ravel(),
                              "image_shape": list(images[i].shape)}
            yield frame
