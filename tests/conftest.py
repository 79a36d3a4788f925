"""Shared fixtures for the end-to-end tests (they use the installed module in the venv)."""

import os
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def grc_env():
    """Environment in which grcc and generated flowgraphs find the installed blocks."""
    env = dict(os.environ)
    env["GRC_BLOCKS_PATH"] = str(Path(sys.prefix) / "share" / "gnuradio" / "grc" / "blocks")
    # grcc runs on /usr/bin/python3; it evaluates expressions such as tokcom.LinkConfig()
    env["PYTHONPATH"] = os.pathsep.join(
        [sysconfig.get_paths()["purelib"], *filter(None, [env.get("PYTHONPATH")])])
    return env
