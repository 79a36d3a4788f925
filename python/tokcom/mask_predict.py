"""The TokCom receiver's prediction stage: received frames -> completed frames."""

import queue
import threading
import time

import numpy as np
import pmt
from gnuradio import gr

from .drop_log import DropLog
from .frame_pdu import NO_LABEL, Frame, make_frame_pdu, parse_or_drop
from .link_config import crc_of
from .service.client import ServiceClient
from .service.errors import ServiceBusy
from .soft_receiver import (
    SOFT_KEYS,
    SoftPrediction,
    complete_soft,
    frame_soft_fields,
    hard_kept,
    make_list_search,
)

MODES = ("realtime", "simulation")
# "mask": lost tokens are [MASK] (TokCom); "soft": failed packets' bit LLRs fused with the
# prior + CRC-aided list search; "hard_kept": failed packets' hard tokens, no model.
RECEIVERS = ("mask", "soft", "hard_kept")
SOFT_CANDIDATES, SOFT_LIST_SIZE = 8, 64


class mask_predict(gr.basic_block):
    """Fills the lost tokens of received frames with MaskGIT, through the model service.

    Input "in": received frame PDUs (token depacketizer output: tokens + meta "mask").
    Output "out": one completed frame per received frame, in order, with the same
    frame_id, label and mask; tokens = the prediction (received tokens never change), or,
    when there is none, the received tokens with lost ones set to the model's fill token
    (the VQ-only picture). Meta adds "prediction" (ok, service_error, overload, stopped),
    "predictor" (this block's name, to tell several apart downstream), "fill_token" and
    "latency_ms".

    mode "realtime" (over the air): the flowgraph never waits; a frame that arrives while
    max_outstanding predictions are in flight goes out unpredicted, flagged "overload".
    mode "simulation" (demo, sweep, tests): back-pressure; the block waits for room, so
    every frame is predicted unless the service fails, and results do not depend on the
    machine's load. max_outstanding is the one concurrency bound (the client's).

    receiver (docs/models.md, "Fusion"; python/tokcom/soft_receiver.py): "mask" (default)
    predicts every lost token from the received ones; "soft" also uses the bit LLRs that
    failed packets carry (received frame keys llrs / crc_llrs / soft_packets, from Coded
    Link RX with soft output): predict (protocol v2) fuses them with the prior, then a
    CRC-aided list search (crc: the link's CRC) tries each failed packet's best candidate
    tokens and a second prediction counts the packets it recovered as received; meta
    "soft_recovered" (u8vector, 1 = packet recovered) tells which. "hard_kept" uses the
    failed packets' hard-decoded tokens as they are and no model. Without soft fields in a
    frame, "soft" is "mask" and "hard_kept" is the VQ-only fill.
    """

    def __init__(self, service="tcp://127.0.0.1:5555", mode="realtime", use_label=True,
                 steps=0, temperature=0.0, seed=0, max_outstanding=16, timeout_s=2.0,
                 retries=1, name="tokcom_cmi", receiver="mask", crc="crc16", *, curve=None):
        gr.basic_block.__init__(self, name="mask_predict", in_sig=None, out_sig=None)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if receiver not in RECEIVERS:
            raise ValueError(f"receiver must be one of {RECEIVERS}, got {receiver!r}")
        self.receiver = receiver
        self.crc = crc_of(crc)
        self.service, self.mode, self.predictor = service, mode, str(name)
        self.use_label = bool(use_label)
        self.params = dict(steps=int(steps) or None, temperature=float(temperature),
                           seed=int(seed))
        self.max_outstanding = int(max_outstanding)
        self.timeout_s, self.retries = float(timeout_s), int(retries)
        self.curve = curve  # CurveClientKeys for a service elsewhere (docs/service.md)
        self.counts = dict(frames_in=0, frames_out=0, predicted=0, unpredicted=0,
                           malformed=0)
        self.fill_token = 0
        self._drops = DropLog()
        self._work = queue.Queue()
        self._client = None
        self._worker = None
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle_frame)

    # -- flowgraph life ---------------------------------------------------------------

    def start(self):
        self._client = ServiceClient(self.service, timeout=self.timeout_s, retries=self.retries,
                                     max_outstanding=self.max_outstanding, curve=self.curve)
        self._worker = threading.Thread(target=self._run, name=f"mask_predict {self.predictor}",
                                        daemon=True)
        self._worker.start()
        return super().start()

    def stop(self):
        # The worker finishes what is queued: each wait is bounded by the client
        # (timeout_s x (retries + 1)); frames queued without a request go out "stopped".
        self._work.put(None)
        if self._worker is not None:
            self._worker.join(timeout=(self.retries + 1) * self.timeout_s * 2 + 10)
        if self._client is not None:
            self._client.close()
        return super().stop()

    # -- message handler (scheduler thread) ---------------------------------------------

    def _handle_frame(self, msg):
        frame = parse_or_drop(msg, self._drops, self.logger)
        if frame is None:
            self.counts["malformed"] = self._drops.count
            return
        self.counts["frames_in"] += 1
        if frame.mask is None:
            frame.mask = np.zeros(frame.tokens.shape, bool)
        label = frame.label if self.use_label else NO_LABEL
        soft = frame_soft_fields(frame.meta, frame.tokens.size,
                                 max(1, (frame.codebook_size - 1).bit_length()))
        for key in SOFT_KEYS:  # the completed frame does not carry them on
            frame.meta.pop(key, None)
        future = None
        if self.receiver == "hard_kept":
            self._work.put((frame, None, time.monotonic(), soft))
            return
        extra = {}
        if self.receiver == "soft" and soft is not None:
            extra = dict(llrs=soft[0], candidates=SOFT_CANDIDATES)
        try:
            # simulation: wait here for room (back-pressure); realtime: never wait.
            future = self._client.submit_predict(
                frame.tokens, frame.mask, None if label == NO_LABEL else label,
                block=self.mode == "simulation", **self.params, **extra)
        except ServiceBusy:
            pass
        except Exception as err:  # noqa: BLE001  (client closed or broken: unpredicted)
            self.logger.warn(f"frame {frame.frame_id}: no prediction request ({err})")
        self._work.put((frame, future, time.monotonic(), soft if extra else None))

    # -- worker thread ------------------------------------------------------------------

    def _run(self):
        try:
            self.fill_token = int(self._client.info().get("fill_token", 0))
        except Exception as err:  # noqa: BLE001
            self.logger.warn(f"no info from the service ({err}); fill token 0")
        while True:
            item = self._work.get()
            if item is None:
                while not self._work.empty():  # stopping: flush without waiting
                    rest = self._work.get()
                    if rest is not None:
                        self._finish(rest[0], None, rest[2], "stopped")
                return
            frame, future, t0, soft = item
            status, predicted = "overload", None
            if self.receiver == "hard_kept":
                predicted = hard_kept(frame.tokens, frame.mask, None if soft is None
                                      else soft[0], self.fill_token, frame.codebook_size)
                self._finish(frame, predicted, t0, "ok")
                continue
            if future is not None:
                try:
                    result = future.result()
                    predicted = result.tokens
                    if soft is not None:
                        predicted = self._list_search(frame, result, soft).tokens
                    status = "ok"
                except Exception as err:  # noqa: BLE001  (any failure: go on unpredicted)
                    status = "service_error"
                    self.logger.warn(f"frame {frame.frame_id}: prediction failed ({err})")
            self._finish(frame, predicted, t0, status)

    def _list_search(self, frame: Frame, first, soft) -> SoftPrediction:
        """CRC-aided list search on the first (fused) prediction, then the second."""
        m = frame.meta
        search = make_list_search(frame.tokens.shape, frame.codebook_size,
                                  int(m["tokens_per_packet"]), str(m["interleaver"]),
                                  int(m["interleaver_seed"]), *self.crc, SOFT_LIST_SIZE)
        label = frame.label if self.use_label else NO_LABEL
        out = complete_soft(self._client, frame.tokens, frame.mask,
                            None if label == NO_LABEL else label, soft, first, search,
                            **self.params)
        recovered = np.zeros(soft[2].size, np.uint8)
        recovered[list(out.accepted)] = 1
        frame.meta["soft_recovered"] = recovered
        return out

    def _finish(self, frame: Frame, predicted, t0, status):
        if predicted is None:
            tokens = np.where(frame.mask, self.fill_token, frame.tokens).astype(np.uint16)
        else:
            tokens = np.asarray(predicted, np.uint16)
        frame.meta.update(prediction=status, predictor=self.predictor,
                          fill_token=self.fill_token,
                          latency_ms=(time.monotonic() - t0) * 1e3)
        out = Frame(tokens, frame.frame_id, frame.codebook_size, frame.label, frame.model_id,
                    mask=frame.mask, meta=frame.meta)
        self.message_port_pub(pmt.intern("out"), make_frame_pdu(out))
        self.counts["frames_out"] += 1
        self.counts["predicted" if predicted is not None else "unpredicted"] += 1
