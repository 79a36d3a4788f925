"""Soak the model service with over-the-air-like traffic and print its memory over time.

Every request has a random number of lost tokens and a random number of frames, so each
one has a new shape - what made RSS grow without bound before issue #14.  Usage:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/soak_service.py \\
        [--requests 20000] [--max-seconds 3600] [--max-frames 8] [--every 500] \\
        [--model DIR | --random-preset bundled] [--server-arg=--threads=1 ...] [--env K=V]
        [--in-process]

The server is a child process on 127.0.0.1 (stopped at the end); the loop is bounded by
``--requests`` and ``--max-seconds``.  Prints one line per ``--every`` requests (requests,
seconds, server RSS, load average) and a summary: RSS after the warm-up, at the end, the
largest, and the growth after the warm-up (the floor in docs/service.md is +15 %).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gnuradio.tokcom.service import ServiceClient, ServiceTimeout


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


def start_server(model_dir, server_args, env_extra, log_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        endpoint = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    env = dict(os.environ, OMP_NUM_THREADS="1", **env_extra)
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "gnuradio.tokcom.service.serve",
                             "--model", str(model_dir), "--bind", endpoint,
                             "--log-level", "WARNING", *server_args],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    with ServiceClient(endpoint, timeout=0.5, retries=0) as c:
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start; see {log_path}")
            try:
                return proc, endpoint, c.info(), log
            except ServiceTimeout:
                continue


def stop_server(proc) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _in_process(args) -> int:
    """The same traffic straight into ModelEngine.predict; RSS of this process."""
    import torch

    from gnuradio.tokcom.service.engine import ModelEngine
    from gnuradio.tokcom.service.validation import Limits

    torch.set_num_threads(1)
    eng = ModelEngine.from_bundle(args.model)
    g = np.random.default_rng(args.seed)
    spec = eng.spec(Limits())
    steps = args.steps or spec.default_steps
    t0 = time.monotonic()
    print(f"in-process soak: {spec.model_id}, {args.requests} requests of 1-{args.max_frames} "
          f"frames, steps {steps}")
    print(f"{'requests':>9} {'seconds':>8} {'RSS MiB':>8} {'load 1 min':>10}")
    print(f"{0:9d} {0.0:8.1f} {rss_mib(os.getpid()):8.1f} {os.getloadavg()[0]:10.2f}")
    for i in range(1, args.requests + 1):
        if time.monotonic() - t0 > args.max_seconds:
            break
        b = int(g.integers(1, args.max_frames + 1))
        tokens = g.integers(0, spec.codebook_size, (b, spec.grid_h, spec.grid_w))
        mask = g.random(tokens.shape) < g.uniform(0, args.max_loss)
        eng.predict(tokens.astype(np.uint16), mask, None, steps=steps,
                    schedule=spec.default_schedule, temperature=0.0, seed=0)
        if i % args.every == 0:
            print(f"{i:9d} {time.monotonic() - t0:8.1f} {rss_mib(os.getpid()):8.1f} "
                  f"{os.getloadavg()[0]:10.2f}", flush=True)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="bundle directory (default: the bundled default model)")
    p.add_argument("--random-preset", choices=("tiny", "bundled"),
                   help="soak a random-weight bundle of this training preset instead")
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--max-seconds", type=float, default=3600.0)
    p.add_argument("--warmup", type=int, default=500, help="requests before the reference RSS")
    p.add_argument("--every", type=int, default=500, help="print RSS every N requests")
    p.add_argument("--max-frames", type=int, default=8, help="frames per request: 1..N")
    p.add_argument("--max-loss", type=float, default=0.6, help="lost fraction: U(0, max)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--server-arg", action="append", default=["--threads=1"],
                   help="extra tokcom-serve argument (repeatable)")
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    p.add_argument("--in-process", action="store_true",
                   help="call ModelEngine.predict in this process instead (one torch "
                        "thread; set allocator/cache variables in this process's environment)")
    args = p.parse_args(argv)
    if args.in_process:
        return _in_process(args)

    from gnuradio.tokcom.models import default_model_dir

    work = Path(tempfile.mkdtemp(prefix="soak_service_"))
    if args.random_preset:
        from gnuradio.tokcom.service.random_bundle import write_random_bundle

        model_dir = write_random_bundle(work / "bundle", args.random_preset)
    else:
        model_dir = Path(args.model) if args.model else default_model_dir()
    env_extra = dict(kv.split("=", 1) for kv in args.env)
    proc, endpoint, info, log = start_server(model_dir, args.server_arg, env_extra,
                                             work / "server.log")
    g = np.random.default_rng(args.seed)
    shape = (info["grid_h"], info["grid_w"])
    print(f"soak: {info['model_id']}, {args.requests} requests of 1-{args.max_frames} frames, "
          f"lost fraction U(0, {args.max_loss}), steps {args.steps or 'default'}; server "
          f"{' '.join(args.server_arg)} {' '.join(args.env)}; at most {args.max_seconds:.0f} s")
    print(f"{'requests':>9} {'frames':>8} {'seconds':>8} {'RSS MiB':>8} {'load 1 min':>10}")
    t0 = time.monotonic()
    frames = 0
    rows = [(0, 0, 0.0, rss_mib(proc.pid))]
    print(f"{0:9d} {0:8d} {0.0:8.1f} {rows[0][3]:8.1f} {os.getloadavg()[0]:10.2f}")
    done = 0
    try:
        with ServiceClient(endpoint, timeout=120.0, retries=0) as c:
            while done < args.requests and time.monotonic() - t0 < args.max_seconds:
                b = int(g.integers(1, args.max_frames + 1))
                tokens = g.integers(0, info["codebook_size"], (b, *shape)).astype(np.uint16)
                mask = g.random((b, *shape)) < g.uniform(0, args.max_loss)
                c.predict(tokens, mask, steps=args.steps)
                done += 1
                frames += b
                if done % args.every == 0 or done == args.warmup:
                    row = (done, frames, time.monotonic() - t0, rss_mib(proc.pid))
                    rows.append(row)
                    print(f"{row[0]:9d} {row[1]:8d} {row[2]:8.1f} {row[3]:8.1f} "
                          f"{os.getloadavg()[0]:10.2f}", flush=True)
    finally:
        end_rss = rss_mib(proc.pid)
        stop_server(proc)
        log.close()
    ref = next((r for r in rows if r[0] >= args.warmup), rows[-1])
    peak = max(r[3] for r in rows)
    print(f"summary: {done} requests, {frames} frames in {time.monotonic() - t0:.0f} s; RSS "
          f"start {rows[0][3]:.0f} MiB, after {ref[0]} requests {ref[3]:.0f} MiB, end "
          f"{end_rss:.0f} MiB, peak {peak:.0f} MiB; growth after warm-up "
          f"{100 * (end_rss / ref[3] - 1):+.1f} % (floor +15 %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
