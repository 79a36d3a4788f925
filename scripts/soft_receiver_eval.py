#!/usr/bin/env python3
"""Measure the soft token receiver (issue #16) on images through the project's blocks.

Images (Fashion-MNIST test split, or the train split for calibration) -> tokens (service)
-> token packetizer -> Coded Link TX (K = 7, CRC-16, Gray 16-QAM) -> Loopback Channel ->
Coded Link RX with soft output (log-MAP BCJR for failed packets) -> token depacketizer.
Every received frame is then completed by each receiver, all on the same channel
realisation: tokcom_cmi (mask-and-predict, v1), hard_kept (failed packets' hard-decoded
tokens, no model), fusion (predict with bit LLRs, protocol v2) for each --weights value,
and fusion + CRC-aided list search (tokcom_soft). Prints TER before/after and PSNR with 95 %
intervals (over images), paired differences, and the list search's recovered packets and
false accepts. Starts its own tokcom-serve on --port and stops it.

Run: .venv/bin/python scripts/soft_receiver_eval.py --images 200 --esn0 5.8
Calibration (train split only): ... --split train --first 50000 --weights 0.6,0.8,1.0,1.2
"""

import argparse
import csv
import os
import time

import numpy as np
import pmt
from gnuradio import blocks, gr

from gnuradio.tokcom import Frame, make_frame_pdu, parse_frame_pdu
from gnuradio.tokcom import tokcom_python as cpp
from gnuradio.tokcom.coded_link_rx import coded_link_rx
from gnuradio.tokcom.coded_link_tx import coded_link_tx
from gnuradio.tokcom.frame_quality import image_quality, token_error_rates
from gnuradio.tokcom.image_files import fashion_mnist_test, fashion_mnist_train
from gnuradio.tokcom.link_config import crc_of
from gnuradio.tokcom.loopback_channel import loopback_channel
from gnuradio.tokcom.service import ServiceClient
from gnuradio.tokcom.service.launch import start_service, stop_service
from gnuradio.tokcom.soft_receiver import (
    frame_soft_fields,
    hard_kept,
    make_list_search,
    soft_predict,
)

GRID, Q, K, SEED = (16, 16), 1024, 4, 1
BITS = 10
BATCH = 32


def receive(tokens, labels, esn0, seed, log_map=True):
    """All frames through the link; returns the received frame PDUs by frame id."""
    tb = gr.top_block()
    pack = cpp.token_packetizer(K, "random", SEED)
    tx = coded_link_tx(40, "crc16", "cc_k7", "16qam", 8)
    rx = coded_link_rx(40, "crc16", "cc_k7", "16qam", 8, 10 ** (-esn0 / 10),
                       soft_output=True, log_map=log_map)
    depack = cpp.token_depacketizer(*GRID, Q, K, "random", SEED, 2000.0)
    store = blocks.message_debug()
    tb.msg_connect(pack, "out", tx, "in")
    tb.connect(tx, loopback_channel(esn0, seed), rx)
    tb.msg_connect(rx, "out", depack, "in")
    tb.msg_connect(depack, "out", store, "store")
    tb.start()
    for i, t in enumerate(tokens):
        while i - store.num_messages() >= 16:  # bounded in flight
            time.sleep(0.002)
        frame = Frame(np.asarray(t, np.uint16), i, Q, label=int(labels[i]))
        pack.to_basic_block()._post(pmt.intern("in"), make_frame_pdu(frame))
    deadline = time.monotonic() + 120
    while store.num_messages() < len(tokens) and time.monotonic() < deadline:
        time.sleep(0.01)
    tb.stop()
    tb.wait()
    frames = {}
    for i in range(store.num_messages()):
        f = parse_frame_pdu(store.get_message(i))
        frames[f.frame_id] = f
    if len(frames) != len(tokens):
        raise RuntimeError(f"{len(frames)} of {len(tokens)} frames came out of the link")
    return [frames[i] for i in range(len(tokens))]


def ci(x):
    x = np.asarray(x, float)
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else float("nan")
    return x.mean(), half


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("test", "train"), default="test")
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--esn0", type=float, default=5.8)
    ap.add_argument("--seed", type=int, default=1, help="channel noise seed")
    ap.add_argument("--port", type=int, default=5901)
    ap.add_argument("--weights", default="", help="LLR weights to try (default: the "
                    "service's calibrated one)")
    ap.add_argument("--list-size", type=int, default=64)
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--max-log", action="store_true", help="max-log BCJR instead of log-MAP")
    ap.add_argument("--out", help="per-image CSV")
    args = ap.parse_args()

    images, labels = (fashion_mnist_test() if args.split == "test" else fashion_mnist_train())
    idx = np.arange(args.first, args.first + args.images)
    images, labels = images[idx], labels[idx]
    proc, _, info = start_service(f"tcp://127.0.0.1:{args.port}",
                                  extra_args=["--log-level", "WARNING"], log=None)
    t0 = time.monotonic()
    try:
        with ServiceClient(f"tcp://127.0.0.1:{args.port}", timeout=300, retries=0) as c:
            fill = int(info.get("fill_token", 0))
            weights = ([float(w) for w in args.weights.split(",")] if args.weights
                       else [float(info["defaults"]["llr_weight"])])
            sent = np.concatenate([c.tokenize(images[i:i + 64])
                                   for i in range(0, len(images), 64)])
            frames = receive(sent, labels, args.esn0, args.seed, not args.max_log)
            width, poly = crc_of("crc16")
            search = make_list_search(GRID, Q, K, "random", SEED, width, poly, args.list_size)
            rows = {}
            stats = dict(failed=0, soft=0, accepted=0, false_accepts=0, tried=0)
            for s in range(0, len(frames), BATCH):
                fr = frames[s:s + BATCH]
                tok = np.stack([f.tokens for f in fr])
                msk = np.stack([f.mask if f.mask is not None else np.zeros(GRID, bool)
                                for f in fr])
                lab = labels[s:s + BATCH]
                soft = [frame_soft_fields(f.meta, GRID[0] * GRID[1], BITS) for f in fr]
                llrs = np.stack([x[0] if x else np.zeros((256, BITS), np.float32)
                                 for x in soft])
                out = {"tokcom_cmi": c.predict(tok, msk, lab).tokens,
                       "hard_kept": np.stack([hard_kept(t, m, x[0] if x else None, fill, Q)
                                              for t, m, x in zip(tok, msk, soft, strict=True)])}
                for w in weights:
                    out[f"fusion_w{w:g}"] = soft_predict(c, tok, msk, lab, llrs,
                                                         llr_weight=w).tokens
                w = weights[0]
                sp = soft_predict(c, tok, msk, lab, llrs, [x[1] if x else None for x in soft],
                                  [x[2] if x else None for x in soft], search,
                                  args.candidates, llr_weight=w)
                out["tokcom_soft"] = sp.tokens
                stats["tried"] += sp.tried
                for j, f in enumerate(fr):
                    stats["failed"] += int(f.meta.get("n_packets_bad", 0))
                    stats["soft"] += int(soft[j][2].sum()) if soft[j] else 0
                    for hit in sp.accepted[j].values():
                        stats["accepted"] += 1
                        truth = sent[s + j].ravel()
                        stats["false_accepts"] += int(any(truth[p] != t for p, t in hit.items()))
                decoded = {k: c.detokenize(v) for k, v in out.items()}
                decoded["vq_only"] = c.detokenize(np.where(msk, fill, tok).astype(np.uint16))
                for j in range(len(fr)):
                    i = s + j
                    ref = images[i]
                    rates = token_error_rates(sent[i], tok[j], msk[j], tok[j])
                    rows.setdefault("ter_before", []).append(rates["ter_before"])
                    for k, v in out.items():
                        r = token_error_rates(sent[i], tok[j], msk[j], v[j])
                        rows.setdefault(f"{k}_ter", []).append(r["ter_after"])
                    for k, v in decoded.items():
                        rows.setdefault(f"{k}_psnr", []).append(
                            image_quality(ref, v[j].reshape(ref.shape))["psnr"])
    finally:
        stop_service(proc, 30)
    print(f"# {args.split} images {args.first}..{args.first + args.images - 1}, Es/N0 "
          f"{args.esn0} dB, channel seed {args.seed}, {'max-log' if args.max_log else 'log-MAP'}"
          f" BCJR, list {args.list_size} x top-{args.candidates}, "
          f"{time.monotonic() - t0:.0f} s, {time.strftime('%Y-%m-%d %H:%M')}")
    tb = np.mean(rows["ter_before"])
    print(f"TER before {tb:.4f} (masked + undetected); packets failed {stats['failed']}, "
          f"with LLRs {stats['soft']}")
    for key in sorted(k for k in rows if k.endswith("_ter")):
        m, h = ci(rows[key])
        print(f"{key[:-4]:<14} TER after {m:.4f} +- {h:.4f}  after/before {m / tb:.3f}")
    for key in sorted(k for k in rows if k.endswith("_psnr")):
        m, h = ci(rows[key])
        print(f"{key[:-5]:<14} PSNR {m:.2f} +- {h:.2f} dB")
    for a, b in (("tokcom_soft", "hard_kept"), ("tokcom_soft", "tokcom_cmi")):
        for metric in ("ter", "psnr"):
            m, h = ci(np.array(rows[f"{a}_{metric}"]) - np.array(rows[f"{b}_{metric}"]))
            print(f"paired {a} - {b} {metric.upper()}: {m:+.4f} +- {h:.4f}")
    f = max(stats["failed"], 1)
    print(f"list search: {stats['accepted']} packets recovered of {stats['failed']} failed "
          f"({stats['accepted'] / f:.3f}), false accepts {stats['false_accepts']} "
          f"({stats['false_accepts'] / f:.4f} of failed), {stats['tried']} CRCs tried")
    if args.out:
        with open(args.out, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["image", *rows])
            for i in range(len(idx)):
                w.writerow([int(idx[i]), *(f"{rows[k][i]:.6g}" for k in rows)])


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
