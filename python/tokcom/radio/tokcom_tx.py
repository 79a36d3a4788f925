"""tokcom-tx: Fashion-MNIST test images -> tokens (model service) -> bursts -> a radio.

image i (tokenized by --service) -> token packetizer -> ota_tx (one burst per frame,
tx_sob/tx_eob tagged) -> [ota_channel, zmq/file only] -> --radio sink [+ --record].
Ends when every burst has reached the sink. docs/ota.md, "Runbook", has the commands.
"""

import argparse
import logging
import sys
import time

import pmt
from gnuradio import blocks, gr

from .. import tokcom_python as cpp
from ..frame_pdu import make_frame_pdu
from ..link_config import LinkConfig
from ..ota_channel import MULTIPATH, ota_channel
from ..ota_tx import ota_tx
from ..service.client import ServiceClient
from ..service.errors import ServiceError
from .common import add_radio_options, curve_keys, radio_spec
from .frontends import RadioError, file_recorder, make_sink
from .held_out import held_out_frames

log = logging.getLogger("tokcom-tx")
FRAMES_IN_FLIGHT = 8  # frames posted ahead of the bursts sent (message queues are bounded)
CONTINUOUS_GAP = 400  # zero samples after each burst on zmq/file (a USRP ends at tx_eob)
CONTINUOUS_LEAD = 1000  # zero samples before the first burst on zmq/file


class tokcom_tx(gr.top_block):
    def __init__(self, link: LinkConfig, sink, args, continuous: bool, recorder=None):
        gr.top_block.__init__(self, "tokcom_tx", catch_exceptions=False)
        self.packetizer = cpp.token_packetizer(link.tokens_per_packet, link.interleaver,
                                               link.interleaver_seed)
        self.tx = ota_tx(link.payload_bits, link.crc, link.code, link.modulation,
                         link.tokens_per_packet, link.token_bits, args.sps, args.rolloff,
                         CONTINUOUS_GAP if continuous else 0, link.scramble)
        self.msg_connect(self.packetizer, "out", self.tx, "in")
        # Blocks are attributes: a Python block (the channel's burst jitter) must outlive
        # __init__.
        self.lead = CONTINUOUS_LEAD if continuous else 0
        self.delay = blocks.delay(gr.sizeof_gr_complex, self.lead) if self.lead else None
        self.channel = None
        if args.esn0 is not None:
            self.channel = ota_channel(args.esn0, args.cfo, args.sro_ppm, args.multipath,
                                       args.amplitude, args.sps, args.seed, True, args.rolloff)
        # A USRP's fc32 full scale is 1.0; ota_tx peaks at ~1.38 (16-QAM corners + RRC).
        self.scale = (blocks.multiply_const_cc(args.scale) if not continuous else None)
        chain = [b for b in (self.tx, self.delay, self.channel, self.scale) if b is not None]
        self.sink, self.recorder = sink, recorder
        self.connect(*chain, sink)
        if recorder is not None:
            self.connect(chain[-1], recorder)

    def sent_everything(self, n_frames: int) -> bool:
        """Every burst made and (nearly) every sample of it taken by the sink: the
        channel model holds back a few samples and a sample-rate offset changes the
        count a little; the gap after the last burst covers both."""
        return (self.tx.framer.bursts_out() >= n_frames and self.sink.nitems_read(0)
                >= self.tx.framer.nitems_written(0) + self.lead - 64)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="tokcom-tx", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Send Fashion-MNIST test images as TokCom bursts (docs/ota.md, Runbook).")
    add_radio_options(p, gain_default=40.0)
    p.add_argument("--images", type=int, default=10, help="images (frames, one burst each)")
    p.add_argument("--scale", type=float, default=0.7,
                   help="uhd: sample scale before the USRP (ota_tx peaks at ~1.38; fc32 "
                        "full scale is 1.0)")
    p.add_argument("--fps", type=float, default=0.0,
                   help="frames per second (0: as fast as the radio takes them)")
    cable = p.add_argument_group("simulated channel in the cable (zmq/file only; "
                                 "ota_channel, as tokcom-ota-sim)")
    cable.add_argument("--esn0", type=float, default=None,
                       help="Es/N0 in dB per payload symbol (default: no channel)")
    cable.add_argument("--cfo", type=float, default=0.0, help="carrier offset, cycles/sample")
    cable.add_argument("--sro-ppm", type=float, default=0.0, help="sample-rate offset, ppm")
    cable.add_argument("--multipath", choices=sorted(MULTIPATH), default="none")
    cable.add_argument("--amplitude", type=float, default=1.0, help="channel gain")
    cable.add_argument("--seed", type=int, default=0, help="channel noise seed")
    p.add_argument("--timeout", type=float, default=600.0,
                   help="give up after this many seconds (e.g. no receiver connected)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    spec = radio_spec(p, args)
    if args.images < 1:
        p.error("--images must be >= 1")
    if spec.kind == "uhd" and (args.esn0 is not None or args.cfo or args.sro_ppm
                               or args.multipath != "none"):
        p.error("the simulated channel options are for zmq: and file:, not a real radio")
    if args.esn0 is None and (args.cfo or args.sro_ppm or args.multipath != "none"):
        p.error("impairments need --esn0 (the channel adds its noise)")

    curve = curve_keys(p, args)
    try:
        with ServiceClient(args.service, timeout=15.0, retries=1, curve=curve) as client:
            info = client.info()
            link = LinkConfig.from_info(info)
            try:
                frames = list(held_out_frames(client, info, args.first_image, args.images))
            except ValueError as err:
                p.error(str(err))
    except (OSError, ServiceError) as err:
        p.exit(1, f"tokcom-tx: model service at {args.service}: {err}\n")
    try:
        sink = make_sink(spec, args.rate, args.freq, args.gain, args.antenna,
                         description=f"tokcom-tx {args.images} frames")
    except (RadioError, RuntimeError) as err:
        p.exit(1, f"tokcom-tx: {err}\n")
    recorder = (file_recorder(args.record, args.rate, args.freq, "tokcom-tx")
                if args.record else None)
    tb = tokcom_tx(link, sink.block, args, spec.kind != "uhd", recorder)
    port = pmt.intern("in")
    target = tb.packetizer.to_basic_block()
    posted = 0
    t0 = time.monotonic()
    tb.start()
    try:
        while time.monotonic() - t0 < args.timeout:
            paced = (len(frames) if args.fps <= 0
                     else int((time.monotonic() - t0) * args.fps) + 1)
            while posted < min(paced, len(frames),
                               tb.tx.framer.bursts_out() + FRAMES_IN_FLIGHT):
                target._post(port, make_frame_pdu(frames[posted]))
                posted += 1
            if tb.sent_everything(len(frames)):
                break
            time.sleep(0.01)
        else:
            log.error("timeout after %.0f s: %d of %d bursts sent", args.timeout,
                      tb.tx.framer.bursts_out(), len(frames))
    except KeyboardInterrupt:
        pass
    finally:
        tb.stop()
        tb.wait()
        for block in (sink.block, recorder):  # file sinks: flush before the process ends
            if hasattr(block, "close"):
                block.close()
    done = tb.sent_everything(len(frames))
    log.info("%d bursts (images %d ... %d) %s %s in %.2f s", tb.tx.framer.bursts_out(),
             args.first_image, args.first_image + len(frames) - 1,
             "sent to" if done else "made, not all taken by", spec, time.monotonic() - t0)
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
