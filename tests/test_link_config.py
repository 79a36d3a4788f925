"""LinkConfig derives the link's sizes in one place: check them against what the blocks
actually do (the TX's burst length, the packetizer's packets and payloads)."""

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from gnuradio.tokcom import tokcom_python as cpp
from gnuradio.tokcom.coded_link_tx import coded_link_tx
from gnuradio.tokcom.frame_pdu import Frame, make_frame_pdu
from gnuradio.tokcom.link_config import LinkConfig, token_bits
from gnuradio.tokcom.message_collector import message_collector, post, post_done


def packets_of(link: LinkConfig):
    """The packetizer's packets of one random frame of link's geometry."""
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, link.codebook_size, (link.grid_h, link.grid_w)).astype(np.uint16)
    packetizer = cpp.token_packetizer(link.tokens_per_packet, link.interleaver,
                                      link.interleaver_seed)
    out = message_collector()
    tb = gr.top_block()
    tb.msg_connect(packetizer, "out", out, "in")
    post(packetizer, "in", [make_frame_pdu(Frame(tokens, 0, link.codebook_size))])
    post_done(packetizer)
    tb.run()
    return out.messages()


@pytest.mark.parametrize("link", [
    LinkConfig(),  # the paper: 64 packets x 31 symbols + 8 guard = 1992
    LinkConfig(grid_h=8, grid_w=8, codebook_size=512, tokens_per_packet=3, code="cc_k3",
               modulation="qpsk", crc="crc11", guard_symbols=5),
    LinkConfig(codebook_size=16, tokens_per_packet=8, code="none", modulation="bpsk"),
], ids=["paper", "k3-qpsk", "uncoded-bpsk"])
def test_channel_uses_are_the_symbols_the_transmitter_sends(link):
    pkts = packets_of(link)
    assert len(pkts) == link.packets_per_frame
    assert all(len(pmt.u8vector_elements(pmt.cdr(p))) * 8 >= link.payload_bits > 0
               for p in pkts)
    tx = coded_link_tx(link.payload_bits, link.crc, link.code, link.modulation,
                       link.guard_symbols, link.scramble)
    sink = blocks.vector_sink_c()
    tb = gr.top_block()
    tb.connect(tx, sink)
    post(tx.source, "in", pkts)
    post_done(tx.source)
    tb.run()
    assert len(sink.data()) == link.channel_uses_per_frame
    if link == LinkConfig():
        assert (link.channel_uses_per_frame, link.symbols_per_packet) == (1992, 31)


def test_token_bits_and_bad_settings():
    assert [token_bits(q) for q in (2, 3, 1024, 1025, 65536)] == [1, 2, 10, 11, 16]
    with pytest.raises(ValueError):
        LinkConfig(modulation="64qam")
    with pytest.raises(ValueError):
        LinkConfig(crc="crc7")
    with pytest.raises(ValueError):
        LinkConfig(codebook_size=1)


def test_geometry_comes_from_the_model_info():
    info = {"grid_h": 8, "grid_w": 4, "codebook_size": 256}
    link = LinkConfig.from_info(info, tokens_per_packet=2)
    assert (link.tokens_per_frame, link.packets_per_frame, link.payload_bits) == (32, 16, 16)
