#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: TokCom loopback simulation
# Author: gr-tokcom authors
# Description: TokCom in loopback: images -> tokens -> coded 16-QAM link over AWGN -> masked frames -> MaskGIT prediction (needs tokcom-serve)
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
    # The run ends when every frame has been evaluated.
    if not self.evaluator.wait_for(self.n_frames, 3600):
        print('not every frame was evaluated within an hour')
    self.stop()

def snipfcn_report(self):
    t = self.evaluator.totals()
    per = self.rx.packets_failed() / max(1, self.rx.packets_out())
    print(f"Es/N0 {self.esn0_db:4.1f} dB  frames {t['frames']:3d} (predicted {t['predicted']:3d})  PER {per:.3f}  "
          f"TER {t['ter_before']:.3f} -> {t['ter_after']:.3f}  "
          f"PSNR VQ-only {t['psnr_received']:.2f} -> predicted {t['psnr_predicted']:.2f} dB "
          f"(lossless VQ {t['psnr_lossless']:.2f})")


def snippets_main_after_start(tb):
    snipfcn_wait_for_frames(tb)

def snippets_main_after_stop(tb):
    snipfcn_report(tb)


class loopback_sim(gr.top_block):

    def __init__(self, esn0_db=6.5, n_frames=16, service='tcp://127.0.0.1:5555', output_dir='', use_label=1, seed=1):
        gr.top_block.__init__(self, "TokCom loopback simulation", catch_exceptions=True)

        ##################################################
        # Parameters
        ##################################################
        self.esn0_db = esn0_db
        self.n_frames = n_frames
        self.service = service
        self.output_dir = output_dir
        self.use_label = use_label
        self.seed = seed

        ##################################################
        # Variables
        ##################################################
        self.link = link = tokcom.LinkConfig(interleaver_seed=seed)

        ##################################################
        # Blocks
        ##################################################

        self.tx = tokcom.coded_link_tx(link.payload_bits, link.crc, link.code, link.modulation, link.guard_symbols, link.scramble)
        self.source = tokcom.image_token_source(service, 'fashion-mnist', n_frames, 20, False, 0, 0, 10, 3600)
        self.rx = tokcom.coded_link_rx(link.payload_bits, link.crc, link.code, link.modulation, link.guard_symbols, (10**(-esn0_db/10)), 16, link.scramble, False, True)
        self.predict = tokcom.mask_predict(service, 'simulation', bool(use_label), 0, 0, seed, 16, 60, 1, 'tokcom_cmi', 'mask', 'crc16')
        self.packetizer = tokcom.token_packetizer(link.tokens_per_packet, link.interleaver, link.interleaver_seed)
        self.metrics = tokcom.frame_metrics(link.channel_uses_per_frame)
        self.evaluator = tokcom.frame_evaluator(service, True, output_dir, link.channel_uses_per_frame)
        self.depacketizer = tokcom.token_depacketizer(link.grid_h, link.grid_w, link.codebook_size, link.tokens_per_packet, link.interleaver, link.interleaver_seed, 500)
        self.channel = tokcom.loopback_channel(esn0_db, seed, 'gaussian', 0, 0.5, 31)


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.depacketizer, 'out'), (self.predict, 'in'))
        self.msg_connect((self.evaluator, 'metrics'), (self.metrics, 'in'))
        self.msg_connect((self.packetizer, 'out'), (self.tx, 'in'))
        self.msg_connect((self.predict, 'out'), (self.evaluator, 'in'))
        self.msg_connect((self.rx, 'out'), (self.depacketizer, 'in'))
        self.msg_connect((self.source, 'ref'), (self.evaluator, 'ref'))
        self.msg_connect((self.source, 'out'), (self.packetizer, 'in'))
        self.connect((self.channel, 0), (self.rx, 0))
        self.connect((self.tx, 0), (self.channel, 0))


    def get_esn0_db(self):
        return self.esn0_db

    def set_esn0_db(self, esn0_db):
        self.esn0_db = esn0_db
        self.channel.set_esn0_db(self.esn0_db)
        self.rx.set_noise_var((10**(-self.esn0_db/10)))

    def get_n_frames(self):
        return self.n_frames

    def set_n_frames(self, n_frames):
        self.n_frames = n_frames

    def get_service(self):
        return self.service

    def set_service(self, service):
        self.service = service

    def get_output_dir(self):
        return self.output_dir

    def set_output_dir(self, output_dir):
        self.output_dir = output_dir

    def get_use_label(self):
        return self.use_label

    def set_use_label(self, use_label):
        self.use_label = use_label

    def get_seed(self):
        return self.seed

    def set_seed(self, seed):
        self.seed = seed
        self.set_link(tokcom.LinkConfig(interleaver_seed=self.seed))

    def get_link(self):
        return self.link

    def set_link(self, link):
        self.link = link



def argument_parser():
    description = 'TokCom in loopback: images -> tokens -> coded 16-QAM link over AWGN -> masked frames -> MaskGIT prediction (needs tokcom-serve)'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "-e", "--esn0-db", dest="esn0_db", type=eng_float, default=eng_notation.num_to_str(float(6.5)),
        help="Set Es/N0 (dB) [default=%(default)r]")
    parser.add_argument(
        "-n", "--n-frames", dest="n_frames", type=intx, default=16,
        help="Set Images [default=%(default)r]")
    parser.add_argument(
        "-a", "--service", dest="service", type=str, default='tcp://127.0.0.1:5555',
        help="Set Model service address [default=%(default)r]")
    parser.add_argument(
        "-o", "--output-dir", dest="output_dir", type=str, default='',
        help="Set PNG folder ('' = none) [default=%(default)r]")
    parser.add_argument(
        "-l", "--use-label", dest="use_label", type=intx, default=1,
        help="Set Use the label (1) or not (0) [default=%(default)r]")
    parser.add_argument(
        "-s", "--seed", dest="seed", type=intx, default=1,
        help="Set Seed [default=%(default)r]")
    return parser


def main(top_block_cls=loopback_sim, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(esn0_db=options.esn0_db, n_frames=options.n_frames, service=options.service, output_dir=options.output_dir, use_label=options.use_label, seed=options.seed)

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
