#!/usr/bin/env python3
"""Throughput of the over-the-air receiver from IQ, beside gr-digital's packet_rx.

Both receivers run as whole flowgraphs (file_source -> receiver -> message sink) on a
recording of their own transmitter at sps 2, Es/N0 20 dB, no carrier offset (packet_rx
loses every packet with one, docs/ota.md); bursts carry 320 payload bytes each (one
TokCom frame: 64 packets of 40 bits). gr-digital's packet_tx / packet_rx hier blocks come
from Debian's gnuradio examples (digital/packet/*.grc), compiled with grcc, configured as
in packet_loopback_hier.grc (BPSK header with repetition code, QPSK payload, K=7 code,
header_format_counter, RRC 0.22). Prints samples/s of wall time and of CPU time (both
best of --repeat interleaved runs) and packets out.
Run: .venv/bin/python benchmarks/bench_ota_rx.py
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pmt
from gnuradio import blocks, digital, fec, filter, gr

from gnuradio.tokcom.ota_rx import ota_rx
from gnuradio.tokcom.ota_sim import PAYLOAD_BITS, SimConfig, run_ota

EXAMPLES = "/usr/share/gnuradio/examples/digital/packet"


def import_packet_blocks(tmp):
    for name in ("packet_tx", "packet_rx"):
        subprocess.run(["grcc", "-o", tmp, os.path.join(EXAMPLES, name + ".grc")],
                       check=True, capture_output=True)
    sys.path.insert(0, tmp)
    from packet_rx import packet_rx  # noqa: PLC0415
    from packet_tx import packet_tx  # noqa: PLC0415

    return packet_tx, packet_rx


def packet_settings():
    """packet_loopback_hier.grc's enabled variables."""
    sps, nfilts, eb, k, rate, polys, rep = 2, 32, 0.22, 7, 2, [109, 79], 3
    hdr_const = digital.constellation_calcdist(digital.psk_2()[0], digital.psk_2()[1], 2,
                                               1).base()
    pld_const = digital.constellation_calcdist(digital.psk_4()[0], digital.psk_4()[1], 4,
                                               1).base()
    hdr_format = digital.header_format_counter(digital.packet_utils.default_access_code, 3,
                                               pld_const.bits_per_symbol())
    tx = dict(hdr_const=hdr_const, hdr_format=hdr_format, pld_const=pld_const, sps=sps,
              hdr_enc=fec.repetition_encoder_make(8000, rep),
              pld_enc=fec.cc_encoder_make(8000, k, rate, polys, 0, fec.CC_TERMINATED, False),
              psf_taps=filter.firdes.root_raised_cosine(nfilts, nfilts, 1.0, eb,
                                                        5 * sps * nfilts))
    rx = dict(eb=eb, hdr_const=hdr_const, hdr_format=hdr_format, pld_const=pld_const,
              sps=sps, hdr_dec=fec.repetition_decoder.make(hdr_format.header_nbits(), rep,
                                                           0.5),
              pld_dec=fec.cc_decoder.make(8000, k, rate, polys, 0, -1, fec.CC_TERMINATED,
                                          False),
              psf_taps=filter.firdes.root_raised_cosine(nfilts, nfilts * sps, 1.0, eb,
                                                        11 * sps * nfilts))
    return tx, rx


def record_packet_tx(packet_tx, settings, bursts, path, esn0_db=20.0):
    tb = gr.top_block()
    tx = packet_tx(**settings)
    tb.connect(tx, blocks.file_sink(gr.sizeof_gr_complex, path, False))
    rng = np.random.default_rng(1)
    tb.start()
    for _ in range(bursts):
        data = rng.integers(0, 256, 320, dtype=np.uint8)
        # packet_tx's input port belongs to its first block, the CRC appender.
        tx.digital_crc32_async_bb_1.to_basic_block()._post(
            pmt.intern("in"), pmt.cons(pmt.make_dict(), pmt.init_u8vector(320, data.tolist())))
        time.sleep(0.002)
    last, stable = -1, 0
    while stable < 20:
        time.sleep(0.05)
        size = os.path.getsize(path)
        stable = stable + 1 if size == last else 0
        last = size
    tb.stop()
    tb.wait()
    # Noise for Es/N0 per payload symbol; packet_tx's RRC has gain nfilts at nfilts x
    # oversampling, so its power is measured rather than derived.
    x = np.fromfile(path, np.complex64)
    active = np.abs(x) > 1e-6
    power = np.mean(np.abs(x[active]) ** 2)
    n0 = power * settings["sps"] * 10 ** (-esn0_db / 10)  # Es = power x sps
    rng = np.random.default_rng(2)
    x = x + np.sqrt(n0 / 2) * (rng.normal(size=x.size) + 1j * rng.normal(size=x.size))
    x.astype(np.complex64).tofile(path)
    return x.size


def time_receiver(make_rx, path, out_port, extra=None):
    """One run: (samples, wall seconds, CPU seconds of this process, packets out)."""
    n = os.path.getsize(path) // gr.sizeof_gr_complex
    tb = gr.top_block()
    src = blocks.file_source(gr.sizeof_gr_complex, path, False)
    rx = make_rx()
    store = blocks.message_debug()
    tb.connect(src, rx)
    if extra:
        extra(tb, rx)
    tb.msg_connect(rx, out_port, store, "store")
    timer = threading.Timer(300, tb.stop)
    timer.start()
    cpu, start = time.process_time(), time.perf_counter()
    tb.run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    timer.cancel()
    return n, seconds, cpu, store.num_messages()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, GNU Radio {gr.version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}, "
          f"{args.bursts} bursts of 320 payload bytes")
    with tempfile.TemporaryDirectory() as tmp:
        packet_tx, packet_rx = import_packet_blocks(tmp)
        tx_settings, rx_settings = packet_settings()
        pkt_iq = os.path.join(tmp, "packet.iq")
        record_packet_tx(packet_tx, tx_settings, args.bursts, pkt_iq)
        ota_iq = os.path.join(tmp, "ota.iq")
        run_ota(SimConfig(frames=args.bursts, esn0=20.0, gap=400), iq_out=ota_iq)

        def null_outputs(tb, rx):  # packet_rx's 5 debug stream outputs
            for i in range(5):
                tb.connect((rx, i), blocks.null_sink(gr.sizeof_gr_complex))

        receivers = {
            "gr-tokcom ota_rx (16-QAM payload, 64 packets/burst)":
                (lambda: ota_rx(PAYLOAD_BITS), ota_iq, "out", None),
            "gr-digital packet_rx (QPSK payload, 1 packet/burst)":
                (lambda: packet_rx(**rx_settings), pkt_iq, "pkt out", null_outputs),
        }
        # Interleaved runs, best of --repeat: the machine's load changes during a run.
        best = {}
        for _ in range(args.repeat):
            for name, (make, path, port, extra) in receivers.items():
                n, wall, cpu, packets = time_receiver(make, path, port, extra)
                old = best.get(name)
                best[name] = (n, min(wall, old[1]) if old else wall,
                              min(cpu, old[2]) if old else cpu, packets)
    print("\n| receiver | samples | wall s (best) | MS/s wall | CPU s (best) | MS/s per CPU s "
          "| packets out |\n|---|---|---|---|---|---|---|")
    for name, (n, wall, cpu, packets) in best.items():
        print(f"| {name} | {n} | {wall:.3f} | {n / wall / 1e6:.2f} | {cpu:.3f} | "
              f"{n / cpu / 1e6:.2f} | {packets} |")
    print(f"\n# load average at the end {os.getloadavg()[0]:.1f}")

if __name__ == "__main__":
    main()
