#!/usr/bin/env python3
# -*- coding: utf-8 -*-

#
# SPDX-License-Identifier: GPL-3.0
#
# GNU Radio Python Flow Graph
# Title: TokCom OTA receiver (GUI)
# Author: gr-tokcom authors
# Description: TokCom over the air, receiver with a Qt GUI: the receiver of ota_rx.grc (radio -> bursts -> token frames -> MaskGIT prediction (realtime) -> TER/PSNR against the same test images tokenized here; needs tokcom-serve) with the spectrum of the received IQ, the equalised payload constellation, the received power, and each frame as original | received (lost regions bright) | predicted with running PER and TER
# GNU Radio version: 3.10.5.1

from packaging.version import Version as StrictVersion

if __name__ == '__main__':
    import ctypes
    import sys
    if sys.platform.startswith('linux'):
        try:
            x11 = ctypes.cdll.LoadLibrary('libX11.so')
            x11.XInitThreads()
        except:
            print("Warning: failed to XInitThreads()")

from PyQt5 import Qt
from gnuradio import qtgui
from gnuradio.filter import firdes
import sip
from gnuradio import blocks
from gnuradio import gr
from gnuradio.fft import window
import sys
import signal
from argparse import ArgumentParser
from gnuradio.eng_arg import eng_float, intx
from gnuradio import eng_notation
from gnuradio import tokcom


def snipfcn_report(self):
    t = self.evaluator.totals()
    per = self.rx.packets_failed() / max(1, self.rx.packets_out())
    print(f"bursts {self.rx.bursts_detected()}  header failures {self.rx.header_failures()}  frames {t['frames']} (predicted {t['predicted']})  PER {per:.4f}  "
          f"TER {t['ter_before']:.4f} -> {t['ter_after']:.4f}")


def snippets_main_after_stop(tb):
    snipfcn_report(tb)

from gnuradio import qtgui

class ota_rx_gui(gr.top_block, Qt.QWidget):

    def __init__(self, radio='zmq:tcp://127.0.0.1:5601', references=100, service='tcp://127.0.0.1:5555', freq=915e6, samp_rate=1e6, gain=30, output_dir=''):
        gr.top_block.__init__(self, "TokCom OTA receiver (GUI)", catch_exceptions=True)
        Qt.QWidget.__init__(self)
        self.setWindowTitle("TokCom OTA receiver (GUI)")
        qtgui.util.check_set_qss()
        try:
            self.setWindowIcon(Qt.QIcon.fromTheme('gnuradio-grc'))
        except:
            pass
        self.top_scroll_layout = Qt.QVBoxLayout()
        self.setLayout(self.top_scroll_layout)
        self.top_scroll = Qt.QScrollArea()
        self.top_scroll.setFrameStyle(Qt.QFrame.NoFrame)
        self.top_scroll_layout.addWidget(self.top_scroll)
        self.top_scroll.setWidgetResizable(True)
        self.top_widget = Qt.QWidget()
        self.top_scroll.setWidget(self.top_widget)
        self.top_layout = Qt.QVBoxLayout(self.top_widget)
        self.top_grid_layout = Qt.QGridLayout()
        self.top_layout.addLayout(self.top_grid_layout)

        self.settings = Qt.QSettings("GNU Radio", "ota_rx_gui")

        try:
            if StrictVersion(Qt.qVersion()) < StrictVersion("5.0.0"):
                self.restoreGeometry(self.settings.value("geometry").toByteArray())
            else:
                self.restoreGeometry(self.settings.value("geometry"))
        except:
            pass

        ##################################################
        # Parameters
        ##################################################
        self.radio = radio
        self.references = references
        self.service = service
        self.freq = freq
        self.samp_rate = samp_rate
        self.gain = gain
        self.output_dir = output_dir

        ##################################################
        # Variables
        ##################################################
        self.power_decim = power_decim = 16
        self.link = link = tokcom.LinkConfig()

        ##################################################
        # Blocks
        ##################################################

        self.spectrum = qtgui.freq_sink_c(
            1024, #size
            window.WIN_BLACKMAN_hARRIS, #wintype
            freq, #fc
            samp_rate, #bw
            "Received spectrum", #name
            1,
            None # parent
        )
        self.spectrum.set_update_time(0.10)
        self.spectrum.set_y_axis((-120), 0)
        self.spectrum.set_y_label('Relative Gain', 'dB')
        self.spectrum.set_trigger_mode(qtgui.TRIG_MODE_FREE, 0.0, 0, "")
        self.spectrum.enable_autoscale(False)
        self.spectrum.enable_grid(True)
        self.spectrum.set_fft_average(1.0)
        self.spectrum.enable_axis_labels(True)
        self.spectrum.enable_control_panel(False)
        self.spectrum.set_fft_window_normalized(False)

        self.spectrum.disable_legend()


        labels = ['', '', '', '', '',
            '', '', '', '', '']
        widths = [1, 1, 1, 1, 1,
            1, 1, 1, 1, 1]
        colors = ["blue", "red", "green", "black", "cyan",
            "magenta", "yellow", "dark red", "dark green", "dark blue"]
        alphas = [1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0, 1.0, 1.0, 1.0]

        for i in range(1):
            if len(labels[i]) == 0:
                self.spectrum.set_line_label(i, "Data {0}".format(i))
            else:
                self.spectrum.set_line_label(i, labels[i])
            self.spectrum.set_line_width(i, widths[i])
            self.spectrum.set_line_color(i, colors[i])
            self.spectrum.set_line_alpha(i, alphas[i])

        self._spectrum_win = sip.wrapinstance(self.spectrum.qwidget(), Qt.QWidget)
        self.top_grid_layout.addWidget(self._spectrum_win, 0, 0, 1, 1)
        for r in range(0, 1):
            self.top_grid_layout.setRowStretch(r, 1)
        for c in range(0, 1):
            self.top_grid_layout.setColumnStretch(c, 1)
        self.rx = tokcom.ota_rx(link.payload_bits, link.crc, link.code, link.modulation, link.tokens_per_packet, link.token_bits, 2, 0.35, 0.3, 0.2, link.scramble)
        self.reference_source = tokcom.image_token_source(service, 'fashion-mnist', references, 1000, False, 0, 0, 10, 3600)
        self.radio_source = tokcom.radio_source(radio, samp_rate, freq, gain, '')
        self.predict = tokcom.mask_predict(service, 'realtime', True, 0, 0, 0, 4, 5, 0, 'tokcom_cmi', 'mask', 'crc16')
        self.power_mean = blocks.moving_average_ff(power_decim, (1.0 / power_decim), 4000, 1)
        self.power_mag2 = blocks.complex_to_mag_squared(1)
        self.power_decimate = blocks.keep_one_in_n(gr.sizeof_float*1, power_decim)
        self.power_db = blocks.nlog10_ff(10, 1, 0)
        self.power = qtgui.time_sink_f(
            512, #size
            samp_rate / power_decim, #samp_rate
            "Received power, dB (mean |x|^2 over %d samples)" % power_decim, #name
            1, #number of inputs
            None # parent
        )
        self.power.set_update_time(0.10)
        self.power.set_y_axis(-60, 10)

        self.power.set_y_label('Power', 'dB')

        self.power.enable_tags(False)
        self.power.set_trigger_mode(qtgui.TRIG_MODE_FREE, qtgui.TRIG_SLOPE_POS, 0.0, 0, 0, "")
        self.power.enable_autoscale(False)
        self.power.enable_grid(True)
        self.power.enable_axis_labels(True)
        self.power.enable_control_panel(False)
        self.power.enable_stem_plot(False)

        self.power.disable_legend()

        labels = ['', 'Signal 2', 'Signal 3', 'Signal 4', 'Signal 5',
            'Signal 6', 'Signal 7', 'Signal 8', 'Signal 9', 'Signal 10']
        widths = [1, 1, 1, 1, 1,
            1, 1, 1, 1, 1]
        colors = ['blue', 'red', 'green', 'black', 'cyan',
            'magenta', 'yellow', 'dark red', 'dark green', 'dark blue']
        alphas = [1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0, 1.0, 1.0, 1.0]
        styles = [1, 1, 1, 1, 1,
            1, 1, 1, 1, 1]
        markers = [-1, -1, -1, -1, -1,
            -1, -1, -1, -1, -1]


        for i in range(1):
            if len(labels[i]) == 0:
                self.power.set_line_label(i, "Data {0}".format(i))
            else:
                self.power.set_line_label(i, labels[i])
            self.power.set_line_width(i, widths[i])
            self.power.set_line_color(i, colors[i])
            self.power.set_line_style(i, styles[i])
            self.power.set_line_marker(i, markers[i])
            self.power.set_line_alpha(i, alphas[i])

        self._power_win = sip.wrapinstance(self.power.qwidget(), Qt.QWidget)
        self.top_grid_layout.addWidget(self._power_win, 0, 2, 1, 1)
        for r in range(0, 1):
            self.top_grid_layout.setRowStretch(r, 1)
        for c in range(2, 3):
            self.top_grid_layout.setColumnStretch(c, 1)
        self.panel = tokcom.frame_image_panel('Frames: original | received (lost regions bright) | predicted', '')
        self._panel_win = self.panel.widget()
        self.top_grid_layout.addWidget(self._panel_win, 1, 0, 1, 3)
        for r in range(1, 2):
            self.top_grid_layout.setRowStretch(r, 1)
        for c in range(0, 3):
            self.top_grid_layout.setColumnStretch(c, 1)
        self.evaluator = tokcom.frame_evaluator(service, True, output_dir, 0)
        self.depacketizer = tokcom.token_depacketizer(link.grid_h, link.grid_w, link.codebook_size, link.tokens_per_packet, link.interleaver, link.interleaver_seed, 500)
        self.constellation = qtgui.const_sink_c(
            1024, #size
            "Equalised payload symbols", #name
            1, #number of inputs
            None # parent
        )
        self.constellation.set_update_time(0.10)
        self.constellation.set_y_axis((-1.5), 1.5)
        self.constellation.set_x_axis((-1.5), 1.5)
        self.constellation.set_trigger_mode(qtgui.TRIG_MODE_FREE, qtgui.TRIG_SLOPE_POS, 0.0, 0, "")
        self.constellation.enable_autoscale(False)
        self.constellation.enable_grid(True)
        self.constellation.enable_axis_labels(True)

        self.constellation.disable_legend()

        labels = ['', '', '', '', '',
            '', '', '', '', '']
        widths = [1, 1, 1, 1, 1,
            1, 1, 1, 1, 1]
        colors = ["blue", "red", "red", "red", "red",
            "red", "red", "red", "red", "red"]
        styles = [0, 0, 0, 0, 0,
            0, 0, 0, 0, 0]
        markers = [0, 0, 0, 0, 0,
            0, 0, 0, 0, 0]
        alphas = [1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0, 1.0, 1.0, 1.0]

        for i in range(1):
            if len(labels[i]) == 0:
                self.constellation.set_line_label(i, "Data {0}".format(i))
            else:
                self.constellation.set_line_label(i, labels[i])
            self.constellation.set_line_width(i, widths[i])
            self.constellation.set_line_color(i, colors[i])
            self.constellation.set_line_style(i, styles[i])
            self.constellation.set_line_marker(i, markers[i])
            self.constellation.set_line_alpha(i, alphas[i])

        self._constellation_win = sip.wrapinstance(self.constellation.qwidget(), Qt.QWidget)
        self.top_grid_layout.addWidget(self._constellation_win, 0, 1, 1, 1)
        for r in range(0, 1):
            self.top_grid_layout.setRowStretch(r, 1)
        for c in range(1, 2):
            self.top_grid_layout.setColumnStretch(c, 1)


        ##################################################
        # Connections
        ##################################################
        self.msg_connect((self.depacketizer, 'out'), (self.predict, 'in'))
        self.msg_connect((self.evaluator, 'metrics'), (self.panel, 'metrics'))
        self.msg_connect((self.evaluator, 'images'), (self.panel, 'images'))
        self.msg_connect((self.predict, 'out'), (self.evaluator, 'in'))
        self.msg_connect((self.reference_source, 'ref'), (self.evaluator, 'ref'))
        self.msg_connect((self.rx, 'out'), (self.depacketizer, 'in'))
        self.connect((self.power_db, 0), (self.power, 0))
        self.connect((self.power_decimate, 0), (self.power_db, 0))
        self.connect((self.power_mag2, 0), (self.power_mean, 0))
        self.connect((self.power_mean, 0), (self.power_decimate, 0))
        self.connect((self.radio_source, 0), (self.power_mag2, 0))
        self.connect((self.radio_source, 0), (self.rx, 0))
        self.connect((self.radio_source, 0), (self.spectrum, 0))
        self.connect((self.rx, 0), (self.constellation, 0))


    def closeEvent(self, event):
        self.settings = Qt.QSettings("GNU Radio", "ota_rx_gui")
        self.settings.setValue("geometry", self.saveGeometry())
        self.stop()
        self.wait()
        snippets_main_after_stop(self)
        event.accept()

    def get_radio(self):
        return self.radio

    def set_radio(self, radio):
        self.radio = radio

    def get_references(self):
        return self.references

    def set_references(self, references):
        self.references = references

    def get_service(self):
        return self.service

    def set_service(self, service):
        self.service = service

    def get_freq(self):
        return self.freq

    def set_freq(self, freq):
        self.freq = freq
        self.spectrum.set_frequency_range(self.freq, self.samp_rate)

    def get_samp_rate(self):
        return self.samp_rate

    def set_samp_rate(self, samp_rate):
        self.samp_rate = samp_rate
        self.spectrum.set_frequency_range(self.freq, self.samp_rate)
        self.power.set_samp_rate(self.samp_rate / self.power_decim)

    def get_gain(self):
        return self.gain

    def set_gain(self, gain):
        self.gain = gain

    def get_output_dir(self):
        return self.output_dir

    def set_output_dir(self, output_dir):
        self.output_dir = output_dir

    def get_power_decim(self):
        return self.power_decim

    def set_power_decim(self, power_decim):
        self.power_decim = power_decim
        self.power_mean.set_length_and_scale(self.power_decim, (1.0 / self.power_decim))
        self.power_decimate.set_n(self.power_decim)
        self.power.set_samp_rate(self.samp_rate / self.power_decim)

    def get_link(self):
        return self.link

    def set_link(self, link):
        self.link = link



def argument_parser():
    description = 'TokCom over the air, receiver with a Qt GUI: the receiver of ota_rx.grc (radio -> bursts -> token frames -> MaskGIT prediction (realtime) -> TER/PSNR against the same test images tokenized here; needs tokcom-serve) with the spectrum of the received IQ, the equalised payload constellation, the received power, and each frame as original | received (lost regions bright) | predicted with running PER and TER'
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "-r", "--radio", dest="radio", type=str, default='zmq:tcp://127.0.0.1:5601',
        help="Set Radio (uhd:ARGS / zmq:ENDPOINT / file:PATH) [default=%(default)r]")
    parser.add_argument(
        "-n", "--references", dest="references", type=intx, default=100,
        help="Set Reference test images (frame_id 0 ...) [default=%(default)r]")
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


def main(top_block_cls=ota_rx_gui, options=None):
    if options is None:
        options = argument_parser().parse_args()

    if StrictVersion("4.5.0") <= StrictVersion(Qt.qVersion()) < StrictVersion("5.0.0"):
        style = gr.prefs().get_string('qtgui', 'style', 'raster')
        Qt.QApplication.setGraphicsSystem(style)
    qapp = Qt.QApplication(sys.argv)

    tb = top_block_cls(radio=options.radio, references=options.references, service=options.service, freq=options.freq, samp_rate=options.samp_rate, gain=options.gain, output_dir=options.output_dir)

    tb.start()

    tb.show()

    def sig_handler(sig=None, frame=None):
        tb.stop()
        tb.wait()
        snippets_main_after_stop(tb)
        Qt.QApplication.quit()

    signal.signal(signal.SIGINT, sig_handler)
    signal.signal(signal.SIGTERM, sig_handler)

    timer = Qt.QTimer()
    timer.start(500)
    timer.timeout.connect(lambda: None)

    qapp.exec_()

if __name__ == '__main__':
    main()
