"""The TokCom loopback flowgraph, built in one place from named parameters.

image token source -> token packetizer -> coded link TX -> loopback channel ->
coded link RX -> token depacketizer -> mask-and-predict (one per predictor) ->
frame evaluator. The demo, the sweep, the tests and examples/tokcom_loopback.py build it
here; examples/loopback_sim.grc draws the same graph for GNU Radio Companion.

A run ends when its work is done: when the evaluator has put out the metrics of every
frame for every predictor (run()), not after a drain timer.
"""

from dataclasses import dataclass, field

from gnuradio import gr

from . import tokcom_python as cpp
from .coded_link_rx import coded_link_rx
from .coded_link_tx import coded_link_tx
from .frame_evaluator import frame_evaluator
from .image_token_source import FASHION_MNIST, image_token_source
from .link_config import LinkConfig
from .loopback_channel import loopback_channel
from .mask_predict import mask_predict
from .message_collector import message_collector
from .service.client import ServiceClient


@dataclass(frozen=True)
class LoopbackConfig:
    """What one loopback run does; every field is named where it is used."""

    service: str = "tcp://127.0.0.1:5555"
    esn0_db: float = 5.8
    n_frames: int = 16
    images: str = FASHION_MNIST  # or a folder / comma-separated files
    first_image: int = 0  # also the first frame_id
    channel_seed: int = 1
    # (name, use the class label as CMI[, receiver]): one mask-and-predict block each, same
    # channel; receiver "mask" (default), "soft" or "hard_kept" (mask_predict.RECEIVERS).
    # Any soft receiver turns on the link's soft output of failed packets.
    predictors: tuple = (("tokcom_cmi", True),)
    mode: str = "simulation"  # mask_predict mode: every frame predicted
    steps: int = 0  # MaskGIT steps (0: the service's default)
    predict_seed: int = 0
    detokenize: bool = True  # decode pictures for PSNR/SSIM
    output_dir: str = ""  # PNGs of every frame ("" = none)
    frames_per_second: float = 50.0  # source pacing
    service_timeout_s: float = 120.0  # per service request (simulation: generous)
    run_timeout_s: float = 3600.0  # a run that takes longer is broken
    # Link settings; the frame geometry (grid, Q) always comes from the model (info).
    link_settings: dict = field(default_factory=dict)


class tokcom_loopback(gr.top_block):
    """The TokCom loopback flowgraph of `cfg` for a model of geometry `link`.

    Collectors (message_collector) keep what the run produced: "metrics" and "images"
    (frame evaluator), "sent_frames" (the source's frames), "sent" (packets out of the
    packetizer), "received" (packets out of the link, crc_ok flagged) and
    "completed_<predictor>" (mask-and-predict output).
    """

    def __init__(self, cfg: LoopbackConfig, link: LinkConfig):
        gr.top_block.__init__(self, "tokcom_loopback", catch_exceptions=False)
        self.cfg, self.link = cfg, link
        self.source = image_token_source(
            cfg.service, cfg.images, cfg.n_frames, cfg.frames_per_second, False,
            cfg.first_image, cfg.first_image, cfg.service_timeout_s,
            drain_s=cfg.run_timeout_s)  # the run ends on counts, not on the source's done
        self.packetizer = cpp.token_packetizer(link.tokens_per_packet, link.interleaver,
                                               link.interleaver_seed)
        self.tx = coded_link_tx(link.payload_bits, link.crc, link.code, link.modulation,
                                link.guard_symbols, link.scramble)
        self.channel = loopback_channel(cfg.esn0_db, cfg.channel_seed)
        receivers = {p[0]: (p[2] if len(p) > 2 else "mask") for p in cfg.predictors}
        self.rx = coded_link_rx(link.payload_bits, link.crc, link.code, link.modulation,
                                link.guard_symbols, 10 ** (-cfg.esn0_db / 10),
                                scramble=link.scramble,
                                soft_output=any(r != "mask" for r in receivers.values()))
        self.depacketizer = cpp.token_depacketizer(
            link.grid_h, link.grid_w, link.codebook_size, link.tokens_per_packet,
            link.interleaver, link.interleaver_seed, 500.0)
        self.predictors = {
            name: mask_predict(cfg.service, cfg.mode, use_label, cfg.steps, 0.0,
                               cfg.predict_seed, 16, cfg.service_timeout_s, 1, name,
                               receivers[name], link.crc)
            for name, use_label, *_ in cfg.predictors}
        self.evaluator = frame_evaluator(cfg.service, cfg.detokenize, cfg.output_dir,
                                         link.channel_uses_per_frame,
                                         timeout_s=cfg.service_timeout_s)
        self.collectors = {name: message_collector() for name in
                           ("metrics", "images", "sent_frames", "sent", "received",
                            *(f"completed_{p}" for p in self.predictors))}

        self.msg_connect(self.source, "out", self.packetizer, "in")
        self.msg_connect(self.packetizer, "out", self.tx, "in")
        self.connect(self.tx, self.channel, self.rx)
        self.msg_connect(self.rx, "out", self.depacketizer, "in")
        self.msg_connect(self.source, "ref", self.evaluator, "ref")
        for name, block in self.predictors.items():
            self.msg_connect(self.depacketizer, "out", block, "in")
            self.msg_connect(block, "out", self.evaluator, "in")
            self.msg_connect(block, "out", self.collectors[f"completed_{name}"], "in")
        for port in ("metrics", "images"):
            self.msg_connect(self.evaluator, port, self.collectors[port], "in")
        self.msg_connect(self.source, "out", self.collectors["sent_frames"], "in")
        self.msg_connect(self.packetizer, "out", self.collectors["sent"], "in")
        self.msg_connect(self.rx, "out", self.collectors["received"], "in")

    def run_to_completion(self) -> None:
        """Runs until every frame has been evaluated for every predictor."""
        expected = self.cfg.n_frames * len(self.predictors)
        timeout = self.cfg.run_timeout_s
        self.start()
        try:
            done = self.evaluator.wait_for(expected, timeout)
            # and every message the evaluator published has reached its collector
            done = done and self.collectors["metrics"].wait_for(expected, timeout) \
                and self.collectors["images"].wait_for(self.evaluator.counts["images_out"],
                                                       timeout)
        finally:
            self.stop()
            self.wait()
        if not done:
            raise RuntimeError(f"{self.evaluator.count} of {expected} frame evaluations "
                               f"within {timeout:.0f} s (source sent {self.source.frames_out})")

    def per(self) -> float:
        return self.rx.packets_failed() / max(1, self.rx.packets_out())

    def messages(self, name: str) -> list:
        return self.collectors[name].messages()


def model_link(service: str, timeout_s: float = 30.0, **link_settings) -> LinkConfig:
    """The link geometry of the model served at `service` (its info reply)."""
    with ServiceClient(service, timeout=timeout_s, retries=2) as client:
        return LinkConfig.from_info(client.info(), **link_settings)


def build_loopback(cfg: LoopbackConfig, link: LinkConfig | None = None) -> tokcom_loopback:
    """The flowgraph of cfg; the geometry is asked from the service unless given."""
    if link is None:
        link = model_link(cfg.service, **cfg.link_settings)
    return tokcom_loopback(cfg, link)
