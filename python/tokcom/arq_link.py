"""Reliable delivery over the coded token link by retransmission (ARQ), for the
retransmission baselines of the TokCom paper: VQ + ARQ and a classical codec + ARQ.

Packets go through the project's own blocks (coded_link_tx -> loopback_channel ->
coded_link_rx). Every packet whose CRC fails is sent again, with fresh noise, until it
is received or max_rounds is reached. Feedback is ideal (instant, error free), so the
count of transmissions T per packet is the channel's alone: T = 1 / (1 - PER) on
average, here measured rather than assumed.
"""

from dataclasses import dataclass

import numpy as np
from gnuradio import gr

from .coded_link_rx import coded_link_rx
from .coded_link_tx import coded_link_tx
from .link_config import LinkConfig
from .link_sim import MAX_IN_FLIGHT, payload_pdu, pdu_fields
from .loopback_channel import loopback_channel
from .message_collector import message_collector, post_paced


@dataclass
class ArqResult:
    payloads: list  # bytes per packet: the first copy that passed its CRC (None if never)
    attempts: np.ndarray  # transmissions per packet, the first one included
    rounds: int

    @property
    def delivered(self) -> np.ndarray:
        return np.array([p is not None for p in self.payloads])


class ArqLink:
    """One running coded link (a GNU Radio flowgraph) that delivers packets with ARQ.

    Use as a context manager; deliver() may be called several times."""

    def __init__(self, esn0_db, seed, link: LinkConfig | None = None, max_rounds=100,
                 timeout_s=60.0):
        link = link or LinkConfig()
        self.payload_bits = link.payload_bits
        self.max_rounds, self.timeout_s = max_rounds, timeout_s
        self.packets_per_burst = link.packets_per_frame  # bursts as long as TokCom's
        self.tb = gr.top_block("arq_link")
        self.tx = coded_link_tx(link.payload_bits, link.crc, link.code, link.modulation,
                                link.guard_symbols, link.scramble)
        self.channel = loopback_channel(esn0_db, seed)
        self.rx = coded_link_rx(link.payload_bits, link.crc, link.code, link.modulation,
                                link.guard_symbols, 10 ** (-esn0_db / 10),
                                scramble=link.scramble)
        self.out = message_collector()
        self.tb.connect(self.tx, self.channel, self.rx)
        self.tb.msg_connect(self.rx, "out", self.out, "in")
        self._next_frame_id = 0

    def __enter__(self):
        self.tb.start()
        return self

    def __exit__(self, *exc):
        self.tb.stop()
        self.tb.wait()

    def deliver(self, payloads, first_ok=None) -> ArqResult:
        """Delivers every payload (bytes of payload_bits bits).

        first_ok: optional per-packet results of a first transmission made elsewhere
        (the TokCom run on the same channel realisation): True = received (its payload is
        taken from `payloads`), False = failed; then only the failed ones are sent here."""
        n = len(payloads)
        final = [None] * n
        attempts = np.zeros(n, np.int64)
        pending = list(range(n))
        if first_ok is not None:
            attempts += 1
            pending = [i for i in range(n) if not first_ok[i]]
            for i in range(n):
                if first_ok[i]:
                    final[i] = payloads[i]
        rounds = 0
        while pending and rounds < self.max_rounds:
            rounds += 1
            results = self._send_round([payloads[i] for i in pending])
            attempts[pending] += 1
            still = []
            for i, (ok, got) in zip(pending, results, strict=True):
                if ok:
                    final[i] = got
                else:
                    still.append(i)
            pending = still
        return ArqResult(final, attempts, rounds)

    def _send_round(self, payloads):
        """Sends payloads once, regrouped into bursts; returns (crc_ok, payload) each."""
        index = {}  # (frame_id, pkt_idx) -> position in payloads
        pdus = []
        # Pending packets regrouped into bursts of the frame's size.
        for start in range(0, len(payloads), self.packets_per_burst):
            chunk = payloads[start:start + self.packets_per_burst]
            fid = self._next_frame_id
            self._next_frame_id += 1
            for j, p in enumerate(chunk):
                index[(fid, j)] = start + j
                pdus.append(payload_pdu(fid, j, len(chunk), self.payload_bits, p))
        first = self.out.count
        post_paced(self.tx.source, "in", pdus, self.out, MAX_IN_FLIGHT, self.timeout_s)
        if not self.out.wait_for(first + len(pdus), self.timeout_s):
            raise RuntimeError(f"ARQ round: {self.out.count - first} of {len(pdus)} packets "
                               f"came out of the link within {self.timeout_s:.0f} s")
        results = [None] * len(payloads)
        for msg in self.out.messages(first):
            fid, j, ok, payload = pdu_fields(msg)
            i = index.get((fid, j))
            if i is not None and results[i] is None:
                results[i] = (ok, payload)
        return results
