#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The frame evaluator's images PDU and the Frame Image Panel, headless and with its
Qt widget on Qt's offscreen platform (no display needed)."""

import os

import numpy as np
import pmt
from gnuradio import gr, gr_unittest, tokcom

from gnuradio.tokcom import Frame, make_frame_pdu
from gnuradio.tokcom.frame_image_panel import FramePanelState
from gnuradio.tokcom.frame_pictures import images_pdu, mark_lost, parse_images_pdu
from gnuradio.tokcom.message_collector import handle_queued, post, post_done

H, W = 8, 12  # image
GRID = (2, 3)  # token grid: 4 x 4 pixels per token


def pictures(seed):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 200, (H, W), dtype=np.uint8) for _ in range(3)]


def metrics(frame_id, ok, n_packets=4, **extra):
    m = {"frame_id": frame_id, "predictor": "p", "prediction": "ok", "latency_ms": 12.0,
         "label": 3, "n_tokens": 6, "codebook_size": 16, "n_masked": 4 - ok,
         "n_packets": n_packets, "n_packets_ok": ok, "ter_before": (4 - ok) / 6,
         "ter_after": 0.0}
    m.update(extra)
    return pmt.to_pmt(m)


class qa_frame_image_panel(gr_unittest.TestCase):
    def test_images_pdu_round_trip_and_errors(self):
        original, received, predicted = pictures(1)
        mask = np.array([[1, 0, 0], [0, 0, 1]], bool)
        meta, images, got_mask = parse_images_pdu(
            images_pdu(7, "p", original, received, predicted, mask))
        self.assertEqual((meta["frame_id"], meta["predictor"], meta["has_original"]),
                         (7, "p", True))
        self.assertEqual(meta["shape"], [3, H, W])
        np.testing.assert_array_equal(images, np.stack([original, received, predicted]))
        np.testing.assert_array_equal(got_mask, mask)
        meta, images, _ = parse_images_pdu(images_pdu(8, "", None, received, predicted, mask))
        self.assertFalse(meta["has_original"])
        self.assertEqual(int(images[0].max()), 0)  # no reference: a black original
        bad_meta = pmt.to_pmt({"shape": [3, H, W], "grid_h": 2, "grid_w": 3})
        for msg in (pmt.PMT_NIL, pmt.cons(bad_meta, pmt.to_pmt(np.zeros(3 * H * W, np.uint8))),
                    pmt.cons(pmt.dict_add(bad_meta, pmt.intern("mask"),
                                          pmt.to_pmt(np.zeros(6, np.uint8))),
                             pmt.to_pmt(np.zeros(5, np.uint8)))):
            with self.assertRaises(ValueError):
                parse_images_pdu(msg)

    def test_state_makes_the_picture_and_the_lines(self):
        state = FramePanelState("p")
        self.assertEqual(state.snapshot()[2], "waiting for frames")
        original, received, predicted = pictures(2)
        mask = np.array([[1, 0, 0], [0, 0, 1]], bool)
        self.assertTrue(state.add_images(images_pdu(5, "p", original, received, predicted,
                                                    mask)))
        self.assertFalse(state.add_images(images_pdu(6, "other", original, received,
                                                     predicted, mask)))  # not this predictor
        self.assertFalse(state.add_images(pmt.PMT_T))
        picture, has_original, frame_line, totals_line = state.snapshot()
        np.testing.assert_array_equal(
            picture, np.concatenate([original, mark_lost(received, mask), predicted], axis=1))
        self.assertTrue(has_original)
        self.assertEqual(frame_line, "frame 5 (metrics pending)")
        self.assertTrue(state.add_metrics(metrics(5, ok=2)))
        self.assertTrue(state.add_metrics(metrics(4, ok=4)))
        self.assertFalse(state.add_metrics(pmt.to_pmt([1, 2])))
        _, _, frame_line, totals_line = state.snapshot()
        self.assertEqual(frame_line, "frame 5, label 3: 2/4 packets lost, 2/6 tokens masked, "
                                     "TER 0.333 -> 0.000, prediction ok (12 ms)")
        # PER over both frames' packets: 2 of 8 lost; TER before: mean of 2/6 and 0
        self.assertIn("2 frames (2 predicted)   PER 0.2500   TER 0.1667 -> 0.0000",
                      totals_line)
        self.assertEqual((state.frames_shown, state.malformed), (1, 2))

    def test_block_takes_the_evaluators_outputs_in_a_flowgraph(self):
        # The evaluator (no service: metrics, no pictures) feeds the panel's "metrics";
        # pictures are posted to "images" as the evaluator would publish them.
        ref = Frame(np.arange(6, dtype=np.uint16).reshape(GRID), 1, 16, label=3)
        mask = np.zeros(GRID, bool)
        mask[0, :2] = True
        done = Frame(ref.tokens.copy(), 1, 16, label=3, mask=mask,
                     meta={"prediction": "ok", "predictor": "p", "n_packets": 4,
                           "n_packets_ok": 3})
        evaluator = tokcom.frame_evaluator(detokenize=False)
        panel = tokcom.frame_image_panel("test", "")
        tb = gr.top_block()
        tb.msg_connect(evaluator, "metrics", panel, "metrics")
        post(evaluator, "ref", [make_frame_pdu(ref)])
        post(evaluator, "in", [make_frame_pdu(done)])
        post(panel, "images", [images_pdu(1, "p", *pictures(3), mask)])
        post_done(evaluator)
        tb.start()
        tb.wait()
        # The evaluator's "done" can reach the panel before the metrics it published
        # last; those wait in the panel's queue (as in run_to_done's collector).
        handle_queued(panel.to_basic_block(), "metrics", panel._handle_metrics)
        self.assertEqual(panel.frames_shown, 1)
        _, _, frame_line, totals_line = panel.state.snapshot()
        self.assertIn("frame 1, label 3: 1/4 packets lost, 2/6 tokens masked", frame_line)
        self.assertIn("TER 0.333 -> 0.000", frame_line)
        self.assertIn("1 frames (1 predicted)   PER 0.2500", totals_line)

    def test_widget_draws_offscreen(self):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PyQt5 import QtWidgets

        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
        panel = tokcom.frame_image_panel("TokCom frames", "")
        widget = panel.widget()
        self.assertIs(panel.widget(), widget)
        widget.resize(600, 300)
        original, received, predicted = pictures(4)
        mask = np.array([[0, 1, 0], [0, 0, 0]], bool)
        panel._handle_images(images_pdu(9, "p", None, received, predicted, mask))
        panel._handle_metrics(metrics(9, ok=3))
        app.processEvents()  # the queued "changed" signal
        self.assertIn("frame 9", widget.frame_label.text())
        self.assertIn("PER 0.2500", widget.totals_label.text())
        image = widget.grab().toImage()
        self.assertEqual((image.width(), image.height()), (600, 300))
        # the picture area is painted: some pixels of the received column are bright
        view = widget.view.grab().toImage()
        y = view.height() // 2
        row = [view.pixelColor(x, y).value() for x in range(view.width())]
        self.assertGreater(max(row), 150)


if __name__ == "__main__":
    gr_unittest.run(qa_frame_image_panel)
