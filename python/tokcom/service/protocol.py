"""Wire format of the TokCom model service, protocol versions 1 and 2 (spec: docs/protocol.md).

Version 2 adds optional channel information to ``predict`` (per-position bit LLRs, an
LLR weight, top-k candidates in the reply); every version-1 request is valid and means
the same under version 2, and a reply carries the version of its request.

A message is ``[header, payload 0, ..., payload n-1]`` after the ZMQ envelope: the header
is a UTF-8 JSON object, each payload frame is one array in C order, little-endian, whose
name, dtype and shape the header's ``arrays`` list describes.  No pickle anywhere: a
client in any language needs only JSON and raw bytes.

This module is torch-free (numpy and the standard library only) because GNU Radio
flowgraph blocks import it through the client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import ProtocolError

PROTOCOL_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)

OP_INFO = "info"
OP_TOKENIZE = "tokenize"
OP_DETOKENIZE = "detokenize"
OP_PREDICT = "predict"
OPS = (OP_INFO, OP_TOKENIZE, OP_DETOKENIZE, OP_PREDICT)

STATUS_OK = "ok"
STATUS_ERROR = "error"

# Error codes carried in error replies (docs/protocol.md, "Errors").
BAD_REQUEST = "BAD_REQUEST"
UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
UNKNOWN_OP = "UNKNOWN_OP"
TOO_LARGE = "TOO_LARGE"
INTERNAL = "INTERNAL"
ERROR_CODES = (BAD_REQUEST, UNSUPPORTED_VERSION, UNKNOWN_OP, TOO_LARGE, INTERNAL)

# Wire dtype names -> numpy dtypes.  Byte order is always little-endian, whatever the host.
DTYPES: dict[str, np.dtype] = {
    "uint8": np.dtype("<u1"),
    "bool": np.dtype("?"),
    "uint16": np.dtype("<u2"),
    "int32": np.dtype("<i4"),
    "float32": np.dtype("<f4"),
}

# The header is parsed before any size limit is known to the peer, so it has its own cap.
MAX_HEADER_BYTES = 64 * 1024
MAX_ARRAYS = 8
MAX_NDIM = 8
MAX_ID_CHARS = 64
ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


@dataclass(frozen=True)
class ArrayDesc:
    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * DTYPES[self.dtype].itemsize

    def to_json(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


def is_int(value) -> bool:
    """JSON integer (Python's bool is an int subclass, but ``true`` is not a number)."""
    return isinstance(value, int) and not isinstance(value, bool)


def valid_request_id(value) -> bool:
    return (isinstance(value, str) and 1 <= len(value) <= MAX_ID_CHARS
            and all(c in ID_CHARS for c in value))


def _reject_constant(name: str):
    # Python's json accepts NaN/Infinity, which are not JSON and other parsers refuse.
    raise ValueError(f"non-standard JSON constant {name}")


def _reject_duplicate_keys(pairs: list) -> dict:
    # RFC 8259 leaves duplicate names undefined (Python keeps the last, others the first):
    # refuse them, so every parser reads a request the same way.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {dup[:40]!r}")
    return obj


def decode_header(frame: bytes) -> dict:
    """Header frame -> dict; raises ProtocolError (TOO_LARGE / BAD_REQUEST)."""
    if len(frame) == 0:
        raise ProtocolError(BAD_REQUEST, "empty header frame")
    if len(frame) > MAX_HEADER_BYTES:
        raise ProtocolError(TOO_LARGE, f"header is {len(frame)} bytes, limit {MAX_HEADER_BYTES}")
    try:
        text = bytes(frame).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(BAD_REQUEST, f"header is not UTF-8: {exc.reason}") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant,
                         object_pairs_hook=_reject_duplicate_keys)
    except (ValueError, RecursionError) as exc:
        # RecursionError: deeply nested arrays within the 64 KiB cap.
        raise ProtocolError(BAD_REQUEST, f"header is not valid JSON: {exc}"[:200]) from None
    if not isinstance(obj, dict):
        raise ProtocolError(BAD_REQUEST, "header must be a JSON object")
    return obj


def encode_header(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")


def parse_array_descs(value) -> list[ArrayDesc]:
    """Validate the header's ``arrays`` list (pass ``[]`` when the key is absent)."""
    if not isinstance(value, list):
        raise ProtocolError(BAD_REQUEST, "'arrays' must be a list")
    if len(value) > MAX_ARRAYS:
        raise ProtocolError(BAD_REQUEST, f"too many arrays ({len(value)} > {MAX_ARRAYS})")
    out = []
    for i, d in enumerate(value):
        if not isinstance(d, dict) or set(d) != {"name", "dtype", "shape"}:
            raise ProtocolError(BAD_REQUEST,
                                f"arrays[{i}] must be an object with exactly name, dtype, shape")
        name, dtype, shape = d["name"], d["dtype"], d["shape"]
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            raise ProtocolError(BAD_REQUEST, f"arrays[{i}].name must be a short string")
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise ProtocolError(BAD_REQUEST, f"arrays[{i}] ({name}): unknown dtype {dtype!r}; "
                                             f"allowed {sorted(DTYPES)}")
        if (not isinstance(shape, list) or len(shape) > MAX_NDIM
                or not all(is_int(n) and 0 <= n < 2**31 for n in shape)):
            raise ProtocolError(BAD_REQUEST, f"arrays[{i}] ({name}): shape must be a list of at "
                                             f"most {MAX_NDIM} non-negative integers")
        out.append(ArrayDesc(name, dtype, tuple(shape)))
    return out


def decode_arrays(descs: Sequence[ArrayDesc], payloads: Sequence) -> dict[str, np.ndarray]:
    """Payload frames -> read-only arrays (zero-copy views of the frames)."""
    if len(payloads) != len(descs):
        raise ProtocolError(BAD_REQUEST, f"header describes {len(descs)} array(s) but the "
                                         f"message has {len(payloads)} payload frame(s)")
    out = {}
    for desc, frame in zip(descs, payloads, strict=True):
        size = len(frame)
        if size != desc.nbytes:
            raise ProtocolError(BAD_REQUEST, f"payload {desc.name!r} has {size} bytes, "
                                             f"{desc.dtype} {list(desc.shape)} needs {desc.nbytes}")
        if desc.name in out:
            raise ProtocolError(BAD_REQUEST, f"array {desc.name!r} appears twice")
        out[desc.name] = np.frombuffer(frame, dtype=DTYPES[desc.dtype]).reshape(desc.shape)
    return out


def encode_arrays(arrays: Sequence[tuple[str, str, np.ndarray]]) -> tuple[list[dict], list]:
    """[(name, wire dtype, array)] -> (descriptors, payload buffers in wire byte order)."""
    descs, frames = [], []
    for name, dtype, arr in arrays:
        wire = np.ascontiguousarray(arr, dtype=DTYPES[dtype])
        descs.append(ArrayDesc(name, dtype, tuple(int(n) for n in wire.shape)).to_json())
        frames.append(memoryview(wire).cast("B"))
    return descs, frames


def request_frames(op: str, request_id: str, arrays=(), params: dict | None = None,
                   version: int = PROTOCOL_VERSION) -> list:
    """Header + payload frames of a request (the caller adds the empty delimiter)."""
    descs, payloads = encode_arrays(arrays)
    header = {"version": version, "op": op, "id": request_id, "arrays": descs}
    if params:
        header["params"] = params
    return [encode_header(header), *payloads]


def ok_reply_frames(op: str, request_id: str, arrays=(), result: dict | None = None,
                    version: int = PROTOCOL_VERSION) -> list:
    descs, payloads = encode_arrays(arrays)
    header = {"version": version, "op": op, "id": request_id, "status": STATUS_OK,
              "arrays": descs, "result": result or {}}
    return [encode_header(header), *payloads]


def error_reply_frames(err: ProtocolError) -> list:
    # Messages may quote client input; keep replies small whatever was sent.
    error = {"code": err.code, "message": err.message[:500]}
    if err.code == UNSUPPORTED_VERSION:
        error["supported_versions"] = list(SUPPORTED_VERSIONS)
    # The request's version when it was readable and supported, else the lowest one, which
    # every client speaks.
    version = getattr(err, "version", None) or SUPPORTED_VERSIONS[0]
    header = {"version": version, "op": err.op, "id": err.request_id,
              "status": STATUS_ERROR, "error": error}
    return [encode_header(header)]
