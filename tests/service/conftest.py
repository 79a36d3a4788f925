"""Fixtures for the model-service tests: a tiny random bundle and real server processes.

Servers bind 127.0.0.1 on a free port, use one torch thread, and are stopped (SIGTERM,
then SIGKILL) by the fixture that started them; ``server_main.py`` also caps their life.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from svc_wire import MAX_MESSAGE_BYTES, MAX_REQUEST_FRAMES, MAX_WORK

from gnuradio.tokcom.service import ServiceClient, ServiceTimeout

HERE = Path(__file__).resolve().parent
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """One ``tokcom-serve`` child process; only this object signals it, by its PID."""

    def __init__(self, model_dir, port: int, log_path: Path, extra=(), nofile: int | None = None):
        self.port = port
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.log_path = log_path
        self.args = [sys.executable, str(HERE / "server_main.py"), "--model", str(model_dir),
                     "--bind", self.endpoint, "--threads", "1", *extra]
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self._log = open(log_path, "ab")  # closed in stop()
        def limit_files():  # in the child: a small descriptor limit, for the limit tests
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env, preexec_fn=limit_files if nofile else None)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, **client_kwargs) -> dict:
        """Poll ``info`` until the server answers (bounded)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        with ServiceClient(self.endpoint, timeout=0.5, retries=0, **client_kwargs) as c:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}:\n"
                                       + self.log_text())
                try:
                    return c.info()
                except ServiceTimeout:
                    continue
        raise RuntimeError("server not ready in time:\n" + self.log_text())

    def send_signal(self, sig) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM) -> int:
        self.send_signal(sig)
        try:
            rc = self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.send_signal(signal.SIGKILL)
            rc = self.proc.wait(STOP_TIMEOUT_S)
        self._log.close()
        return rc


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    from gnuradio.tokcom.service.random_bundle import write_random_bundle

    return write_random_bundle(tmp_path_factory.mktemp("tiny_bundle"), "tiny")


@pytest.fixture
def start_server(tiny_bundle, tmp_path):
    """Factory: start_server(port=None, extra=()) -> ready ServerProcess; all stopped after."""
    started: list[ServerProcess] = []

    def start(port: int | None = None, extra=(), ready_kwargs=None, wait=True, nofile=None):
        n = len(started)
        srv = ServerProcess(tiny_bundle, port or free_port(), tmp_path / f"server{n}.log",
                            extra, nofile)
        started.append(srv)
        if wait:
            srv.wait_ready(**(ready_kwargs or {}))
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="package")
def server(tiny_bundle, tmp_path_factory):
    """The shared server of tests/service (batching on, small limits); must exit 0 on
    SIGTERM. Package scope: it stops when the service tests end, not with the session."""
    log_dir = tmp_path_factory.mktemp("shared_server")
    srv = ServerProcess(tiny_bundle, free_port(), log_dir / "server.log",
                        ["--max-message-bytes", str(MAX_MESSAGE_BYTES),
                         "--max-request-frames", str(MAX_REQUEST_FRAMES),
                         "--max-work", str(MAX_WORK),
                         "--batch-window-ms", "2", "--max-batch", "16"])
    try:
        srv.info = srv.wait_ready()
        yield srv
    finally:
        rc = srv.stop()
    assert rc == 0, srv.log_text()


@pytest.fixture
def client(server):
    with ServiceClient(server.endpoint, timeout=10.0, retries=1) as c:
        yield c
