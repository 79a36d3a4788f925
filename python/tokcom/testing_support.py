"""Test support for the QA files (not installed): an independent Python reading of
docs/formats.md, used as an oracle for the C++ blocks, and a message-port harness."""

import time

import numpy as np
import pmt
from gnuradio import blocks, gr

from .message_collector import message_collector, post, post_done, run_until_count

_M64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """One SplitMix64 step: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & _M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return state, z ^ (z >> 31)


def spec_permutation(n: int, seed: int) -> list[int]:
    perm, state = list(range(n)), seed
    for i in range(n - 1, 0, -1):
        state, z = splitmix64(state)
        j = z % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def spec_slots(n: int, k: int, interleaver: str, seed: int) -> np.ndarray:
    """(n_packets, k) frame positions, -1 = padding."""
    p = -(-n // k)
    slots = np.full(p * k, -1, dtype=np.int64)
    if interleaver == "random":
        slots[:n] = spec_permutation(n, seed)
    else:
        for pkt in range(p):
            for s in range(k):
                if s * p + pkt < n:
                    slots[pkt * k + s] = s * p + pkt
    return slots.reshape(p, k)


def spec_token_bits(q: int) -> int:
    return max(1, (q - 1).bit_length())


def spec_payload(tokens: np.ndarray, slots_of_packet: np.ndarray, q: int) -> bytes:
    """Bit-packed payload of one packet: tokens MSB first, padding slots zero."""
    b = spec_token_bits(q)
    bits = []
    for pos in slots_of_packet:
        value = 0 if pos < 0 else int(tokens.ravel()[pos])
        bits += [(value >> (b - 1 - i)) & 1 for i in range(b)]
    bits += [0] * (-len(bits) % 8)
    return bytes(np.packbits(np.array(bits, dtype=np.uint8)).tolist()) if bits else b""


def run_to_done(block, inputs, out_port="out", expected=None):
    """Deterministic QA (the gr-satellites way): posts the (port, msg) inputs and then a
    "done" system message before start(), then start(); wait(). The block handles all
    its queued messages, finishes at "done" and tells the sink, so wait() returns once
    everything is handled. Returns the PMTs the block published on out_port, including
    what it published from stop() (left in the sink's queue when the sink had already
    finished). Messages to one port are handled in order; GNU Radio drains the ports
    one after another, so the order across ports is not the posting order.
    With `expected`, fails unless that many messages came out."""
    tb = gr.top_block()
    sink = message_collector()
    tb.msg_connect(block, out_port, sink, "in")
    for port, msg in inputs:
        post(block, port, [msg])
    post_done(block)
    tb.start()
    tb.wait()
    out = sink.messages()
    queue = sink.to_basic_block()
    while (msg := queue.delete_head_nowait(pmt.intern("in"))) is not None:
        out.append(msg)
    return _expect(out, expected, out_port)


def run_until(block, inputs, expected, out_port="out", timeout=30.0):
    """For output that comes with time (the depacketizer's timeout): posts the inputs
    after start and stops once `expected` messages came out of out_port (fails after
    timeout seconds)."""
    tb = gr.top_block()
    sink = message_collector()
    tb.msg_connect(block, out_port, sink, "in")
    run_until_count(tb, sink, expected, timeout, [(block, port, msg) for port, msg in inputs])
    return _expect(sink.messages(), expected, out_port)


def _expect(out, expected, out_port):
    if expected is not None and len(out) != expected:
        raise AssertionError(f"{len(out)} messages out of {out_port!r}, expected {expected}")
    return out


def wait_for(condition, timeout=10.0):
    """Waits until condition() is true (a state the test needs before its next step, such
    as a counter); raises if it does not happen within timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.001)


def spec_crc_bits(bits, width: int, poly: int) -> list[int]:
    """Bit-serial CRC as docs/link.md defines it: zero initial register, no reflection,
    parity inverted; returns the width parity bits, MSB first."""
    reg = 0
    top = 1 << (width - 1)
    mask = (1 << width) - 1
    for bit in bits:
        feedback = bool(reg & top) ^ bool(bit)
        reg = (reg << 1) & mask
        if feedback:
            reg ^= poly
    reg ^= mask
    return [(reg >> (width - 1 - i)) & 1 for i in range(width)]


def run_stream(block, inputs, n_items, item="b"):
    """Runs `block`'s stream output (bytes "b" or complex "c") into a sink, fed by the
    (target, port, msg) inputs posted before start, each target followed by 'done': a
    message-fed source finishes once it has put out what its messages made, so the run
    ends by itself. Returns the first n_items as a numpy array (fails if fewer came)."""
    sink = {"b": blocks.vector_sink_b, "c": blocks.vector_sink_c}[item]()
    tb = gr.top_block()
    tb.connect(block, sink)
    targets = []
    for target, port, msg in inputs:
        post(target, port, [msg])
        if target not in targets:
            targets.append(target)
    for target in targets:
        post_done(target)
    tb.run()
    data = np.array(sink.data())
    if len(data) < n_items:
        raise AssertionError(f"{len(data)} items came out, expected {n_items}")
    return data[:n_items]
