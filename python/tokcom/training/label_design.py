"""Semantic token labeling: the label designer (tokcom-design-labels; docs/mapper.md).

Chooses π: token -> b-bit label so that the label errors the uncoded link makes most
often turn a token into a similar one. Index assignment for a vector quantizer over a
noisy channel (pseudo-Gray coding: Zeger & Gersho, IEEE Trans. Commun. 38(12), 1990),
solved with their binary switching algorithm (BSA), with two changes for this link:

* the channel is not a binary symmetric channel: 10-bit labels straddle Gray 16-QAM
  symbols (docs/formats.md packs K tokens MSB first into the packet, 4 bits a symbol),
  so a token's bits sit on symbol bit positions of different reliability, and errors
  within one symbol are correlated. The designer uses the exact hard-decision
  transition matrix P(received label | sent label) of that layout at the design Es/N0.
* distortion d(i, j) is the squared distance between codewords i and j in the
  decoder's input space (the VQ embedding), which predicts the image error of a token
  substitution better than the decoded patch of a uniform token grid (measured,
  docs/mapper.md).

Expected distortion D(π) = Σ_i p_i Σ_j P(π_j | π_i) d(i, j), p = token frequencies on
training images. The BSA visits codewords in order of falling cost, evaluates the change
of D for swapping its label with every other codeword's in O(Q²) (four matrix-vector
products, vectorised), and applies the best improving swap; passes repeat until none
improves. Deterministic for a given seed (the seed picks the start labeling).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ..labeling import CONFIG_KEY, check_labels, natural_labels, random_labels, write_labels

log = logging.getLogger("tokcom.labels")

DEFAULT_FILE = "labels_uncoded_16qam.txt"


# --- channel model -----------------------------------------------------------------


def _pam4_transitions(esn0_db: float) -> np.ndarray:
    """P(decided (sign, magnitude) bits | sent ones) on one axis of unit-energy Gray
    16-QAM (TS 38.211: level (1 - 2 s)(2 - (1 - 2 m)) / √10), hard decisions,
    AWGN of variance N0/2 per axis. Index 2 s + m."""
    sigma = math.sqrt(10 ** (-esn0_db / 10) / 2) * math.sqrt(10)  # in units of 1/√10
    edges = np.array([-np.inf, -2.0, 0.0, 2.0, np.inf])
    level = {0b00: 1.0, 0b01: 3.0, 0b10: -1.0, 0b11: -3.0}  # index 2 s + m
    region = {0b11: 0, 0b10: 1, 0b00: 2, 0b01: 3}  # decision interval of each level
    p = np.zeros((4, 4))
    for t, x in level.items():
        cdf = [0.5 * math.erfc(-(e - x) / (sigma * math.sqrt(2))) for e in edges]
        for r, k in region.items():
            p[t, r] = cdf[k + 1] - cdf[k]
    return p


def qam16_transitions(esn0_db: float) -> np.ndarray:
    """16 x 16 P(decided label | sent label) for Gray 16-QAM, label b0 b1 b2 b3 =
    (I sign, Q sign, I magnitude, Q magnitude), b0 the most significant."""
    pam = _pam4_transitions(esn0_db)
    lab = np.arange(16)
    i_idx = 2 * ((lab >> 3) & 1) + ((lab >> 1) & 1)
    q_idx = 2 * ((lab >> 2) & 1) + (lab & 1)
    return pam[i_idx][:, i_idx] * pam[q_idx][:, q_idx]


def token_transitions(esn0_db: float, token_bits: int = 10, tokens_per_packet: int = 4,
                      scrambler: np.ndarray | None = None) -> np.ndarray:
    """2^b x 2^b P(received token label | sent label) of the uncoded link, averaged over
    the packet's slots: slot s holds packet bits s b ... (s+1) b - 1, MSB first, and 16-QAM
    symbol n carries packet bits 4n ... 4n+3 (docs/formats.md, docs/link.md). Bits of a
    symbol that belong to another token are uniform, padding bits zero; scrambler (0/1
    per packet bit, or None) is XORed on before mapping and after deciding."""
    sym = qam16_transitions(esn0_db)
    n_bits = tokens_per_packet * token_bits
    scr = np.zeros(4 * -(-n_bits // 4), np.int64)
    if scrambler is not None:
        scr[:n_bits] = np.asarray(scrambler[:n_bits])
    total = np.zeros((2**token_bits, 2**token_bits))
    for slot in range(tokens_per_packet):
        positions = np.arange(slot * token_bits, (slot + 1) * token_bits)
        mat = np.ones((1, 1))
        for n in np.unique(positions // 4):
            mine = [p % 4 for p in positions if p // 4 == n]
            mat = np.kron(mat, _symbol_marginal(sym, mine, n, n_bits, scr[4 * n:4 * n + 4]))
        total += mat
    return total / tokens_per_packet


def _symbol_marginal(sym, mine, n, n_bits, scr):
    """P(token's bits of symbol n received | sent), the symbol's other bits marginalised
    (another token's: uniform; padding: 0)."""
    others = [k for k in range(4) if k not in mine]
    scr_label = int(sum(int(b) << (3 - k) for k, b in enumerate(scr)))
    size = 2 ** len(mine)
    out = np.zeros((size, size))

    def label(mine_bits, other_bits):
        v = 0
        for k, b in zip(mine, mine_bits, strict=True):
            v |= b << (3 - k)
        for k, b in zip(others, other_bits, strict=True):
            v |= b << (3 - k)
        return v

    def bits(value, width):
        return [(value >> (width - 1 - i)) & 1 for i in range(width)]

    other_tx = []
    for o in range(2 ** len(others)):
        ob = bits(o, len(others))
        padding = [4 * n + k >= n_bits for k in others]
        if any(b and pad for b, pad in zip(ob, padding, strict=True)):
            continue  # padding bits are always zero
        other_tx.append(ob)
    for t in range(size):
        for r in range(size):
            acc = 0.0
            for ob in other_tx:
                tx = label(bits(t, len(mine)), ob) ^ scr_label
                for o in range(2 ** len(others)):
                    acc += sym[tx, label(bits(r, len(mine)), bits(o, len(others))) ^ scr_label]
            out[t, r] = acc / len(other_tx)
    return out


# --- the binary switching algorithm --------------------------------------------------


def expected_distortion(labels, prior, dist, trans) -> float:
    """D(π) = Σ_i p_i Σ_j P(π_j | π_i) d(i, j)."""
    lab = np.asarray(labels, np.int64)
    return float(np.sum(prior[:, None] * dist * trans[np.ix_(lab, lab)]))


class SwitchingDesigner:
    """BSA state: A[i, j] = P(π_j | π_i), W[i, j] = p_i d(i, j), D = Σ W ∘ A."""

    def __init__(self, prior, dist, trans, labels):
        self.trans = trans
        self.labels = np.array(labels, np.int64)
        self.W = prior[:, None] * dist
        self.A = trans[np.ix_(self.labels, self.labels)].copy()
        self._sums()

    def _sums(self):
        wa = self.W * self.A
        self.row, self.col = wa.sum(1), wa.sum(0)

    @property
    def distortion(self) -> float:
        return float(self.row.sum())

    def costs(self) -> np.ndarray:
        """Each codeword's share of D (as sender plus as wrong receiver)."""
        return self.row + self.col

    def swap_gains(self, a: int) -> np.ndarray:
        """ΔD of swapping the labels of a and b, for every b (0 at b = a)."""
        W, A, r, c = self.W, self.A, self.row, self.col
        # Terms with sender a or b, summed over all receivers j, then over all senders i
        # with receiver a or b; the four (a|b, a|b) terms are fixed up below.
        f = A @ W[a] + W @ A[a] - r[a] - r
        g = A.T @ W[:, a] + W.T @ A[:, a] - c[a] - c
        waa, wbb = W[a, a], np.diagonal(W)
        wab, wba = W[a], W[:, a]
        aaa, abb = A[a, a], np.diagonal(A)
        aab, aba = A[a], A[:, a]
        # f and g include j = a, b and i = a, b: remove those, add the exact corner terms.
        f -= (waa - wba) * (aba - aaa) + (wab - wbb) * (abb - aab)
        g -= (waa - wab) * (aab - aaa) + (wba - wbb) * (abb - aba)
        corner = (waa - wbb) * (abb - aaa) + (wab - wba) * (aba - aab)
        delta = f + g + corner
        delta[a] = 0.0
        return delta

    def swap(self, a: int, b: int) -> None:
        W, A = self.W, self.A
        # Rows and columns other than a, b change only in their entries a and b: O(Q).
        d_row = (W[:, a] - W[:, b]) * (A[:, b] - A[:, a])
        d_col = (W[a] - W[b]) * (A[b] - A[a])
        self.labels[[a, b]] = self.labels[[b, a]]
        A[[a, b]] = A[[b, a]]
        A[:, [a, b]] = A[:, [b, a]]
        self.row += d_row
        self.col += d_col
        for k in (a, b):
            self.row[k] = W[k] @ A[k]
            self.col[k] = W[:, k] @ A[:, k]

    def run(self, max_passes: int = 100, deadline_s: float = math.inf, tol: float = 1e-12):
        """Passes over the codewords by falling cost until a pass finds no improving
        swap (or max_passes / the deadline); returns the number of swaps per pass."""
        start = time.monotonic()
        history = []
        for _ in range(max_passes):
            self._sums()  # no drift from the incremental updates
            swaps = 0
            for a in np.argsort(-self.costs(), kind="stable"):
                gains = self.swap_gains(a)
                b = int(np.argmin(gains))
                if gains[b] < -tol * max(self.distortion, 1e-300):
                    self.swap(a, b)
                    swaps += 1
            history.append(swaps)
            log.info(f"pass {len(history)}: {swaps} swaps, D = {self.distortion:.6g}")
            if swaps == 0 or time.monotonic() - start > deadline_s:
                break
        return history


def design_labels(prior, dist, trans, seed: int = 0, max_passes: int = 100,
                  deadline_s: float = math.inf) -> tuple[np.ndarray, dict]:
    """The designed labeling from a seeded random start, and a record of the run."""
    q = dist.shape[0]
    if trans.shape[0] < q:
        raise ValueError(f"{trans.shape[0]} labels for {q} codewords")
    trans = trans[:q, :q]  # labels >= Q never go out; received ones are lost anyway
    t0 = time.monotonic()
    bsa = SwitchingDesigner(prior, dist, trans, random_labels(q, seed))
    start = bsa.distortion
    history = bsa.run(max_passes, deadline_s)
    record = {"distortion_start": start, "distortion": bsa.distortion,
              "distortion_natural": expected_distortion(natural_labels(q), prior, dist, trans),
              "passes": len(history), "swaps": int(sum(history)),
              "seconds": round(time.monotonic() - t0, 1)}
    return check_labels(bsa.labels, q), record


# --- codebook statistics (torch) -----------------------------------------------------


def codebook_statistics(model_dir=None, n_images: int = 1000, data_dir=None):
    """(prior, dist): token frequencies on the first n_images Fashion-MNIST training
    images (add-one smoothed) and squared embedding distances, normalised to mean 1."""
    import torch

    from ..models.bundled import load_bundle, to_model_input
    from .fashion_mnist import load_split

    bundle = load_bundle(model_dir, with_classifier=False)
    vq = bundle.tokenizer.eval()
    emb = vq.quantize.embedding.weight.detach().double()
    q = emb.shape[0]
    counts = torch.zeros(q, dtype=torch.float64)
    if n_images > 0:
        images, _ = load_split("train", data_dir)
        x = to_model_input(images[:n_images], bundle.config.geometry)
        with torch.no_grad():
            for i in range(0, x.shape[0], 100):
                counts += torch.bincount(vq.tokenize(x[i:i + 100]).flatten(), minlength=q)
    prior = ((counts + 1) / (counts.sum() + q)).numpy()
    dist = torch.cdist(emb, emb).pow(2).numpy()
    return prior, dist / dist.mean()


# --- command line --------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(prog="tokcom-design-labels", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default=None, help="model bundle folder (default: the bundled "
                   "model); the labeling file is written there and named in its config.json")
    p.add_argument("--esn0", type=float, default=14.0, help="design Es/N0 in dB")
    p.add_argument("--seed", type=int, default=0, help="seed of the start labeling")
    p.add_argument("--prior-images", type=int, default=1000,
                   help="training images for the token frequencies (0: uniform)")
    p.add_argument("--tokens-per-packet", type=int, default=4)
    p.add_argument("--max-passes", type=int, default=100)
    p.add_argument("--max-minutes", type=float, default=9.0,
                   help="stop starting new passes after this long")
    p.add_argument("--file", default=DEFAULT_FILE, help="file name inside the bundle folder")
    p.add_argument("--data-dir", default=None, help="Fashion-MNIST folder")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import torch

    from ..models.bundled import default_model_dir

    torch.set_num_threads(args.threads)
    t0 = time.monotonic()
    model_dir = Path(args.model) if args.model else default_model_dir()
    prior, dist = codebook_statistics(model_dir, args.prior_images, args.data_dir)
    q = dist.shape[0]
    bits = max(1, math.ceil(math.log2(q)))
    trans = token_transitions(args.esn0, bits, args.tokens_per_packet)
    t_stats = time.monotonic() - t0
    labels, record = design_labels(prior, dist, trans, args.seed, args.max_passes,
                                   args.max_minutes * 60 - t_stats)
    rand = expected_distortion(random_labels(q, args.seed), prior, dist, trans[:q, :q])
    meta = {"designer": "binary switching algorithm (Zeger & Gersho 1990), docs/mapper.md",
            "channel": f"uncoded Gray 16-QAM, hard decisions, {args.tokens_per_packet} "
                       f"tokens of {bits} bits per packet, no scrambler",
            "design_esn0_db": args.esn0, "distortion": "squared VQ embedding distance",
            "prior_images": args.prior_images, "seed": args.seed,
            "expected_distortion": f"{record['distortion']:.6g} (random start "
                                   f"{rand:.6g}, natural {record['distortion_natural']:.6g})",
            "passes": record["passes"], "swaps": record["swaps"],
            "seconds": round(time.monotonic() - t0, 1),
            "date": datetime.date.today().isoformat(),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} thread(s)"}
    write_labels(model_dir / args.file, labels, meta)
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text())
    config[CONFIG_KEY] = {"file": args.file, "design_esn0_db": args.esn0, "seed": args.seed,
                          "channel": "uncoded_16qam"}
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    log.info(f"wrote {model_dir / args.file} in {meta['seconds']} s: D = "
             f"{record['distortion']:.4g} (random {rand:.4g}, natural "
             f"{record['distortion_natural']:.4g}), {record['swaps']} swaps in "
             f"{record['passes']} passes")
    return 0
