"""Radio impairments for the over-the-air burst PHY (tokcom-ota-sim, docs/ota.md)."""

import numpy as np
import pmt
from gnuradio import analog, blocks, channels, gr

from . import tokcom_python as _cpp

# Multipath profiles: (delay in symbols, complex gain) per path, normalised to unit
# energy by multipath_taps. "short": 3 paths within 2 symbols (the receiver's design
# case); "long": 5 paths over 6 symbols, beyond the equaliser's 9-tap channel estimate.
MULTIPATH = {
    "none": [(0.0, 1.0)],
    "short": [(0.0, 1.0), (0.5, 0.5 * np.exp(1j * 1.0)), (1.5, 0.3 * np.exp(-2j))],
    "long": [(0.0, 1.0), (1.0, 0.6j), (2.5, -0.45), (4.0, 0.3 * np.exp(0.7j)),
             (6.0, 0.2 * np.exp(-1.3j))],
}


def multipath_taps(profile: str, sps: int, rolloff: float = 0.35) -> list:
    """Sample-spaced taps of a multipath profile at sps samples per symbol, scaled so that
    the received pulse (TX pulse * taps) keeps unit energy: paths closer than a symbol add
    partly coherently, and without this the channel would raise the received Es/N0."""
    if profile not in MULTIPATH:
        raise ValueError(f"multipath must be one of {sorted(MULTIPATH)}, got {profile!r}")
    paths = MULTIPATH[profile]
    taps = np.zeros(int(round(max(d for d, _ in paths) * sps)) + 1, complex)
    for delay, gain in paths:
        taps[int(round(delay * sps))] += gain
    pulse = np.array(_cpp.ota_burst_format(sps, rolloff, 1).tx_taps())
    energy = np.sum(np.abs(np.convolve(pulse, taps)) ** 2)
    return (taps / np.sqrt(energy)).tolist()


def noise_voltage(esn0_db: float, amplitude: float = 1.0) -> float:
    """Complex noise amplitude per sample for Es/N0 at the matched filter's output: the
    TX pulse has unit energy, so N0 per sample is the symbol's N0 (times the gain^2)."""
    return float(amplitude * 10 ** (-esn0_db / 20))


class burst_jitter(gr.sync_block):
    """At every "tx_sob" tag, draws a new random phase (uniform) and fractional delay
    (uniform in [0, 1) samples, 16-tap windowed-sinc interpolator) for the burst that
    starts there. Seeded. Models a radio link's per-burst phase and sampling instant."""

    TAPS = 16

    def __init__(self, seed=0):
        gr.sync_block.__init__(self, "burst_jitter", [np.complex64], [np.complex64])
        self._rng = np.random.default_rng(seed)
        self._hist = np.zeros(self.TAPS - 1, np.complex64)
        self._h = self._interpolator(0.0)
        self._rot = np.complex64(1)
        self.set_tag_propagation_policy(gr.TPP_DONT)

    def _interpolator(self, frac):
        n = np.arange(self.TAPS) - (self.TAPS - 1) / 2 - frac + 0.5
        h = np.sinc(n) * np.hamming(self.TAPS)
        return (h / h.sum()).astype(np.complex64)

    def work(self, input_items, output_items):
        x, y = input_items[0], output_items[0]
        start = self.nitems_read(0)
        cuts = [t.offset - start for t in
                self.get_tags_in_window(0, 0, len(x), pmt.intern("tx_sob"))]
        bounds = [0, *cuts, len(x)]
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            if i > 0:  # a burst starts at a
                self._h = self._interpolator(self._rng.random())
                self._rot = np.complex64(np.exp(2j * np.pi * self._rng.random()))
            if b == a:
                continue
            ext = np.concatenate((self._hist, x[a:b]))
            y[a:b] = np.convolve(ext, self._h, "valid") * self._rot
            self._hist = ext[-(self.TAPS - 1):]
        return len(x)


class ota_channel(gr.hier_block2):
    """Complex samples in and out: the radio channel of tokcom-ota-sim.

    In order: per-burst random phase and fractional delay (burst_jitter, at the TX's
    tx_sob tags; random_jitter=False skips it), gr-channels channel_model (carrier
    offset `cfo` in cycles/sample, sample-rate offset `sro_ppm`, multipath taps scaled
    to a unit-energy received pulse for the TX pulse of roll-off `rolloff`; its
    noise is off because its fastnoise pool repeats every 8192 samples), gain
    `amplitude`, then independent Gaussian noise (analog.noise_source_c) at Es/N0
    `esn0_db` relative to that gain (N0 at the matched filter's output), also between
    bursts. All tags are removed at the output: the receiver sees samples only.
    """

    def __init__(self, esn0_db=20.0, cfo=0.0, sro_ppm=0.0, multipath="none",
                 amplitude=1.0, sps=2, seed=0, random_jitter=True, rolloff=0.35):
        gr.hier_block2.__init__(self, "ota_channel",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        chain = [self]
        if random_jitter:
            self.jitter = burst_jitter(seed + 11)
            chain.append(self.jitter)
        self.model = channels.channel_model(noise_voltage=0.0, frequency_offset=float(cfo),
                                            epsilon=1.0 + float(sro_ppm) * 1e-6,
                                            taps=multipath_taps(multipath, sps, rolloff),
                                            noise_seed=seed, block_tags=False)
        self.gain = blocks.multiply_const_cc(complex(amplitude))
        self.noise = analog.noise_source_c(analog.GR_GAUSSIAN,
                                           noise_voltage(esn0_db, amplitude), seed)
        self.add = blocks.add_cc()
        self.strip = blocks.tag_gate(gr.sizeof_gr_complex, False)
        chain += [self.model, self.gain, self.add, self.strip, self]
        self.connect(*chain)
        self.connect(self.noise, (self.add, 1))
