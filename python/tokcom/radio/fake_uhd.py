"""A stand-in for gr-uhd, for tests: no UHD call, no device search, no network.

FakeUHD has the three names the front-end factory uses (stream_args, usrp_sink,
usrp_source). Its sink and source have the USRP blocks' io signature (complex64 in, or
out), record every set_* call in `calls` and keep the device args and stream args they
were made with. The sink keeps what it receives, tags included (vector_sink_c); the
source plays the samples it was given, then ends.
"""

from types import SimpleNamespace

import numpy as np
from gnuradio import blocks, gr


class _Settings:
    """The USRP setters the kit calls; each is recorded as (name, args)."""

    def _record(self, name, *args):
        self.calls.append((name, args))

    def set_samp_rate(self, rate):
        self._record("set_samp_rate", float(rate))

    def set_center_freq(self, freq, chan=0):
        self._record("set_center_freq", float(freq), int(chan))

    def set_gain(self, gain, chan=0):
        self._record("set_gain", float(gain), int(chan))

    def set_antenna(self, antenna, chan=0):
        self._record("set_antenna", str(antenna), int(chan))

    def settings(self) -> dict:
        """The last value of each setter: {"set_center_freq": 915e6, ...}."""
        return {name: args[0] for name, args in self.calls}


class FakeUsrpSink(gr.hier_block2, _Settings):
    def __init__(self, device_addr, stream_args, tsb_tag_name=""):
        gr.hier_block2.__init__(self, "fake_usrp_sink",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(0, 0, 0))
        self.device_addr, self.stream_args, self.tsb_tag_name = (device_addr, stream_args,
                                                                 tsb_tag_name)
        self.calls = []
        self.store = blocks.vector_sink_c()
        self.connect(self, self.store)

    def nitems_read(self, port=0):
        return self.store.nitems_read(port)

    def samples(self) -> np.ndarray:
        return np.asarray(self.store.data(), np.complex64)

    def tags(self) -> list:
        return list(self.store.tags())


class FakeUsrpSource(gr.hier_block2, _Settings):
    def __init__(self, device_addr, stream_args, samples=()):
        gr.hier_block2.__init__(self, "fake_usrp_source", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.device_addr, self.stream_args = device_addr, stream_args
        self.calls = []
        self.connect(blocks.vector_source_c(np.asarray(samples, np.complex64).tolist(), False),
                     self)


class FakeUHD:
    """Module-like stand-in for gnuradio.uhd. `rx_samples` are what every source made
    from it plays; `made` lists every sink/source it made, in order."""

    def __init__(self, rx_samples=()):
        self.rx_samples = np.asarray(rx_samples, np.complex64)
        self.made = []

    @staticmethod
    def stream_args(cpu_format="fc32", otw_format="", args="", channels=(0,)):
        return SimpleNamespace(cpu_format=cpu_format, otw_format=otw_format, args=args,
                               channels=list(channels))

    def usrp_sink(self, device_addr, stream_args, tsb_tag_name=""):
        block = FakeUsrpSink(device_addr, stream_args, tsb_tag_name)
        self.made.append(block)
        return block

    def usrp_source(self, device_addr, stream_args, issue_stream_cmd_on_start=True):
        block = FakeUsrpSource(device_addr, stream_args, self.rx_samples)
        self.made.append(block)
        return block
