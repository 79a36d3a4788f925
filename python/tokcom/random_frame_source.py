"""Random token frames: a test-signal source for the token link (like gr-pdu's random_pdu)."""

import threading
import time

import numpy as np
import pmt
from gnuradio import gr

from .frame_pdu import NO_LABEL, Frame, make_frame_pdu


class random_frame_source(gr.basic_block):
    """Emits `n_frames` frame PDUs of uniformly random tokens, paced at `frames_per_second`.

    Each frame is a grid_h x grid_w grid of tokens in [0, codebook_size) with frame ids
    counting up from `first_frame_id` and a label drawn from range(n_labels)
    (or -1 when n_labels is 0). Seeded: the same seed gives the same frames.
    After the last frame it waits `drain_s` seconds, so that downstream blocks can
    finish, then tells the flowgraph it is done (n_frames = 0 runs until stopped).
    """

    def __init__(self, grid_h=16, grid_w=16, codebook_size=1024, n_frames=10,
                 frames_per_second=50.0, n_labels=10, seed=0, first_frame_id=0, drain_s=0.5):
        gr.basic_block.__init__(self, name="random_frame_source", in_sig=None, out_sig=None)
        if grid_h < 1 or grid_w < 1 or not 2 <= codebook_size <= 65536:
            raise ValueError("need grid_h, grid_w >= 1 and codebook_size in [2, 65536]")
        if frames_per_second <= 0:
            raise ValueError("frames_per_second must be > 0 (it bounds downstream queues)")
        self.grid = (int(grid_h), int(grid_w))
        self.codebook_size = int(codebook_size)
        self.n_frames = int(n_frames)
        self.period = 1.0 / float(frames_per_second)
        self.n_labels = int(n_labels)
        self.seed = int(seed)
        self.first_frame_id = int(first_frame_id)
        self.drain_s = float(drain_s)
        self.frames_out = 0
        self._stop = threading.Event()
        self._thread = None
        self.message_port_register_out(pmt.intern("out"))

    def make_frame(self, index: int) -> Frame:
        """The frame with sequence number `index` (reproducible without running the block)."""
        rng = np.random.default_rng([self.seed, index])
        tokens = rng.integers(0, self.codebook_size, size=self.grid, dtype=np.uint16)
        label = int(rng.integers(self.n_labels)) if self.n_labels > 0 else NO_LABEL
        return Frame(tokens, self.first_frame_id + index, self.codebook_size, label=label)

    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="random_frame_source", daemon=True)
        self._thread.start()
        return super().start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return super().stop()

    def _run(self):
        index = 0
        next_time = time.monotonic()
        while not self._stop.is_set() and (self.n_frames <= 0 or index < self.n_frames):
            self.message_port_pub(pmt.intern("out"), make_frame_pdu(self.make_frame(index)))
            self.frames_out += 1
            index += 1
            next_time += self.period
            self._stop.wait(max(0.0, next_time - time.monotonic()))
        if not self._stop.wait(self.drain_s):
            self._post(pmt.intern("system"), pmt.cons(pmt.intern("done"), pmt.from_long(1)))
