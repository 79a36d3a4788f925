#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: TokCom frame round trip
# Author: gr-tokcom authors
# Description: Token frames -> packets -> packet loss -> frames: what is lost becomes a mask
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




class frame_roundtrip(gr.top_block):

    def __init__(self, n_frames=8, p_loss=0.2, loss_model='iid', interleaver='random', seed=1):
        gr.top_block.__init__(self, "TokCom frame round trip", catch_exceptions=True)

        ##################################################
        # Parameters
        ##################################################
        self.n_frames = n_frames
        self.p_loss = p_loss
        self.loss_model = loss_model
        self.interleaver = interleaver
        self.seed = seed

        ##################################################
        # Blocks
        ##################################################

        self.source = tokcom.random_frame_source(16, 16, 1024, n_frames, 20, 10, seed, 0, 0.5)
        self.packetizer = tokcom.token_packetizer(4, interleaver, seed)
        self.meter = tokcom.token_error_meter(True)
        self.depacketizer = tokcom.token_depacketizer(16, 16, 1024, 4, interleaver, seed, 500)
        self.channel = tokcom.packet_loss(loss_model, p_loss, (p_loss / (1 - p_loss) * 0.5), 0.5, 0.0, 1.0, 'flag', (seed + 1))


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.channel, 'out'), (self.depacketizer, 'in'))
        self.msg_connect((self.depacketizer, 'out'), (self.meter, 'in'))
        self.msg_connect((self.packetizer, 'out'), (self.channel, 'in'))
        self.msg_connect((self.source, 'out'), (self.meter, 'ref'))
        self.msg_connect((self.source, 'out'), (self.packetizer, 'in'))


    def get_n_frames(self):
        return self.n_frames

    def set_n_frames(self, n_frames):
        self.n_frames = n_frames

    def get_p_loss(self):
        return self.p_loss

    def set_p_loss(self, p_loss):
        self.p_loss = p_loss

    def get_loss_model(self):
        return self.loss_model

    def set_loss_model(self, loss_model):
        self.loss_model = loss_model

    def get_interleaver(self):
        return self.interleaver

    def set_interleaver(self, interleaver):
        self.interleaver = interleaver

    def get_seed(self):
        return self.seed

    def set_seed(self, seed):
        self.seed = seed



def argument_parser():
    description = 'Token frames -> packets -> packet loss -> frames: what is lost becomes a mask'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "-n", "--n-frames", dest="n_frames", type=intx, default=8,
        help="Set Frames [default=%(default)r]")
    parser.add_argument(
        "-p", "--p-loss", dest="p_loss", type=eng_float, default=eng_notation.num_to_str(float(0.2)),
        help="Set Packet loss probability [default=%(default)r]")
    parser.add_argument(
        "-m", "--loss-model", dest="loss_model", type=str, default='iid',
        help="Set Loss model (iid or gilbert_elliott) [default=%(default)r]")
    parser.add_argument(
        "-i", "--interleaver", dest="interleaver", type=str, default='random',
        help="Set Interleaver (random or stride) [default=%(default)r]")
    parser.add_argument(
        "-s", "--seed", dest="seed", type=intx, default=1,
        help="Set Seed [default=%(default)r]")
    return parser


def main(top_block_cls=frame_roundtrip, options=None):
    if options is None:
        options = argument_parser().parse_args()
    tb = top_block_cls(n_frames=options.n_frames, p_loss=options.p_loss, loss_model=options.loss_model, interleaver=options.interleaver, seed=options.seed)

    def sig_handler(sig=None, frame=None):
        tb.stop()
        tb.wait()

        sys.exit(0)

    signal.signal(signal.SIGINT, sig_handler)
    signal.signal(signal.SIGTERM, sig_handler)

    tb.start()

    tb.wait()


if __name__ == '__main__':
    main()
