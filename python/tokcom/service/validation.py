"""Server-side parsing and validation of requests against the served model.

``parse_request`` is a pure function of the frames and the model description, so it can
be fuzzed in-process; it either returns a :class:`Request` or raises
:class:`~.errors.ProtocolError` - nothing else, whatever the bytes.  Torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import ProtocolError
from .protocol import (
    BAD_REQUEST,
    MAX_ARRAYS,
    OP_DETOKENIZE,
    OP_INFO,
    OP_PREDICT,
    OP_TOKENIZE,
    OPS,
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    TOO_LARGE,
    UNKNOWN_OP,
    UNSUPPORTED_VERSION,
    ArrayDesc,
    decode_arrays,
    decode_header,
    is_int,
    parse_array_descs,
    valid_request_id,
)

REQUEST_KEYS = frozenset({"version", "op", "id", "arrays", "params"})
PREDICT_PARAMS = frozenset({"steps", "schedule", "temperature", "seed"})
PREDICT_PARAMS_V2 = frozenset({"llr_weight", "candidates"})  # version 2 only
MAX_LLR_WEIGHT = 100.0
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Limits:
    max_request_frames: int = 64  # images / token grids in one request
    max_message_bytes: int = 16 * 1024 * 1024  # all frames of one request together
    max_steps: int = 64
    max_temperature: float = 10.0
    # predict work = frames x steps x grid positions: bounds how long one request holds
    # the model (64 frames x 4 steps x 16x16 fits; about 2 s on the reference CPU).
    max_work: int = 65536
    # bytes of requests one connection may have waiting for replies
    max_queued_bytes: int = 32 * 1024 * 1024
    max_candidates: int = 16  # top-k candidates per position in a v2 predict reply

    def to_json(self) -> dict:
        return {"max_request_frames": self.max_request_frames,
                "max_message_bytes": self.max_message_bytes, "max_steps": self.max_steps,
                "max_temperature": self.max_temperature, "max_work": self.max_work,
                "max_queued_bytes": self.max_queued_bytes,
                "max_candidates": self.max_candidates}


@dataclass(frozen=True)
class ModelSpec:
    """What the served model accepts; also the body of the ``info`` reply."""

    model_id: str
    grid_h: int
    grid_w: int
    codebook_size: int
    num_classes: int
    image_height: int
    image_width: int
    image_channels: int
    default_steps: int
    default_schedule: str
    default_temperature: float
    default_seed: int
    schedules: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    fill_token: int = 0  # what the "VQ-only" baseline puts at lost positions
    limits: Limits = field(default_factory=Limits)
    default_llr_weight: float = 1.0  # v2: weight of channel LLRs in the fusion

    @property
    def token_bits(self) -> int:
        return max(1, (self.codebook_size - 1).bit_length())

    def info(self) -> dict:
        return {
            "model_id": self.model_id, "grid_h": self.grid_h, "grid_w": self.grid_w,
            "codebook_size": self.codebook_size, "fill_token": self.fill_token,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names), "image_height": self.image_height,
            "image_width": self.image_width, "image_channels": self.image_channels,
            "defaults": {"steps": self.default_steps, "schedule": self.default_schedule,
                         "temperature": self.default_temperature, "seed": self.default_seed,
                         "llr_weight": self.default_llr_weight},
            "schedules": list(self.schedules), "limits": self.limits.to_json(),
            "versions": list(SUPPORTED_VERSIONS),
        }


@dataclass
class Request:
    op: str
    request_id: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    version: int = PROTOCOL_VERSION

    @property
    def frames(self) -> int:
        """Number of images / token grids carried (the batch dimension)."""
        first = next(iter(self.arrays.values()), None)
        return 0 if first is None else int(first.shape[0])


def _bad(message: str) -> ProtocolError:
    return ProtocolError(BAD_REQUEST, message)


def _check_names(descs: Sequence[ArrayDesc], required: tuple[str, ...],
                 optional: tuple[str, ...] = ()) -> None:
    names = tuple(d.name for d in descs)
    # Optional arrays: any of them, in the listed order.
    allowed = [required + tuple(o for i, o in enumerate(optional) if (m >> i) & 1)
               for m in range(1 << len(optional))]
    if names not in allowed:
        want = " or ".join(str(list(a)) for a in allowed)
        raise _bad(f"arrays must be {want} in this order, got {list(names)}")


def _check_batch(desc: ArrayDesc, spec: ModelSpec) -> int:
    if len(desc.shape) == 0 or desc.shape[0] < 1:
        raise _bad(f"{desc.name}: batch dimension must be >= 1, shape {list(desc.shape)}")
    b = desc.shape[0]
    if b > spec.limits.max_request_frames:
        raise ProtocolError(TOO_LARGE, f"{desc.name}: batch {b} exceeds the limit of "
                                       f"{spec.limits.max_request_frames} per request")
    return b


def _check_tokens_desc(desc: ArrayDesc, spec: ModelSpec) -> int:
    if desc.dtype != "uint16":
        raise _bad(f"{desc.name}: dtype must be uint16, got {desc.dtype}")
    b = _check_batch(desc, spec)
    if desc.shape != (b, spec.grid_h, spec.grid_w):
        raise _bad(f"{desc.name}: shape must be [B, {spec.grid_h}, {spec.grid_w}], "
                   f"got {list(desc.shape)}")
    return b


def _check_token_values(tokens: np.ndarray, spec: ModelSpec) -> None:
    top = int(tokens.max())
    if top >= spec.codebook_size:
        raise _bad(f"token value {top} out of range: codebook size is {spec.codebook_size}")


def _validate_tokenize(descs, spec: ModelSpec) -> None:
    _check_names(descs, ("images",))
    d = descs[0]
    if d.dtype != "uint8":
        raise _bad(f"images: dtype must be uint8, got {d.dtype}")
    b = _check_batch(d, spec)
    h, w, c = spec.image_height, spec.image_width, spec.image_channels
    shapes = [(b, h, w, c)] + ([(b, h, w)] if c == 1 else [])
    if d.shape not in shapes:
        want = f"[B, {h}, {w}, {c}]" + (f" or [B, {h}, {w}]" if c == 1 else "")
        raise _bad(f"images: shape must be {want}, got {list(d.shape)}")


def _validate_detokenize(descs, spec: ModelSpec) -> None:
    _check_names(descs, ("tokens",))
    _check_tokens_desc(descs[0], spec)


def _validate_predict(descs, spec: ModelSpec) -> None:
    _check_names(descs, ("tokens", "mask"), ("labels", "llrs"))
    b = _check_tokens_desc(descs[0], spec)
    m = descs[1]
    if m.dtype not in ("uint8", "bool"):
        raise _bad(f"mask: dtype must be uint8 or bool, got {m.dtype}")
    if m.shape != descs[0].shape:
        raise _bad(f"mask: shape {list(m.shape)} != tokens shape {list(descs[0].shape)}")
    for d in descs[2:]:
        if d.name == "labels":
            if d.dtype != "int32":
                raise _bad(f"labels: dtype must be int32, got {d.dtype}")
            if d.shape != (b,):
                raise _bad(f"labels: shape must be [{b}], got {list(d.shape)}")
        else:
            want = (b, spec.grid_h * spec.grid_w, spec.token_bits)
            if d.dtype != "float32":
                raise _bad(f"llrs: dtype must be float32, got {d.dtype}")
            if d.shape != want:
                raise _bad(f"llrs: shape must be {list(want)}, got {list(d.shape)}")


def _predict_params(params: dict, spec: ModelSpec, version: int = 1) -> dict:
    unknown = set(params) - PREDICT_PARAMS - (PREDICT_PARAMS_V2 if version >= 2 else set())
    if unknown:
        raise _bad(f"unknown params {sorted(unknown)}; allowed {sorted(PREDICT_PARAMS)}")
    lim = spec.limits
    steps = params.get("steps", spec.default_steps)
    if not is_int(steps) or not 1 <= steps <= lim.max_steps:
        raise _bad(f"params.steps must be an integer in [1, {lim.max_steps}], got {steps!r}")
    schedule = params.get("schedule", spec.default_schedule)
    if not isinstance(schedule, str) or schedule not in spec.schedules:
        raise _bad(f"params.schedule must be one of {list(spec.schedules)}, got {schedule!r}")
    temp = params.get("temperature", spec.default_temperature)
    # Range before isfinite: a JSON integer may be too large for a float (OverflowError).
    if (not (is_int(temp) or isinstance(temp, float))
            or not 0 <= temp <= lim.max_temperature or not math.isfinite(temp)):
        raise _bad(f"params.temperature must be a number in [0, {lim.max_temperature}], "
                   f"got {temp!r}")
    seed = params.get("seed", spec.default_seed)
    if not is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise _bad(f"params.seed must be an integer in [0, 2^63-1], got {seed!r}")
    # Version 1 requests run with the version-2 defaults (no LLRs: the same prediction),
    # so they can share a batch with version-2 requests.
    out = {"steps": steps, "schedule": schedule, "temperature": float(temp), "seed": seed,
           "llr_weight": float(spec.default_llr_weight), "candidates": 0}
    if version >= 2:
        weight = params.get("llr_weight", spec.default_llr_weight)
        if (not (is_int(weight) or isinstance(weight, float))
                or not 0 <= weight <= MAX_LLR_WEIGHT or not math.isfinite(weight)):
            raise _bad(f"params.llr_weight must be a number in [0, {MAX_LLR_WEIGHT}], "
                       f"got {weight!r}")
        k = params.get("candidates", 0)
        if not is_int(k) or not 0 <= k <= lim.max_candidates:
            raise _bad(f"params.candidates must be an integer in [0, {lim.max_candidates}], "
                       f"got {k!r}")
        out.update(llr_weight=float(weight), candidates=k)
    return out


def _check_work(frames: int, steps: int, spec: ModelSpec) -> None:
    work = frames * steps * spec.grid_h * spec.grid_w
    if work > spec.limits.max_work:
        raise ProtocolError(TOO_LARGE, f"work {frames} frames x {steps} steps x "
                                       f"{spec.grid_h * spec.grid_w} positions = {work} exceeds "
                                       f"the limit of {spec.limits.max_work}: send fewer frames "
                                       f"per request or fewer steps")


_VALIDATORS = {OP_INFO: None, OP_TOKENIZE: _validate_tokenize,
               OP_DETOKENIZE: _validate_detokenize, OP_PREDICT: _validate_predict}


def _parse(frames: Sequence, spec: ModelSpec, err_ctx: dict, received: tuple | None) -> Request:
    if len(frames) == 0:
        raise _bad("empty message: no header frame")
    header = decode_header(frames[0])

    rid = header.get("id")
    if not valid_request_id(rid):
        raise _bad("'id' must be a string of 1-64 characters from [A-Za-z0-9._:-]")
    err_ctx["request_id"] = rid

    version = header.get("version")
    if not is_int(version):
        raise _bad(f"'version' must be an integer (this server speaks {PROTOCOL_VERSION})")
    if version not in SUPPORTED_VERSIONS:
        raise ProtocolError(UNSUPPORTED_VERSION, f"protocol version {version} is not supported")
    err_ctx["version"] = version

    # The server counts while receiving and keeps only what fits (``received``).
    count, total = received or (len(frames), sum(len(f) for f in frames))
    if count > 1 + MAX_ARRAYS:
        raise ProtocolError(TOO_LARGE, f"message has {count} frames after the envelope, "
                                       f"limit {1 + MAX_ARRAYS}")
    if total > spec.limits.max_message_bytes:
        raise ProtocolError(TOO_LARGE, f"message is {total} bytes, limit "
                                       f"{spec.limits.max_message_bytes}")

    op = header.get("op")
    if not isinstance(op, str):
        raise _bad("'op' must be a string")
    if op not in OPS:
        raise ProtocolError(UNKNOWN_OP, f"unknown op {op[:40]!r}; supported {list(OPS)}")
    err_ctx["op"] = op

    unknown = set(header) - REQUEST_KEYS
    if unknown:
        raise _bad(f"unknown header keys {sorted(unknown)[:8]}")
    params = header.get("params", {})
    if not isinstance(params, dict):
        raise _bad("'params' must be an object")

    descs = parse_array_descs(header.get("arrays", []))
    validator = _VALIDATORS[op]
    if validator is None:
        if descs:
            raise _bad(f"op {op!r} takes no arrays")
    else:
        validator(descs, spec)
    arrays = decode_arrays(descs, frames[1:])

    if op == OP_PREDICT:
        if version < 2 and "llrs" in arrays:
            raise _bad("array 'llrs' needs protocol version 2")
        params = _predict_params(params, spec, version)
        _check_work(descs[0].shape[0], params["steps"], spec)
        _check_token_values(arrays["tokens"], spec)
        mask = arrays["mask"]
        # A bool payload byte other than 0/1 is not a valid bool; refuse it explicitly.
        if int(mask.view(np.uint8).max()) > 1:
            raise _bad("mask values must be 0 or 1")
        arrays["mask"] = mask.view(np.bool_)
        labels = arrays.get("labels")
        if labels is not None and (labels.min() < -1 or labels.max() >= spec.num_classes):
            raise _bad(f"labels must be -1 (none) or in [0, {spec.num_classes})")
        llrs = arrays.get("llrs")
        if llrs is not None and not np.isfinite(llrs).all():
            raise _bad("llrs must be finite")
    elif params:
        raise _bad(f"op {op!r} takes no params")
    elif op == OP_DETOKENIZE:
        _check_token_values(arrays["tokens"], spec)
    return Request(op, rid, arrays, params, version)


def parse_request(frames: Sequence, spec: ModelSpec, received: tuple[int, int] | None = None
                  ) -> Request:
    """Frames after the envelope (header first) -> Request, or ProtocolError.

    ``received`` = (frames, bytes) the message had when the receiver kept only a prefix
    of an oversized one; the size limits are checked against these counts.

    Checks run in a fixed order (docs/protocol.md): header, id, version, size, op, keys,
    arrays, values, so a reply carries the id and op whenever they were readable.
    """
    ctx: dict = {}
    try:
        return _parse(frames, spec, ctx, received)
    except ProtocolError as exc:
        exc.request_id = ctx.get("request_id")
        exc.op = ctx.get("op")
        exc.version = ctx.get("version")
        raise
