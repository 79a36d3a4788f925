"""Over-the-air receiver: untagged complex samples -> CRC-flagged token packet PDUs."""

from gnuradio import gr

from . import tokcom_python as _cpp
from .coded_link_rx import coded_link_rx
from .link_config import ota_burst_format_for


class ota_rx(gr.hier_block2):
    """Complex samples in (any delay, carrier offset, phase, gain; no tags needed),
    token packet PDUs flagged crc_ok out ("out"): the inverse of ota_tx. The optional
    stream output 0 carries the equalised payload symbols (for a constellation display).

    ota_burst_sync finds each burst (power-normalised preamble detection), corrects
    carrier and timing, equalises, decodes the header, tracks the phase on the pilots
    and measures N0; the equalised payload symbols, tagged with the header's frame meta
    and N0, go through the coded link's receiver (coded_link_rx: max-log soft demapper,
    Viterbi, descrambler, CRC). frame_id, label and n_packets come from the header,
    pkt_idx from the packet's position in the burst. Bursts with a bad header are
    counted (header_failures) and dropped. The link settings must match ota_tx's.
    """

    def __init__(self, payload_bits=40, crc="crc16", code="cc_k7", modulation="16qam",
                 tokens_per_packet=4, token_bits=10, sps=2, rolloff=0.35,
                 detect_threshold=0.3, xcorr_threshold=0.2, scramble=True):
        gr.hier_block2.__init__(self, "ota_rx", gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        if payload_bits != tokens_per_packet * token_bits:
            raise ValueError("payload_bits must equal tokens_per_packet * token_bits")
        self.format = ota_burst_format_for(payload_bits, crc, code, modulation, sps, rolloff)
        self.sync = _cpp.ota_burst_sync(self.format, modulation, code, crc,
                                        tokens_per_packet, token_bits, detect_threshold,
                                        xcorr_threshold)
        self.link = coded_link_rx(payload_bits, crc, code, modulation, guard_symbols=0,
                                  noise_var=0.0, scramble=scramble)
        self.connect(self, self.sync, self.link)
        # The equalised payload symbols, unit energy, pilots removed: to a constellation
        # sink, or nowhere (an unconnected hier output is dropped when flattening).
        self.connect(self.sync, self)
        self.message_port_register_hier_out("out")
        self.msg_connect(self.link, "out", self, "out")

    def bursts_detected(self):
        return self.sync.bursts_detected()

    def header_failures(self):
        return self.sync.header_failures()

    def frames_out(self):
        return self.sync.frames_out()

    def packets_out(self):
        return self.link.packets_out()

    def packets_failed(self):
        return self.link.packets_failed()
