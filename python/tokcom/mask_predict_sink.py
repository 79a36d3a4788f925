"""The TokCom receiver's end: masked token frames -> MaskGIT prediction via the model service."""

import queue
import threading
import time
from pathlib import Path

import numpy as np
import pmt
from gnuradio import gr

from .frame_metrics import FrameTotals
from .frame_pdu import NO_LABEL, Frame, RecentFrames, make_frame_pdu, parse_frame_pdu
from .frame_quality import image_quality, token_error_rates
from .service.client import ServiceClient
from .service.errors import ServiceBusy


class mask_predict_sink(gr.basic_block):
    """Fills the lost tokens of received frames with the model service's MaskGIT.

    Input "in": received frame PDUs (token depacketizer output: tokens + meta mask).
    Input "ref": optional reference frames (image token source "ref" output, with the
    original image), for metrics and pictures.
    Output "out": one completed frame per received frame: predicted tokens, meta
    predicted (bool), prediction ("ok", "service_error", "overload", "stopped"),
    rx_tokens, the mask, and with detokenize the images received_image (lost tokens set
    to fill_token, -1 = the model's fill token from the service's info: the VQ-only
    baseline) and predicted_image.
    Output "metrics": per frame, a dict with frame_id, prediction status, latency and,
    when the reference is known, TER before/after, masked-token accuracy, PSNR/SSIM of
    the VQ-only and predicted images against the original (and of the lossless VQ image).

    Asynchronous: the message handler only submits requests (at most max_outstanding);
    a worker thread waits for the replies in order, bounded by the client's timeout and
    retries. A frame whose prediction fails, or that arrives while max_outstanding are
    pending, goes out unpredicted, flagged. Every frame in gives one frame out.
    """

    def __init__(self, service="tcp://127.0.0.1:5555", use_label=True, steps=0,
                 temperature=0.0, seed=0, max_outstanding=16, timeout_s=2.0, retries=1,
                 detokenize=True, fill_token=-1, output_dir="", channel_uses_per_frame=0):
        gr.basic_block.__init__(self, name="mask_predict_sink", in_sig=None, out_sig=None)
        self.service = service
        self.use_label = bool(use_label)
        self.params = dict(steps=int(steps) or None, temperature=float(temperature),
                           seed=int(seed))
        self.max_outstanding = int(max_outstanding)
        self.timeout_s, self.retries = float(timeout_s), int(retries)
        self.detokenize, self.fill_token = bool(detokenize), int(fill_token)
        self.output_dir = Path(output_dir) if output_dir else None
        self.counts = dict(frames_in=0, frames_out=0, predicted=0, unpredicted=0,
                           malformed=0)
        self._totals = FrameTotals(channel_uses_per_frame)
        self._refs = RecentFrames(1024)
        self._work = queue.Queue()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._client = None
        self._worker = None
        for port in ("in", "ref"):
            self.message_port_register_in(pmt.intern(port))
        for port in ("out", "metrics"):
            self.message_port_register_out(pmt.intern(port))
        self.set_msg_handler(pmt.intern("in"), self._handle_frame)
        self.set_msg_handler(pmt.intern("ref"), self._handle_ref)

    # -- flowgraph life ---------------------------------------------------------------

    def start(self):
        self._client = ServiceClient(self.service, timeout=self.timeout_s, retries=self.retries,
                                     max_outstanding=self.max_outstanding)
        self._worker = threading.Thread(target=self._run, name="mask_predict_sink",
                                        daemon=True)
        self._worker.start()
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        return super().start()

    def stop(self):
        # Let the worker finish what is queued: waits run concurrently and each is bounded
        # by the client (timeout_s x (retries + 1)), plus one detokenize per frame.
        self._work.put(None)
        if self._worker is not None:
            self._worker.join(timeout=(self.retries + 1) * self.timeout_s * 3 + 10)
        if self._client is not None:
            self._client.close()
        return super().stop()

    # -- message handlers (scheduler thread: never wait here) ---------------------------

    def _handle_ref(self, msg):
        try:
            frame = parse_frame_pdu(msg)
        except ValueError:
            return
        self._refs.put(frame)

    def _handle_frame(self, msg):
        try:
            frame = parse_frame_pdu(msg)
        except ValueError as err:
            self.counts["malformed"] += 1
            self.logger.debug(f"dropped malformed frame: {err}")
            return
        self.counts["frames_in"] += 1
        mask = frame.mask if frame.mask is not None else np.zeros(frame.tokens.shape, bool)
        future = None
        with self._pending_lock:
            room = self._pending < self.max_outstanding
            if room:
                self._pending += 1
        if room:
            label = frame.label if self.use_label else NO_LABEL
            try:
                future = self._client.submit_predict(
                    frame.tokens, mask, None if label == NO_LABEL else label,
                    block=False, **self.params)
            except ServiceBusy:
                future = None
            if future is None:
                with self._pending_lock:
                    self._pending -= 1
        self._work.put((frame, mask, future, time.monotonic()))

    # -- worker thread ------------------------------------------------------------------

    def _run(self):
        if self.fill_token < 0:
            # The VQ-only baseline fills lost tokens with the model's fill token (info).
            try:
                self.fill_token = int(self._client.info().get("fill_token", 0))
            except Exception as err:  # noqa: BLE001
                self.logger.warn(f"no info from the service ({err}); fill token 0")
                self.fill_token = 0
        while True:
            item = self._work.get()
            if item is None:
                # Stopping: flush whatever is still queued, without waiting on the service.
                while not self._work.empty():
                    rest = self._work.get()
                    if rest is not None:
                        self._finish(*rest[:2], None, rest[3], "stopped")
                return
            frame, mask, future, t0 = item
            status, predicted = "overload", None
            if future is not None:
                try:
                    predicted = future.result().tokens
                    status = "ok"
                except Exception as err:  # noqa: BLE001  (any failure: go on unpredicted)
                    status = "service_error"
                    self.logger.warn(f"frame {frame.frame_id}: prediction failed ({err})")
                finally:
                    with self._pending_lock:
                        self._pending -= 1
            self._finish(frame, mask, predicted, t0, status)

    def _finish(self, frame: Frame, mask, predicted, t0, status):
        received = np.where(mask, self.fill_token, frame.tokens).astype(np.uint16)
        tokens = received if predicted is None else np.asarray(predicted, np.uint16)
        ref = self._refs.take(frame.frame_id)
        metrics = {"frame_id": frame.frame_id, "prediction": status,
                   "latency_ms": (time.monotonic() - t0) * 1e3,
                   "n_masked": int(mask.sum()), "label": frame.label}
        meta = dict(frame.meta)
        meta.update(predicted=predicted is not None, prediction=status,
                    rx_tokens=received.ravel().tolist())
        images = None
        if self.detokenize and status == "ok":  # not when the service failed or is swamped
            images = self._decode_images(ref, received, tokens, predicted is not None)
        if images is not None:
            meta["received_image"] = images["received"].ravel().tolist()
            meta["predicted_image"] = images["predicted"].ravel().tolist()
            meta["image_shape"] = list(images["received"].shape)
        if ref is not None:
            metrics.update(token_error_rates(ref.tokens, frame.tokens, mask, tokens))
            original = ref.meta.get("image")
            if images is not None and original is not None:
                original = np.asarray(original, np.uint8).reshape(images["received"].shape)
                for name in ("received", "predicted", "lossless"):
                    if name in images:
                        q = image_quality(original, images[name])
                        metrics[f"psnr_{name}"], metrics[f"ssim_{name}"] = q["psnr"], q["ssim"]
                if self.output_dir is not None:
                    self._write_png(frame.frame_id, original, images, mask)
        out = Frame(tokens, frame.frame_id, frame.codebook_size, frame.label, frame.model_id,
                    mask=mask, meta=meta)
        self.message_port_pub(pmt.intern("out"), make_frame_pdu(out))
        self.message_port_pub(pmt.intern("metrics"), pmt.to_pmt(metrics))
        self._totals.add(metrics)
        self.counts["frames_out"] += 1
        self.counts["predicted" if predicted is not None else "unpredicted"] += 1

    def _decode_images(self, ref, received, tokens, predicted):
        grids = [received, tokens] + ([ref.tokens] if ref is not None else [])
        try:
            imgs = self._client.detokenize(np.stack(grids))
        except Exception as err:  # noqa: BLE001
            self.logger.warn(f"detokenize failed ({err}); frame goes out without images")
            return None
        out = {"received": imgs[0], "predicted": imgs[1]}
        if ref is not None:
            out["lossless"] = imgs[2]
        return out

    def _write_png(self, frame_id, original, images, mask):
        from PIL import Image

        # reference | received (lost tokens' areas marked) | predicted, side by side
        h, w = original.shape[:2]
        gh, gw = mask.shape
        marked = images["received"].copy()
        cell = np.kron(mask, np.ones((-(-h // gh), -(-w // gw)), bool))[:h, :w]
        marked[cell] = 255 - marked[cell] // 4  # brighten lost regions
        row = np.concatenate([original, marked, images["predicted"]], axis=1)
        Image.fromarray(row).resize((row.shape[1] * 4, row.shape[0] * 4), Image.NEAREST) \
            .save(self.output_dir / f"frame_{frame_id:06d}.png")

    def totals(self) -> dict:
        """Running totals over every frame out (frame_metrics.FrameTotals)."""
        return self._totals.totals()
