"""Settings of the coded token link, named once for the TX and RX hier blocks.

CRCs use 3GPP polynomials (given without their leading term) with a zero initial
register, no reflection and the parity inverted (final XOR all ones, so an all-zero block
never checks), computed by gr::digital::crc. Constellations are unit-energy
with 3GPP TS 38.211 section 5.1 labeling, points listed in label order (bit b0, the first
bit sent, is the label's most significant bit). Codes are terminated rate-1/2
convolutional codes, each packet coded on its own.
"""

from dataclasses import dataclass

import numpy as np
from gnuradio import digital

# name: (width, polynomial)
CRCS = {
    "none": (0, 0),
    "crc8": (8, 0x9B),  # gCRC8, TS 36.212 5.1.1
    "crc11": (11, 0x621),  # gCRC11, TS 38.212 5.1 (the TokCom notebook uses an 11-bit CRC)
    "crc16": (16, 0x1021),  # gCRC16, TS 38.212 5.1
    "crc24a": (24, 0x864CFB),  # gCRC24A, TS 38.212 5.1
    "crc32": (32, 0x04C11DB7),  # the IEEE 802.3 polynomial
}


@dataclass(frozen=True)
class Code:
    """A terminated rate-1/2 convolutional code (or none)."""

    name: str
    constraint_length: int  # K; 1 = uncoded
    polys: tuple  # gr-fec cc_encoder polynomials, or octal generators for gr-trellis
    gr_fec_order: bool = False  # polys in gr-fec's order: the bits of the octal ones reversed

    @property
    def octal_polys(self) -> tuple:
        """Generators in the octal convention of gr-trellis' fsm (MSB = current input):
        cc_k7's [109, 79] is (0o133, 0o171); checked against cc_encoder by qa_soft_receiver."""
        if not self.gr_fec_order:
            return tuple(self.polys)
        k = self.constraint_length
        return tuple(int(format(g, f"0{k}b")[::-1], 2) for g in self.polys)

    @property
    def tail_bits(self) -> int:
        return self.constraint_length - 1

    def coded_bits(self, info_bits: int) -> int:
        """Coded bits of one packet of `info_bits` (payload + CRC)."""
        if self.constraint_length == 1:
            return info_bits
        return 2 * (info_bits + self.tail_bits)


CODES = {
    # K=7 [109, 79]: the NASA/CCSDS (171, 133 octal) code in gr-fec's bit order.
    "cc_k7": Code("cc_k7", 7, (109, 79), gr_fec_order=True),
    # K=3 (5, 7 octal): the code of the TokCom paper's public notebook, via gr-trellis.
    "cc_k3": Code("cc_k3", 3, (0o5, 0o7)),
    "none": Code("none", 1, ()),
}


def constellation_points(name: str) -> np.ndarray:
    """Unit-energy points in label order (TS 38.211 5.1; BPSK on the real axis)."""
    labels = np.arange({"bpsk": 2, "qpsk": 4, "16qam": 16}[name])
    if name == "bpsk":
        return (1 - 2 * labels).astype(np.complex64)
    bits = lambda k, n: (labels >> (n - 1 - k)) & 1  # noqa: E731  bit k of an n-bit label
    if name == "qpsk":
        return ((1 - 2 * bits(0, 2)) + 1j * (1 - 2 * bits(1, 2))).astype(np.complex64) / np.sqrt(2)
    i = (1 - 2 * bits(0, 4)) * (2 - (1 - 2 * bits(2, 4)))
    q = (1 - 2 * bits(1, 4)) * (2 - (1 - 2 * bits(3, 4)))
    return ((i + 1j * q) / np.sqrt(10)).astype(np.complex64)


def make_constellation(name: str):
    """A gr-digital constellation whose points() are in label order."""
    if name not in ("bpsk", "qpsk", "16qam"):
        raise ValueError(f"modulation must be bpsk, qpsk or 16qam, got {name!r}")
    points = constellation_points(name).tolist()
    symmetry = {"bpsk": 2, "qpsk": 4, "16qam": 4}[name]
    # No pre-differential code: a point's index is its label. Unit energy already.
    return digital.constellation_calcdist(points, [], symmetry, 1,
                                          digital.constellation.NO_NORMALIZATION)


def crc_of(name: str) -> tuple[int, int]:
    if name not in CRCS:
        raise ValueError(f"crc must be one of {sorted(CRCS)}, got {name!r}")
    return CRCS[name]


def code_of(name: str) -> Code:
    if name not in CODES:
        raise ValueError(f"code must be one of {sorted(CODES)}, got {name!r}")
    return CODES[name]


BITS_PER_SYMBOL = {"bpsk": 1, "qpsk": 2, "16qam": 4}


def token_bits(codebook_size: int) -> int:
    """b = ceil(log2 Q): bits of one token on the link and in TCE's log2 Q (docs/formats.md)."""
    if not 2 <= int(codebook_size) <= 65536:
        raise ValueError(f"codebook_size must be 2 ... 65536, got {codebook_size}")
    return max(1, (int(codebook_size) - 1).bit_length())


@dataclass(frozen=True)
class LinkConfig:
    """The TokCom link's geometry, from which every derived size is computed (once).

    Frame geometry (grid, Q) comes from the model service's ``info``
    (:meth:`from_info`); packet and link settings are the paper's by default: 4 tokens per
    packet, CRC-16, K = 7, Gray 16-QAM, 8 guard symbols per burst.
    """

    grid_h: int = 16
    grid_w: int = 16
    codebook_size: int = 1024
    tokens_per_packet: int = 4
    interleaver: str = "random"
    interleaver_seed: int = 1
    crc: str = "crc16"
    code: str = "cc_k7"
    modulation: str = "16qam"
    guard_symbols: int = 8
    scramble: bool = True

    def __post_init__(self):
        crc_of(self.crc)
        code_of(self.code)
        if self.modulation not in BITS_PER_SYMBOL:
            raise ValueError(f"modulation must be one of {sorted(BITS_PER_SYMBOL)}, "
                             f"got {self.modulation!r}")
        token_bits(self.codebook_size)
        if min(self.grid_h, self.grid_w, self.tokens_per_packet) < 1 or self.guard_symbols < 0:
            raise ValueError("grid and tokens_per_packet must be >= 1, guard_symbols >= 0")

    @classmethod
    def from_info(cls, info: dict, **settings) -> "LinkConfig":
        """The frame geometry of the service's model (its ``info`` reply) + link settings."""
        return cls(grid_h=int(info["grid_h"]), grid_w=int(info["grid_w"]),
                   codebook_size=int(info["codebook_size"]), **settings)

    @property
    def tokens_per_frame(self) -> int:
        return self.grid_h * self.grid_w

    @property
    def token_bits(self) -> int:
        return token_bits(self.codebook_size)

    @property
    def payload_bits(self) -> int:
        return self.tokens_per_packet * self.token_bits

    @property
    def packets_per_frame(self) -> int:
        return -(-self.tokens_per_frame // self.tokens_per_packet)

    @property
    def crc_width(self) -> int:
        return crc_of(self.crc)[0]

    @property
    def coded_bits(self) -> int:
        """Coded bits of one packet (payload + CRC + tail, rate 1/2)."""
        return code_of(self.code).coded_bits(self.payload_bits + self.crc_width)

    @property
    def bits_per_symbol(self) -> int:
        return BITS_PER_SYMBOL[self.modulation]

    @property
    def symbols_per_packet(self) -> int:
        return -(-self.coded_bits // self.bits_per_symbol)

    @property
    def channel_uses_per_frame(self) -> int:
        """N of TCE on the loopback link: the frame's burst with its guard symbols."""
        return self.packets_per_frame * self.symbols_per_packet + self.guard_symbols

    @property
    def channel_uses_per_packet(self) -> float:
        """Channel uses of one packet with its share of the burst's guard symbols."""
        return self.channel_uses_per_frame / self.packets_per_frame

    def tce(self, transmissions: float = 1.0) -> float:
        """TokCom's token communication efficiency h*w / (T * N * log2 Q) for this link."""
        from .frame_quality import tce

        return tce(self.tokens_per_frame, self.channel_uses_per_frame, self.token_bits,
                   transmissions)


def ota_burst_format_for(payload_bits=40, crc="crc16", code="cc_k7", modulation="16qam",
                         sps=2, rolloff=0.35):
    """The over-the-air burst format (docs/ota.md) for this coded-link configuration:
    its payload symbols per packet follow from the code, the CRC and the modulation."""
    from . import tokcom_python as _cpp

    coded = code_of(code).coded_bits(payload_bits + crc_of(crc)[0])
    bps = make_constellation(modulation).bits_per_symbol()
    return _cpp.ota_burst_format(int(sps), float(rolloff), -(-coded // bps))
