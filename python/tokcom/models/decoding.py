"""Mask-and-predict decoding: fill [MASK] positions by confidence-ordered iterative unmasking.

At every step the transformer predicts all still-masked positions (and only those: the
output head is not evaluated elsewhere); the most confident
predictions are committed, the rest stay masked for the next step (Chang et al., MaskGIT,
CVPR 2022).  The number left masked after step ``t`` of ``T`` follows the schedule
``gamma(t / T)``:

* ``cosine``: ``gamma(r) = cos(pi/2 * r)``  (few tokens early, many late)
* ``arccos``: ``gamma(r) = (2/pi) * arccos(r)``  (steady start, bulk at the end)

Received (unmasked) tokens are never modified: the output is assembled with
``torch.where(mask, predicted, tokens)``.

Channel likelihoods (the soft receiver, docs/models.md "Fusion"): with ``bit_llrs``, the
posterior LLRs L_j = log P(bit j = 1 | y) / P(bit j = 0 | y) of each masked position's
b token bits (MSB first, 0 = no information), the log-likelihood of token q is
``sum_j log sigmoid((2 q_j - 1) L_j) = sum_j q_j L_j + const``, and the logits at every
step become ``logits + llr_weight * sum_j q_j L_j``: prior times likelihood, with
``llr_weight`` a calibration of the channel evidence (fitted on the train split).
Confidences, the committing order and the committed token are those of the fused
distribution.
"""

from __future__ import annotations

import math

import torch

from .inference import InferenceTransformer
from .maskgit import MaskTransformer

SCHEDULES = ("cosine", "arccos")
_TINY_T = torch.finfo(torch.float32).tiny  # smallest temperature computed as such


def remaining_fraction(r: torch.Tensor, schedule: str) -> torch.Tensor:
    """Fraction of the initially masked tokens still masked at progress r in [0, 1]."""
    if schedule == "cosine":
        return torch.cos(r * (math.pi / 2))
    if schedule == "arccos":
        return torch.arccos(r) * (2 / math.pi)
    raise ValueError(f"unknown schedule {schedule!r}; choose one of {SCHEDULES}")


def token_bit_matrix(codebook_size: int, bits: int, device=None) -> torch.Tensor:
    """(bits, Q) float matrix: entry (j, q) is bit j (MSB first) of token q."""
    q = torch.arange(codebook_size, device=device)
    shifts = torch.arange(bits - 1, -1, -1, device=device)
    return ((q.unsqueeze(0) >> shifts.unsqueeze(1)) & 1).float()


def _labels_tensor(labels, batch: int, device) -> torch.Tensor:
    if labels is None:
        return torch.full((batch,), -1, dtype=torch.long, device=device)
    out = torch.as_tensor(labels, dtype=torch.long, device=device).reshape(-1)
    if out.numel() != batch:
        raise ValueError(f"labels has {out.numel()} entries for a batch of {batch}")
    return out


@torch.no_grad()
def mask_predict(model: MaskTransformer | InferenceTransformer, tokens: torch.Tensor,
                 mask: torch.Tensor, labels=None, steps: int = 8, schedule: str = "arccos",
                 temperature: float = 0.0, seed: int | None = 0, bit_llrs=None,
                 llr_weight: float = 1.0, candidates: int = 0):
    """Fill masked tokens.

    Args:
        model: the masked transformer (put in eval mode by the caller or here), or its
            faster ``InferenceTransformer`` wrapper (results equal to float32 rounding).
        tokens: (B, h, w) integer tokens; values at masked positions are ignored.
        mask: (B, h, w) bool, True where the token was lost.
        labels: None, or (B,) class ids with -1 meaning "no label" (dropped-label token).
        steps: number of refinement steps (>= 1).
        schedule: "cosine" or "arccos".
        temperature: 0 picks the arg-max token (confidence = its probability); > 0 samples
            from softmax(logits / temperature) with a ``torch.Generator`` seeded by ``seed``.
        seed: generator seed (sampling only); same inputs + seed give the same output.
        bit_llrs: None, or (B, h*w, b) float posterior LLRs of each position's token bits
            (positive = 1, MSB first; zeros = no channel information), fused with the
            logits at masked positions (module docstring); b = ceil(log2 Q).
        llr_weight: scale of the channel log-likelihood in the fusion (1 = as given).
        candidates: k > 0 also returns, for every position, its k best tokens and their
            log-probabilities under the (fused) distribution of the step at which the
            position was committed (received positions: the token, log-prob 0, then -inf).

    Returns:
        (filled (B, h, w) int64, confidence (B, h, w) float32); received tokens get
        confidence 1.0, a predicted token gets its probability at the step it was committed.
        With candidates = k > 0, two more: (B, h*w, k) int64 tokens and float32 log-probs.
    """
    cfg = model.config
    if tokens.dim() != 3 or tuple(tokens.shape[1:]) != (cfg.grid_h, cfg.grid_w):
        raise ValueError(f"tokens must be (B, {cfg.grid_h}, {cfg.grid_w}), "
                         f"got {tuple(tokens.shape)}")
    if mask.shape != tokens.shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} != tokens shape {tuple(tokens.shape)}")
    if steps < 1:
        raise ValueError("steps must be >= 1")
    remaining_fraction(torch.zeros(1), schedule)  # validates the schedule name early
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    tokens = tokens.to(device).long()
    mask = mask.to(device).bool()
    b = tokens.shape[0]
    n = cfg.grid_h * cfg.grid_w
    labels_t = _labels_tensor(labels, b, device)
    gen = None
    if temperature > 0:
        gen = torch.Generator(device=device)
        gen.manual_seed(0 if seed is None else int(seed))

    bit_mat = None
    if bit_llrs is not None:
        n_bits = max(1, (cfg.codebook_size - 1).bit_length())
        bit_llrs = torch.as_tensor(bit_llrs, dtype=torch.float32, device=device)
        if tuple(bit_llrs.shape) != (b, n, n_bits):
            raise ValueError(f"bit_llrs must be ({b}, {n}, {n_bits}), "
                             f"got {tuple(bit_llrs.shape)}")
        bit_mat = token_bit_matrix(cfg.codebook_size, n_bits, device) * float(llr_weight)
    if candidates > 0:
        cand_tok = tokens.reshape(b, n, 1).repeat(1, 1, candidates)
        cand_logp = torch.full((b, n, candidates), -math.inf, device=device)
        cand_logp[:, :, 0] = 0.0

    flat_tok = tokens.reshape(b, n)
    still = mask.reshape(b, n).clone()  # positions not yet committed
    current = torch.where(still, torch.full_like(flat_tok, cfg.mask_id), flat_tok)
    conf_out = torch.ones(b, n, dtype=torch.float32, device=device)
    n_masked = still.sum(1)  # (B,)

    for step in range(1, steps + 1):
        n_still = still.sum(1)
        k = int(n_still.max())
        if k == 0:
            break
        # Only still-masked positions get logits (the head over Q classes and the softmax
        # are the costly part; other positions' predictions were thrown away).  rows: each
        # image's still-masked positions in raster order, padded to k with positions whose
        # results are ignored (valid False) when the images of a batch differ.
        rows = torch.sort(still.to(torch.uint8), dim=1, descending=True, stable=True)[1][:, :k]
        valid = torch.arange(k, device=device) < n_still.unsqueeze(1)
        h = model.hidden(model.input_ids(current.view(b, cfg.grid_h, cfg.grid_w), labels_t),
                         rows)
        logits = model.logits_from_hidden(h, rows)
        logits = logits[..., : cfg.codebook_size].float()  # never predict [MASK] itself
        if bit_mat is not None:
            # Prior x channel likelihood: + w * sum_j q_j L_j for every candidate token q.
            llr_rows = bit_llrs.gather(1, rows.unsqueeze(-1).expand(b, k, bit_mat.shape[0]))
            logits = logits + llr_rows @ bit_mat
        if temperature > 0:
            # logits / T overflows to inf for a tiny T (inf - inf = NaN inside softmax);
            # (logits - max) / T is <= 0 and finite or -inf, so a tiny T just makes the
            # distribution one-hot on the maximum.  Below float32's smallest normal number
            # T would itself round to 0 or lose precision: it is computed as that number.
            scaled = (logits - logits.amax(-1, keepdim=True)) / max(temperature, _TINY_T)
            probs = torch.softmax(scaled, dim=-1)
            pred = torch.multinomial(probs.view(-1, cfg.codebook_size), 1,
                                     generator=gen).view(b, k)
        else:
            probs = torch.softmax(logits, dim=-1)
            pred = probs.argmax(-1)
        conf = probs.gather(-1, pred.unsqueeze(-1)).squeeze(-1)

        # How many stay masked after this step (per image); the last step commits all.
        frac = remaining_fraction(torch.tensor(step / steps), schedule).item()
        keep_masked = torch.floor(n_masked.float() * frac).long()
        if step == steps:
            keep_masked.zero_()
        # Commit at least one token per step while any remain, so `steps` bounds the work.
        n_commit = torch.clamp(n_still - keep_masked, min=1)
        n_commit = torch.minimum(n_commit, n_still)

        # Most confident first; ties go to the lower position (rows are in raster order).
        ranked = torch.where(valid, conf, torch.full_like(conf, -1.0))
        order = torch.argsort(ranked, dim=1, descending=True, stable=True)
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(k, device=device).expand(b, k))
        commit = valid & (rank < n_commit.unsqueeze(1))  # (B, k), over rows

        if candidates > 0:
            top_lp, top_tok = torch.log_softmax(logits, dim=-1).topk(candidates, dim=-1)
            idx = rows.unsqueeze(-1).expand(b, k, candidates)
            c = commit.unsqueeze(-1)
            cand_tok.scatter_(1, idx, torch.where(c, top_tok, cand_tok.gather(1, idx)))
            cand_logp.scatter_(1, idx, torch.where(c, top_lp, cand_logp.gather(1, idx)))

        current.scatter_(1, rows, torch.where(commit, pred, current.gather(1, rows)))
        conf_out.scatter_(1, rows, torch.where(commit, conf, conf_out.gather(1, rows)))
        still.scatter_(1, rows, still.gather(1, rows) & ~commit)

    filled = torch.where(mask.reshape(b, n), current, flat_tok).view(b, cfg.grid_h, cfg.grid_w)
    if was_training:
        model.train()
    if candidates > 0:
        return filled, conf_out.view(b, cfg.grid_h, cfg.grid_w), cand_tok, cand_logp
    return filled, conf_out.view(b, cfg.grid_h, cfg.grid_w)
