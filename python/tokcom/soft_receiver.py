"""The soft token receiver: what CRC-failed packets still know, fused with the MaskGIT prior.

A received frame (token depacketizer output) may carry, for the positions of packets that
failed their CRC, the posterior LLRs of their token bits ("llrs") and of their received
CRC bits ("crc_llrs", "soft_packets"; docs/formats.md). Three receivers use them:

* ``hard_kept``: the failed packets' tokens as hard-decoded (sign of each bit LLR), no model;
* fusion: ``predict`` (protocol v2) with the LLRs, which the service fuses with the
  transformer's logits (docs/models.md, "Fusion");
* fusion + CRC-aided list search: the first fused prediction also returns each position's
  best candidates; for each failed packet, combinations of its tokens' candidates are tried
  best-first (at most ``list_size``), and the first whose payload reproduces the packet's
  received CRC is accepted. Accepted packets count as received in a second prediction of
  the rest.

The list search lives here, on the flowgraph side, between two predict calls: the CRC, the
packet layout and the scrambler are link formats implemented once in the link
(gr-digital's CRC, token_layout), and the service stays link-agnostic (it returns top-k
candidates, a generic model output). Torch-free.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
from gnuradio import digital

from . import tokcom_python as _cpp
from .service.client import PredictResult

# Received-frame keys of the soft information (docs/formats.md).
SOFT_KEYS = ("llrs", "crc_llrs", "soft_packets")


def frame_soft_fields(meta: dict, n_tokens: int, token_bits: int):
    """(llrs (n_tokens, b), crc_llrs (P, W), soft_packets (P,) bool) of a received frame's
    meta (converted with pmt.to_python), or None if it carries no soft information."""
    if any(k not in meta for k in SOFT_KEYS):
        return None
    llrs = np.asarray(meta["llrs"], np.float32).reshape(n_tokens, token_bits)
    soft = np.asarray(meta["soft_packets"], bool)
    crc = np.asarray(meta["crc_llrs"], np.float32).reshape(soft.size, -1)
    return llrs, crc, soft


def bits_to_tokens(bits: np.ndarray) -> np.ndarray:
    """(..., b) 0/1 bits, MSB first -> (...) integer tokens."""
    b = bits.shape[-1]
    return (bits.astype(np.int64) << np.arange(b - 1, -1, -1)).sum(-1)


def hard_kept(tokens, mask, llrs, fill_token: int, codebook_size: int) -> np.ndarray:
    """The ``hard_kept`` baseline: lost positions with LLRs take their hard-decoded token
    (bit = LLR > 0), lost positions without any (packets that never arrived) the fill
    token; received tokens unchanged."""
    out = np.array(tokens, np.int64).ravel()
    m = np.asarray(mask, bool).ravel()
    if llrs is None:
        out[m] = fill_token
        return out.reshape(np.shape(tokens))
    has = m & np.any(llrs != 0, axis=1)
    hard = np.minimum(bits_to_tokens(llrs > 0), codebook_size - 1)
    out[has] = hard[has]
    out[m & ~has] = fill_token
    return out.reshape(np.shape(tokens))


@dataclass
class ListResult:
    accepted: dict = field(default_factory=dict)  # pkt -> {position: token}
    tried: int = 0  # candidate payloads whose CRC was computed
    searched: int = 0  # packets searched


class CrcListSearch:
    """Best-first search over a failed packet's token candidates for a payload whose CRC
    matches the received CRC bits (docs/link.md: zero initial register, parity inverted;
    payload bits MSB first behind zero bits up to a whole byte)."""

    def __init__(self, layout, crc_width: int, crc_poly: int, list_size: int = 64):
        self.layout = layout
        self.slots = np.asarray(layout.slot_positions())
        self.width = crc_width
        self.crc = digital.crc(crc_width, crc_poly, 0, (1 << crc_width) - 1, False, False)
        self.list_size = int(list_size)
        self.payload_bits = layout.payload_bits
        self.pad = -self.payload_bits % 8

    def crc_of(self, frame: np.ndarray, pkt: int) -> int:
        bits = np.unpackbits(np.frombuffer(self.layout.pack(frame, pkt), np.uint8))
        bits = np.concatenate([np.zeros(self.pad, np.uint8), bits[: self.payload_bits]])
        return int(self.crc.compute(np.packbits(bits).tolist()))

    def received_crc(self, crc_llrs: np.ndarray) -> int:
        return int(bits_to_tokens((crc_llrs > 0)[None])[0])

    def search_packet(self, frame: np.ndarray, pkt: int, crc_llrs: np.ndarray,
                      candidates: np.ndarray, logp: np.ndarray, res: ListResult):
        """Tries combinations of the candidates of packet pkt's slots, most probable first;
        returns {position: token} of the first that checks, or None."""
        pos = [int(p) for p in self.slots[pkt] if p >= 0]
        target = self.received_crc(crc_llrs)
        work = np.array(frame, np.uint16).ravel()
        k = candidates.shape[1]
        # Each combination is a tuple of candidate ranks, scored by its summed log-prob.
        start = (0,) * len(pos)

        def score(ranks):
            return float(sum(logp[p, r] for p, r in zip(pos, ranks, strict=True)))

        heap = [(-score(start), start)]
        seen = {start}
        res.searched += 1
        end = res.tried + self.list_size
        while heap and res.tried < end:
            neg, ranks = heapq.heappop(heap)
            if not np.isfinite(neg):
                break
            for p, r in zip(pos, ranks, strict=True):
                work[p] = candidates[p, r]
            res.tried += 1
            if self.crc_of(work, pkt) == target:
                return {p: int(candidates[p, r]) for p, r in zip(pos, ranks, strict=True)}
            for i in range(len(pos)):
                if ranks[i] + 1 < k:
                    nxt = ranks[:i] + (ranks[i] + 1,) + ranks[i + 1:]
                    if nxt not in seen:
                        seen.add(nxt)
                        heapq.heappush(heap, (-score(nxt), nxt))
        return None

    def search(self, frame, soft_packets, crc_llrs, candidates, logp) -> ListResult:
        """Searches every failed packet with soft information (list_size tries each)."""
        res = ListResult()
        frame = np.asarray(frame, np.uint16).ravel()
        for pkt in np.flatnonzero(soft_packets):
            hit = self.search_packet(frame, int(pkt), crc_llrs[pkt], candidates, logp, res)
            if hit is not None:
                res.accepted[int(pkt)] = hit
        return res


def make_list_search(grid, codebook_size, tokens_per_packet, interleaver, seed, crc_width,
                     crc_poly, list_size=64) -> CrcListSearch:
    layout = _cpp.token_layout(grid[0] * grid[1], tokens_per_packet, codebook_size,
                               interleaver, seed)
    return CrcListSearch(layout, crc_width, crc_poly, list_size)


@dataclass
class SoftPrediction:
    tokens: np.ndarray  # final tokens (as given: (h, w) or (B, h, w))
    fused: np.ndarray  # tokens of the fusion alone (the first prediction)
    accepted: dict  # pkt -> {position: token} recovered by the list search (batch: a list)
    tried: int = 0
    searched: int = 0


def complete_soft(client, tokens, mask, label, soft, first, search: CrcListSearch,
                  **params) -> SoftPrediction:
    """List search on one frame's first (fused, with candidates) prediction, then the
    second prediction with the recovered packets counted as received.

    soft = (llrs, crc_llrs, soft_packets) of frame_soft_fields; first: the PredictResult
    of ``predict(..., llrs=llrs, candidates=k)``; params: the predict parameters.
    """
    llrs, crc_llrs, soft_packets = soft
    res = search.search(first.tokens, soft_packets, crc_llrs, first.candidates,
                        first.candidate_logp)
    out = SoftPrediction(first.tokens, first.tokens, res.accepted, res.tried, res.searched)
    if res.accepted:
        new_tokens = np.array(tokens, np.uint16)
        new_mask = np.array(mask, bool)
        for hit in res.accepted.values():
            for p, t in hit.items():
                new_tokens.flat[p] = t
                new_mask.flat[p] = False
        out.tokens = client.predict(new_tokens, new_mask, label, llrs=llrs, **params).tokens
    return out


def soft_predict(client, tokens, mask, labels, llrs, crc_llrs=None, soft_packets=None,
                 search: CrcListSearch | None = None, candidates: int = 8,
                 llr_weight: float | None = None, steps: int | None = None) -> SoftPrediction:
    """Fusion (+ CRC-aided list search when ``search`` is given) for a batch of frames.

    tokens, mask: (B, h, w); labels: (B,) or None; llrs: (B, h*w, b) float32 (zeros where
    there is no channel information); crc_llrs: list of (P, W); soft_packets: list of (P,).
    """
    tokens = np.asarray(tokens, np.uint16)
    mask = np.asarray(mask, bool)
    first = client.predict(tokens, mask, labels, llrs=llrs, llr_weight=llr_weight,
                           steps=steps, candidates=candidates if search else None)
    out = SoftPrediction(first.tokens.copy(), first.tokens.copy(), [{} for _ in tokens])
    if search is None:
        return out
    for i in range(len(tokens)):
        if soft_packets is None or soft_packets[i] is None or not soft_packets[i].any():
            continue
        one = PredictResult(first.tokens[i], first.confidence[i],
                            candidates=first.candidates[i],
                            candidate_logp=first.candidate_logp[i])
        label = None if labels is None else int(labels[i])
        r = complete_soft(client, tokens[i], mask[i], label,
                          (llrs[i], crc_llrs[i], soft_packets[i]), one, search,
                          llr_weight=llr_weight, steps=steps)
        out.tokens[i] = r.tokens
        out.accepted[i] = r.accepted
        out.tried += r.tried
        out.searched += r.searched
    return out
