#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: TokCom OTA transmitter
# Author: gr-tokcom authors
# Description: TokCom over the air, transmitter: Fashion-MNIST test images -> tokens -> one burst per image -> radio (needs tokcom-serve; the console command tokcom-tx does the same)
# GNU Radio version: 3.10.5.1

from gnuradio import blocks
from gnuradio import gr
from gnuradio.filter import firdes
from gnuradio.fft import window
import sys
import signal
from argparse import ArgumentParser
from gnuradio.eng_arg import eng_float, intx
from gnuradio import eng_notation
from gnuradio import tokcom


def snipfcn_wait_for_bursts(self):
    # The run ends when every burst has reached the radio (the source paces at 10 frames/s).
    import time
    deadline = time.monotonic() + 600 + self.n_frames
    while time.monotonic() < deadline and (
            self.tx.framer.bursts_out() < self.n_frames
            or self.radio_sink.nitems_read(0) < self.tx.framer.nitems_written(0) + self.lead):
        time.sleep(0.05)
    print(f'{self.tx.framer.bursts_out()} bursts sent')
    self.stop()


def snippets_main_after_start(tb):
    snipfcn_wait_for_bursts(tb)


class ota_tx(gr.top_block):

    def __init__(self, radio='zmq:tcp://127.0.0.1:5601', n_frames=10, service='tcp://127.0.0.1:5555', freq=915e6, samp_rate=1e6, gain=40, gap=400, lead=1000):
        gr.top_block.__init__(self, "TokCom OTA transmitter", catch_exceptions=True)

        ##################################################
        # Parameters
        ##################################################
        self.radio = radio
        self.n_frames = n_frames
        self.service = service
        self.freq = freq
        self.samp_rate = samp_rate
        self.gain = gain
        self.gap = gap
        self.lead = lead

        ##################################################
        # Variables
        ##################################################
        self.link = link = tokcom.LinkConfig()

        ##################################################
        # Blocks
        ##################################################

        self.tx = tokcom.ota_tx(link.payload_bits, link.crc, link.code, link.modulation, link.tokens_per_packet, link.token_bits, 2, 0.35, gap, link.scramble)
        self.source = tokcom.image_token_source(service, 'fashion-mnist', n_frames, 10, False, 0, 0, 10, 3600)
        self.radio_sink = tokcom.radio_sink(radio, samp_rate, freq, gain, '')
        self.packetizer = tokcom.token_packetizer(link.tokens_per_packet, link.interleaver, link.interleaver_seed)
        self.lead_zeros = blocks.delay(gr.sizeof_gr_complex*1, lead)


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.packetizer, 'out'), (self.tx, 'in'))
        self.msg_connect((self.source, 'out'), (self.packetizer, 'in'))
        self.connect((self.lead_zeros, 0), (self.radio_sink, 0))
        self.connect((self.tx, 0), (self.lead_zeros, 0))


    def get_radio(self):
        return self.radio

    def set_radio(self, radio):
        self.radio = radio

    def get_n_frames(self):
        return self.n_frames

    def set_n_frames(self, n_frames):
        self.n_frames = n_frames

    def get_service(self):
        return self.service

    def set_service(self, service):
        self.service = service

    def get_freq(self):
        return self.freq

    def set_freq(self, freq):
        self.freq = freq

    def get_samp_rate(self):
        return self.samp_rate

    def set_samp_rate(self, samp_rate):
        self.samp_rate = samp_rate

    def get_gain(self):
        return self.gain

    def set_gain(self, gain):
        self.gain = gain

    def get_gap(self):
        return self.gap

    def set_gap(self, gap):
        self.gap = gap

    def get_lead(self):
        return self.lead

    def set_lead(self, lead):
        self.lead = lead
        self.lead_zeros.set_dly(int(self.lead))

    def get_link(self):
        return self.link

    def set_link(self, link):
        self.link = link



def argument_parser():
    description = 'TokCom over the air, transmitter: Fashion-MNIST test images -> tokens -> one burst per image -> radio (needs tokcom-serve; the console command tokcom-tx does the same)'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "-r", "--radio", dest="radio", type=str, default='zmq:tcp://127.0.0.1:5601',
        help="Set Radio (uhd:ARGS / zmq:ENDPOINT / file:PATH) [default=%(default)r]")
    parser.add_argument(
        "-n", "--n-frames", dest="n_frames", type=intx, default=10,
        help="Set Images [default=%(default)r]")
    parser.add_argument(
        "-a", "--service", dest="service", type=str, default='tcp://127.0.0.1:5555',
        help="Set Model service address [default=%(default)r]")
    parser.add_argument(
        "-f", "--freq", dest="freq", type=eng_float, default=eng_notation.num_to_str(float(915e6)),
        help="Set Centre frequency (Hz) [default=%(default)r]")
    parser.add_argument(
        "-s", "--samp-rate", dest="samp_rate", type=eng_float, default=eng_notation.num_to_str(float(1e6)),
        help="Set Sample rate [default=%(default)r]")
    parser.add_argument(
        "-g", "--gain", dest="gain", type=eng_float, default=eng_notation.num_to_str(float(40)),
        help="Set TX gain (dB) [default=%(default)r]")
    parser.add_argument(
        "-G", "--gap", dest="gap", type=intx, default=400,
        help="Set Zero samples after each burst (0 for a USRP) [default=%(default)r]")
    parser.add_argument(
        "-L", "--lead", dest="lead", type=intx, default=1000,
        help="Set Zero samples before the first burst (0 for a USRP) [default=%(default)r]")
    return parser


def main(top_block_cls=ota_tx, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(radio=options.radio, n_frames=options.n_frames, service=options.service, freq=options.freq, samp_rate=options.samp_rate, gain=options.gain, gap=options.gap, lead=options.lead)

    def sig_handler(sig=None, frame=None):
        tb.stop()
        tb.wait()

        sys.exit(0)

    signal.signal(signal.SIGINT, sig_handler)
    signal.signal(signal.SIGTERM, sig_handler)

    tb.start()
    snippets_main_after_start(tb)
    tb.wait()


if __name__ == '__main__':
    main()
