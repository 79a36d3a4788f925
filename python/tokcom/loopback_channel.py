"""Loopback channel for the coded token link: AWGN at a set Es/N0, optional bursty erasures."""

import numpy as np
from gnuradio import analog, blocks, channels, gr

# channels.channel_model's samples come out CHANNEL_MODEL_ADVANCE samples early (its timing
# resampler's history) while its tags keep their index, so tags would land 3 samples late.
CHANNEL_MODEL_ADVANCE = 3


def noise_voltage(esn0_db: float) -> float:
    """Complex noise amplitude for unit-energy symbols: N0 = amplitude^2 = 10^(-EsN0/10)."""
    return float(10 ** (-esn0_db / 20))


class delay_samples_not_tags(gr.sync_block):
    """Delays the samples by `delay` while every tag keeps its index: in front of
    channel_model this cancels its advance, for samples and tags alike. (blocks.delay
    and blocks.vector_insert move the tags with the samples, which is what is wrong here.)
    """

    def __init__(self, delay):
        gr.sync_block.__init__(self, "delay_samples_not_tags", [np.complex64], [np.complex64])
        self._state = np.zeros(delay, np.complex64)

    def work(self, input_items, output_items):
        x, y = input_items[0], output_items[0]
        n = len(x)
        joined = np.concatenate((self._state, x))
        y[:] = joined[:n]
        self._state = joined[n:].copy()
        return n


class block_erasure(gr.sync_block):
    """Bursty erasures: the stream is cut into blocks of block_len samples and a
    two-state Gilbert-Elliott chain (good -> bad with p_gb, bad -> good with p_bg, one
    step per block) zeroes the blocks in the bad state. Seeded."""

    def __init__(self, block_len, p_gb, p_bg, seed=0):
        gr.sync_block.__init__(self, "block_erasure", [np.complex64], [np.complex64])
        if block_len < 1 or not (0 <= p_gb <= 1 and 0 <= p_bg <= 1):
            raise ValueError("need block_len >= 1 and probabilities in [0, 1]")
        self.block_len, self.p_gb, self.p_bg = int(block_len), p_gb, p_bg
        self._rng = np.random.default_rng(seed)
        self._bad = False
        self._block = -1  # index of the block whose state is in self._bad
        self.blocks_erased = 0

    def work(self, input_items, output_items):
        x, y = input_items[0], output_items[0]
        block_of = (self.nitems_read(0) + np.arange(len(x))) // self.block_len
        first, last = int(block_of[0]), int(block_of[-1])
        bad = np.empty(last - first + 1, bool)
        for i, b in enumerate(range(first, last + 1)):
            if b != self._block:
                flip = self.p_bg if self._bad else self.p_gb
                self._bad ^= bool(self._rng.random() < flip)
                self._block = b
                self.blocks_erased += int(self._bad)
            bad[i] = self._bad
        y[:] = np.where(bad[block_of - first], 0, x)
        return len(x)


class loopback_channel(gr.hier_block2):
    """Complex samples in and out, one sample per symbol: AWGN at esn0_db for
    unit-energy symbols, sample- and tag-aligned; optionally bursty erasures
    (Gilbert-Elliott over blocks of burst_block_len samples, e.g. one packet's
    symbols) before the noise. The io signature of a radio front end, so it can be
    swapped for one without touching the TX and RX blocks.

    noise "gaussian" (default) adds analog.noise_source_c: independent Gaussian
    samples. noise "channel_model" uses gr-channels' channel_model instead, aligned
    for its 3-sample advance; its noise comes from analog.fastnoise_source_c, which
    draws from a pool of 8192 precomputed samples, and docs/link.md shows what that
    does to error-rate estimates.
    """

    def __init__(self, esn0_db=8.0, seed=0, noise="gaussian", burst_p_gb=0.0,
                 burst_p_bg=0.5, burst_block_len=31):
        gr.hier_block2.__init__(self, "loopback_channel",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        chain = [self]
        if burst_p_gb > 0:
            self.erasure = block_erasure(burst_block_len, burst_p_gb, burst_p_bg, seed + 1)
            chain.append(self.erasure)
        self.noise_kind = noise
        if noise == "gaussian":
            self.noise = analog.noise_source_c(analog.GR_GAUSSIAN, noise_voltage(esn0_db), seed)
            self.add = blocks.add_cc()
            self.connect(*chain, self.add, self)
            self.connect(self.noise, (self.add, 1))
        elif noise == "channel_model":
            self.align = delay_samples_not_tags(CHANNEL_MODEL_ADVANCE)
            self.model = channels.channel_model(noise_voltage=noise_voltage(esn0_db),
                                                frequency_offset=0.0, epsilon=1.0, taps=[1.0],
                                                noise_seed=seed, block_tags=False)
            self.connect(*chain, self.align, self.model, self)
        else:
            raise ValueError(f"noise must be 'gaussian' or 'channel_model', got {noise!r}")

    def set_esn0_db(self, esn0_db):
        if self.noise_kind == "gaussian":
            self.noise.set_amplitude(noise_voltage(esn0_db))
        else:
            self.model.set_noise_voltage(noise_voltage(esn0_db))
