#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: TokCom OTA receiver
# Author: gr-tokcom authors
# Description: TokCom over the air, receiver: radio -> bursts -> token frames -> MaskGIT prediction (realtime) -> TER/PSNR against the same test images tokenized here (needs tokcom-serve; the console command tokcom-rx does the same)
# GNU Radio version: 3.10.5.1

from gnuradio import gr
from gnuradio.filter import firdes
from gnuradio.fft import window
import sys
import signal
from argparse import ArgumentParser
from gnuradio.eng_arg import eng_float, intx
from gnuradio import eng_notation
from gnuradio import tokcom


def snipfcn_wait_for_frames(self):
    # The run ends when n_frames frames have been evaluated (a zmq source never ends by itself).
    if not self.evaluator.wait_for(self.n_frames, 3600):
        print('fewer frames than asked for within an hour')
    self.stop()

def snipfcn_report(self):
    t = self.evaluator.totals()
    per = self.rx.packets_failed() / max(1, self.rx.packets_out())
    print(f"bursts {self.rx.bursts_detected()}  header failures {self.rx.header_failures()}  frames {t['frames']} (predicted {t['predicted']})  PER {per:.4f}  "
          f"TER {t['ter_before']:.4f} -> {t['ter_after']:.4f}")


def snippets_main_after_start(tb):
    snipfcn_wait_for_frames(tb)

def snippets_main_after_stop(tb):
    snipfcn_report(tb)


class ota_rx(gr.top_block):

    def __init__(self, radio='zmq:tcp://127.0.0.1:5601', n_frames=10, service='tcp://127.0.0.1:5555', freq=915e6, samp_rate=1e6, gain=30, output_dir=''):
        gr.top_block.__init__(self, "TokCom OTA receiver", catch_exceptions=True)

        ##################################################
        # Parameters
        ##################################################
        self.radio = radio
        self.n_frames = n_frames
        self.service = service
        self.freq = freq
        self.samp_rate = samp_rate
        self.gain = gain
        self.output_dir = output_dir

        ##################################################
        # Variables
        ##################################################
        self.link = link = tokcom.LinkConfig()

        ##################################################
        # Blocks
        ##################################################

        self.rx = tokcom.ota_rx(link.payload_bits, link.crc, link.code, link.modulation, link.tokens_per_packet, link.token_bits, 2, 0.35, 0.3, 0.2, link.scramble)
        self.references = tokcom.image_token_source(service, 'fashion-mnist', max(n_frames, 100), 1000, False, 0, 0, 10, 3600)
        self.radio_source = tokcom.radio_source(radio, samp_rate, freq, gain, '')
        self.predict = tokcom.mask_predict(service, 'realtime', True, 0, 0, 0, 4, 5, 0, 'tokcom_cmi', 'mask', 'crc16')
        self.evaluator = tokcom.frame_evaluator(service, True, output_dir, 0)
        self.depacketizer = tokcom.token_depacketizer(link.grid_h, link.grid_w, link.codebook_size, link.tokens_per_packet, link.interleaver, link.interleaver_seed, 500)


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.depacketizer, 'out'), (self.predict, 'in'))
        self.msg_connect((self.predict, 'out'), (self.evaluator, 'in'))
        self.msg_connect((self.references, 'ref'), (self.evaluator, 'ref'))
        self.msg_connect((self.rx, 'out'), (self.depacketizer, 'in'))
        self.connect((self.radio_source, 0), (self.rx, 0))


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

    def get_output_dir(self):
        return self.output_dir

    def set_output_dir(self, output_dir):
        self.output_dir = output_dir

    def get_link(self):
        return self.link

    def set_link(self, link):
        self.link = link



def argument_parser():
    description = 'TokCom over the air, receiver: radio -> bursts -> token frames -> MaskGIT prediction (realtime) -> TER/PSNR against the same test images tokenized here (needs tokcom-serve; the console command tokcom-rx does the same)'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "-r", "--radio", dest="radio", type=str, default='zmq:tcp://127.0.0.1:5601',
        help="Set Radio (uhd:ARGS / zmq:ENDPOINT / file:PATH) [default=%(default)r]")
    parser.add_argument(
        "-n", "--n-frames", dest="n_frames", type=intx, default=10,
        help="Set Frames to receive [default=%(default)r]")
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
        "-g", "--gain", dest="gain", type=eng_float, default=eng_notation.num_to_str(float(30)),
        help="Set RX gain (dB) [default=%(default)r]")
    parser.add_argument(
        "-o", "--output-dir", dest="output_dir", type=str, default='',
        help="Set PNG folder ('' = none) [default=%(default)r]")
    return parser


def main(top_block_cls=ota_rx, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(radio=options.radio, n_frames=options.n_frames, service=options.service, freq=options.freq, samp_rate=options.samp_rate, gain=options.gain, output_dir=options.output_dir)

    def sig_handler(sig=None, frame=None):
        tb.stop()
        tb.wait()
        snippets_main_after_stop(tb)
        sys.exit(0)

    signal.signal(signal.SIGINT, sig_handler)
    signal.signal(signal.SIGTERM, sig_handler)

    tb.start()
    snippets_main_after_start(tb)
    tb.wait()
    snippets_main_after_stop(tb)

if __name__ == '__main__':
    main()
