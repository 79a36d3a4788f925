"""Masks for training the transformer and for simulating packet loss.

A mask is a (B, h, w) bool tensor, True = token lost / to be predicted.
"""

from __future__ import annotations

import math

import torch


def random_ratio_mask(b: int, h: int, w: int, gen: torch.Generator) -> torch.Tensor:
    """MaskGIT training mask: per image a ratio ``arccos(u) / (pi/2)``, u ~ U(0, 1), then
    each token is masked independently with that probability (Halton-MaskGIT v1.0's
    ``get_mask_code`` with mode "arccos")."""
    u = torch.rand(b, generator=gen)
    ratio = torch.arccos(u) / (math.pi / 2)
    return torch.rand(b, h, w, generator=gen) < ratio.view(b, 1, 1)


def packet_loss_mask(b: int, h: int, w: int, loss_rate, gen: torch.Generator,
                     tokens_per_packet: int = 4, permutation: torch.Tensor | None = None
                     ) -> torch.Tensor:
    """Lose whole packets of ``tokens_per_packet`` tokens, each independently with
    probability ``loss_rate`` (scalar or (B,) tensor).

    Packet ``p`` carries raster positions ``permutation[p*k:(p+1)*k]``; with
    ``permutation=None`` it carries ``k`` consecutive raster positions (no interleaving).
    """
    n = h * w
    if n % tokens_per_packet:
        raise ValueError(f"{n} tokens do not split into packets of {tokens_per_packet}")
    n_packets = n // tokens_per_packet
    rate = torch.as_tensor(loss_rate, dtype=torch.float32).reshape(-1, 1)
    lost = torch.rand(b, n_packets, generator=gen) < rate  # (B, P)
    per_token = lost.repeat_interleave(tokens_per_packet, dim=1)  # packet-major order
    if permutation is None:
        return per_token.view(b, h, w)
    mask = torch.zeros(b, n, dtype=torch.bool)
    mask[:, permutation.long()] = per_token
    return mask.view(b, h, w)


def training_mask(b: int, h: int, w: int, gen: torch.Generator,
                  p_random: float = 0.5, p_interleaved: float = 0.3,
                  max_loss: float = 0.5, tokens_per_packet: int = 4) -> torch.Tensor:
    """Mix of MaskGIT random-ratio masks and packet-shaped masks.

    * ``p_random`` of the images: :func:`random_ratio_mask` (learns to generate).
    * ``p_interleaved``: packets of ``tokens_per_packet`` tokens at random positions (a fresh
      random interleaver per image), loss rate ~ U(0.02, max_loss) - what an interleaved
      packet channel produces.
    * the rest: packets of consecutive raster tokens (a non-interleaved channel).
    Every image gets at least one masked token, so each contributes to the loss.
    """
    kind = torch.rand(b, generator=gen)
    rm = random_ratio_mask(b, h, w, gen)
    rate = 0.02 + (max_loss - 0.02) * torch.rand(b, generator=gen)
    contiguous = packet_loss_mask(b, h, w, rate, gen, tokens_per_packet)
    n = h * w
    perms = torch.argsort(torch.rand(b, n, generator=gen), dim=1)
    scattered_sorted = packet_loss_mask(b, h, w, rate, gen, tokens_per_packet).view(b, n)
    scattered = torch.zeros(b, n, dtype=torch.bool)
    scattered.scatter_(1, perms, scattered_sorted)
    mask = torch.where((kind < p_random).view(b, 1, 1), rm,
                       torch.where((kind < p_random + p_interleaved).view(b, 1, 1),
                                   scattered.view(b, h, w), contiguous))
    empty = ~mask.view(b, -1).any(1)
    if empty.any():
        pos = torch.randint(0, n, (int(empty.sum()),), generator=gen)
        flat = mask.view(b, -1)
        flat[empty.nonzero().squeeze(1), pos] = True
    return mask
