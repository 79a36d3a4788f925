"""One sweep point: a chunk of test images at one Es/N0 through the project's blocks.

The TokCom loopback flowgraph (loopback_flowgraph: image token source -> token packetizer
-> coded link TX -> loopback channel -> coded link RX -> token depacketizer) feeds two
mask-and-predict blocks in simulation mode, one with the class label as cross-modal
information (CMI) and one without, and the frame evaluator scores both, so TokCom with
CMI, TokCom without CMI and VQ-only (lost tokens = fill token, the evaluator's
"received" picture) see the same channel realisation. VQ + ARQ resends the packets that
failed in that same run through an ARQ link until each is received; JPEG + ARQ sends
each image as a JPEG file of at most the frame's payload bits through it. The soft
receivers (issue #16) are two more mask-and-predict blocks on the same channel run:
hard_kept keeps the failed packets' hard-decoded tokens, tokcom_soft fuses their bit LLRs
with the prior (CMI) and runs the CRC-aided list search (mask_predict receiver "soft").

Torch-free: runs in any Dask worker with GNU Radio and gr-tokcom installed.
"""

from dataclasses import dataclass

import numpy as np
import pmt

from .. import tokcom_python as cpp
from ..arq_link import ArqLink
from ..frame_pdu import parse_frame_pdu
from ..frame_quality import image_quality, token_error_rates
from ..link_sim import pdu_fields
from ..loopback_flowgraph import LoopbackConfig, build_loopback
from ..service.client import ServiceClient
from . import jpeg_codec

SCHEMES = ("tokcom_cmi", "tokcom_nocmi", "vq_only", "vq_arq", "jpeg_arq", "hard_kept",
           "tokcom_soft")
# The mask-and-predict blocks of a point: (name, class label as CMI, receiver)
PREDICTORS = (("tokcom_cmi", True, "mask"), ("tokcom_nocmi", False, "mask"),
              ("hard_kept", False, "hard_kept"), ("tokcom_soft", True, "soft"))


@dataclass(frozen=True)
class PointTask:
    esn0_db: float
    first_image: int
    n_images: int
    channel_seed: int  # the TokCom run's noise
    arq_seed: int  # the retransmissions' noise
    service: str
    steps: int = 0  # 0: the service's default
    interleaver_seed: int = 1
    timeout_s: float = 600.0
    schemes: tuple = SCHEMES  # the schemes to compute (tokcom_cmi and vq_only always run)


def _by_frame(msgs, key="predictor"):
    """{(frame_id, predictor): message as Python} of evaluator metrics."""
    out = {}
    for msg in msgs:
        m = pmt.to_python(msg)
        out[(m["frame_id"], m[key])] = m
    return out


def _images(msgs):
    """{(frame_id, predictor): (3, H, W) original, VQ-only, predicted} of evaluator images."""
    out = {}
    for msg in msgs:
        meta = pmt.to_python(pmt.car(msg))
        out[(meta["frame_id"], meta["predictor"])] = \
            pmt.to_python(pmt.cdr(msg)).reshape(meta["shape"])
    return out


def run_point(t: PointTask) -> dict:
    """Runs one point; returns per-image arrays (sorted by image index)."""
    predictors = tuple(p for p in PREDICTORS if p[0] == "tokcom_cmi" or p[0] in t.schemes)
    cfg = LoopbackConfig(service=t.service, esn0_db=t.esn0_db, n_frames=t.n_images,
                         first_image=t.first_image, channel_seed=t.channel_seed,
                         predictors=predictors, steps=t.steps, service_timeout_s=t.timeout_s,
                         run_timeout_s=t.timeout_s * 4,
                         link_settings=dict(interleaver_seed=t.interleaver_seed))
    tb = build_loopback(cfg)
    link = tb.link
    tb.run_to_completion()
    metrics = _by_frame(tb.messages("metrics"))
    images = _images(tb.messages("images"))
    sent_frames = {f.frame_id: f for f in map(parse_frame_pdu, tb.messages("sent_frames"))}
    ids = sorted(sent_frames)
    bad = [(i, p) for i in ids for p, *_ in predictors
           if metrics.get((i, p), {}).get("prediction") != "ok" or (i, p) not in images]
    if len(ids) != t.n_images or bad:
        raise RuntimeError(f"{t.esn0_db} dB, images from {t.first_image}: "
                           f"{len(ids)}/{t.n_images} sent, not predicted: {bad[:5]}")
    n_pkt = link.packets_per_frame
    sent = {k[:2]: k[3] for k in map(lambda m: pdu_fields(m, crc_ok_default=True),
                                      tb.messages("sent"))}
    first = {k[:2]: k[2] for k in map(pdu_fields, tb.messages("received"))}
    keys = [(i, p) for i in ids for p in range(n_pkt)]
    first_ok = [first.get(k, False) for k in keys]

    originals = np.stack([images[(i, "tokcom_cmi")][0] for i in ids])
    cmi = [metrics[(i, "tokcom_cmi")] for i in ids]
    r = {"image_index": np.array(ids), "label": np.array([sent_frames[i].label for i in ids]),
         "packets": np.full(len(ids), n_pkt),
         "n_tokens": np.full(len(ids), link.tokens_per_frame),
         "token_bits": np.full(len(ids), link.token_bits),
         "frame_channel_uses": np.full(len(ids), link.channel_uses_per_frame),
         "first_failed": (~np.array(first_ok)).reshape(len(ids), n_pkt).sum(1),
         "n_masked": np.array([m["n_masked"] for m in cmi]),
         "pixels": np.full(len(ids), originals[0].size)}
    pictures = {"original": originals}
    if {"vq_arq", "jpeg_arq"} & set(t.schemes):
        _arq_schemes(t, link, ids, keys, sent, first_ok, sent_frames, originals, r, pictures)
    if "tokcom_soft" in t.schemes:
        r["soft_packets_recovered"], r["soft_false_accepts"] = _list_search_counts(
            tb.messages("completed_tokcom_soft"), sent_frames, ids, link)

    # The token schemes: the frame evaluator's metrics (one definition of each)
    for scheme, (predictor, kind, which) in {
            "tokcom_cmi": ("tokcom_cmi", "predicted", 2),
            "tokcom_nocmi": ("tokcom_nocmi", "predicted", 2),
            "hard_kept": ("hard_kept", "predicted", 2),
            "tokcom_soft": ("tokcom_soft", "predicted", 2),
            "vq_only": ("tokcom_cmi", "received", 1)}.items():
        if predictor not in (p[0] for p in predictors):
            continue
        ms = [metrics[(i, predictor)] for i in ids]
        r[f"{scheme}_psnr"] = np.array([m[f"psnr_{kind}"] for m in ms])
        r[f"{scheme}_ssim"] = np.array([m[f"ssim_{kind}"] for m in ms])
        r[f"{scheme}_ter"] = np.array([m["ter_before" if kind == "received" else "ter_after"]
                                       for m in ms])
        pictures[scheme] = np.stack([images[(i, predictor)][which] for i in ids])
    r["images"] = pictures
    return r


def _list_search_counts(completed, sent_frames, ids, link):
    """Per image: packets the CRC-aided list search recovered, and how many of those
    were wrong (false accepts), from tokcom_soft's completed frames."""
    slots = np.asarray(cpp.token_layout(link.tokens_per_frame, link.tokens_per_packet,
                                        link.codebook_size, link.interleaver,
                                        link.interleaver_seed).slot_positions())
    frames = {f.frame_id: f for f in map(parse_frame_pdu, completed)}
    recovered, false_accepts = [], []
    for i in ids:
        f = frames[i]
        got = np.flatnonzero(np.asarray(f.meta.get("soft_recovered", []), bool))
        wrong = [p for p in got if np.any(
            f.tokens.ravel()[slots[p][slots[p] >= 0]]
            != sent_frames[i].tokens.ravel()[slots[p][slots[p] >= 0]])]
        recovered.append(len(got))
        false_accepts.append(len(wrong))
    return np.array(recovered), np.array(false_accepts)


def _arq_schemes(t, link, ids, keys, sent, first_ok, sent_frames, originals, r, pictures):
    """VQ + ARQ and JPEG + ARQ of the point (their records and pictures added)."""
    n_pkt = link.packets_per_frame
    with ServiceClient(t.service, timeout=t.timeout_s, retries=0) as client:
        fill_token = int(client.info().get("fill_token", 0))
        with ArqLink(t.esn0_db, t.arq_seed, link) as arq_link:
            arq = arq_link.deliver([sent[k] for k in keys], first_ok)
            budget = n_pkt * link.payload_bits
            jpeg = [jpeg_codec.encode(img.squeeze(), budget) for img in originals]
            jpeg_pkts = [jpeg_codec.to_packets(data, link.payload_bits // 8) for data, _ in jpeg]
            jpeg_arq = arq_link.deliver([p for pkts in jpeg_pkts for p in pkts])
        arq_tokens = _assemble(arq.payloads, ids, link, fill_token)
        arq_images = np.concatenate([client.detokenize(arq_tokens[i:i + 32])
                                     for i in range(0, len(ids), 32)])
    r.update(vq_arq_transmissions=arq.attempts.reshape(len(ids), n_pkt).sum(1),
             vq_arq_undelivered=(~arq.delivered).reshape(len(ids), n_pkt).sum(1))
    jpeg_images, jpeg_tx, j = [], [], 0
    for (data, _), pkts in zip(jpeg, jpeg_pkts, strict=True):
        got = jpeg_arq.payloads[j:j + len(pkts)]
        jpeg_tx.append(int(jpeg_arq.attempts[j:j + len(pkts)].sum()))
        j += len(pkts)
        try:
            jpeg_images.append(jpeg_codec.decode(jpeg_codec.from_packets(got, len(data))))
        except Exception:  # noqa: BLE001  (a packet never delivered or corrupted: no image)
            jpeg_images.append(np.zeros(originals.shape[1:3], np.uint8))
    r.update(jpeg_bits=np.array([8 * len(d) for d, _ in jpeg]),
             jpeg_quality=np.array([q for _, q in jpeg]),
             jpeg_packets=np.array([len(p) for p in jpeg_pkts]),
             jpeg_arq_transmissions=np.array(jpeg_tx))

    # The retransmission baselines: their images, scored with the same functions
    pictures["vq_arq"] = arq_images.reshape(originals.shape)
    pictures["jpeg_arq"] = np.stack(jpeg_images).reshape(originals.shape)
    for scheme in ("vq_arq", "jpeg_arq"):
        q = [image_quality(o, x) for o, x in zip(originals, pictures[scheme], strict=True)]
        r[f"{scheme}_psnr"] = np.array([v["psnr"] for v in q])
        r[f"{scheme}_ssim"] = np.array([v["ssim"] for v in q])
    r["vq_arq_ter"] = np.array([
        token_error_rates(sent_frames[i].tokens, a, np.zeros(a.shape, bool), a)["ter_after"]
        for i, a in zip(ids, arq_tokens, strict=True)])


def _assemble(payloads, ids, link, fill_token):
    """Token frames from the packets delivered by ARQ (format: token_layout)."""
    grid = (link.grid_h, link.grid_w)
    layout = cpp.token_layout(link.tokens_per_frame, link.tokens_per_packet,
                              link.codebook_size, link.interleaver, link.interleaver_seed)
    n_pkt = link.packets_per_frame
    out = np.zeros((len(ids), *grid), np.uint16)
    for f in range(len(ids)):
        frame = np.zeros(link.tokens_per_frame, np.uint16)
        mask = np.ones(link.tokens_per_frame, np.uint8)
        for p in range(n_pkt):
            payload = payloads[f * n_pkt + p]
            if payload is not None:
                layout.unpack(np.frombuffer(payload, np.uint8), p, frame, mask)
        frame[mask.astype(bool)] = fill_token  # never delivered: as VQ-only would show
        out[f] = frame.reshape(grid)
    return out
