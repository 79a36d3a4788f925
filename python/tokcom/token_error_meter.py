"""Token error rate of received frames against the frames that were sent."""

import numpy as np
import pmt
from gnuradio import gr

from .drop_log import DropLog
from .frame_pdu import RecentFrames, parse_frame_pdu
from .frame_quality import token_error_rates
from .message_collector import handle_queued


class token_error_meter(gr.basic_block):
    """Compares received frames ("in") with the sent frames ("ref", matched by frame_id).

    Per frame it publishes on "metrics" a dict: frame_id, n_tokens, n_masked (lost
    tokens), n_wrong (delivered but different: undetected errors), ter
    ((n_masked + n_wrong) / n_tokens, the paper's TER before prediction) and the
    depacketizer's packet counts; it logs one line per frame at info level and keeps
    running totals (see totals()). Frames without a reference are counted and skipped.
    """

    def __init__(self, log_frames=True):
        gr.basic_block.__init__(self, name="token_error_meter", in_sig=None, out_sig=None)
        self.log_frames = bool(log_frames)
        self._refs = RecentFrames(1024)
        self._drop_log = DropLog()
        self._totals = dict(frames=0, tokens=0, masked=0, wrong=0, no_reference=0, malformed=0)
        for port in ("ref", "in"):
            self.message_port_register_in(pmt.intern(port))
        self.message_port_register_out(pmt.intern("metrics"))
        self.set_msg_handler(pmt.intern("ref"), self._handle_ref)
        self.set_msg_handler(pmt.intern("in"), self._handle_rx)

    def totals(self) -> dict:
        """Running totals, with the aggregate token error rate."""
        t = dict(self._totals)
        t["ter"] = (t["masked"] + t["wrong"]) / t["tokens"] if t["tokens"] else float("nan")
        return t

    def _handle_ref(self, msg):
        try:
            frame = parse_frame_pdu(msg)
        except ValueError as err:
            self._totals["malformed"] += 1
            self._drop_log(self.logger, "malformed reference frame", err)
            return
        self._refs.put(frame)

    def _handle_rx(self, msg):
        handle_queued(self, "ref", self._handle_ref)  # the frame's reference came first
        try:
            frame = parse_frame_pdu(msg)
        except ValueError as err:
            self._totals["malformed"] += 1
            self._drop_log(self.logger, "malformed received frame", err)
            return
        sent = self._refs.take(frame.frame_id)
        ref = None if sent is None else sent.tokens
        if ref is None or ref.shape != frame.tokens.shape:
            self._totals["no_reference"] += 1
            self._drop_log(self.logger, "received frame",
                           f"frame {frame.frame_id} has no matching reference")
            return
        mask = frame.mask if frame.mask is not None else np.zeros(ref.shape, bool)
        rates = token_error_rates(ref, frame.tokens, mask, frame.tokens)
        n, n_masked, n_wrong = rates["n_tokens"], rates["n_masked"], rates["n_wrong"]
        for key, value in (("frames", 1), ("tokens", n), ("masked", n_masked), ("wrong", n_wrong)):
            self._totals[key] += value
        metrics = dict(frame_id=frame.frame_id, n_tokens=n, n_masked=n_masked, n_wrong=n_wrong,
                       ter=rates["ter_before"])
        for key in ("n_packets", "n_packets_ok", "n_packets_bad", "n_packets_missing", "reason"):
            if key in frame.meta:
                metrics[key] = frame.meta[key]
        if self.log_frames:
            self.logger.info(
                f"frame {frame.frame_id}: {metrics.get('n_packets_ok', '?')} packets ok, "
                f"{metrics.get('n_packets_bad', '?')} bad, "
                f"{metrics.get('n_packets_missing', '?')} missing; {n_masked}/{n} tokens "
                f"masked, {n_wrong} wrong, TER {metrics['ter']:.3f}")
        self.message_port_pub(pmt.intern("metrics"), pmt.to_pmt(metrics))
