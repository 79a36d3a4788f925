"""tokcom-rx: a radio -> bursts -> token frames -> MaskGIT (realtime) -> quality.

--radio source [+ --record] -> ota_rx -> token depacketizer -> mask_predict ("realtime":
a frame that finds the service busy goes out unpredicted, flagged "overload"; nothing
queues without bound) -> frame_evaluator. The reference of frame i is Fashion-MNIST test
image i tokenized here by the same service (held_out.py), so TER and PSNR need nothing
from the TX but the image indices. A status line per second goes to stderr; --json prints
one JSON object last on stdout. Stops after --frames frames, at the end of a file, or on
Ctrl-C.
"""

import argparse
import json
import logging
import math
import sys
import time

import pmt
from gnuradio import blocks, gr

from .. import tokcom_python as cpp
from ..frame_evaluator import frame_evaluator
from ..frame_pdu import make_frame_pdu
from ..link_config import LinkConfig
from ..mask_predict import mask_predict
from ..ota_rx import ota_rx
from ..service.client import ServiceClient
from ..service.errors import ServiceError
from .common import add_radio_options, curve_keys, radio_spec
from .frontends import RadioError, file_recorder, make_source
from .held_out import held_out_frames

log = logging.getLogger("tokcom-rx")
FILE_PAD = 2**31 - 1  # zero samples after a replayed file (the run stops when drained)


class tokcom_rx(gr.top_block):
    def __init__(self, link: LinkConfig, source, args, recorder=None, pad=None, curve=None):
        gr.top_block.__init__(self, "tokcom_rx", catch_exceptions=False)
        self.link = link
        self.rx = ota_rx(link.payload_bits, link.crc, link.code, link.modulation,
                         link.tokens_per_packet, link.token_bits, args.sps, args.rolloff,
                         args.detect_threshold, scramble=link.scramble)
        self.depacketizer = cpp.token_depacketizer(
            link.grid_h, link.grid_w, link.codebook_size, link.tokens_per_packet,
            link.interleaver, link.interleaver_seed, 500.0)
        self.predict = mask_predict(args.service, "realtime", True, 0, 0.0, 0,
                                    args.max_outstanding, args.service_timeout, 0,
                                    curve=curve)
        self.evaluator = frame_evaluator(args.service, not args.no_pictures, args.output_dir,
                                         0, max_frames=1 << 16,
                                         timeout_s=args.service_timeout, curve=curve)
        self.source, self.recorder = source, recorder  # kept alive with the flowgraph
        if recorder is not None:
            self.connect(source, recorder)
        if pad:
            # A file source: zeros after its last sample, so that the burst detector, which
            # looks ahead, finishes a burst that ends near the end of the file, and so that
            # the stream never ends by itself: an ending stream sends "done" down the
            # message chain and would stop the evaluator before the frames still with the
            # service reach it. drained() tells when to stop.
            self.tail = blocks.null_source(gr.sizeof_gr_complex)
            self.concat = blocks.stream_mux(gr.sizeof_gr_complex, [pad[0], pad[1]])
            self.connect(source, (self.concat, 0))
            self.connect(self.tail, (self.concat, 1))
            source = self.concat
        self.connect(source, self.rx)
        self.msg_connect(self.rx, "out", self.depacketizer, "in")
        self.msg_connect(self.depacketizer, "out", self.predict, "in")
        self.msg_connect(self.predict, "out", self.evaluator, "in")

    def drained(self, n_samples: int) -> bool:
        """A finite source has been read to its end and every frame found in it has
        come out of the evaluator."""
        frames = self.rx.frames_out()
        return (self.rx.sync.nitems_read(0) >= n_samples
                and self.rx.link.demapper.frames_in() == frames
                and self.depacketizer.frames_out() >= frames
                and self.evaluator.count >= self.depacketizer.frames_out())

    def summary(self) -> dict:
        t = self.evaluator.totals()
        packets = int(self.rx.packets_out())
        failed = int(self.rx.packets_failed())
        nan = lambda v: None if v is None or math.isnan(v) else round(v, 6)  # noqa: E731
        return dict(
            frames_decoded=int(self.evaluator.count),
            bursts=int(self.rx.bursts_detected()),
            header_failures=int(self.rx.header_failures()),
            header_mismatches=int(self.rx.sync.header_mismatches()),
            packets_total=packets, packets_ok=packets - failed,
            per=round(failed / packets, 6) if packets else None,
            ter_before=nan(t.get("ter_before")), ter_after=nan(t.get("ter_after")),
            psnr_received=nan(t.get("psnr_received")),
            psnr_predicted=nan(t.get("psnr_predicted")),
            frames_predicted=int(t.get("predicted", 0)),
            frames_unpredicted=int(t.get("unpredicted", 0)),
            frames_without_reference=int(self.evaluator.counts["no_reference"]),
            latency_ms=nan(t.get("latency_ms")),
            frames_depacketized=int(self.depacketizer.frames_out()),
            packets_late=int(self.depacketizer.packets_late()),
            packets_duplicate=int(self.depacketizer.packets_duplicate()),
            prediction_counts=dict(self.predict.counts),
            samples=int(self.rx.sync.nitems_read(0)))


def status_line(s: dict, seconds: float) -> str:
    f = lambda v, fmt: "-" if v is None else format(v, fmt)  # noqa: E731
    return (f"[{seconds:6.1f} s] bursts {s['bursts']} frames {s['frames_decoded']} "
            f"hdr-fail {s['header_failures']} PER {f(s['per'], '.4f')} "
            f"TER {f(s['ter_before'], '.4f')} -> {f(s['ter_after'], '.4f')} "
            f"predicted {s['frames_predicted']}/{s['frames_decoded']} "
            f"latency {f(s['latency_ms'], '.0f')} ms")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="tokcom-rx", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Receive TokCom bursts, predict lost tokens in realtime, report "
                    "PER/TER (docs/ota.md, Runbook).")
    add_radio_options(p, gain_default=30.0)
    p.add_argument("--frames", type=int, default=0,
                   help="stop after this many frames (0: end of file, or Ctrl-C)")
    p.add_argument("--json", action="store_true", help="print one JSON object last")
    p.add_argument("--references", type=int, default=100,
                   help="test images tokenized as references (frame_id first-image ...); "
                        "0 = none (no TER/PSNR)")
    p.add_argument("--no-pictures", action="store_true",
                   help="no detokenizing: TER only, no PSNR")
    p.add_argument("--output-dir", default="", help="PNG per frame: original | received | "
                   "predicted")
    p.add_argument("--detect-threshold", type=float, default=0.3,
                   help="preamble detection threshold (ota_burst_sync)")
    p.add_argument("--max-outstanding", type=int, default=4,
                   help="predictions in flight; more frames go out unpredicted")
    p.add_argument("--service-timeout", type=float, default=5.0,
                   help="seconds per service request")
    p.add_argument("--status-interval", type=float, default=1.0, help="seconds")
    p.add_argument("--timeout", type=float, default=3600.0, help="stop after this many s")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    spec = radio_spec(p, args)  # refuses unsafe uhd: args before anything else happens

    try:
        source = make_source(spec, args.rate, args.freq, args.gain, args.antenna)
    except (RadioError, RuntimeError) as err:
        p.exit(1, f"tokcom-rx: {err}\n")
    rate = source.sample_rate or args.rate
    freq = source.frequency if source.frequency is not None else args.freq
    curve = curve_keys(p, args)
    try:
        with ServiceClient(args.service, timeout=15.0, retries=1, curve=curve) as client:
            info = client.info()
            link = LinkConfig.from_info(info)
            n_refs = max(args.references, args.frames) if args.references else 0
            try:
                refs = list(held_out_frames(client, info, args.first_image, n_refs, True))
            except ValueError as err:
                p.error(str(err))
    except (OSError, ServiceError) as err:
        p.exit(1, f"tokcom-rx: model service at {args.service}: {err}\n")
    recorder = file_recorder(args.record, rate, freq, "tokcom-rx") if args.record else None
    pad = (source.n_samples, FILE_PAD) if source.finite else None
    tb = tokcom_rx(link, source.block, args, recorder, pad, curve)
    ref_port = pmt.intern("ref")
    for ref in refs:  # posted before start: the evaluator has every reference first
        tb.evaluator.to_basic_block()._post(ref_port, make_frame_pdu(ref))
    t0 = time.monotonic()
    next_status = t0 + args.status_interval
    tb.start()
    try:
        while time.monotonic() - t0 < args.timeout:
            if args.frames and tb.evaluator.wait_for(args.frames, 0.05):
                break
            if not args.frames:
                time.sleep(0.05)
            if source.finite and tb.drained(source.n_samples):
                break
            if time.monotonic() >= next_status:
                print(status_line(tb.summary(), time.monotonic() - t0), file=sys.stderr,
                      flush=True)
                next_status += args.status_interval
    except KeyboardInterrupt:
        pass
    finally:
        tb.stop()  # a zmq pull_source never ends by itself
        tb.wait()
        if recorder is not None:
            recorder.close()  # flushes: the process may end before the block is destroyed
    s = tb.summary()
    s.update(seconds=round(time.monotonic() - t0, 3), radio=str(spec), sample_rate=rate,
             frequency=freq)
    if source.finite:  # the samples of the file, not the zeros after it
        s["samples"] = min(s["samples"], source.n_samples)
    print(status_line(s, s["seconds"]), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(s), flush=True)
    return 0 if not args.frames or s["frames_decoded"] >= args.frames else 1


if __name__ == "__main__":
    sys.exit(main())
