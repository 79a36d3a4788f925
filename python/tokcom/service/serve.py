"""``tokcom-serve``: run the model service, or generate CurveZMQ keys.

    tokcom-serve [--model DIR | --vqgan CKPT --maskgit CKPT] [--bind tcp://127.0.0.1:5555]
    tokcom-serve --gen-keys DIR NAME

See docs/service.md for the options and deployment notes, docs/protocol.md for the wire
protocol.  SIGINT / SIGTERM stop the server cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import threading
from pathlib import Path

import zmq

from .connections import raise_descriptor_limit
from .security import generate_keypair, is_loopback_endpoint, load_secret_key
from .validation import Limits

log = logging.getLogger("tokcom.service.serve")

DEFAULT_BIND = "tcp://127.0.0.1:5555"
# Compiled kernels kept per cache (one per matrix shape, ~0.3 MB each; default 1024).
PRIMITIVE_CACHE_CAPACITY = 256
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc mallopt parameters (malloc.h)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tokcom-serve",
                                description="TokCom model service (ZMQ): tokenize, "
                                            "detokenize and mask-and-predict.")
    p.add_argument("--gen-keys", nargs=2, metavar=("DIR", "NAME"),
                   help="write a CURVE key pair DIR/NAME.key (public) and DIR/NAME.key_secret, "
                        "then exit")
    m = p.add_argument_group("model")
    m.add_argument("--model", metavar="DIR",
                   help="bundle directory (config.json, tokenizer.pt, transformer.pt); "
                        "default: the bundled default model")
    m.add_argument("--vqgan", metavar="CKPT",
                   help="taming VQGAN f16/1024 checkpoint (with --maskgit instead of --model)")
    m.add_argument("--maskgit", metavar="CKPT",
                   help="Halton-MaskGIT v1.0 base checkpoint (with --vqgan)")
    m.add_argument("--trust-checkpoint-pickles", action="store_true",
                   help="load --vqgan/--maskgit files with torch.load(weights_only=False); "
                        "only for files you trust (they can run code)")
    m.add_argument("--model-id", help="model id reported by info (default: name@sha256)")
    m.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N")
    m.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads (default: torch's choice)")
    m.add_argument("--bf16", action="store_true",
                   help="run the transformer under bfloat16 autocast (no faster than the "
                        "float32 path on the reference CPU; predictions may differ slightly "
                        "from float32)")
    m.add_argument("--precision", default="float32", choices=("auto", "float32", "int8"),
                   help="transformer arithmetic on CPU (default float32): int8 (VNNI) "
                        "blocks, or auto: int8 only if a start-up self-check finds it close "
                        "to float32 and faster on this machine (logged; adds seconds to the "
                        "start-up)")
    m.add_argument("--steps", type=int, default=None, help="default decoding steps")
    m.add_argument("--schedule", default=None, help="default schedule (cosine, arccos)")
    m.add_argument("--temperature", type=float, default=None,
                   help="default temperature (0 = arg-max)")
    n = p.add_argument_group("network and limits")
    n.add_argument("--bind", default=DEFAULT_BIND, help=f"ZMQ endpoint (default {DEFAULT_BIND})")
    n.add_argument("--batch-window-ms", type=float, default=2.0,
                   help="how long a predict may wait for other clients' requests (default 2)")
    n.add_argument("--max-batch", type=int, default=16,
                   help="max frames per mask_predict call; 1 disables batching (default 16)")
    n.add_argument("--max-request-frames", type=int, default=Limits.max_request_frames)
    n.add_argument("--max-message-bytes", type=int, default=Limits.max_message_bytes)
    n.add_argument("--max-steps", type=int, default=Limits.max_steps)
    n.add_argument("--max-work", type=int, default=Limits.max_work,
                   help="predict work limit: frames x steps x grid positions per request "
                        f"(default {Limits.max_work})")
    n.add_argument("--max-queued-bytes", type=int, default=Limits.max_queued_bytes,
                   help="bytes of requests one connection may have waiting for replies "
                        f"(default {Limits.max_queued_bytes})")
    s = p.add_argument_group("security")
    s.add_argument("--curve-secret-key", metavar="FILE",
                   help="server key pair (NAME.key_secret from --gen-keys): enables CURVE")
    s.add_argument("--curve-clients", metavar="DIR",
                   help="directory of authorised client public keys (*.key); without it any "
                        "client key is accepted (encryption only)")
    s.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback --bind without CURVE")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return p


def _check_args(p: argparse.ArgumentParser, args) -> None:
    if (args.vqgan is None) != (args.maskgit is None):
        p.error("--vqgan and --maskgit go together")
    if args.vqgan is not None and args.model is not None:
        p.error("use either --model or --vqgan/--maskgit")
    if args.curve_clients and not args.curve_secret_key:
        p.error("--curve-clients needs --curve-secret-key")
    if args.curve_clients and not sorted(Path(args.curve_clients).glob("*.key")):
        # zmq.auth would only log this and then refuse every client.
        p.error(f"--curve-clients {args.curve_clients}: no *.key public key files there")
    if args.curve_secret_key and not zmq.has("curve"):
        p.error("this libzmq has no CURVE support")
    if not is_loopback_endpoint(args.bind) and not args.curve_secret_key and not args.insecure:
        p.error(f"refusing to listen on {args.bind} without CURVE: pass --curve-secret-key "
                f"(and --curve-clients), or --insecure")
    if args.max_batch < 1 or args.batch_window_ms < 0 or args.max_request_frames < 1:
        p.error("--max-batch and --max-request-frames must be >= 1, --batch-window-ms >= 0")
    if args.max_steps < 1 or args.max_message_bytes < 1024:
        p.error("--max-steps must be >= 1 and --max-message-bytes >= 1024")
    if args.max_work < 1 or args.max_queued_bytes < args.max_message_bytes:
        p.error("--max-work must be >= 1 and --max-queued-bytes >= --max-message-bytes")


class _StopFlag:
    """SIGINT/SIGTERM set the flag; the serve loop checks it at least every 100 ms."""

    def __init__(self):
        self.event = threading.Event()
        self._old = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # in-process use from a worker thread: the caller stops us
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handler)

    def _handler(self, signum, _frame) -> None:
        log.info("%s received, stopping", signal.Signals(signum).name)
        self.event.set()

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _bound_memory() -> None:
    """Allocator and kernel-cache settings that keep the server's RSS flat (docs/service.md,
    "Memory"); an operator's own environment settings win.  Must run before torch
    computes anything: the caches read their capacity once, at first use."""
    for var in ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "LRU_CACHE_CAPACITY"):
        os.environ.setdefault(var, str(PRIMITIVE_CACHE_CAPACITY))
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:  # glibc only
        libc = ctypes.CDLL(None)
        # A fixed threshold: blocks from 256 KiB up are mmap'ed and returned to the OS
        # when freed (glibc otherwise raises the threshold after each such free, and the
        # heap keeps what evicted kernels and odd-sized activations leave behind).
        libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024)
        libc.mallopt(M_ARENA_MAX, 2)  # two threads compute: loop and predict worker
    except (OSError, AttributeError):
        pass


def _load_engine(args):
    _bound_memory()
    import torch  # only the serving path needs torch; --gen-keys and --help do not

    from ..models import SCHEDULES, CheckpointError
    from .engine import ModelEngine

    if args.threads is not None:
        torch.set_num_threads(max(1, args.threads))
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {args.device}: CUDA is not available")
    defaults = {k: v for k, v in (("steps", args.steps), ("schedule", args.schedule),
                                  ("temperature", args.temperature)) if v is not None}
    if "schedule" in defaults and defaults["schedule"] not in SCHEDULES:
        raise ValueError(f"--schedule must be one of {SCHEDULES}")
    if not 1 <= defaults.get("steps", 1) <= args.max_steps:
        raise ValueError("--steps must be in [1, --max-steps]")
    try:
        if args.vqgan is not None:
            return ModelEngine.from_checkpoints(args.vqgan, args.maskgit, args.device,
                                                args.model_id, args.trust_checkpoint_pickles,
                                                defaults, args.bf16, args.precision)
        return ModelEngine.from_bundle(args.model, args.device, args.model_id, defaults,
                                       args.bf16, args.precision)
    except (OSError, CheckpointError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot load the model: {exc}") from exc


def main(argv=None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.gen_keys:
        try:
            pub, sec = generate_keypair(*args.gen_keys)
        except (OSError, ValueError, RuntimeError) as exc:
            log.error("%s", exc)
            return 1
        log.info("wrote %s (public: give to the other side) and %s (secret: keep)", pub, sec)
        return 0
    _check_args(p, args)
    if not is_loopback_endpoint(args.bind) and not args.curve_secret_key:
        log.warning("listening on %s without CURVE (--insecure): anyone who can reach it "
                    "can use the service and read its traffic", args.bind)

    raise_descriptor_limit()  # more client connections (logged by the server)
    stop = _StopFlag()
    stop.install()  # before the slow model load, so an early SIGTERM still exits 0
    try:
        curve = load_secret_key(args.curve_secret_key) if args.curve_secret_key else None
        engine = _load_engine(args)
        if stop.event.is_set():
            return 0
        from .server import ServiceServer

        limits = Limits(max_request_frames=args.max_request_frames,
                        max_message_bytes=args.max_message_bytes, max_steps=args.max_steps,
                        max_work=args.max_work, max_queued_bytes=args.max_queued_bytes)
        try:
            server = ServiceServer(engine, args.bind, batch_window_s=args.batch_window_ms / 1e3,
                                   max_batch=args.max_batch, limits=limits, curve_secret=curve,
                                   curve_clients_dir=args.curve_clients)
        except zmq.ZMQError as exc:
            log.error("cannot bind %s: %s", args.bind, exc)
            return 1
        try:
            server.run(stop.event.is_set)
        finally:
            server.close()
        return 0
    except (OSError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    finally:
        stop.restore()


if __name__ == "__main__":
    raise SystemExit(main())
