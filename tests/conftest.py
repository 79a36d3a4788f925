"""Shared fixtures for the end-to-end tests (they use the installed module in the venv)."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def grc_env():
    """Environment in which grcc and generated flowgraphs find the installed blocks."""
    env = dict(os.environ)
    env["GRC_BLOCKS_PATH"] = str(Path(sys.prefix) / "share" / "gnuradio" / "grc" / "blocks")
    return env
