"""The flowgraph process never imports torch (DESIGN.md): not the module, not the
service client, not the generated examples."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys
sys.path.insert(0, {examples!r})
import gnuradio.tokcom
import gnuradio.tokcom.service.client
import loopback_sim, coded_link, frame_roundtrip
bad = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
print(",".join(bad))
"""


def test_flowgraph_side_does_not_import_torch():
    code = CHECK.format(examples=str(ROOT / "examples"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"torch modules imported: {result.stdout[:200]}"
