"""Classical-codec baseline: JPEG (Pillow's libjpeg) at the TokCom frame's bit budget.

No learned image codec with weights is available offline, so the closest classical
stand-in is used: each image is coded at the highest JPEG quality whose whole file
(headers included, Huffman tables optimised) fits the budget, then sent as 40-bit
packets with ARQ (a JPEG stream does not survive lost packets).
"""

import io

import numpy as np
from PIL import Image

QUALITIES = range(1, 96)


def encode(image: np.ndarray, budget_bits: int) -> tuple[bytes, int]:
    """(JPEG file, quality) for a uint8 (H, W) image: the highest quality <= budget.

    Quality 1 is returned even when it exceeds the budget (report the real bpp)."""
    def code(q):
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "JPEG", quality=q, optimize=True)
        return buf.getvalue()

    lo, hi = QUALITIES[0], QUALITIES[-1]
    best = (code(lo), lo)
    while lo <= hi:  # file size grows with quality
        mid = (lo + hi) // 2
        data = code(mid)
        if len(data) * 8 <= budget_bits:
            best, lo = (data, mid), mid + 1
        else:
            hi = mid - 1
    return best


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def to_packets(data: bytes, payload_bytes: int) -> list[bytes]:
    """Splits a file into packet payloads (the last one zero-padded; the receiver is
    assumed to know the file length, e.g. from a header not counted here)."""
    padded = data + bytes(-len(data) % payload_bytes)
    return [padded[i:i + payload_bytes] for i in range(0, len(padded), payload_bytes)]


def from_packets(packets: list[bytes], n_bytes: int) -> bytes:
    return b"".join(packets)[:n_bytes]
