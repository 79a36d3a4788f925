#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""random_frame_source, packet_loss and token_error_meter, and the frame PDU helpers."""

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest, tokcom

from gnuradio.tokcom import Frame, make_frame_pdu, parse_frame_pdu
from gnuradio.tokcom.testing_support import run_to_done


def pdu(i):
    return pmt.cons(pmt.to_pmt({"i": i}), pmt.init_u8vector(1, [i % 256]))


class qa_python_blocks(gr_unittest.TestCase):
    def test_frame_pdu_round_trip_and_errors(self):
        f = Frame(np.arange(6, dtype=np.uint16).reshape(2, 3), 9, 8, label=4, model_id="m",
                  mask=np.array([[1, 0, 0], [0, 0, 1]], bool), meta={"snr_db": 7.5})
        g = parse_frame_pdu(make_frame_pdu(f))
        np.testing.assert_array_equal(g.tokens, f.tokens)
        np.testing.assert_array_equal(g.mask, f.mask)
        self.assertEqual((g.frame_id, g.codebook_size, g.label, g.model_id, g.meta),
                         (9, 8, 4, "m", {"snr_db": 7.5}))
        with self.assertRaises(ValueError):
            parse_frame_pdu(pmt.cons(pmt.make_dict(), pmt.init_u16vector(1, [0])))
        with self.assertRaises(ValueError):
            parse_frame_pdu(pmt.PMT_NIL)

    def test_source_runs_to_completion_and_is_seeded(self):
        tb = gr.top_block()
        src = tokcom.random_frame_source(4, 4, 16, n_frames=5, frames_per_second=500,
                                         seed=3, drain_s=0.05)
        sink = blocks.message_debug()
        tb.msg_connect(src, "out", sink, "store")
        tb.run()  # returns because the source reports done
        self.assertEqual(sink.num_messages(), 5)
        frames = [parse_frame_pdu(sink.get_message(i)) for i in range(5)]
        self.assertEqual([f.frame_id for f in frames], list(range(5)))
        again = tokcom.random_frame_source(4, 4, 16, seed=3).make_frame(2)
        np.testing.assert_array_equal(frames[2].tokens, again.tokens)
        self.assertTrue(all(0 <= f.label < 10 for f in frames))

    def test_iid_loss_rate_and_flagging(self):
        blk = tokcom.packet_loss("iid", p_loss=0.3, action="flag", seed=1)
        out = run_to_done(blk, [("in", pdu(i)) for i in range(2000)])
        self.assertEqual(len(out), 2000)
        flagged = sum(1 for m in out if pmt.dict_has_key(pmt.car(m), pmt.intern("crc_ok")))
        self.assertEqual(flagged, blk.packets_lost)
        # Binomial(2000, 0.3): mean 600, sd 20.5; 5 sd either side.
        self.assertTrue(497 < flagged < 703, flagged)

    def test_gilbert_elliott_losses_are_bursty(self):
        blk = tokcom.packet_loss("gilbert_elliott", p_gb=0.02, p_bg=0.2, action="drop", seed=2)
        out = run_to_done(blk, [("in", pdu(i)) for i in range(4000)])
        self.assertEqual(len(out) + blk.packets_lost, 4000)
        kept = {pmt.to_python(pmt.car(m))["i"] for m in out}
        lost = np.array([i not in kept for i in range(4000)])
        # Stationary loss = p_gb / (p_gb + p_bg) = 1/11; mean burst length 1 / p_bg = 5.
        self.assertAlmostEqual(lost.mean(), 1 / 11, delta=0.035)
        starts = np.sum(lost[1:] & ~lost[:-1]) + lost[0]
        self.assertGreater(lost.sum() / starts, 3.0)

    def test_packet_loss_rejects_bad_arguments(self):
        with self.assertRaises(ValueError):
            tokcom.packet_loss("markov")
        with self.assertRaises(ValueError):
            tokcom.packet_loss(p_loss=1.5)

    def test_error_meter_counts_masked_and_wrong_tokens(self):
        ref = Frame(np.arange(8, dtype=np.uint16).reshape(2, 4), 1, 16)
        rx_tokens = ref.tokens.copy()
        rx_tokens[0, 0] = 15  # delivered wrong
        mask = np.zeros((2, 4), bool)
        mask[1, 1:] = True
        rx = Frame(rx_tokens, 1, 16, mask=mask)
        other = Frame(ref.tokens, 2, 16, mask=mask)  # frame 2 has no reference
        blk = tokcom.token_error_meter(log_frames=False)
        # One run: the meter takes the queued references before each received frame,
        # whichever port queue GNU Radio serves first.
        inputs = [("ref", make_frame_pdu(ref)), ("in", pmt.PMT_NIL), ("ref", pmt.PMT_T),
                  ("in", make_frame_pdu(other)), ("in", make_frame_pdu(rx))]
        out = run_to_done(blk, inputs, "metrics")
        # Only the frame with a reference gives metrics: the malformed messages and the
        # frame without a reference are counted and dropped.
        self.assertEqual(len(out), 1)
        m = pmt.to_python(out[0])
        self.assertEqual((m["frame_id"], m["n_masked"], m["n_wrong"]), (1, 3, 1))
        self.assertAlmostEqual(m["ter"], 4 / 8)
        t = blk.totals()
        self.assertEqual((t["malformed"], t["no_reference"], t["frames"]), (2, 1, 1))

    def test_evaluator_scores_completed_frames_against_their_reference(self):
        ref = Frame(np.arange(8, dtype=np.uint16).reshape(2, 4), 7, 16, label=2)
        mask = np.zeros((2, 4), bool)
        mask[0, :2] = True
        predicted = ref.tokens.copy()
        predicted[0, 0] = 9  # one lost token predicted wrong, one right
        done = Frame(predicted, 7, 16, label=2, mask=mask,
                     meta={"prediction": "ok", "predictor": "p1", "fill_token": 0})
        blk = tokcom.frame_evaluator(detokenize=False)
        # The frame is posted before its reference: whichever port GNU Radio serves
        # first, the evaluator takes the queued reference before scoring the frame.
        out = run_to_done(blk, [("in", make_frame_pdu(done)), ("ref", make_frame_pdu(ref)),
                                ("in", pmt.PMT_NIL)], "metrics")
        self.assertEqual(len(out), 1)
        m = pmt.to_python(out[0])
        self.assertEqual((m["frame_id"], m["predictor"], m["prediction"]), (7, "p1", "ok"))
        self.assertEqual((m["n_masked"], m["label"], m["codebook_size"]), (2, 2, 16))
        self.assertAlmostEqual(m["ter_before"], 2 / 8)
        self.assertAlmostEqual(m["ter_after"], 1 / 8)
        self.assertAlmostEqual(m["masked_accuracy"], 0.5)
        self.assertEqual((blk.malformed, blk.counts["no_reference"]), (1, 0))
        self.assertEqual(blk.totals("p1")["frames"], 1)


if __name__ == "__main__":
    gr_unittest.run(qa_python_blocks)
