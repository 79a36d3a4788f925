"""Start tokcom-serve as a child process on loopback and wait until it answers.

Torch-free (the service runs in the child), for the demo and the end-to-end tests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from .client import ServiceClient


def free_loopback_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def start_service(endpoint: str | None = None, *, model: str | None = None,
                  extra_args=(), log=subprocess.DEVNULL, env=None, wait_s: float = 120.0):
    """Starts ``python -m gnuradio.tokcom.service.serve`` and returns (process, endpoint,
    info) once ``info`` is answered. Raises RuntimeError (after killing the child) if it
    exits or does not answer within ``wait_s`` seconds."""
    endpoint = endpoint or free_loopback_endpoint()
    cmd = [sys.executable, "-m", "gnuradio.tokcom.service.serve", "--bind", endpoint]
    if model:
        cmd += ["--model", model]
    proc = subprocess.Popen(cmd + list(extra_args), stdout=log, stderr=subprocess.STDOUT,
                            env=env)
    with ServiceClient(endpoint, timeout=2.0, retries=0) as client:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"tokcom-serve exited with status {proc.returncode}")
            try:
                return proc, endpoint, client.info()
            except Exception:  # noqa: BLE001  (still loading)
                time.sleep(0.5)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"tokcom-serve did not answer within {wait_s:.0f} s")


def stop_service(proc: subprocess.Popen, wait_s: float = 20.0) -> None:
    """SIGTERM (tokcom-serve answers what it accepted, then exits); kill after wait_s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
