"""Frame PDUs in Python: the metadata keys of docs/formats.md and numpy <-> PMT helpers.

C++ blocks use the same key names (lib/frame_keys.h). A frame PDU is
(meta dict, u16vector of grid_h * grid_w tokens, row-major); a received frame
also carries meta["mask"] (u8vector, 1 = token lost).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pmt

FRAME_ID = "frame_id"
GRID_H = "grid_h"
GRID_W = "grid_w"
CODEBOOK_SIZE = "codebook_size"
LABEL = "label"
MODEL_ID = "model_id"
MASK = "mask"
CRC_OK = "crc_ok"
NO_LABEL = -1


@dataclass
class Frame:
    """One image's token grid with its metadata (plain Python values)."""

    tokens: np.ndarray  # (grid_h, grid_w) uint16
    frame_id: int
    codebook_size: int
    label: int = NO_LABEL
    model_id: str = ""
    mask: np.ndarray | None = None  # (grid_h, grid_w) bool, True = lost; None = all received
    meta: dict = field(default_factory=dict)  # every other key, converted with pmt.to_python

    @property
    def n_masked(self) -> int:
        return 0 if self.mask is None else int(self.mask.sum())


def make_frame_pdu(frame: Frame) -> "pmt.pmt_base":
    """Builds the PMT frame PDU for `frame` (the mask, if any, goes into the meta)."""
    tokens = np.ascontiguousarray(frame.tokens, dtype=np.uint16)
    if tokens.ndim != 2:
        raise ValueError(f"tokens must be a 2-D grid, got shape {tokens.shape}")
    meta = pmt.make_dict()
    for key, value in frame.meta.items():
        meta = pmt.dict_add(meta, pmt.intern(key), pmt.to_pmt(value))
    fields = {
        FRAME_ID: pmt.from_uint64(int(frame.frame_id)),
        GRID_H: pmt.from_uint64(tokens.shape[0]),
        GRID_W: pmt.from_uint64(tokens.shape[1]),
        CODEBOOK_SIZE: pmt.from_uint64(int(frame.codebook_size)),
        LABEL: pmt.from_long(int(frame.label)),
        MODEL_ID: pmt.intern(frame.model_id),
    }
    if frame.mask is not None:
        mask = np.asarray(frame.mask, np.uint8).ravel()
        fields[MASK] = pmt.init_u8vector(mask.size, mask.tolist())
    for key, value in fields.items():
        meta = pmt.dict_add(meta, pmt.intern(key), value)
    return pmt.cons(meta, pmt.init_u16vector(tokens.size, tokens.ravel().tolist()))


def parse_frame_pdu(msg: "pmt.pmt_base") -> Frame:
    """Reads a frame PDU; raises ValueError naming what is wrong."""
    if not pmt.is_pair(msg) or not pmt.is_dict(pmt.car(msg)):
        raise ValueError("not a PDU with a meta dict")
    if not pmt.is_u16vector(pmt.cdr(msg)):
        raise ValueError("frame tokens must be a u16vector")
    meta = pmt.to_python(pmt.car(msg)) or {}  # an empty dict converts to None
    try:
        h, w = int(meta.pop(GRID_H)), int(meta.pop(GRID_W))
        frame_id = int(meta.pop(FRAME_ID))
        q = int(meta.pop(CODEBOOK_SIZE))
    except KeyError as err:
        raise ValueError(f"frame meta lacks {err.args[0]!r}") from None
    tokens = np.asarray(pmt.u16vector_elements(pmt.cdr(msg)), dtype=np.uint16)
    if tokens.size != h * w:
        raise ValueError(f"{tokens.size} tokens for a {h}x{w} grid")
    mask = meta.pop(MASK, None)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool).reshape(h, w)
    label = meta.pop(LABEL, NO_LABEL)
    return Frame(
        tokens=tokens.reshape(h, w),
        frame_id=frame_id,
        codebook_size=q,
        label=NO_LABEL if label is None else int(label),
        model_id=str(meta.pop(MODEL_ID, "") or ""),
        mask=mask,
        meta=meta,
    )


class RecentFrames:
    """Sent frames waiting for their received copy, by frame_id; the oldest are forgotten
    beyond max_frames. Thread-safe (receivers may take from a worker thread)."""

    def __init__(self, max_frames: int = 1024):
        self.max_frames = max_frames
        self._frames: OrderedDict[int, Frame] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, frame: Frame) -> None:
        with self._lock:
            self._frames[frame.frame_id] = frame
            while len(self._frames) > self.max_frames:
                self._frames.popitem(last=False)

    def take(self, frame_id: int) -> Frame | None:
        with self._lock:
            return self._frames.pop(frame_id, None)
