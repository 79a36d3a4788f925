"""Choosing the transformer's arithmetic at start-up: float32, or int8 if it checks out.

``--precision auto`` (the default) runs int8 only when a self-check on this machine, with
this model, finds it both close to float32 and faster:

* agreement: token grids the model itself generates (all masked, one per class label,
  arg-max), with 20 % of the positions masked again, are predicted by both; int8 must
  pick the float32 token at >= ``MIN_AGREEMENT`` of the masked positions.  (On held-out
  Fashion-MNIST frames int8 then stays within 0.005 masked-token accuracy: docs/service.md.)
* speed: one-frame predicts alternate between the two; int8 must take at most
  ``MAX_TIME_RATIO`` of float32's CPU time (thread CPU time: other processes' load on a
  shared machine does not enter).

The decision and both figures are logged.  Torch is imported by the caller (engine.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import torch

from ..models import InferenceTransformer, mask_predict
from ..models.inference import int8_usable

log = logging.getLogger("tokcom.service.precision")

PRECISIONS = ("auto", "float32", "int8")
MIN_AGREEMENT = 0.93  # held-out frames: 94.3 % agreement, accuracy +0.0001 (docs)
MAX_TIME_RATIO = 0.85
CHECK_STEPS = 4
CHECK_FRAMES = 4  # ~200 masked positions to compare; start-up cost ~100 forward passes
TIMING_ROUNDS = 5


@dataclass(frozen=True)
class CheckResult:
    agreement: float  # fraction of masked positions where int8 picks float32's token
    time_ratio: float  # int8 CPU time / float32 CPU time, one-frame predict (median)

    @property
    def passed(self) -> bool:
        return self.agreement >= MIN_AGREEMENT and self.time_ratio <= MAX_TIME_RATIO

    def __str__(self) -> str:
        return (f"agreement {self.agreement:.4f} (need >= {MIN_AGREEMENT}), time ratio "
                f"{self.time_ratio:.2f} (need <= {MAX_TIME_RATIO}): "
                f"{'int8' if self.passed else 'float32'}")


@torch.inference_mode()
def self_check(fp32: InferenceTransformer, int8: InferenceTransformer,
               seed: int = 0) -> CheckResult:
    cfg = fp32.config
    g = torch.Generator().manual_seed(seed)
    n = CHECK_FRAMES
    labels = torch.arange(n) % cfg.nclass if cfg.nclass > 0 else torch.full((n,), -1)
    shape = (n, cfg.grid_h, cfg.grid_w)
    grids = mask_predict(fp32, torch.zeros(shape, dtype=torch.long),
                         torch.ones(shape, dtype=torch.bool), labels, CHECK_STEPS)[0]
    mask = torch.rand(shape, generator=g) < 0.2
    a = mask_predict(fp32, grids, mask, labels, CHECK_STEPS)[0]
    b = mask_predict(int8, grids, mask, labels, CHECK_STEPS)[0]
    agreement = float(((a == b) & mask).sum()) / max(1, int(mask.sum()))

    one = (grids[:1], mask[:1], labels[:1])
    times: dict[str, list[float]] = {"fp32": [], "int8": []}
    for r in range(TIMING_ROUNDS + 1):
        for name, model in (("fp32", fp32), ("int8", int8)):
            t0 = time.thread_time()
            mask_predict(model, *one, CHECK_STEPS)
            if r:  # the first round warms up
                times[name].append(time.thread_time() - t0)
    ratio = sorted(times["int8"])[TIMING_ROUNDS // 2] / \
        max(1e-9, sorted(times["fp32"])[TIMING_ROUNDS // 2])
    return CheckResult(agreement, ratio)


def serving_transformer(transformer, precision: str = "auto") -> InferenceTransformer:
    """The InferenceTransformer to serve with, per ``precision`` (see PRECISIONS)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    fp32 = InferenceTransformer(transformer)
    on_cpu = next(transformer.parameters()).device.type == "cpu"
    if precision == "float32" or not on_cpu:
        return fp32
    if not int8_usable():
        if precision == "int8":
            raise ValueError("--precision int8: this torch build has no int8 CPU engine")
        log.info("precision float32 (no int8 CPU engine in this torch build)")
        return fp32
    q = InferenceTransformer(transformer, int8=True)
    if precision == "int8":
        log.info("precision int8 (requested)")
        return q
    result = self_check(fp32, q)
    log.info("precision self-check: %s", result)
    return q if result.passed else fp32
