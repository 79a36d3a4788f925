"""Running totals of the mask-and-predict sink's per-frame metrics, and TCE."""

import math
import threading

import numpy as np
import pmt
from gnuradio import gr

from .frame_quality import tce
from .link_config import token_bits

AVERAGED = ("ter_before", "ter_after", "masked_accuracy", "psnr_received", "psnr_predicted",
            "psnr_lossless", "ssim_received", "ssim_predicted", "ssim_lossless", "latency_ms")


class FrameTotals:
    """Running totals of per-frame metrics dicts (frame_evaluator's "metrics"). TCE's
    log2 Q comes from the frames' codebook size (token_bits)."""

    def __init__(self, channel_uses_per_frame=0):
        self.channel_uses = int(channel_uses_per_frame)
        self.bits_per_token = 0
        self._values = {k: [] for k in AVERAGED}
        self._counts = dict(frames=0, predicted=0, unpredicted=0, tokens=0, masked=0,
                            packets=0, packets_ok=0)
        self._lock = threading.Lock()

    def add(self, m: dict):
        with self._lock:
            c = self._counts
            c["frames"] += 1
            c["predicted" if m.get("prediction") == "ok" else "unpredicted"] += 1
            c["tokens"] += int(m.get("n_tokens", 0))
            c["masked"] += int(m.get("n_masked", 0))
            if "n_packets" in m and "n_packets_ok" in m:  # the depacketizer's counts
                c["packets"] += int(m["n_packets"])
                c["packets_ok"] += int(m["n_packets_ok"])
            if "codebook_size" in m:
                self.bits_per_token = token_bits(m["codebook_size"])
            for key in AVERAGED:
                v = m.get(key)
                if v is not None and not (isinstance(v, float) and math.isnan(v)):
                    self._values[key].append(float(v))

    def totals(self) -> dict:
        with self._lock:
            t = dict(self._counts)
            for key, values in self._values.items():
                t[key] = float(np.mean(values)) if values else float("nan")
        # PER of the frames' packets: failed CRC or never arrived
        t["per"] = (1 - t["packets_ok"] / t["packets"]) if t["packets"] else float("nan")
        tokens_per_frame = t["tokens"] / t["frames"] if t["frames"] else 0
        t["tce"] = (tce(tokens_per_frame, self.channel_uses, self.bits_per_token)
                    if self.channel_uses and tokens_per_frame and self.bits_per_token
                    else float("nan"))
        return t

    def summary(self) -> str:
        t = self.totals()
        return (f"{t['frames']} frames ({t['predicted']} predicted): TER {t['ter_before']:.4f} "
                f"-> {t['ter_after']:.4f}, PSNR VQ-only {t['psnr_received']:.2f} dB -> "
                f"predicted {t['psnr_predicted']:.2f} dB, TCE {t['tce']:.5f}")


class frame_metrics(gr.basic_block):
    """Input "in": the frame evaluator's "metrics" dicts. Keeps running means of
    TER before/after prediction, masked-token accuracy, PSNR and SSIM (VQ-only =
    "received", "predicted", "lossless" VQ reconstruction) and latency, counts
    predicted/unpredicted frames, and computes the token communication efficiency
    TCE = h*w / (T * N * log2 Q) with N = channel_uses_per_frame (LinkConfig's
    channel_uses_per_frame) and T = 1 (TokCom: nothing is retransmitted), and the PER
    of the frames' packets (failed or missing over all, from the depacketizer's counts).
    totals() returns all of it; it is logged at stop. Output "out": the running totals after each
    frame."""

    def __init__(self, channel_uses_per_frame=0):
        gr.basic_block.__init__(self, name="frame_metrics", in_sig=None, out_sig=None)
        self._totals = FrameTotals(channel_uses_per_frame)
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        m = pmt.to_python(msg)
        if not isinstance(m, dict) or "frame_id" not in m:
            return
        self._totals.add(m)
        self.message_port_pub(pmt.intern("out"), pmt.to_pmt(self._totals.totals()))

    def totals(self) -> dict:
        return self._totals.totals()

    def stop(self):
        self.logger.info(self._totals.summary())
        return super().stop()
