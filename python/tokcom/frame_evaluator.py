"""Quality of completed frames against what was sent: TER, PSNR, SSIM, per frame."""

import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pmt
from gnuradio import gr

from .drop_log import DropLog
from .frame_metrics import FrameTotals
from .frame_pdu import parse_or_drop
from .frame_pictures import frame_row, images_pdu, write_png
from .frame_quality import image_quality, token_error_rates
from .message_collector import handle_queued
from .service.client import ServiceClient

PACKET_KEYS = ("n_packets", "n_packets_ok", "n_packets_bad", "n_packets_missing")


class frame_evaluator(gr.basic_block):
    """Compares completed frames (mask-and-predict "out", any number of predictors) with
    the frames that were sent ("ref": the image token source's reference output, with the
    original image), matched by frame_id.

    Per completed frame it publishes on "metrics" a dict: frame_id, predictor, prediction
    status, latency_ms, label, n_tokens, n_masked, TER before and after prediction and the
    accuracy on lost positions (one definition: frame_quality.token_error_rates), the
    depacketizer's packet counts and, with detokenize, PSNR and SSIM against the original
    image of the VQ-only picture (lost tokens = fill token; "received"), the predicted
    picture ("predicted") and the lossless VQ picture ("lossless"). On "images" it
    publishes a PDU per frame (docs/formats.md, Images PDU: original, VQ-only and
    predicted images stacked, the lost-token mask in the meta; without a reference the
    original is black and has_original False). Each distinct token grid of a frame is
    decoded once by the service, however many predictors deliver it. With output_dir,
    one PNG per frame and predictor: original | VQ-only with lost areas marked |
    predicted.

    totals(predictor) gives running totals over every frame evaluated (FrameTotals);
    wait_for(n, timeout) waits until n frames have been evaluated, so that a run can end
    when its work is done (examples/loopback_sim.grc, loopback_flowgraph).
    """

    def __init__(self, service="tcp://127.0.0.1:5555", detokenize=True, output_dir="",
                 channel_uses_per_frame=0, max_frames=1024,
                 timeout_s=10.0, *, curve=None):
        gr.basic_block.__init__(self, name="frame_evaluator", in_sig=None, out_sig=None)
        self.service, self.detokenize = service, bool(detokenize)
        self.output_dir = Path(output_dir) if output_dir else None
        self.channel_uses = int(channel_uses_per_frame)
        self.max_frames, self.timeout_s = int(max_frames), float(timeout_s)
        self.curve = curve  # CurveClientKeys for a service elsewhere (docs/service.md)
        self.counts = dict(frames=0, images_out=0, no_reference=0, decode_failures=0)
        self._drops = DropLog()  # malformed messages
        self._refs = OrderedDict()  # frame_id -> (ref Frame, {grid bytes: image})
        self._totals = {}
        self._lock = threading.Condition()
        self._client = None
        for port in ("in", "ref"):
            self.message_port_register_in(pmt.intern(port))
        for port in ("metrics", "images"):
            self.message_port_register_out(pmt.intern(port))
        self.set_msg_handler(pmt.intern("ref"), self._handle_ref)
        self.set_msg_handler(pmt.intern("in"), self._handle_frame)

    def start(self):
        if self.detokenize:
            self._client = ServiceClient(self.service, timeout=self.timeout_s, retries=1,
                                         curve=self.curve)
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        return super().start()

    def stop(self):
        if self._client is not None:
            self._client.close()
        return super().stop()

    @property
    def malformed(self) -> int:
        return self._drops.count

    def totals(self, predictor=None) -> dict:
        """Totals of one predictor's frames (the only one when None)."""
        with self._lock:
            if predictor is None and len(self._totals) == 1:
                predictor = next(iter(self._totals))
            totals = self._totals.get(predictor)
        return (totals or FrameTotals(self.channel_uses)).totals()

    def _handle_ref(self, msg):
        ref = parse_or_drop(msg, self._drops, self.logger, "reference frame")
        if ref is None:
            return
        self._refs[ref.frame_id] = (ref, {})
        while len(self._refs) > self.max_frames:
            self._refs.popitem(last=False)

    def _handle_frame(self, msg):
        handle_queued(self, "ref", self._handle_ref)  # the frame's reference came first
        frame = parse_or_drop(msg, self._drops, self.logger)
        if frame is None:
            return
        meta = frame.meta
        mask = frame.mask if frame.mask is not None else np.zeros(frame.tokens.shape, bool)
        predictor = str(meta.get("predictor", ""))
        m = {"frame_id": frame.frame_id, "predictor": predictor,
             "prediction": str(meta.get("prediction", "none")),
             "latency_ms": float(meta.get("latency_ms", float("nan"))),
             "label": frame.label, "n_tokens": int(frame.tokens.size),
             "codebook_size": frame.codebook_size,
             "n_masked": int(mask.sum())}
        m.update({k: int(meta[k]) for k in PACKET_KEYS if k in meta})
        entry = self._refs.get(frame.frame_id)
        if entry is None:
            # GNU Radio drains one port's queue before the next: with completed frames
            # always waiting on "in" (a predictor without a service call), references
            # queued on "ref" would starve. Take them first.
            port = pmt.intern("ref")
            while (ref_msg := self.to_basic_block().delete_head_nowait(port)) is not None:
                self._handle_ref(ref_msg)
            entry = self._refs.get(frame.frame_id)
        fill = int(meta.get("fill_token", 0))
        vq_only = np.where(mask, fill, frame.tokens).astype(np.uint16)
        if entry is None or entry[0].tokens.shape != frame.tokens.shape:
            self.counts["no_reference"] += 1
            # Still pictures (received | predicted) for the live panel and the PNGs.
            images = self._decode({}, {"received": vq_only, "predicted": frame.tokens})
            if images is not None:
                self._publish_images(frame.frame_id, predictor, None, images, mask)
        else:
            ref, decoded = entry
            m.update(token_error_rates(ref.tokens, frame.tokens, mask, frame.tokens))
            images = self._decode(decoded, {"lossless": ref.tokens, "received": vq_only,
                                            "predicted": frame.tokens})
            original = ref.meta.get("image")
            if images is not None:
                if original is not None:
                    original = np.asarray(original, np.uint8).reshape(
                        images["received"].shape)
                    for name, image in images.items():
                        q = image_quality(original, image)
                        m[f"psnr_{name}"], m[f"ssim_{name}"] = q["psnr"], q["ssim"]
                self._publish_images(frame.frame_id, predictor, original, images, mask)
        with self._lock:
            totals = self._totals.setdefault(
                predictor, FrameTotals(self.channel_uses))
        totals.add(m)
        self.message_port_pub(pmt.intern("metrics"), pmt.to_pmt(m))
        with self._lock:
            self.counts["frames"] += 1
            self._lock.notify_all()

    @property
    def count(self) -> int:
        """Frames evaluated so far."""
        return self.counts["frames"]

    def wait_for(self, n: int, timeout: float) -> bool:
        """Waits until n frames have been evaluated; False if timeout (s) passed first."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.counts["frames"] < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def _decode(self, decoded: dict, grids: dict):
        """Images of the grids; each distinct grid of a frame is decoded once."""
        if not self.detokenize:
            return None
        keys = {name: np.ascontiguousarray(g, np.uint16).tobytes() for name, g in grids.items()}
        todo = list(dict.fromkeys(k for k in keys.values() if k not in decoded))
        if todo:
            shape = next(iter(grids.values())).shape
            try:
                imgs = self._client.detokenize(
                    np.stack([np.frombuffer(k, np.uint16).reshape(shape) for k in todo]))
            except Exception as err:  # noqa: BLE001  (no pictures for this frame)
                self.counts["decode_failures"] += 1
                self.logger.warn(f"detokenize failed ({err}); frame evaluated without images")
                return None
            decoded.update(zip(todo, imgs, strict=True))
        return {name: decoded[k] for name, k in keys.items()}

    def _publish_images(self, frame_id, predictor, original, images, mask):
        """original None: no reference (a black first picture, has_original False)."""
        received, predicted = images["received"], images["predicted"]
        self.message_port_pub(pmt.intern("images"), images_pdu(
            frame_id, predictor, original, received, predicted, mask))
        self.counts["images_out"] += 1
        if self.output_dir is not None:
            name = f"frame_{frame_id:06d}{'_' + predictor if predictor else ''}.png"
            if original is None:
                original = np.zeros_like(received)
            write_png(self.output_dir / name, frame_row(original, received, predicted, mask))
