"""Coded token link, transmitter: token packets -> CRC -> convolutional code -> symbols."""

from gnuradio import blocks, fec, gr, trellis

from . import tokcom_python as _cpp
from .link_config import code_of, crc_of, make_constellation


class coded_link_tx(gr.hier_block2):
    """Token packet PDUs in ("in"), one burst of constellation symbols per frame out.

    Per packet: payload_bits payload + CRC (gr::digital::crc) -> terminated rate-1/2
    convolutional code, each packet on its own (K=7 [109, 79] via gr-fec's cc_encoder, or
    K=3 (5, 7) via gr-trellis) -> Gray-labelled unit-energy symbols (TS 38.211). A frame's
    packets follow each other in pkt_idx order, then guard_symbols zeros; the first symbol
    carries the "tokcom_frame" tag with the frame meta. docs/link.md has the details.

    scramble (default True): payload and CRC bits are XORed with the IEEE 802.11 additive
    scrambler sequence (x^7 + x^4 + 1, packet pkt_idx from bit pkt_idx mod 127 on;
    docs/formats.md), so that the symbols, and the error rate, do not depend on the
    payload, not even on a payload repeated in every packet. The receiver must use the
    same setting.
    """

    def __init__(self, payload_bits=40, crc="crc16", code="cc_k7", modulation="16qam",
                 guard_symbols=8, scramble=True):
        gr.hier_block2.__init__(self, "coded_link_tx", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        crc_width, crc_poly = crc_of(crc)
        self.code = code_of(code)
        info_bits = payload_bits + crc_width
        self.coded_bits = self.code.coded_bits(info_bits)
        self.constellation = make_constellation(modulation)
        # gr-fec's terminated encoder appends the tail itself; gr-trellis needs it in the input.
        source_tail = self.code.tail_bits if code == "cc_k3" else 0
        self.source = _cpp.packet_bits_source(payload_bits, crc_width, crc_poly, source_tail,
                                              bool(scramble))
        self.mapper = _cpp.burst_mapper(self.constellation, self.coded_bits, guard_symbols)

        self.encoder = []  # the in-tree encoder blocks, in order
        if code == "cc_k7":
            enc = fec.cc_encoder_make(info_bits, 7, 2, list(self.code.polys), 0,
                                      fec.CC_TERMINATED, False)
            self.encoder = [fec.encoder(enc, gr.sizeof_char, gr.sizeof_char)]
        elif code == "cc_k3":
            fsm = trellis.fsm(1, 2, list(self.code.polys))
            # Restart from state 0 for every packet (info bits + 2 zero tail bits); each
            # output symbol becomes its 2 bits, MSB first.
            self.encoder = [trellis.encoder_bb(fsm, 0, info_bits + source_tail),
                            blocks.unpack_k_bits_bb(2)]
        chain = [self.source, *self.encoder, self.mapper]
        self.connect(*chain, self)
        self.message_port_register_hier_in("in")
        self.msg_connect(self, "in", self.source, "in")
        self.msg_connect(self.source, "frames", self.mapper, "frames")

