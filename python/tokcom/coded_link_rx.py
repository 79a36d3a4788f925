"""Coded token link, receiver: symbols -> max-log soft bits -> Viterbi -> CRC-flagged packets."""

from gnuradio import digital, fec, gr, trellis

from . import tokcom_python as _cpp
from .link_config import code_of, crc_of, make_constellation

# Soft bits for gr-fec's 8-bit cc_decoder: 128 + QUANT_SCALE * LLR, clamped to 0..255.
# Chosen by measurement (docs/link.md: PER at 8 dB against the unquantised oracle); the
# constant lives in the C++ block (burst_demapper::DEFAULT_QUANT_SCALE).
DEFAULT_QUANT_SCALE = _cpp.burst_demapper.DEFAULT_QUANT_SCALE


class coded_link_rx(gr.hier_block2):
    """Symbol bursts in (the "tokcom_frame" tag at each burst's first symbol), token
    packet PDUs flagged crc_ok out ("out"): the inverse of coded_link_tx.

    Soft demapping is exact max-log with noise variance noise_var (N0 for unit-energy
    symbols, 10^(-EsN0/10)); noise_var = 0 estimates it from the guard symbols. K=7 is
    decoded by gr-fec's cc_decoder (8-bit soft input, quantised by the demapper with
    quant_scale), K=3 by gr-trellis' Viterbi on unquantised metrics. Every packet comes
    out, with crc_ok = False when its CRC fails; counters: packets_out(), packets_failed().
    scramble (default True) descrambles payload and CRC before the CRC check; it must match
    the transmitter's setting (docs/formats.md).

    soft_output (default False): packets whose CRC fails also carry the posterior LLRs of
    their payload and CRC bits ("payload_llrs", "crc_llrs"; docs/formats.md), computed by
    a BCJR decoder (log-MAP, or max-log with log_map=False) from the demapper's float LLRs.
    Good packets never take that path.
    """

    def __init__(self, payload_bits=40, crc="crc16", code="cc_k7", modulation="16qam",
                 guard_symbols=8, noise_var=0.0, quant_scale=DEFAULT_QUANT_SCALE,
                 scramble=True, soft_output=False, log_map=True):
        gr.hier_block2.__init__(self, "coded_link_rx",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(0, 0, 0))
        crc_width, crc_poly = crc_of(crc)
        self.code = code_of(code)
        info_bits = payload_bits + crc_width
        coded_bits = self.code.coded_bits(info_bits)
        self.constellation = make_constellation(modulation)
        self.demapper = _cpp.burst_demapper(self.constellation, coded_bits, guard_symbols,
                                            noise_var, code == "cc_k7", quant_scale)
        block_bits = info_bits
        if code == "cc_k7":
            dec = fec.cc_decoder.make(info_bits, 7, 2, list(self.code.polys), 0, 0,
                                      fec.CC_TERMINATED, False)
            self.decoder = [fec.decoder(dec, gr.sizeof_char, gr.sizeof_char)]
        elif code == "cc_k3":
            fsm = trellis.fsm(1, 2, list(self.code.polys))
            steps = info_bits + self.code.tail_bits
            # Euclidean distance between the 2 LLRs of a step and +-1 per bit orders the
            # branches exactly as the max-log correlation metric does.
            table = [float(2 * ((o >> (1 - b)) & 1) - 1) for o in range(4) for b in range(2)]
            self.decoder = [trellis.metrics_f(4, 2, table, digital.TRELLIS_EUCLIDEAN),
                            trellis.viterbi_b(fsm, steps, 0, 0)]
            block_bits = steps  # the decoded tail bits are skipped by the deframer
        else:
            self.decoder = [digital.binary_slicer_fb()]
        soft_polys = list(self.code.octal_polys) if soft_output and self.code.polys else []
        self.deframer = _cpp.packet_deframer(payload_bits, crc_width, crc_poly, block_bits,
                                             bool(scramble), soft_polys, bool(log_map))
        self.connect(self, self.demapper, *self.decoder, (self.deframer, 0))
        if soft_polys:
            # The deframer reads a packet's LLRs only once the decoder's bits for it are
            # there; a deep LLR buffer keeps the demapper from stalling on it meanwhile
            # (with the default 8192 floats, about 66 packets, the link ran 3x slower).
            self.demapper.set_min_output_buffer(1 if code == "cc_k7" else 0, 1 << 18)
            # The demapper's float LLRs: its only output for K = 3, its second for K = 7.
            self.connect((self.demapper, 1 if code == "cc_k7" else 0), (self.deframer, 1))
        self.message_port_register_hier_out("out")
        self.msg_connect(self.demapper, "frames", self.deframer, "frames")
        self.msg_connect(self.deframer, "out", self, "out")

    def set_noise_var(self, noise_var):
        self.demapper.set_noise_var(noise_var)

    def packets_out(self):
        return self.deframer.packets_out()

    def packets_failed(self):
        return self.deframer.packets_failed()
