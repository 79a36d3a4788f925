"""Over-the-air transmitter: token packet PDUs -> bursts of complex samples (docs/ota.md)."""

from gnuradio import gr

from . import tokcom_python as _cpp
from .coded_link_tx import coded_link_tx
from .link_config import ota_burst_format_for


class ota_tx(gr.hier_block2):
    """Token packet PDUs in ("in"), over-the-air bursts out, one per frame.

    The coded link (coded_link_tx: CRC, scrambler, convolutional code, Gray mapping) makes
    each frame's payload symbols; ota_burst_framer adds the preamble, the header (frame
    id, packet count, label, link identifiers, model hash; its own code and CRC), the
    pilots, RRC pulse shaping at sps with roll-off `rolloff`, ramps and tx_sob/tx_eob
    tags; gap_samples zeros follow each burst (0 for a UHD sink, which ends the burst at
    tx_eob). Only samples leave this block: the frame metadata travel in the header.
    payload_bits must equal tokens_per_packet * token_bits.
    """

    def __init__(self, payload_bits=40, crc="crc16", code="cc_k7", modulation="16qam",
                 tokens_per_packet=4, token_bits=10, sps=2, rolloff=0.35, gap_samples=0,
                 scramble=True):
        gr.hier_block2.__init__(self, "ota_tx", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        if payload_bits != tokens_per_packet * token_bits:
            raise ValueError("payload_bits must equal tokens_per_packet * token_bits")
        self.format = ota_burst_format_for(payload_bits, crc, code, modulation, sps, rolloff)
        self.link = coded_link_tx(payload_bits, crc, code, modulation, guard_symbols=0,
                                  scramble=scramble)
        self.framer = _cpp.ota_burst_framer(self.format, modulation, code, crc,
                                            tokens_per_packet, token_bits, gap_samples)
        self.connect(self.link, self.framer, self)
        self.message_port_register_hier_in("in")
        self.msg_connect(self, "in", self.link, "in")
