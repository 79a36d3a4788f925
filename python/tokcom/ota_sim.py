"""tokcom-ota-sim: the over-the-air burst PHY through simulated radio impairments.

One flowgraph: random token packets -> ota_tx -> ota_channel -> ota_rx, or a recorded
channel output (--iq-in) -> ota_rx, or noise only. The packets are seeded, so a run from
a file written by --iq-out is checked against the same packets. docs/ota.md has the
validation made with it.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np
import pmt
from gnuradio import analog, blocks, gr

from .link_sim import PACKETS_PER_FRAME, packet_pdu, pdu_fields, run_link
from .ota_channel import MULTIPATH, noise_voltage, ota_channel
from .ota_rx import ota_rx
from .ota_tx import ota_tx

PAYLOAD_BITS = 40  # 4 tokens of 10 bits: the paper's packet
N_LABELS = 10
MAX_FRAMES_IN_FLIGHT = 32


@dataclass
class SimConfig:
    frames: int = 20
    esn0: float = 14.0
    cfo: float = 0.0
    sro_ppm: float = 0.0
    multipath: str = "none"
    amplitude: float = 1.0
    sps: int = 2
    rolloff: float = 0.35
    gap: int = 400  # noise-only samples after each burst
    lead: int = 1000  # noise-only samples before the first burst
    seed: int = 0
    random_jitter: bool = True


def sent_payloads(cfg: SimConfig) -> np.ndarray:
    """The payload bits of every packet, (frames * 64, 40), from the seed alone."""
    rng = np.random.default_rng([cfg.seed, 1])
    return rng.integers(0, 2, (cfg.frames * PACKETS_PER_FRAME, PAYLOAD_BITS), np.uint8)


def _tx_pdus(cfg: SimConfig, sent: np.ndarray):
    pdus = []
    for i, bits in enumerate(sent):
        pdu = packet_pdu(i // PACKETS_PER_FRAME, i % PACKETS_PER_FRAME, bits)
        meta = pmt.dict_add(pmt.car(pdu), pmt.intern("label"),
                            pmt.from_long((i // PACKETS_PER_FRAME) % N_LABELS))
        pdus.append(pmt.cons(meta, pmt.cdr(pdu)))
    return pdus


def _rx_blocks(cfg: SimConfig):
    rx = ota_rx(PAYLOAD_BITS, sps=cfg.sps, rolloff=cfg.rolloff)
    store = blocks.message_debug()
    return rx, store


def _run(tb, rx, store, n_samples: int, tx=None, pdus=()) -> float:
    """Runs the flowgraph until the receiver has taken n_samples and everything it found
    has come out as packets, then stops it; returns the seconds taken. The packet PDUs
    go to tx while it runs, at most MAX_FRAMES_IN_FLIGHT frames ahead of the bursts it
    has sent (a message queue holds 8192 messages and drops the rest).

    The message-driven TX source never ends by itself (GNU Radio does not propagate
    "done" upstream), so the end is the receiver's progress, not tb.wait()."""
    port = pmt.intern("in")
    target = tx.link.source.to_basic_block() if tx is not None else None
    posted = 0
    start = time.perf_counter()
    tb.start()
    deadline = time.monotonic() + max(120.0, n_samples / 2e5)
    while True:
        if time.monotonic() > deadline:
            tb.stop()
            tb.wait()
            raise RuntimeError(f"the receiver took {rx.sync.nitems_read(0)} of {n_samples} "
                               "samples and stalled")
        while (posted < len(pdus) and posted // PACKETS_PER_FRAME
               < tx.framer.bursts_out() + MAX_FRAMES_IN_FLIGHT):
            target._post(port, pdus[posted])
            posted += 1
        frames = rx.frames_out()
        # every detected burst finished (the synchroniser decodes a burst's payload only
        # once it holds all of it, possibly after it has read its last input sample)
        settled = (rx.bursts_detected() == frames + rx.header_failures()
                   + rx.sync.header_mismatches())
        if (rx.sync.nitems_read(0) >= n_samples and settled
                and rx.link.demapper.frames_in() == frames
                and rx.packets_out() == frames * PACKETS_PER_FRAME
                and store.num_messages() == rx.packets_out()):
            break
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    tb.stop()
    tb.wait()
    return seconds


def _summarise(cfg, rx, store, sent, seconds, samples):
    """The JSON result: bursts, headers and packets against what was sent."""
    n_frames = cfg.frames if sent is not None else 0
    packets_ok = undetected = 0
    frames_seen = set()
    false_frames = set()
    label_errors = 0
    for i in range(store.num_messages()):
        msg = store.get_message(i)
        frame_id, pkt_idx, ok, payload = pdu_fields(msg)
        if frame_id >= n_frames or pkt_idx >= PACKETS_PER_FRAME:
            false_frames.add(frame_id)
            continue
        frames_seen.add(frame_id)
        label = pmt.to_long(pmt.dict_ref(pmt.car(msg), pmt.intern("label"), pmt.from_long(-1)))
        label_errors += int(label != frame_id % N_LABELS)
        if ok:
            got = np.unpackbits(np.frombuffer(payload, np.uint8))[:PAYLOAD_BITS]
            if np.array_equal(got, sent[frame_id * PACKETS_PER_FRAME + pkt_idx]):
                packets_ok += 1
            else:
                undetected += 1
    packets_total = n_frames * PACKETS_PER_FRAME
    return dict(
        frames_sent=n_frames,
        frames_decoded=len(frames_seen),
        decoded_frame_ids=sorted(frames_seen),
        header_failures=int(rx.header_failures()),
        header_mismatches=int(rx.sync.header_mismatches()),
        bursts_detected=int(rx.bursts_detected()),
        false_frames=len(false_frames) + max(0, int(rx.frames_out()) - len(frames_seen)
                                             - len(false_frames)),
        missed_bursts=n_frames - len(frames_seen),
        packets_total=packets_total,
        packets_ok=packets_ok,
        packets_undetected=undetected,
        label_errors=label_errors,
        per=(1 - packets_ok / packets_total) if packets_total else 0.0,
        samples=int(samples),
        seconds=round(seconds, 3),
        config=asdict(cfg),
    )


def run_ota(cfg: SimConfig, iq_out: str | None = None, iq_in: str | None = None) -> dict:
    """TX -> channel -> RX in one flowgraph (or file -> RX with iq_in)."""
    sent = sent_payloads(cfg)
    recording = None
    tb = gr.top_block("tokcom_ota_sim")
    rx, store = _rx_blocks(cfg)
    tb.msg_connect(rx, "out", store, "store")
    if iq_in:
        src = blocks.file_source(gr.sizeof_gr_complex, iq_in, False)
        tb.connect(src, rx)
        samples = os.path.getsize(iq_in) // gr.sizeof_gr_complex
    else:
        tx = ota_tx(PAYLOAD_BITS, sps=cfg.sps, rolloff=cfg.rolloff, gap_samples=cfg.gap)
        burst = tx.format.burst_samples(PACKETS_PER_FRAME)
        # channel_model holds back a few samples and a sample-rate offset removes
        # |ppm| 1e-6 of them: stop that much short of the end of the last gap.
        sent_samples = cfg.lead + cfg.frames * (burst + cfg.gap)
        short = 32 + int(np.ceil(2e-6 * abs(cfg.sro_ppm) * sent_samples))
        if short > cfg.gap // 2:
            raise ValueError(f"--gap {cfg.gap} is too short for {cfg.frames} frames at "
                             f"{cfg.sro_ppm} ppm: use --gap {2 * short} or more")
        samples = sent_samples - short
        lead = blocks.delay(gr.sizeof_gr_complex, cfg.lead)
        channel = ota_channel(cfg.esn0, cfg.cfo, cfg.sro_ppm, cfg.multipath, cfg.amplitude,
                              cfg.sps, cfg.seed, cfg.random_jitter, cfg.rolloff)
        head = blocks.head(gr.sizeof_gr_complex, samples)
        tb.connect(tx, lead, channel, head, rx)
        if iq_out:
            recording = blocks.file_sink(gr.sizeof_gr_complex, iq_out, False)
            tb.connect(head, recording)
    seconds = _run(tb, rx, store, samples, *(() if iq_in else (tx, _tx_pdus(cfg, sent))))
    if recording is not None:
        # Flushed and complete before anyone reads it: the file sink writes through a
        # stdio buffer, and the top block may outlive this call (reference cycles).
        recording.close()
    return _summarise(cfg, rx, store, sent, seconds, samples)


def run_noise_only(cfg: SimConfig, n_samples: int) -> dict:
    """n_samples of Gaussian noise (power cfg.amplitude^2) -> RX: every frame is false."""
    tb = gr.top_block("tokcom_ota_noise")
    rx, store = _rx_blocks(cfg)
    noise = analog.noise_source_c(analog.GR_GAUSSIAN, float(cfg.amplitude), cfg.seed)
    tb.connect(noise, blocks.head(gr.sizeof_gr_complex, int(n_samples)), rx)
    tb.msg_connect(rx, "out", store, "store")
    seconds = _run(tb, rx, store, n_samples)
    result = _summarise(SimConfig(**{**asdict(cfg), "frames": 0}), rx, store, None,
                        seconds, n_samples)
    result["false_frames"] = int(rx.frames_out())
    return result


def run_ideal(cfg: SimConfig) -> dict:
    """--ideal-sync: the same coded packets over AWGN at the same Es/N0 with the
    symbols' timing, carrier, phase, gain and N0 known (the coded link of docs/link.md):
    the bound the over-the-air receiver is compared with."""
    res = run_link(cfg.esn0, cfg.frames * PACKETS_PER_FRAME, seed=cfg.seed)
    ok = res.packets - res.packet_errors - res.undetected
    return dict(frames_sent=cfg.frames, frames_decoded=cfg.frames,
                decoded_frame_ids=list(range(cfg.frames)), header_failures=0,
                header_mismatches=0, bursts_detected=cfg.frames, false_frames=0,
                missed_bursts=0, packets_total=res.packets, packets_ok=ok,
                packets_undetected=res.undetected, label_errors=0, per=1 - ok / res.packets,
                samples=0, seconds=round(res.seconds, 3), config=asdict(cfg))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="tokcom-ota-sim",
        description="Over-the-air burst PHY through simulated impairments (docs/ota.md): "
                    "random token packets -> ota_tx -> channel -> ota_rx.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--frames", type=int, default=20, help="bursts (frames of 64 packets)")
    p.add_argument("--esn0", type=float, default=14.0,
                   help="Es/N0 in dB per payload symbol at the matched filter")
    p.add_argument("--cfo", type=float, default=0.0, help="carrier offset, cycles/sample")
    p.add_argument("--sro-ppm", type=float, default=0.0, help="sample-rate offset, ppm")
    p.add_argument("--multipath", choices=sorted(MULTIPATH), default="none")
    p.add_argument("--amplitude", type=float, default=1.0, help="channel gain")
    p.add_argument("--no-random-jitter", action="store_true",
                   help="no random phase and fractional delay per burst")
    p.add_argument("--gap", type=int, default=400, help="noise-only samples between bursts")
    p.add_argument("--sps", type=int, default=2, help="samples per symbol")
    p.add_argument("--rolloff", type=float, default=0.35, help="RRC roll-off")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iq-out", metavar="FILE", help="also write the channel output "
                   "(complex64) to FILE")
    p.add_argument("--iq-in", metavar="FILE", help="run only the receiver on FILE "
                   "(complex64); --frames and --seed must match the run that wrote it")
    p.add_argument("--noise-only", action="store_true", help="feed noise only")
    p.add_argument("--samples", type=int, default=10_000_000,
                   help="samples of noise for --noise-only")
    p.add_argument("--ideal-sync", action="store_true",
                   help="genie synchronisation: the coded link over AWGN at --esn0 with "
                        "known timing, carrier, phase, gain and N0, for comparison")
    p.add_argument("--json", action="store_true", help="print one JSON object last")
    args = p.parse_args(argv)
    if args.frames < 0 or args.amplitude <= 0 or args.sps < 2:
        p.error("need --frames >= 0, --amplitude > 0 and --sps >= 2")
    cfg = SimConfig(frames=args.frames, esn0=args.esn0, cfo=args.cfo, sro_ppm=args.sro_ppm,
                    multipath=args.multipath, amplitude=args.amplitude, sps=args.sps,
                    rolloff=args.rolloff, gap=args.gap, seed=args.seed,
                    random_jitter=not args.no_random_jitter)
    if args.noise_only:
        result = run_noise_only(cfg, args.samples)
    elif args.ideal_sync:
        result = run_ideal(cfg)
    else:
        result = run_ota(cfg, args.iq_out, args.iq_in)
    print(f"frames {result['frames_decoded']}/{result['frames_sent']} decoded, "
          f"header failures {result['header_failures']}, false frames "
          f"{result['false_frames']}, packets {result['packets_ok']}/"
          f"{result['packets_total']} ok, PER {result['per']:.4f}, "
          f"{result['samples']} samples in {result['seconds']} s", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    return 0


__all__ = ["SimConfig", "main", "noise_voltage", "run_ideal", "run_noise_only", "run_ota"]
