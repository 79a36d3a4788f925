"""Every example .grc compiles with grcc into the committed .py, and the examples run."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

EXAMPLES = sorted((ROOT / "examples").glob("*.grc"))


def connections_sorted(text):
    """grcc sorts connections by (kind, source block, sink block) and leaves two between
    the same pair of blocks in set order, which differs from run to run: compare those
    lines as a sorted list."""
    lines = text.splitlines()
    is_connect = [".connect((" in line or ".msg_connect((" in line for line in lines]
    return ([line for line, c in zip(lines, is_connect, strict=True) if not c],
            sorted(line for line, c in zip(lines, is_connect, strict=True) if c))


@pytest.mark.parametrize("grc", EXAMPLES, ids=lambda p: p.name)
def test_grcc_compiles_to_the_committed_flowgraph(grc, grc_env, tmp_path):
    result = subprocess.run(["grcc", str(grc), "-o", str(tmp_path)], env=grc_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    generated = (tmp_path / grc.with_suffix(".py").name).read_text()
    # grcc leaves out blocks it cannot load without failing: check each one is there.
    for block in yaml.safe_load(grc.read_text())["blocks"]:
        if block["id"] not in ("parameter", "variable", "snippet"):
            assert f"self.{block['name']} = " in generated, f"{block['name']} missing"
    committed = grc.with_suffix(".py").read_text()
    assert connections_sorted(generated) == connections_sorted(committed), \
        f"regenerate {grc.name} with grcc (see examples/README.md)"


def test_frame_roundtrip_runs_headless(grc_env):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "frame_roundtrip.py"), "-n", "3", "-p", "0.25"],
        env=grc_env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr  # where GNU Radio logs depends on its config
    lines = [line for line in output.splitlines() if "token_error_meter" in line]
    assert len(lines) == 3, output
    assert all(", 0 wrong," in line for line in lines)


def test_coded_link_example_prints_per_and_ter(grc_env):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "coded_link.py"), "-e", "6", "-n", "20"],
        env=grc_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("Es/N0"))
    words = line.split()
    fields = dict(zip(words[::2], words[1::2], strict=True))
    assert int(fields["packets"]) == 20 * 64 and int(fields["frames"]) == 20
    # PER at 6 dB is 0.152 [0.147, 0.157] (docs/link.md); 1280 packets: +-0.03 at 3 sd.
    assert 0.10 < float(fields["PER"]) < 0.21, line
    assert abs(float(fields["TER"]) - float(fields["PER"])) < 1e-9
