"""Frame PDUs in Python: the metadata keys of docs/formats.md and numpy <-> PMT helpers.

C++ blocks use the same key names (lib/frame_keys.h). A frame PDU is
(meta dict, u16vector of grid_h * grid_w tokens, row-major); a received frame
also carries meta["mask"] (u8vector, 1 = token lost).
"""

import threading
from collections import OrderedDict
from collections.abc import MutableMapping
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
# Keys that Frame holds as attributes; FrameMeta holds every other key.
FRAME_KEYS = (FRAME_ID, GRID_H, GRID_W, CODEBOOK_SIZE, LABEL, MODEL_ID, MASK)


class FrameMeta(MutableMapping):
    """The frame meta's other keys, converted to Python only when read.

    A block that passes a frame on reads the few keys it needs; the others stay PMT and
    go out unchanged, so no hop converts (or boxes) the whole dict. Values set here are
    converted with pmt.to_pmt (numpy arrays become uniform vectors).
    """

    def __init__(self, values=None, base=None):
        self._base = base if base is not None else pmt.make_dict()  # PMT dict, read-only
        self._py = dict(values or {})  # read or set values
        self._removed = set()

    def _base_keys(self):
        keys, rest = [], pmt.dict_keys(self._base)
        while pmt.is_pair(rest):
            keys.append(pmt.symbol_to_string(pmt.car(rest)))
            rest = pmt.cdr(rest)
        return [k for k in keys if k not in FRAME_KEYS and k not in self._removed]

    def __getitem__(self, key):
        if key in self._py:
            return self._py[key]
        if key in FRAME_KEYS or key in self._removed:
            raise KeyError(key)
        k = pmt.intern(key)
        if not pmt.dict_has_key(self._base, k):
            raise KeyError(key)
        value = self._py[key] = pmt.to_python(pmt.dict_ref(self._base, k, pmt.PMT_NIL))
        return value

    def __setitem__(self, key, value):
        if key in FRAME_KEYS:
            raise KeyError(f"{key!r} is a Frame attribute, not a meta key")
        self._removed.discard(key)
        self._py[key] = value

    def __delitem__(self, key):
        present = key in self
        self._py.pop(key, None)
        if not present:
            raise KeyError(key)
        self._removed.add(key)

    def __iter__(self):
        yield from self._py
        yield from (k for k in self._base_keys() if k not in self._py)

    def __len__(self):
        return sum(1 for _ in self)

    def __contains__(self, key):
        if key in self._py:
            return True
        return (key not in FRAME_KEYS and key not in self._removed
                and bool(pmt.dict_has_key(self._base, pmt.intern(key))))

    def to_pmt(self):
        """The PMT dict: untouched keys as they came, the others converted."""
        meta = self._base
        for key in self._removed:
            meta = pmt.dict_delete(meta, pmt.intern(key))
        for key, value in self._py.items():
            meta = pmt.dict_add(meta, pmt.intern(key), pmt.to_pmt(value))
        return meta


@dataclass
class Frame:
    """One image's token grid with its metadata."""

    tokens: np.ndarray  # (grid_h, grid_w) uint16
    frame_id: int
    codebook_size: int
    label: int = NO_LABEL
    model_id: str = ""
    mask: np.ndarray | None = None  # (grid_h, grid_w) bool, True = lost; None = all received
    meta: MutableMapping = field(default_factory=dict)  # every other key (FrameMeta)

    def __post_init__(self):
        if not isinstance(self.meta, FrameMeta):
            self.meta = FrameMeta(self.meta)

    @property
    def n_masked(self) -> int:
        return 0 if self.mask is None else int(self.mask.sum())


def make_frame_pdu(frame: Frame) -> "pmt.pmt_base":
    """Builds the PMT frame PDU for `frame` (the mask, if any, goes into the meta)."""
    tokens = np.ascontiguousarray(frame.tokens, dtype=np.uint16)
    if tokens.ndim != 2:
        raise ValueError(f"tokens must be a 2-D grid, got shape {tokens.shape}")
    meta = frame.meta.to_pmt() if isinstance(frame.meta, FrameMeta) \
        else FrameMeta(frame.meta).to_pmt()
    fields = {
        FRAME_ID: pmt.from_uint64(int(frame.frame_id)),
        GRID_H: pmt.from_uint64(tokens.shape[0]),
        GRID_W: pmt.from_uint64(tokens.shape[1]),
        CODEBOOK_SIZE: pmt.from_uint64(int(frame.codebook_size)),
        LABEL: pmt.from_long(int(frame.label)),
        MODEL_ID: pmt.intern(frame.model_id),
    }
    if frame.mask is not None:
        fields[MASK] = pmt.to_pmt(np.ascontiguousarray(frame.mask, np.uint8).ravel())
    else:
        meta = pmt.dict_delete(meta, pmt.intern(MASK))
    for key, value in fields.items():
        meta = pmt.dict_add(meta, pmt.intern(key), value)
    return pmt.cons(meta, pmt.to_pmt(tokens.ravel()))


def _integer(meta, key, default=None):
    value = pmt.dict_ref(meta, pmt.intern(key), pmt.PMT_NIL)
    if pmt.is_null(value) and default is not None:
        return default
    if pmt.is_null(value):
        raise ValueError(f"frame meta lacks {key!r}")
    if pmt.is_uint64(value):
        return int(pmt.to_uint64(value))
    if pmt.is_integer(value):
        return int(pmt.to_long(value))
    raise ValueError(f"frame meta {key!r} is not an integer")


def parse_frame_pdu(msg: "pmt.pmt_base") -> Frame:
    """Reads a frame PDU; raises ValueError naming what is wrong. Only the frame keys
    are converted; the rest of the meta stays PMT (FrameMeta)."""
    if not pmt.is_pair(msg) or not pmt.is_dict(pmt.car(msg)):
        raise ValueError("not a PDU with a meta dict")
    if not pmt.is_u16vector(pmt.cdr(msg)):
        raise ValueError("frame tokens must be a u16vector")
    meta = pmt.car(msg)
    h, w = _integer(meta, GRID_H), _integer(meta, GRID_W)
    frame_id, q = _integer(meta, FRAME_ID), _integer(meta, CODEBOOK_SIZE)
    tokens = pmt.to_python(pmt.cdr(msg))
    if tokens.size != h * w:
        raise ValueError(f"{tokens.size} tokens for a {h}x{w} grid")
    mask = pmt.dict_ref(meta, pmt.intern(MASK), pmt.PMT_NIL)
    if pmt.is_null(mask):
        mask = None
    elif pmt.is_u8vector(mask) and pmt.length(mask) == h * w:
        mask = pmt.to_python(mask).astype(bool).reshape(h, w)
    else:
        raise ValueError(f"frame mask must be a u8vector of {h * w} flags")
    model_id = pmt.dict_ref(meta, pmt.intern(MODEL_ID), pmt.PMT_NIL)
    return Frame(
        tokens=np.array(tokens, np.uint16).reshape(h, w),
        frame_id=frame_id,
        codebook_size=q,
        label=_integer(meta, LABEL, NO_LABEL),
        model_id=pmt.symbol_to_string(model_id) if pmt.is_symbol(model_id) else "",
        mask=mask,
        meta=FrameMeta(base=meta),
    )


def parse_or_drop(msg, drop_log, logger, what="frame") -> Frame | None:
    """The frame of msg, or None after counting and logging it as malformed (DropLog)."""
    try:
        return parse_frame_pdu(msg)
    except ValueError as err:
        drop_log(logger, f"malformed {what}", err)
        return None


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
