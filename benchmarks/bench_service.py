"""Benchmark the model service: in-process vs over ZMQ latency, throughput with batching.

Usage (source tree; after installation PYTHONPATH is not needed):

    OMP_NUM_THREADS=1 PYTHONPATH=<dir with gnuradio/tokcom> \\
        python benchmarks/bench_service.py [--model DIR | --random-preset bundled]

``--random-preset bundled`` times a random-weight model with the bundled architecture
(for use before the trained model exists: the cost does not depend on the weights).
Servers run as child processes on 127.0.0.1 with ``--threads`` torch threads and are
stopped at the end.  Prints one line per measurement and checks the floors of
docs/service.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from gnuradio.tokcom.service import ServiceClient, ServiceTimeout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(samples_s) -> tuple[float, float]:
    ms = 1e3 * np.asarray(samples_s)
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _latencies(fn, repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _paired(fn_a, fn_b, repeat: int, settle_s: float = 0.005):
    """Alternate two calls; the pause lets the server finish its reply before the next."""
    a, b = [], []
    for fn in (fn_a, fn_b, fn_a, fn_b):  # warm-up
        fn()
    for _ in range(repeat):
        for fn, out in ((fn_a, a), (fn_b, b)):
            time.sleep(settle_s)
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return a, b


def _forward_flop(cfg, batch: int) -> float:
    """Multiply-adds x 2 of one full forward pass (every position, output head included)."""
    seq, d = cfg.seq_len, cfg.hidden_dim
    block = 2 * seq * d * 3 * d + 2 * 2 * seq * seq * d + 2 * seq * d * d \
        + 2 * 2 * seq * d * cfg.mlp_dim
    mlps = 3 * 2 * seq * d * d  # input MLP (2 linears) and output MLP (1 linear)
    head = 2 * (seq - 1) * d * (cfg.codebook_size + 1)
    return batch * (cfg.depth * block + mlps + head)


def _compute_rate(engine, repeat: int) -> dict:
    """Achieved GFLOP/s of one transformer forward pass at batch 1 and 8 (in-process)."""
    import torch

    cfg = engine.transformer.config
    fast = engine._fast
    out = {}
    for batch in (1, 8):
        ids = torch.randint(0, cfg.codebook_size, (batch, cfg.seq_len))
        with torch.inference_mode():
            t = _pct(_latencies(lambda ids=ids: fast.logits_from_hidden(fast.hidden(ids)),
                                repeat, warmup=2))[0]
        out[batch] = (t, _forward_flop(cfg, batch) / 1e9)
    return out


class Server:
    def __init__(self, model_dir, threads: int, extra, log_dir: Path):
        self.endpoint = f"tcp://127.0.0.1:{_free_port()}"
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        self.log = open(log_dir / f"server-{len(list(log_dir.iterdir()))}.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gnuradio.tokcom.service.serve", "--model", str(model_dir),
             "--bind", self.endpoint, "--threads", str(threads), "--log-level", "WARNING",
             *extra], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 120
        with ServiceClient(self.endpoint, timeout=0.5, retries=0) as c:
            while True:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"server did not start; see {self.log.name}")
                try:
                    c.info()
                    break
                except ServiceTimeout:
                    continue

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


def _throughput(endpoint: str, n_clients: int, duration: float, tokens, mask,
                steps: int) -> float:
    """Frames per second with n_clients each doing back-to-back single-frame predicts."""
    counts = [0] * n_clients
    start = threading.Barrier(n_clients + 1)
    stop_at = [0.0]

    def worker(k):
        with ServiceClient(endpoint, timeout=60.0, retries=0) as c:
            c.predict(tokens, mask, steps=steps)  # connect and warm up, untimed
            start.wait()
            while time.perf_counter() < stop_at[0]:
                c.predict(tokens, mask, steps=steps)
                counts[k] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + 3600  # placeholder until everyone is ready
    start.wait()
    t0 = time.perf_counter()
    stop_at[0] = t0 + duration
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="bundle directory (default: the bundled default model)")
    p.add_argument("--random-preset", choices=("tiny", "bundled"),
                   help="time a random-weight bundle of this training preset instead")
    p.add_argument("--threads", type=int, default=1, help="torch threads (here and servers)")
    p.add_argument("--repeat", type=int, default=30, help="timed calls per latency figure")
    p.add_argument("--duration", type=float, default=5.0, help="seconds per throughput run")
    p.add_argument("--loss", type=float, default=0.2, help="fraction of tokens masked")
    p.add_argument("--steps", type=int, default=None, help="decoding steps (default: model's)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (here and servers)")
    p.add_argument("--precision", default="float32", choices=("auto", "float32", "int8"),
                   help="transformer arithmetic (here and servers; default float32)")
    args = p.parse_args(argv)

    import torch

    from gnuradio.tokcom.models import default_model_dir
    from gnuradio.tokcom.service.engine import ModelEngine
    from gnuradio.tokcom.service.validation import Limits

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench_service_"))
    if args.random_preset:
        from gnuradio.tokcom.service.random_bundle import write_random_bundle

        model_dir = write_random_bundle(work / "bundle", args.random_preset)
        what = f"RANDOM-WEIGHT bundle, preset {args.random_preset!r}"
    else:
        model_dir = Path(args.model) if args.model else default_model_dir()
        if not (model_dir / "config.json").exists():
            p.error(f"no bundle in {model_dir}; pass --model or --random-preset bundled")
        what = f"bundle {model_dir}"
    (work / "logs").mkdir()

    engine = ModelEngine.from_bundle(model_dir, bf16=args.bf16, precision=args.precision)
    bf16 = (["--bf16"] if args.bf16 else []) + ["--precision", engine.precision]
    spec = engine.spec(Limits())
    steps = args.steps or spec.default_steps
    g = np.random.default_rng(0)
    images = g.integers(0, 256, (1, spec.image_height, spec.image_width), dtype=np.uint8)
    tokens = engine.tokenize(images)
    mask = g.random(tokens.shape) < args.loss
    params = {"steps": steps, "schedule": spec.default_schedule, "temperature": 0.0, "seed": 0}

    load_start = os.getloadavg()
    print(f"model: {what} ({spec.model_id}), grid {spec.grid_h}x{spec.grid_w}, "
          f"Q {spec.codebook_size}; {steps} steps {spec.default_schedule}, "
          f"{args.loss:.0%} masked; torch threads {args.threads}; "
          f"{'bfloat16 autocast, ' if args.bf16 else ''}{engine.precision} transformer; "
          f"{os.cpu_count()} CPUs")
    # The ceiling for batching: what 8 frames in one call cost relative to one frame.
    tokens8, mask8 = np.repeat(tokens, 8, axis=0), np.repeat(mask, 8, axis=0)
    batch8 = _latencies(lambda: engine.predict(tokens8, mask8, None, **params),
                        max(5, args.repeat // 3), warmup=1)
    rate = _compute_rate(engine, max(5, args.repeat // 3))

    results = {}
    srv = Server(model_dir, args.threads, ["--batch-window-ms", "2", "--max-batch", "16", *bf16],
                 work / "logs")
    try:
        with ServiceClient(srv.endpoint, timeout=60.0, retries=0) as c:
            # In-process and over-ZMQ calls alternate, so both see the same background load.
            server_ms = []

            def over_zmq():
                server_ms.append(c.predict(tokens, mask, steps=steps).server_ms)

            inproc, wire = _paired(lambda: engine.predict(tokens, mask, None, **params),
                                   over_zmq, args.repeat)
            server_ms = server_ms[-args.repeat:]  # drop the warm-up calls
            tok_in, tok_w = _paired(lambda: engine.tokenize(images),
                                    lambda: c.tokenize(images), args.repeat)
            det_in, det_w = _paired(lambda: engine.detokenize(tokens),
                                    lambda: c.detokenize(tokens), args.repeat)
            info_rtt = _latencies(c.info, 200)
            # The same call after the client and server idled for one prediction's time:
            # on a VM, waking sleeping threads costs more than the transport itself.
            idle_s = float(np.median(inproc))
            info_idle_rtt = _latencies(lambda: (time.sleep(idle_s), c.info()), 50)
            info_idle_rtt = [t - idle_s for t in info_idle_rtt]
        for n in (1, 4, 8):
            results[("on", n)] = _throughput(srv.endpoint, n, args.duration, tokens, mask, steps)
    finally:
        srv.stop()
    srv = Server(model_dir, args.threads, ["--max-batch", "1", *bf16], work / "logs")
    try:
        for n in (1, 4, 8):
            results[("off", n)] = _throughput(srv.endpoint, n, args.duration, tokens, mask, steps)
    finally:
        srv.stop()

    (p50_i, p99_i), (p50_w, p99_w) = _pct(inproc), _pct(wire)
    # Median of the per-pair differences: slow drifts of the machine's speed cancel out.
    overhead = 1e3 * float(np.median(np.subtract(wire, inproc)))
    print(f"predict 1 frame, in-process : p50 {p50_i:8.2f} ms  p99 {p99_i:8.2f} ms")
    print(f"predict 1 frame, over ZMQ   : p50 {p50_w:8.2f} ms  p99 {p99_w:8.2f} ms")
    print(f"ZMQ overhead                : {overhead:+8.2f} ms  ({100 * overhead / p50_i:+.1f} %) "
          f"median of paired differences; p50 difference {p50_w - p50_i:+.2f} ms")
    outside = 1e3 * np.asarray(wire) - np.asarray(server_ms)
    print(f"round trip - time in server : p50 {np.percentile(outside, 50):8.2f} ms  p99 "
          f"{np.percentile(outside, 99):8.2f} ms (transport + client, same calls)")
    print("info round trip (no model)  : p50 {:8.3f} ms  p99 {:8.3f} ms".format(
        *_pct(info_rtt)))
    print("info round trip after idling: p50 {:8.3f} ms  p99 {:8.3f} ms (threads woken "
          "from sleep, as after a prediction)".format(*_pct(info_idle_rtt)))
    for name, a, b in (("tokenize", tok_in, tok_w), ("detokenize", det_in, det_w)):
        print(f"{name:10s} 1 image         : in-process p50 {_pct(a)[0]:7.2f} ms p99 "
              f"{_pct(a)[1]:7.2f} ms; ZMQ p50 {_pct(b)[0]:7.2f} ms p99 {_pct(b)[1]:7.2f} ms")
    cost8 = _pct(batch8)[0] / p50_i
    print(f"in-process batch of 8 frames: p50 {_pct(batch8)[0]:8.2f} ms = {cost8:.2f}x one "
          f"frame (batching can gain at most {8 / cost8:.2f}x)")
    for batch, (t, gflop) in rate.items():
        print(f"one forward pass, batch {batch}   : {gflop:.2f} GFLOP in {t:7.2f} ms = "
              f"{gflop / t * 1e3:5.1f} GFLOP/s ({gflop / t * 1e3 / args.threads:.1f} per thread)")
    for mode in ("on", "off"):
        figs = ", ".join(f"{n} client(s) {results[(mode, n)]:7.1f}" for n in (1, 4, 8))
        print(f"throughput, batching {mode:3s}   : {figs} frames/s")
    ratio = results[("on", 8)] / results[("on", 1)]
    print(f"8 clients batched / 1 sequential client: {ratio:.2f}x")

    # Batching floor on CPU (docs/service.md, "Batching"): 90 % of what the measured cost
    # of 8 frames in one call allows; the 3x floor applies to GPUs.
    cpu_floor = 0.9 * 8 / cost8
    floors = [
        ("ZMQ overhead <= 1 ms or <= 5 %", overhead <= 1.0 or overhead <= 0.05 * p50_i),
        (f"8 clients batched >= {cpu_floor:.2f}x sequential (CPU: 0.9 x 8 / cost of 8 "
         f"frames in one call; GPU floor 3x)", ratio >= cpu_floor),
        ("predict p50 <= 30 ms per frame", p50_w <= 30.0),
        ("predict p50 <= 12 ms per frame in-process (issue #14 CPU fast path)", p50_i <= 12.0),
    ]
    for name, ok in floors:
        print(f"floor: {name}: {'met' if ok else 'NOT MET'}")
    print("load average (1/5/15 min) at start {:.2f} {:.2f} {:.2f}, at end {:.2f} {:.2f} {:.2f}"
          .format(*load_start, *os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
