#!/usr/bin/env python3
#
# Copyright 2026 gr-tokcom authors.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""semantic_mapper / semantic_demapper and the labeling file against docs/mapper.md, and a
round trip mapper -> packetizer -> (a lost packet) -> depacketizer -> demapper."""

import json
import tempfile
from pathlib import Path

import numpy as np
import pmt
from gnuradio import gr_unittest

from gnuradio.tokcom import (
    Frame,
    labeling,
    make_frame_pdu,
    parse_frame_pdu,
    semantic_demapper,
    semantic_mapper,
    token_depacketizer,
    token_packetizer,
)
from gnuradio.tokcom.testing_support import run_to_done


def frame(q=1024, seed=0, frame_id=5, h=16, w=16):
    rng = np.random.default_rng(seed)
    return Frame(rng.integers(0, q, (h, w), dtype=np.uint16), frame_id, q, label=2,
                 model_id="m", meta={"extra": "kept"})


class qa_semantic_mapper(gr_unittest.TestCase):
    def test_mapper_sends_label_of_each_token(self):
        labels = labeling.random_labels(1024, 3)
        f = frame()
        (out,) = run_to_done(semantic_mapper(labels.tolist()),
                                  [("in", make_frame_pdu(f))], expected=1)
        got = parse_frame_pdu(out)
        np.testing.assert_array_equal(got.tokens, labels[f.tokens])  # spec: label = π[t]
        self.assertEqual((got.frame_id, got.label, got.model_id), (5, 2, "m"))
        self.assertEqual(got.meta["extra"], "kept")

    def test_demapper_inverts_unmasked_positions_only(self):
        labels = labeling.random_labels(16, 4)
        f = frame(q=16, h=3, w=4)
        mask = np.zeros((3, 4), bool)
        mask[1, 2] = mask[0, 0] = True
        sent = labels[f.tokens]
        sent[mask] = 0  # as the depacketizer leaves lost positions
        rx = Frame(sent, 9, 16, mask=mask)
        blk = semantic_demapper(labels.tolist())
        (out,) = run_to_done(blk, [("in", make_frame_pdu(rx))], expected=1)
        got = parse_frame_pdu(out)
        want = f.tokens.copy()
        want[mask] = 0
        np.testing.assert_array_equal(got.tokens, want)
        np.testing.assert_array_equal(got.mask, mask)
        self.assertEqual(blk.codebook_size(), 16)

    def test_round_trip_through_packets_with_a_lost_packet(self):
        labels = labeling.random_labels(1024, 8)
        f = frame(seed=1)
        mapper, demapper = semantic_mapper(labels.tolist()), semantic_demapper(labels.tolist())
        pkt = token_packetizer(4, "random", 11)
        depkt = token_depacketizer(16, 16, 1024, 4, "random", 11, 1000.0)
        # Stage by stage, each run deterministic (inputs, then "done").
        (labelled,) = run_to_done(mapper, [("in", make_frame_pdu(f))], expected=1)
        sent = run_to_done(pkt, [("in", labelled)], expected=64)
        sent[10] = pmt.cons(pmt.dict_add(pmt.car(sent[10]), pmt.intern("crc_ok"), pmt.PMT_F),
                            pmt.cdr(sent[10]))  # lose packet 10
        (rx,) = run_to_done(depkt, [("in", m) for m in sent], expected=1)
        (out,) = run_to_done(demapper, [("in", rx)], expected=1)
        got = parse_frame_pdu(out)
        self.assertEqual(got.n_masked, 4)
        np.testing.assert_array_equal(got.tokens[~got.mask], f.tokens[~got.mask])
        self.assertTrue((got.tokens[got.mask] == 0).all())

    def test_malformed_frames_are_counted_and_dropped(self):
        labels = labeling.natural_labels(16).tolist()
        good = make_frame_pdu(frame(q=16, h=2, w=2))
        meta = pmt.car(good)
        bad = [
            pmt.intern("not a pdu"),
            pmt.cons(meta, pmt.init_u8vector(4, [0, 1, 2, 3])),
            pmt.cons(pmt.dict_delete(meta, pmt.intern("codebook_size")), pmt.cdr(good)),
            make_frame_pdu(frame(q=32, h=2, w=2)),  # another codebook
            pmt.cons(meta, pmt.init_u16vector(4, [0, 1, 2, 16])),  # value >= Q
            pmt.cons(pmt.dict_add(meta, pmt.intern("mask"), pmt.init_u8vector(1, [0])),
                     pmt.cdr(good)),
        ]
        for block in (semantic_mapper, semantic_demapper):
            blk = block(labels)
            out = run_to_done(blk, [("in", m) for m in bad] + [("in", good)], expected=1)
            self.assertEqual(len(out), 1)
            self.assertEqual(blk.frames_dropped(), len(bad))
            self.assertEqual(blk.frames_in(), len(bad) + 1)

    def test_a_labeling_must_be_a_permutation(self):
        for bad in ([0, 0, 1], [0, 3, 1], [0]):
            with self.assertRaises(ValueError):
                semantic_mapper(bad)
            with self.assertRaises(ValueError):
                labeling.check_labels(bad)

    def test_label_file_round_trip_and_errors(self):
        labels = labeling.random_labels(64, 1)
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "l.txt"
            labeling.write_labels(path, labels, {"seed": 1})
            got, meta = labeling.read_labels(path)
            np.testing.assert_array_equal(got, labels)
            self.assertEqual(meta["seed"], "1")
            np.testing.assert_array_equal(labeling.inverse(labels)[labels], np.arange(64))
            path.write_text("# x\n1\n0\nzwei\n")
            with self.assertRaisesRegex(ValueError, "not an integer"):
                labeling.read_labels(path)
            path.write_text("1\n1\n")
            with self.assertRaisesRegex(ValueError, "permutation"):
                labeling.read_labels(path)

    def test_bundled_model_names_its_designed_labeling(self):
        path = labeling.bundle_label_file()
        config = json.loads((path.parent / "config.json").read_text())
        labels, meta = labeling.read_labels(path)
        self.assertEqual(labels.size, config["tokenizer"]["n_embed"])
        self.assertEqual(float(meta["design_esn0_db"]), config["labeling"]["design_esn0_db"])
        self.assertFalse(np.array_equal(labels, labeling.natural_labels(labels.size)))


if __name__ == "__main__":
    gr_unittest.run(qa_semantic_mapper)
