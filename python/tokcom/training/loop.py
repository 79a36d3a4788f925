"""Wall-time-budgeted, resumable training loop shared by all stages."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

log = logging.getLogger(__name__)


@dataclass
class StageState:
    """Everything needed to resume a stage: weights, optimizer, step, time, RNG, extras."""

    step: int = 0
    elapsed: float = 0.0  # seconds of wall time spent in this stage so far
    done: bool = False
    extra: dict = field(default_factory=dict)


def save_stage(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
               state: StageState, gen: torch.Generator) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": state.step,
                "elapsed": state.elapsed, "done": state.done, "extra": state.extra,
                "rng": gen.get_state()}, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never corrupts the last checkpoint


def load_stage(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
               gen: torch.Generator) -> StageState:
    if not path.exists():
        return StageState()
    ck = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    gen.set_state(ck["rng"])
    log.info("resumed %s at step %d (%.0f s spent)", path.name, ck["step"], ck["elapsed"])
    return StageState(ck["step"], ck["elapsed"], ck["done"], ck["extra"])


def cosine_lr(base: float, progress: float, step: int, warmup: int, floor: float = 0.1) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay over the *time* budget, so
    the schedule ends when the budget does whatever the step rate turns out to be."""
    warm = min(1.0, (step + 1) / max(1, warmup))
    decay = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return base * warm * decay


def run_stage(name: str, path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
              gen: torch.Generator, budget_s: float, step_fn: Callable[[StageState, float], dict],
              max_steps: int | None = None, checkpoint_every_s: float = 60.0) -> StageState:
    """Call ``step_fn(state, progress)`` until the budget or ``max_steps`` is used up.

    Checkpoints every ``checkpoint_every_s`` seconds and at the end; a finished stage
    (``done``) is skipped on resume.
    """
    state = load_stage(path, model, opt, gen)
    if state.done:
        log.info("%s already finished (%d steps, %.0f s)", name, state.step, state.elapsed)
        return state
    model.train()
    t0 = time.monotonic()
    base = state.elapsed
    last_ckpt = t0
    with tqdm(total=max(1, round(budget_s)), initial=min(round(base), round(budget_s)),
              unit="s", desc=name, dynamic_ncols=True, mininterval=2.0) as bar:
        shown = min(round(base), round(budget_s))
        while True:
            state.elapsed = base + time.monotonic() - t0
            if state.elapsed >= budget_s or (max_steps is not None and state.step >= max_steps):
                break
            metrics = step_fn(state, state.elapsed / budget_s)
            state.step += 1
            now = min(round(base + time.monotonic() - t0), round(budget_s))
            if now > shown:
                bar.update(now - shown)
                shown = now
            if state.step % 10 == 0:
                bar.set_postfix(step=state.step, **{k: f"{v:.4g}" for k, v in metrics.items()})
            if time.monotonic() - last_ckpt > checkpoint_every_s:
                save_stage(path, model, opt, state, gen)
                last_ckpt = time.monotonic()
    state.elapsed = base + time.monotonic() - t0
    state.done = True
    save_stage(path, model, opt, state, gen)
    log.info("%s finished: %d steps in %.0f s", name, state.step, state.elapsed)
    return state
