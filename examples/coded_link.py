#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: TokCom coded token link in loopback
# Author: gr-tokcom authors
# Description: Random token frames over the coded link (CRC, convolutional code, 16-QAM, AWGN, soft Viterbi): prints PER and TER
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


def snipfcn_report(self):
    t = self.meter.totals()
    print(f"Es/N0 {self.esn0_db:5.1f} dB  {self.code:6s}  packets {self.rx.packets_out():6d}  "
          f"failed {self.rx.packets_failed():5d}  PER {self.rx.packets_failed() / max(1, self.rx.packets_out()):.4f}  "
          f"frames {t['frames']:3d}  TER {t['ter']:.4f}")


def snippets_main_after_stop(tb):
    snipfcn_report(tb)


class coded_link(gr.top_block):

    def __init__(self, esn0_db=8, n_frames=20, code='cc_k7', seed=1):
        gr.top_block.__init__(self, "TokCom coded token link in loopback", catch_exceptions=True)

        ##################################################
        # Parameters
        ##################################################
        self.esn0_db = esn0_db
        self.n_frames = n_frames
        self.code = code
        self.seed = seed

        ##################################################
        # Blocks
        ##################################################

        self.tx = tokcom.coded_link_tx(40, 'crc16', code, '16qam', 8, True)
        self.source = tokcom.random_frame_source(16, 16, 1024, n_frames, 100, 10, seed, 0, 0.5)
        self.rx = tokcom.coded_link_rx(40, 'crc16', code, '16qam', 8, (10**(-esn0_db/10)), 16, True, False, True)
        self.packetizer = tokcom.token_packetizer(4, 'random', seed)
        self.meter = tokcom.token_error_meter(False)
        self.depacketizer = tokcom.token_depacketizer(16, 16, 1024, 4, 'random', seed, 500)
        self.channel = tokcom.loopback_channel(esn0_db, seed, 'gaussian', 0, 0.5, 31)


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.depacketizer, 'out'), (self.meter, 'in'))
        self.msg_connect((self.packetizer, 'out'), (self.tx, 'in'))
        self.msg_connect((self.rx, 'out'), (self.depacketizer, 'in'))
        self.msg_connect((self.source, 'out'), (self.meter, 'ref'))
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

    def get_code(self):
        return self.code

    def set_code(self, code):
        self.code = code

    def get_seed(self):
        return self.seed

    def set_seed(self, seed):
        self.seed = seed



def argument_parser():
    description = 'Random token frames over the coded link (CRC, convolutional code, 16-QAM, AWGN, soft Viterbi): prints PER and TER'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "-e", "--esn0-db", dest="esn0_db", type=eng_float, default=eng_notation.num_to_str(float(8)),
        help="Set Es/N0 (dB) [default=%(default)r]")
    parser.add_argument(
        "-n", "--n-frames", dest="n_frames", type=intx, default=20,
        help="Set Frames [default=%(default)r]")
    parser.add_argument(
        "-c", "--code", dest="code", type=str, default='cc_k7',
        help="Set Code (cc_k7, cc_k3 or none) [default=%(default)r]")
    parser.add_argument(
        "-s", "--seed", dest="seed", type=intx, default=1,
        help="Set Seed [default=%(default)r]")
    return parser


def main(top_block_cls=coded_link, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(esn0_db=options.esn0_db, n_frames=options.n_frames, code=options.code, seed=options.seed)

    def sig_handler(sig=None, frame=None):
        tb.stop()
        tb.wait()
        snippets_main_after_stop(tb)
        sys.exit(0)

    signal.signal(signal.SIGINT, sig_handler)
    signal.signal(signal.SIGTERM, sig_handler)

    tb.start()

    tb.wait()
    snippets_main_after_stop(tb)

if __name__ == '__main__':
    main()
