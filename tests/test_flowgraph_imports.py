"""The two processes stay apart (DESIGN.md): the flowgraph side never imports torch, not
at import and not while a flowgraph runs; the model service never imports GNU Radio and
runs on a host without it."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gnuradio.tokcom.models import default_model_dir
from gnuradio.tokcom.service.client import ServiceClient
from gnuradio.tokcom.service.launch import free_loopback_endpoint, start_service, stop_service

ROOT = Path(__file__).resolve().parent.parent

TORCH_MODULES = """
bad = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
print("torch modules:" + ",".join(bad))
"""

IMPORTS = """
import sys
sys.path.insert(0, {examples!r})
import gnuradio.tokcom
import gnuradio.tokcom.service.client
import loopback_sim, coded_link, frame_roundtrip
""" + TORCH_MODULES

RUN = """
import sys
from gnuradio.tokcom.loopback_flowgraph import LoopbackConfig, build_loopback
tb = build_loopback(LoopbackConfig(service={endpoint!r}, n_frames=2))
tb.run_to_completion()
assert tb.evaluator.totals()["predicted"] == 2
""" + TORCH_MODULES

# Makes every GNU Radio module unimportable, as on a host without GNU Radio (the
# gnuradio.tokcom package itself is ours and stays importable).
NO_GNURADIO = """
import importlib.abc, sys
class NoGnuRadio(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")
        if name == "pmt" or (top[0] == "gnuradio" and (len(top) < 2 or top[1] != "tokcom")) \\
                and name != "gnuradio":
            raise ImportError(f"no GNU Radio on this host ({{name}})")
        return None
sys.meta_path.insert(0, NoGnuRadio())
"""

SERVE = NO_GNURADIO + """
import runpy
sys.argv = ["tokcom-serve", "--bind", {endpoint!r}, "--threads", "1"]
runpy.run_module("gnuradio.tokcom.service.serve", run_name="__main__")
"""


def _run(code, timeout=120):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_flowgraph_side_does_not_import_torch():
    out = _run(IMPORTS.format(examples=str(ROOT / "examples")))
    assert out.splitlines()[-1] == "torch modules:", out[-300:]


@pytest.mark.skipif(not (default_model_dir() / "config.json").exists(),
                    reason="the bundled default model is not in this checkout")
def test_a_running_flowgraph_does_not_import_torch():
    proc, endpoint, _ = start_service(extra_args=["--threads", "1"])
    try:
        out = _run(RUN.format(endpoint=endpoint), timeout=300)
    finally:
        stop_service(proc)
    assert out.splitlines()[-1] == "torch modules:", out[-300:]


def test_the_blocker_really_hides_gnu_radio():
    code = NO_GNURADIO + """
for name in ("pmt", "gnuradio.gr", "gnuradio.tokcom.frame_pdu"):
    try:
        __import__(name)
    except ImportError:
        print(name)
"""
    assert _run(code).split() == ["pmt", "gnuradio.gr", "gnuradio.tokcom.frame_pdu"]


def test_service_imports_and_runs_without_gnu_radio():
    code = NO_GNURADIO + """
import gnuradio.tokcom.service.serve
bad = sorted(m for m in sys.modules if m == "pmt" or m.startswith("gnuradio.") and
             not m.startswith("gnuradio.tokcom"))
print(",".join(bad))
"""
    assert _run(code) == ""
    if not (default_model_dir() / "config.json").exists():
        pytest.skip("the bundled default model is not in this checkout")
    endpoint = free_loopback_endpoint()
    proc = subprocess.Popen([sys.executable, "-c", SERVE.format(endpoint=endpoint)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with ServiceClient(endpoint, timeout=60.0, retries=0) as client:
            info = client.info()
            tokens = np.zeros((info["grid_h"], info["grid_w"]), np.uint16)
            mask = np.zeros(tokens.shape, bool)
            mask[0, :4] = True
            result = client.predict(tokens, mask)
        assert result.tokens.shape == tokens.shape
        assert (result.tokens[~mask] == 0).all()
    finally:
        stop_service(proc)
        assert proc.returncode == 0, proc.stderr.read()[-3000:]
