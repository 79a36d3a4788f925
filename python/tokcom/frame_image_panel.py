"""Frame Image Panel: the live picture of a Qt receiver flowgraph. Each completed frame
as original | received with its lost regions marked | predicted, a line about that
frame and a line of running totals (PER, TER before -> after prediction, PSNR).

The block keeps what it shows in a FramePanelState, which needs no Qt, so tests and
headless runs use the same logic; widget() builds the Qt widget (frame_image_widget.py)
only when a GUI asks for it."""

import math
import threading
from collections import OrderedDict

import pmt
from gnuradio import gr

from .drop_log import DropLog
from .frame_metrics import FrameTotals
from .frame_pictures import frame_row, parse_images_pdu

RECENT = 64  # per-frame metrics kept to match images that come after them


def _fmt(value, spec):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else format(value, spec)


class FramePanelState:
    """What the panel shows, thread-safe (GNU Radio's message threads write, the GUI
    thread reads). predictor "" takes every predictor's frames, otherwise only that one."""

    def __init__(self, predictor: str = "", logger=None):
        self.predictor = str(predictor)
        self.logger = logger or gr.logger("frame_image_panel")
        self.frames_shown = 0  # pictures taken
        self.totals = FrameTotals()  # running totals of the metrics dicts (frame_metrics)
        self.picture = None  # uint8 (H, 3 W[, C]): original | received, lost marked | predicted
        self.shown = None  # meta of the frame in the picture
        self._metrics = OrderedDict()  # (frame_id, predictor) -> metrics dict
        self._drops = DropLog()
        self._lock = threading.Lock()

    @property
    def malformed(self) -> int:
        return self._drops.count

    def _wanted(self, predictor) -> bool:
        return not self.predictor or str(predictor) == self.predictor

    def add_images(self, msg) -> bool:
        """Takes an "images" PDU (docs/formats.md); True if the picture changed."""
        try:
            meta, images, mask = parse_images_pdu(msg)
        except ValueError as err:
            self._drops(self.logger, "malformed images PDU", err)
            return False
        if not self._wanted(meta.get("predictor", "")):
            return False
        picture = frame_row(images[0], images[1], images[2], mask)
        with self._lock:
            self.picture, self.shown = picture, meta
            self.frames_shown += 1
        return True

    def add_metrics(self, msg) -> bool:
        """Takes a frame evaluator "metrics" dict; True if it was counted."""
        m = pmt.to_python(msg) if isinstance(msg, pmt.pmt_base) else msg
        if not isinstance(m, dict) or "frame_id" not in m:
            self._drops(self.logger, "malformed metrics", "not a dict with frame_id")
            return False
        if not self._wanted(m.get("predictor", "")):
            return False
        self.totals.add(m)
        with self._lock:
            self._metrics[(m["frame_id"], str(m.get("predictor", "")))] = m
            while len(self._metrics) > RECENT:
                self._metrics.popitem(last=False)
        return True

    def snapshot(self):
        """(picture or None, has_original, frame line, totals line), consistent."""
        with self._lock:
            picture, shown = self.picture, self.shown
            m = None if shown is None else self._metrics.get(
                (shown["frame_id"], str(shown.get("predictor", ""))))
        has_original = bool(shown and shown.get("has_original"))
        return picture, has_original, self.frame_line(shown, m), self.totals_line()

    @staticmethod
    def frame_line(shown, m) -> str:
        if shown is None:
            return "waiting for frames"
        line = f"frame {shown['frame_id']}"
        if m is None:
            return line + " (metrics pending)"
        if m.get("label", -1) >= 0:
            line += f", label {m['label']}"
        if "n_packets" in m and "n_packets_ok" in m:
            line += f": {m['n_packets'] - m['n_packets_ok']}/{m['n_packets']} packets lost"
        line += f", {m.get('n_masked', 0)}/{m.get('n_tokens', 0)} tokens masked"
        if "ter_before" in m:
            line += f", TER {_fmt(m['ter_before'], '.3f')} -> {_fmt(m['ter_after'], '.3f')}"
        if "psnr_received" in m:
            line += (f", PSNR {_fmt(m['psnr_received'], '.1f')} -> "
                     f"{_fmt(m['psnr_predicted'], '.1f')} dB")
        line += f", prediction {m.get('prediction', 'none')}"
        if not math.isnan(m.get("latency_ms", float("nan"))):
            line += f" ({m['latency_ms']:.0f} ms)"
        return line

    def totals_line(self) -> str:
        t = self.totals.totals()
        return (f"{t['frames']} frames ({t['predicted']} predicted)   "
                f"PER {_fmt(t['per'], '.4f')}   "
                f"TER {_fmt(t['ter_before'], '.4f')} -> {_fmt(t['ter_after'], '.4f')}   "
                f"PSNR {_fmt(t['psnr_received'], '.2f')} -> "
                f"{_fmt(t['psnr_predicted'], '.2f')} dB")


class frame_image_panel(gr.basic_block):
    """Inputs "images" (frame evaluator's images PDUs) and "metrics" (its per-frame
    metrics dicts). Shows the newest frame's original | received with lost regions
    marked | predicted, a line about that frame and the running PER and TER before ->
    after prediction (FrameTotals, as Frame Metrics computes them). widget() gives the
    Qt widget to place in a Qt GUI flowgraph; without it the block runs headless and
    state holds what would be shown (FramePanelState)."""

    def __init__(self, title="TokCom frames", predictor=""):
        gr.basic_block.__init__(self, name="frame_image_panel", in_sig=None, out_sig=None)
        self.title = str(title)
        self.state = FramePanelState(predictor, self.logger)
        self._widget = None
        for port, handler in (("images", self._handle_images),
                              ("metrics", self._handle_metrics)):
            self.message_port_register_in(pmt.intern(port))
            self.set_msg_handler(pmt.intern(port), handler)

    def widget(self):
        """The Qt widget (created on first call; needs a QApplication)."""
        if self._widget is None:
            from .frame_image_widget import FrameImageWidget  # Qt only for a GUI

            self._widget = FrameImageWidget(self.state, self.title)
        return self._widget

    @property
    def frames_shown(self) -> int:
        return self.state.frames_shown

    def _handle_images(self, msg):
        if self.state.add_images(msg):
            self._changed()

    def _handle_metrics(self, msg):
        if self.state.add_metrics(msg):
            self._changed()

    def _changed(self):
        if self._widget is not None:
            self._widget.changed.emit()  # queued to the GUI thread

