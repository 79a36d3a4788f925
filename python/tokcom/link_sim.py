"""Measure the coded token link (coded_link_tx -> loopback_channel -> coded_link_rx) with
known packets: PER, bit errors and CRC-undetected errors. Used by the validation tests,
the PER documentation and the benchmark; it runs the real GNU Radio blocks."""

import logging
import time
from dataclasses import dataclass

import numpy as np
import pmt
from gnuradio import blocks, gr

from .coded_link_rx import coded_link_rx
from .coded_link_tx import coded_link_tx
from .link_config import LinkConfig
from .loopback_channel import loopback_channel

# Bursts as long as the paper's frame (256 tokens, 4 per packet: 64 packets)
PACKETS_PER_FRAME = LinkConfig().packets_per_frame
log = logging.getLogger("tokcom.link_sim")
# Packets posted but not yet decoded; keeps every message queue far below its 8192 limit.
MAX_IN_FLIGHT = 2048


def payload_pdu(frame_id: int, pkt_idx: int, n_packets: int, payload_bits: int,
                payload: bytes) -> "pmt.pmt_base":
    """A packet PDU as coded_link_tx takes it (docs/formats.md)."""
    meta = pmt.make_dict()
    for key, value in (("frame_id", frame_id), ("pkt_idx", pkt_idx),
                       ("n_packets", n_packets), ("payload_bits", payload_bits)):
        meta = pmt.dict_add(meta, pmt.intern(key), pmt.from_uint64(int(value)))
    return pmt.cons(meta, pmt.init_u8vector(len(payload), list(payload)))


def pdu_fields(msg, crc_ok_default=False) -> tuple[int, int, bool, bytes]:
    """(frame_id, pkt_idx, crc_ok, payload) of a packet PDU (crc_ok is set by
    coded_link_rx; packets that have not crossed the link take crc_ok_default)."""
    meta = pmt.car(msg)

    def get(key, default=pmt.PMT_NIL):
        return pmt.dict_ref(meta, pmt.intern(key), default)

    return (pmt.to_uint64(get("frame_id")), pmt.to_uint64(get("pkt_idx")),
            pmt.to_bool(get("crc_ok", pmt.from_bool(crc_ok_default))),
            bytes(pmt.u8vector_elements(pmt.cdr(msg))))


@dataclass
class LinkResult:
    packets: int
    packet_errors: int  # CRC failed
    undetected: int  # CRC passed, payload wrong
    bit_errors: int  # payload bits wrong, all packets
    bits: int
    seconds: float

    @property
    def per(self) -> float:
        return self.packet_errors / self.packets if self.packets else float("nan")


def packet_pdu(frame_id, pkt_idx, bits):
    """The PDU of a packet of a PACKETS_PER_FRAME-packet frame, from its payload bits
    (0/1 array)."""
    return payload_pdu(frame_id, pkt_idx, PACKETS_PER_FRAME, len(bits),
                       np.packbits(bits).tobytes())


def run_link(esn0_db, n_packets, code="cc_k7", crc="crc16", modulation="16qam",
             payload_bits=40, seed=0, quant_scale=None, check=True, noise="gaussian",
             channel_args=None, soft_output=False) -> LinkResult:
    """Sends n_packets random packets (rounded up to whole frames of 64) at esn0_db.

    With check=False the received packets are only counted (for the benchmark)."""
    n_frames = -(-n_packets // PACKETS_PER_FRAME)
    n_packets = n_frames * PACKETS_PER_FRAME
    rng = np.random.default_rng(seed)
    sent = rng.integers(0, 2, (n_packets, payload_bits), dtype=np.uint8)
    pdus = [packet_pdu(i // PACKETS_PER_FRAME, i % PACKETS_PER_FRAME, sent[i])
            for i in range(n_packets)]

    tb = gr.top_block()
    tx = coded_link_tx(payload_bits, crc, code, modulation)
    channel = loopback_channel(esn0_db, seed, noise, **(channel_args or {}))
    rx_args = {} if quant_scale is None else {"quant_scale": quant_scale}
    rx_args["soft_output"] = soft_output
    rx = coded_link_rx(payload_bits, crc, code, modulation, noise_var=10 ** (-esn0_db / 10),
                       **rx_args)
    tb.connect(tx, channel, rx)
    out = None  # the benchmark (check=False) only counts: nothing stores 10^5 PDUs
    if check:
        out = blocks.message_debug(en_uvec=False)
        tb.msg_connect(rx, "out", out, "store")

    def arrived():  # packets out of the link and, when checked, stored
        return rx.packets_out() if out is None else min(rx.packets_out(), out.num_messages())

    # Paced on the C++ packet counters, not on a message_collector: a Python handler per
    # packet would cap this measurement near 10^5 packets/s (GIL), below the link.
    tb.start()
    target, port = tx.source.to_basic_block(), pmt.intern("in")
    start = time.perf_counter()
    deadline = time.monotonic() + 60 + n_packets / 1000
    try:
        for i, pdu in enumerate(pdus):
            while i - arrived() >= MAX_IN_FLIGHT and time.monotonic() < deadline:
                time.sleep(0.0005)
            target._post(port, pdu)
        while arrived() < n_packets and time.monotonic() < deadline:
            time.sleep(0.0005)
        seconds = time.perf_counter() - start
        if arrived() < n_packets:
            # Seen once in a loaded CI run (K = 3): the last frame did not come out of the
            # link. A trailing frame pushes out whatever a stage still holds; its packets
            # are not counted. Under investigation (docs/link.md).
            log.warning("link stalled at %d of %d packets; flushing with one more frame",
                        arrived(), n_packets)
            for j in range(PACKETS_PER_FRAME):
                target._post(port, packet_pdu(n_frames, j, sent[j]))
            flush_deadline = time.monotonic() + 30
            while arrived() < n_packets and time.monotonic() < flush_deadline:
                time.sleep(0.0005)
    finally:
        tb.stop()
        tb.wait()
    if arrived() < n_packets:
        raise RuntimeError(f"{arrived()} of {n_packets} packets came out of the link")
    undetected = bit_errors = 0
    packet_errors = rx.packets_failed()
    if check:
        packet_errors = 0
        for msg in (out.get_message(i) for i in range(out.num_messages())):
            frame_id, pkt_idx, ok, payload = pdu_fields(msg)
            if frame_id >= n_frames:  # the flush frame
                continue
            got = np.unpackbits(np.frombuffer(payload, np.uint8))[:payload_bits]
            wrong = int(np.count_nonzero(got != sent[frame_id * PACKETS_PER_FRAME + pkt_idx]))
            bit_errors += wrong
            undetected += int(ok and wrong > 0)
            packet_errors += int(not ok)
    return LinkResult(n_packets, packet_errors, undetected, bit_errors,
                      n_packets * payload_bits, seconds)
