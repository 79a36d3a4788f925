"""The installed tokcom-ota-sim console command, as a new user runs it (issue #11's "Done
when"): 20 frames through carrier and sample-rate offset, short multipath and a small gain
decode 20/20 with PER <= 0.02, and the recorded channel output decodes the same frames."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

DONE_WHEN = ["--frames", "20", "--esn0", "14", "--cfo", "0.008", "--sro-ppm", "20",
             "--multipath", "short", "--amplitude", "0.05", "--json"]


def ota_sim(*args):
    exe = Path(sys.executable).parent / "tokcom-ota-sim"
    exe = str(exe) if exe.exists() else shutil.which("tokcom-ota-sim")
    assert exe, "tokcom-ota-sim is not installed (run ./run.sh test)"
    proc = subprocess.run([sys.executable, exe, *args], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_done_when_command_and_file_round_trip(tmp_path):
    iq = str(tmp_path / "channel.iq")
    live = ota_sim(*DONE_WHEN, "--iq-out", iq)
    assert live["frames_decoded"] == 20 and live["frames_sent"] == 20
    assert live["per"] <= 0.02
    assert live["false_frames"] == 0 and live["label_errors"] == 0
    replay = ota_sim(*DONE_WHEN, "--iq-in", iq)
    assert replay["decoded_frame_ids"] == live["decoded_frame_ids"] == list(range(20))
    assert replay["packets_ok"] == live["packets_ok"]
    assert replay["per"] <= 0.02


def test_noise_only_and_ideal_sync_report_the_json_fields():
    noise = ota_sim("--noise-only", "--samples", "200000", "--json")
    assert noise["frames_decoded"] == 0 and noise["false_frames"] == 0
    ideal = ota_sim("--ideal-sync", "--frames", "4", "--esn0", "14", "--json")
    for key in ("frames_sent", "frames_decoded", "header_failures", "false_frames",
                "packets_total", "packets_ok", "per"):
        assert key in ideal
    assert ideal["packets_total"] == 4 * 64
