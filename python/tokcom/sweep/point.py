"""One sweep point: a chunk of test images at one Es/N0 through the project's blocks.

The TokCom flowgraph (image token source -> token packetizer -> coded link TX ->
loopback channel -> coded link RX -> token depacketizer) feeds two mask-and-predict
sinks, one with the class label as cross-modal information (CMI) and one without, so
TokCom with CMI, TokCom without CMI and VQ-only (lost tokens = fill token, the sinks'
"received" image) see the same channel realisation. VQ + ARQ resends the packets that
failed in that same run through an ARQ link until each is received; JPEG + ARQ sends
each image as a JPEG file of at most the frame's payload bits through it.

Torch-free: runs in any Dask worker with GNU Radio and gr-tokcom installed.
"""

import time
from dataclasses import dataclass

import numpy as np
from gnuradio import blocks, gr

from .. import tokcom_python as cpp
from ..arq_link import ArqLink
from ..coded_link_rx import coded_link_rx
from ..coded_link_tx import coded_link_tx
from ..frame_pdu import parse_frame_pdu
from ..frame_quality import image_quality, token_error_rates
from ..image_token_source import FASHION_MNIST, image_token_source
from ..link_sim import PACKETS_PER_FRAME, pdu_fields
from ..loopback_channel import loopback_channel
from ..mask_predict_sink import mask_predict_sink
from ..service.client import ServiceClient
from . import jpeg_codec

# The TokCom paper's packet geometry, as in examples/loopback_sim.grc.
TOKENS_PER_PACKET = 4
PAYLOAD_BITS = 40
CRC, CODE, MODULATION, GUARD = "crc16", "cc_k7", "16qam", 8
SYMBOLS_PER_PACKET = 31  # (40 + 16 CRC + 6 tail bits) x 2 / 4 bits per 16-QAM symbol
# Channel uses (symbols) per packet with its share of the burst's guard symbols: 64
# packets take N = 1992 symbols, the TokCom frame's N in TCE.
CHANNEL_USES_PER_PACKET = (PACKETS_PER_FRAME * SYMBOLS_PER_PACKET + GUARD) / PACKETS_PER_FRAME
SCHEMES = ("tokcom_cmi", "tokcom_nocmi", "vq_only", "vq_arq", "jpeg_arq")


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


class tokcom_point(gr.top_block):
    """The TokCom loopback flowgraph with two sinks (CMI on/off) and message stores."""

    def __init__(self, t: PointTask, grid=(16, 16), codebook_size=1024):
        gr.top_block.__init__(self, "tokcom_sweep_point", catch_exceptions=False)
        # The source does not end the run (drain_s = the timeout): run_point() stops the
        # flowgraph once both sinks have put out every frame, so none is in flight.
        self.source = image_token_source(t.service, FASHION_MNIST, t.n_images, 50.0, False,
                                         t.first_image, t.first_image, 30.0, t.timeout_s)
        self.packetizer = cpp.token_packetizer(TOKENS_PER_PACKET, "random", t.interleaver_seed)
        self.tx = coded_link_tx(PAYLOAD_BITS, CRC, CODE, MODULATION, GUARD)
        self.channel = loopback_channel(t.esn0_db, t.channel_seed)
        self.rx = coded_link_rx(PAYLOAD_BITS, CRC, CODE, MODULATION, GUARD,
                                10 ** (-t.esn0_db / 10))
        self.depacketizer = cpp.token_depacketizer(*grid, codebook_size, TOKENS_PER_PACKET,
                                                   "random", t.interleaver_seed, 500.0)
        # Every frame must be predicted (a skipped prediction would make results depend
        # on timing): room for all frames, a long timeout and no resend.
        self.sinks = {cmi: mask_predict_sink(t.service, cmi, t.steps, 0.0, 0, t.n_images + 1,
                                             t.timeout_s, 0, True, -1, "", 0)
                      for cmi in (True, False)}
        self.stores = {name: blocks.message_debug() for name in
                       ("sent", "first", "ref", "cmi", "nocmi")}
        self.msg_connect(self.source, "out", self.packetizer, "in")
        self.msg_connect(self.packetizer, "out", self.tx, "in")
        self.connect(self.tx, self.channel, self.rx)
        self.msg_connect(self.rx, "out", self.depacketizer, "in")
        for cmi, sink in self.sinks.items():
            self.msg_connect(self.depacketizer, "out", sink, "in")
            self.msg_connect(self.source, "ref", sink, "ref")
            self.msg_connect(sink, "out", self.stores["cmi" if cmi else "nocmi"], "store")
        self.msg_connect(self.packetizer, "out", self.stores["sent"], "store")
        self.msg_connect(self.rx, "out", self.stores["first"], "store")
        self.msg_connect(self.source, "ref", self.stores["ref"], "store")

    def run_until_complete(self, n_frames, timeout_s):
        self.start()
        deadline = time.monotonic() + timeout_s
        try:
            while (min(self.stores[k].num_messages() for k in ("cmi", "nocmi")) < n_frames
                   and time.monotonic() < deadline):
                time.sleep(0.05)
        finally:
            self.stop()
            self.wait()

    def messages(self, name):
        store = self.stores[name]
        return [store.get_message(i) for i in range(store.num_messages())]


def _packets(msgs):
    """{(frame_id, pkt_idx): (crc_ok, payload)} of packet PDUs (sent ones count as ok)."""
    out = {}
    for msg in msgs:
        frame_id, pkt_idx, ok, payload = pdu_fields(msg, crc_ok_default=True)
        out[(frame_id, pkt_idx)] = (ok, payload)
    return out


def _frames(msgs):
    frames = {}
    for msg in msgs:
        f = parse_frame_pdu(msg)
        frames[f.frame_id] = f
    return frames


def _image(meta, key):
    return np.asarray(meta[key], np.uint8).reshape(meta["image_shape"])


def run_point(t: PointTask) -> dict:
    """Runs one point; returns per-image arrays (sorted by image index)."""
    tb = tokcom_point(t)
    tb.run_until_complete(t.n_images, t.timeout_s)
    refs = _frames(tb.messages("ref"))
    outs = {"cmi": _frames(tb.messages("cmi")), "nocmi": _frames(tb.messages("nocmi"))}
    ids = sorted(refs)
    for name, frames in outs.items():
        bad = [i for i in ids if i not in frames or frames[i].meta.get("prediction") != "ok"]
        if len(ids) != t.n_images or bad:
            raise RuntimeError(f"{t.esn0_db} dB, images from {t.first_image}: "
                               f"{len(ids)}/{t.n_images} sent, {name} not predicted: {bad[:5]}")
    sent, first = _packets(tb.messages("sent")), _packets(tb.messages("first"))
    n_pkt = len(sent) // len(ids)
    keys = [(i, p) for i in ids for p in range(n_pkt)]
    first_ok = [first[k][0] if k in first else False for k in keys]

    with ServiceClient(t.service, timeout=t.timeout_s, retries=0) as client:
        fill_token = int(client.info().get("fill_token", 0))
        with ArqLink(t.esn0_db, t.arq_seed, PAYLOAD_BITS, CRC, CODE, MODULATION,
                     GUARD) as link:
            arq = link.deliver([sent[k][1] for k in keys], first_ok)
            originals = np.stack([_image(refs[i].meta, "image") for i in ids])
            jpeg = [jpeg_codec.encode(img.squeeze(), n_pkt * PAYLOAD_BITS) for img in originals]
            jpeg_pkts = [jpeg_codec.to_packets(data, PAYLOAD_BITS // 8) for data, _ in jpeg]
            jpeg_arq = link.deliver([p for pkts in jpeg_pkts for p in pkts])
        arq_tokens = _assemble(arq.payloads, ids, n_pkt, refs, t.interleaver_seed, fill_token)
        arq_images = np.concatenate([client.detokenize(arq_tokens[i:i + 32])
                                     for i in range(0, len(ids), 32)])

    r = {"image_index": np.array(ids), "label": np.array([refs[i].label for i in ids]),
         "packets": np.full(len(ids), n_pkt),
         "n_tokens": np.array([refs[i].tokens.size for i in ids]),
         "first_failed": (~np.array(first_ok)).reshape(len(ids), n_pkt).sum(1),
         "vq_arq_transmissions": arq.attempts.reshape(len(ids), n_pkt).sum(1),
         "vq_arq_undelivered": (~arq.delivered).reshape(len(ids), n_pkt).sum(1)}
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

    images = {"original": originals.reshape(len(ids), *originals.shape[1:3])}
    tokens = {}
    for scheme, name in (("tokcom_cmi", "cmi"), ("tokcom_nocmi", "nocmi")):
        frames = [outs[name][i] for i in ids]
        images[scheme] = np.stack([_image(f.meta, "predicted_image") for f in frames])
        tokens[scheme] = [f.tokens for f in frames]
    frames = [outs["cmi"][i] for i in ids]
    images["vq_only"] = np.stack([_image(f.meta, "received_image") for f in frames])
    received = [np.asarray(f.meta["rx_tokens"]).reshape(f.tokens.shape) for f in frames]
    masks = [f.mask for f in frames]
    tokens["vq_only"] = received
    tokens["vq_arq"] = list(arq_tokens)
    images["vq_arq"] = arq_images
    images["jpeg_arq"] = np.stack(jpeg_images)
    r["n_masked"] = np.array([m.sum() for m in masks])
    r["pixels"] = np.full(len(ids), images["original"][0].size)
    for scheme in SCHEMES:
        img = images[scheme].reshape(images["original"].shape)
        images[scheme] = img
        q = [image_quality(o, x) for o, x in zip(images["original"], img, strict=True)]
        r[f"{scheme}_psnr"] = np.array([v["psnr"] for v in q])
        r[f"{scheme}_ssim"] = np.array([v["ssim"] for v in q])
        if scheme in tokens:
            # VQ only: the received frame's TER (lost tokens count as errors); the others:
            # the TER of their final tokens.
            key = "ter_before" if scheme == "vq_only" else "ter_after"
            r[f"{scheme}_ter"] = np.array([
                token_error_rates(refs[i].tokens, rx, m, final)[key]
                for i, rx, m, final in zip(ids, received, masks, tokens[scheme], strict=True)])
    r["images"] = images
    return r


def _assemble(payloads, ids, n_pkt, refs, interleaver_seed, fill_token):
    """Token frames from the packets delivered by ARQ (format: token_layout)."""
    grid = refs[ids[0]].tokens.shape
    layout = cpp.token_layout(grid[0] * grid[1], TOKENS_PER_PACKET,
                              refs[ids[0]].codebook_size, "random", interleaver_seed)
    out = np.zeros((len(ids), *grid), np.uint16)
    for f in range(len(ids)):
        frame = np.zeros(grid[0] * grid[1], np.uint16)
        mask = np.ones(grid[0] * grid[1], np.uint8)
        for p in range(n_pkt):
            payload = payloads[f * n_pkt + p]
            if payload is not None:
                layout.unpack(np.frombuffer(payload, np.uint8), p, frame, mask)
        frame[mask.astype(bool)] = fill_token  # never delivered: as VQ-only would show
        out[f] = frame.reshape(grid)
    return out
