"""Posting messages into a flowgraph and collecting what comes out, without sleeps.

The one harness of the project's tests, examples, link measurements and sweep:
``post`` injects messages into a block's input port; ``message_collector`` stores what a
block publishes and wakes a waiting thread when a given count has arrived
(``wait_for``). A run ends when its work is done (a ``done`` message or the expected
count), never on a drain timer.
"""

import threading
import time

import pmt
from gnuradio import gr

DONE = pmt.cons(pmt.intern("done"), pmt.from_long(1))


def post(block, port: str, msgs) -> None:
    """Posts each message to `block`'s input `port` (works before start too)."""
    target = block.to_basic_block()
    key = pmt.intern(port)
    for msg in msgs:
        target._post(key, msg)


def post_done(block) -> None:
    """Posts the 'done' system message: once it has handled every message queued before
    it, the block finishes and tells the blocks downstream, so tb.wait() returns."""
    block.to_basic_block()._post(pmt.intern("system"), DONE)


class message_collector(gr.basic_block):
    """Stores every message that arrives on "in"; wait_for(n) waits for the n-th."""

    def __init__(self):
        gr.basic_block.__init__(self, name="message_collector", in_sig=None, out_sig=None)
        self._messages = []
        self._arrived = threading.Condition()
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        with self._arrived:
            self._messages.append(msg)
            self._arrived.notify_all()

    @property
    def count(self) -> int:
        with self._arrived:
            return len(self._messages)

    def wait_for(self, n: int, timeout: float) -> bool:
        """Waits until n messages have arrived; False if timeout (s) passed first."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
            return True

    def messages(self, start: int = 0) -> list:
        with self._arrived:
            return self._messages[start:]


def run_until_count(tb, collector, n: int, timeout: float, inputs=()) -> bool:
    """Starts tb, posts (block, port, msg) inputs, waits until `collector` (a
    message_collector, or any block with wait_for(n, timeout), such as the frame
    evaluator) has n messages, then stops tb. For flowgraphs with streams or worker threads, which a
    'done' message does not end. False if timeout (s) passed first (a broken run, not a
    way to end a good one)."""
    tb.start()
    try:
        for block, port, msg in inputs:
            post(block, port, [msg])
        return collector.wait_for(n, timeout)
    finally:
        tb.stop()
        tb.wait()


def post_paced(block, port: str, msgs, collector: message_collector, max_in_flight: int,
               timeout: float) -> None:
    """Posts msgs to a flowgraph that answers each with one message into `collector`,
    never more than max_in_flight ahead of it (a block's queue holds 8192 messages and
    drops the rest silently). Raises RuntimeError if the flowgraph stops answering."""
    base = collector.count
    target = block.to_basic_block()
    key = pmt.intern(port)
    for i, msg in enumerate(msgs):
        # When the window is full, wait until half of it came back: this thread then
        # sleeps in long stretches and leaves the GIL to the collector's handler.
        if i - (collector.count - base) >= max_in_flight and not collector.wait_for(
                base + i - max_in_flight // 2, timeout):
            raise RuntimeError(f"no answer for {timeout:.0f} s after {i} messages were posted")
        target._post(key, msg)


def handle_queued(block, port: str, handler) -> None:
    """Calls handler on every message already queued on `block`'s input `port`, now.

    GNU Radio takes a block's port queues in no fixed order, so a block that needs the
    reference of a frame (sent long before the frame) takes the queued references first.
    Call it from the block's own message handler (its thread)."""
    key = pmt.intern(port)
    while (msg := block.delete_head_nowait(key)) is not None:
        handler(msg)
