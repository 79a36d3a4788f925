"""Uncoded sweep schemes: token errors reach the image (docs/mapper.md).

Gray 16-QAM, no channel code, no CRC, hard decisions; no packet is ever masked, so a
wrong bit makes a wrong token. The three labelings π (token -> label) differ only in which
wrong token a bit error produces:

* uncoded_natural: label = token index;
* uncoded_random: a seeded random π (labeling.random_labels, seed RANDOM_LABEL_SEED);
* uncoded_semantic: the bundle's designed π (tokcom-design-labels);
* uncoded_semantic_predict (hybrid): uncoded_semantic, but tokens whose demapper margin is
  low (P(all 10 bits right) < MARGIN_THRESHOLD from the max-log LLRs) are masked and
  predicted by MaskGIT with the class label (CMI), like TokCom's lost packets;
* coded_keep_natural / _random / _semantic: the same three labelings on TokCom's K = 7
  rate-1/2 coded link, but without a CRC, so every packet is kept and the Viterbi
  decoder's wrong tokens reach the image (how a labeling acts inside a coded link).

One flowgraph per (Es/N0, chunk of test images): image token source -> semantic mapper ->
token packetizer -> coded link TX (crc none, code none) -> loopback channel -> coded link
RX -> token depacketizer -> semantic demapper, one branch per labeling, every branch with
the same noise seed (paired comparison). Torch-free, like point.py.
"""

import itertools
import time
from dataclasses import dataclass

import numpy as np
import pmt
from gnuradio import blocks, gr

from .. import tokcom_python as cpp
from ..coded_link_rx import coded_link_rx
from ..coded_link_tx import coded_link_tx
from ..frame_pdu import parse_frame_pdu
from ..frame_quality import image_quality, tce, token_error_rates
from ..image_token_source import FASHION_MNIST, image_token_source
from ..link_config import LinkConfig, make_constellation
from ..loopback_channel import loopback_channel
from ..service.client import ServiceClient
from . import summary

LABELINGS = ("natural", "random", "semantic")
HYBRID = "uncoded_semantic_predict"
CODES = {"uncoded": "none", "coded_keep": "cc_k7"}  # scheme prefix -> channel code
SCHEMES = (tuple(f"uncoded_{name}" for name in LABELINGS) + (HYBRID,)
           + tuple(f"coded_keep_{name}" for name in LABELINGS))
RANDOM_LABEL_SEED = 1
MARGIN_THRESHOLD = 0.5  # mask a token when P(its 10 hard bits are all right) is below
# The links of the two prefixes (paper geometry, no CRC): 64 packets x 10 symbols uncoded,
# x 23 coded ((40 + 6 tail) x 2 / 4), + the guard; the labels alone set the uncoded symbols
LINKS = {"uncoded": LinkConfig(crc="none", code="none", scramble=False),
         "coded_keep": LinkConfig(crc="none", code="cc_k7")}
_PAPER = LINKS["uncoded"]
PAYLOAD_BITS, TOKENS_PER_PACKET = _PAPER.payload_bits, _PAPER.tokens_per_packet
GUARD, PACKETS_PER_FRAME = _PAPER.guard_symbols, _PAPER.packets_per_frame
CHANNEL_USES_PER_PACKET = {p: link.channel_uses_per_packet for p, link in LINKS.items()}


@dataclass(frozen=True)
class UncodedTask:
    esn0_db: float
    first_image: int
    n_images: int
    channel_seed: int
    service: str
    labels: tuple  # (natural, random, semantic) label lists
    prefix: str = "uncoded"  # or "coded_keep" (CODES)
    hybrid: bool = True
    steps: int = 0  # decoding steps of the hybrid (0: the service's default)
    interleaver_seed: int = 1
    timeout_s: float = 600.0


class uncoded_point(gr.top_block):
    """One branch per labeling from one image source; the semantic branch's max-log
    LLRs are recorded for the hybrid."""

    def __init__(self, t: UncodedTask, grid=(16, 16), codebook_size=1024):
        gr.top_block.__init__(self, "tokcom_uncoded_point", catch_exceptions=False)
        self.source = image_token_source(t.service, FASHION_MNIST, t.n_images, 50.0, False,
                                         t.first_image, t.first_image, 30.0, t.timeout_s)
        self.stores = {name: blocks.message_debug() for name in (*LABELINGS, "ref", "llr")}
        n0 = 10 ** (-t.esn0_db / 10)
        code = CODES[t.prefix]
        scramble = code != "none"  # uncoded: the labels alone set the symbols
        self.msg_connect(self.source, "ref", self.stores["ref"], "store")
        for name, labels in zip(LABELINGS, t.labels, strict=True):
            mapper = cpp.semantic_mapper(list(labels))
            packetizer = cpp.token_packetizer(TOKENS_PER_PACKET, "random", t.interleaver_seed)
            tx = coded_link_tx(PAYLOAD_BITS, "none", code, "16qam", GUARD, scramble)
            channel = loopback_channel(t.esn0_db, t.channel_seed)
            rx = coded_link_rx(PAYLOAD_BITS, "none", code, "16qam", GUARD, n0, 16.0, scramble)
            depacketizer = cpp.token_depacketizer(*grid, codebook_size, TOKENS_PER_PACKET,
                                                  "random", t.interleaver_seed, 500.0)
            demapper = cpp.semantic_demapper(list(labels))
            self.msg_connect(self.source, "out", mapper, "in")
            self.msg_connect(mapper, "out", packetizer, "in")
            self.msg_connect(packetizer, "out", tx, "in")
            self.connect(tx, channel, rx)
            self.msg_connect(rx, "out", depacketizer, "in")
            self.msg_connect(depacketizer, "out", demapper, "in")
            self.msg_connect(demapper, "out", self.stores[name], "store")
            if name == "semantic" and t.hybrid and t.prefix == "uncoded":
                # The same max-log LLRs the RX slices, from a second demapper on the
                # received samples: their magnitudes are the hybrid's margins.
                self.llr_demapper = cpp.burst_demapper(make_constellation("16qam"),
                                                       PAYLOAD_BITS, GUARD, n0, False, 16.0)
                self.llrs = blocks.vector_sink_f()
                self.connect(channel, self.llr_demapper, self.llrs)
                self.msg_connect(self.llr_demapper, "frames", self.stores["llr"], "store")

    def run_until_complete(self, n_frames, timeout_s, hybrid):
        self.start()
        deadline = time.monotonic() + timeout_s
        need = (*LABELINGS, "ref") + (("llr",) if hybrid else ())
        try:
            while (min(self.stores[k].num_messages() for k in need) < n_frames
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            if hybrid:  # the LLRs of the last frame follow its "frames" message
                n_llr = n_frames * PACKETS_PER_FRAME * PAYLOAD_BITS
                while len(self.llrs.data()) < n_llr and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            self.stop()
            self.wait()

    def frames(self, name):
        store = self.stores[name]
        out = {}
        for i in range(store.num_messages()):
            f = parse_frame_pdu(store.get_message(i))
            out[f.frame_id] = f
        return out


def token_reliability(llrs, slot_positions, n_tokens, token_bits=10):
    """P(all bits of a token are right) per frame position, from max-log LLRs
    ((frames, packets, payload bits)) of hard decisions: Π_bits 1 / (1 + e^-|L|)."""
    n_frames, n_pkt, _ = llrs.shape
    per_bit = -np.log1p(np.exp(-np.abs(llrs.astype(np.float64))))  # log P(bit right)
    per_slot = per_bit.reshape(n_frames, n_pkt, -1, token_bits).sum(-1).reshape(n_frames, -1)
    out = np.ones((n_frames, n_tokens))
    slots = np.asarray(slot_positions).ravel()
    used = slots >= 0
    out[:, slots[used]] = np.exp(per_slot[:, used])
    return out


def run_point(t: UncodedTask) -> dict:
    """Runs one point; per-image arrays sorted by image index, images in "images"."""
    tb = uncoded_point(t)
    hybrid = t.hybrid and t.prefix == "uncoded"
    tb.run_until_complete(t.n_images, t.timeout_s, hybrid)
    refs = tb.frames("ref")
    ids = sorted(refs)
    got = {name: tb.frames(name) for name in LABELINGS}
    for name, frames in got.items():
        if len(ids) != t.n_images or any(i not in frames for i in ids):
            raise RuntimeError(f"{t.esn0_db} dB, images from {t.first_image}: "
                               f"{len(ids)}/{t.n_images} sent, {len(frames)} {name} received")
    sent = np.stack([refs[i].tokens for i in ids])
    originals = np.stack([np.asarray(refs[i].meta["image"], np.uint8)
                          .reshape(refs[i].meta["image_shape"]) for i in ids])
    originals = originals.reshape(len(ids), *originals.shape[1:3])
    labels = np.array([refs[i].label for i in ids])
    tokens = {f"{t.prefix}_{name}": np.stack([got[name][i].tokens for i in ids])
              for name in LABELINGS}
    masks = {s: np.zeros_like(sent, bool) for s in tokens}
    r = {"image_index": np.array(ids), "label": labels,
         "packets": np.full(len(ids), PACKETS_PER_FRAME),
         "n_tokens": np.full(len(ids), sent[0].size),
         "pixels": np.full(len(ids), originals[0].size)}
    with ServiceClient(t.service, timeout=t.timeout_s, retries=0) as client:
        if hybrid:
            order = [int(pmt.to_uint64(pmt.dict_ref(tb.stores["llr"].get_message(k),
                                                    pmt.intern("frame_id"), pmt.PMT_NIL)))
                     for k in range(t.n_images)]
            llrs = np.asarray(tb.llrs.data()[:t.n_images * PACKETS_PER_FRAME * PAYLOAD_BITS],
                              np.float32).reshape(t.n_images, PACKETS_PER_FRAME, PAYLOAD_BITS)
            layout = cpp.token_layout(sent[0].size, TOKENS_PER_PACKET, 1024, "random",
                                      t.interleaver_seed)
            rel = token_reliability(llrs, layout.slot_positions(), sent[0].size)
            rel = rel[[order.index(i) for i in ids]].reshape(sent.shape)
            mask = rel < MARGIN_THRESHOLD
            received = tokens["uncoded_semantic"]
            pred = [client.predict(received[i:i + 32], mask[i:i + 32], labels[i:i + 32],
                                   steps=t.steps or None, seed=0).tokens
                    for i in range(0, len(ids), 32)]
            tokens[HYBRID] = np.concatenate(pred).reshape(sent.shape)
            masks[HYBRID] = mask
            r["n_masked"] = mask.reshape(len(ids), -1).sum(1)
        images = {"original": originals}
        for scheme, tok in tokens.items():
            img = np.concatenate([client.detokenize(tok[i:i + 32])
                                  for i in range(0, len(ids), 32)])
            images[scheme] = img.reshape(originals.shape)
    for scheme, tok in tokens.items():
        q = [image_quality(o, x) for o, x in zip(originals, images[scheme], strict=True)]
        r[f"{scheme}_psnr"] = np.array([v["psnr"] for v in q])
        r[f"{scheme}_ssim"] = np.array([v["ssim"] for v in q])
        base = "uncoded_semantic" if scheme == HYBRID else scheme
        ter = [token_error_rates(s, rx, m, final) for s, rx, m, final
               in zip(sent, tokens[base], masks[scheme], tok, strict=True)]
        r[f"{scheme}_ter_before"] = np.array([v["ter_before"] for v in ter])
        r[f"{scheme}_ter"] = np.array([v["ter_after"] for v in ter])
        # a packet is in error when any of its tokens arrived wrong (before prediction)
        wrong = (tokens[base] != sent).reshape(len(ids), -1)[:, layout_positions(t)]
        r[f"{scheme}_packet_errors"] = wrong.any(-1).sum(1)
    r["images"] = images
    return r


def layout_positions(t: UncodedTask) -> np.ndarray:
    """(packets, K) frame positions of the paper geometry's packets."""
    return np.asarray(cpp.token_layout(256, TOKENS_PER_PACKET, 1024, "random",
                                       t.interleaver_seed).slot_positions())


def rows_for_point(esn0_db: float, r: dict, schemes, bits_per_token: int = 10) -> list[dict]:
    """CSV rows (summary.COLUMNS) of the uncoded schemes at one Es/N0."""
    n = len(r["image_index"])
    packets = int(r["packets"].sum())
    rows = []
    for scheme in schemes:
        if f"{scheme}_psnr" not in r:
            continue
        prefix = "uncoded" if scheme.startswith("uncoded") else "coded_keep"
        n_uses = float(np.mean(r["packets"])) * CHANNEL_USES_PER_PACKET[prefix]
        errors = int(r[f"{scheme}_packet_errors"].sum())
        per_lo, per_hi = summary.wilson(errors, packets)
        row = dict.fromkeys(summary.COLUMNS, np.nan) | {
            "scheme": scheme, "esn0_db": esn0_db, "images": n, "packets": packets,
            "per": errors / packets, "per_lo": per_lo, "per_hi": per_hi,
            "transmissions": 1.0, "transmissions_ci": 0.0, "channel_uses": n_uses,
            "bpp": float(np.mean(r["n_tokens"] * bits_per_token / r["pixels"]))}
        row["tce"] = row["tce_lo"] = row["tce_hi"] = tce(float(np.mean(r["n_tokens"])),
                                                         n_uses, bits_per_token)
        row["ter_before"], row["ter_before_ci"] = summary.mean_ci(r[f"{scheme}_ter_before"])
        row["ter_after"], row["ter_after_ci"] = summary.mean_ci(r[f"{scheme}_ter"])
        row["psnr"], row["psnr_ci"] = summary.mean_ci(r[f"{scheme}_psnr"])
        row["ssim"], row["ssim_ci"] = summary.mean_ci(r[f"{scheme}_ssim"])
        if f"{scheme}_class_ok" in r:
            row["class_acc"], row["class_acc_ci"] = summary.mean_ci(r[f"{scheme}_class_ok"])
        rows.append(row)
    return rows


def combine(parts: list[dict]) -> dict:
    """One Es/N0's records of several links (same images in the same order) as one."""
    out = dict(parts[0])
    for extra in parts[1:]:
        out |= {k: v for k, v in extra.items() if k != "images"}
        out["images"] = out["images"] | extra["images"]
    return out


def make_tasks(snrs, n_images, chunk, seed, service, steps, info, model_dir,
               schemes) -> list[UncodedTask]:
    """Tasks of every (link, Es/N0, chunk) the schemes need; labels from the model
    bundle (driver side)."""
    from ..labeling import load_scheme_labels

    q = int(info.get("codebook_size", 1024))
    labels = tuple(tuple(int(v) for v in load_scheme_labels(name, q, model_dir,
                                                           RANDOM_LABEL_SEED))
                   for name in LABELINGS)
    tasks = []
    for k, prefix in enumerate(CODES):
        if not any(s.startswith(prefix) for s in schemes):
            continue
        for esn0 in snrs:
            for c, first in enumerate(range(0, n_images, chunk)):
                # Seeds depend on the point, not on the order tasks run in.
                ss = np.random.SeedSequence([seed, int(round(esn0 * 1000)) + 200_000, c, k])
                tasks.append(UncodedTask(esn0, first, min(chunk, n_images - first),
                                         int(ss.generate_state(1)[0] % 2**31), service,
                                         labels, prefix, HYBRID in schemes, steps))
    return tasks


STYLE = {  # scheme -> (label, line style)
    "uncoded_natural": ("natural labels", dict(marker="s", color="C0", ls=":")),
    "uncoded_random": ("random labels", dict(marker="v", color="C7", ls="--")),
    "uncoded_semantic": ("semantic labels (BSA)", dict(marker="o", color="C3")),
    HYBRID: ("semantic + predict (low-margin tokens)", dict(marker="^", color="C2", ls="-.")),
    "coded_keep_natural": ("K=7, no CRC: natural", dict(marker="s", color="C9", ls=":", lw=1)),
    "coded_keep_random": ("K=7, no CRC: random", dict(marker="v", color="C5", ls="--", lw=1)),
    "coded_keep_semantic": ("K=7, no CRC: semantic", dict(marker="o", color="C1", lw=1)),
}


def figure(rows, path, title=""):
    """PSNR, SSIM, classifier accuracy and TER vs Es/N0 of the uncoded schemes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .figure import _series

    panels = [("psnr", "PSNR (dB)", False), ("ssim", "SSIM", False),
              ("class_acc", "classifier accuracy", False), ("ter_after", "TER", True)]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2))
    for ax, (col, ylabel, log) in zip(axes, panels, strict=True):
        for scheme, (label, style) in STYLE.items():
            s = _series(rows, scheme, col)
            if s is None or np.all(np.isnan(s[1])):
                continue
            x, y, ci = s
            ax.errorbar(x, np.where(y > 0, y, np.nan) if log else y,
                        yerr=None if np.all(np.isnan(ci)) else ci, label=label, capsize=2,
                        ms=4, **style)
        ax.set_xlabel("Es/N0 (dB)")
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    axes[-1].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Uncoded Gray 16-QAM, token labelings ({title})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def esn0_for_psnr(rows, scheme, psnr) -> float:
    """Es/N0 (dB) at which `scheme` reaches `psnr`, interpolated linearly between the
    measured points (NaN outside them; PSNR must rise with Es/N0 there)."""
    pts = sorted((r["esn0_db"], r["psnr"]) for r in rows if r["scheme"] == scheme)
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if min(y0, y1) <= psnr <= max(y0, y1) and y1 != y0:
            return x0 + (psnr - y0) * (x1 - x0) / (y1 - y0)
    return float("nan")


def equal_psnr_gains(rows, reference="uncoded_random", psnrs=(20, 21, 22, 23, 24)):
    """{scheme: [(PSNR, Es/N0 of reference - Es/N0 of scheme)]}: the Es/N0 a labeling
    saves for the same image quality."""
    out = {}
    for scheme in SCHEMES:
        if scheme == reference or not scheme.startswith(reference.split("_")[0]):
            continue
        out[scheme] = [(p, esn0_for_psnr(rows, reference, p) - esn0_for_psnr(rows, scheme, p))
                       for p in psnrs]
    return out
