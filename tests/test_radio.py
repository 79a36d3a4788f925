"""Radio front ends (gnuradio.tokcom.radio) and the over-the-air kit tokcom-tx / tokcom-rx.

No test makes a real gr-uhd block: UHD front ends are built on FakeUHD, and refused args
must be refused before gr-uhd would be touched. The two-process tests run the installed
console commands on 127.0.0.1 with a model service started here; runs end on counts."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from gnuradio.tokcom.link_sim import packet_pdu
from gnuradio.tokcom.message_collector import post, post_done
from gnuradio.tokcom.models import default_model_dir
from gnuradio.tokcom.ota_tx import ota_tx
from gnuradio.tokcom.radio import (
    FakeUHD,
    RadioError,
    RadioSpec,
    check_uhd_args,
    make_sink,
    make_source,
    parse_radio,
    read_sigmf_meta,
    sigmf_paths,
)
from gnuradio.tokcom.service.launch import start_service, stop_service

ZMQ_PORT = 5650  # this suite's ports: 5650-5699

needs_model = pytest.mark.skipif(not (default_model_dir() / "config.json").exists(),
                                 reason="the bundled default model is not in this checkout")


@pytest.mark.parametrize("args", ["", " ", ",", "serial=30F1234", "type=x300", "type=usrp2",
                                  "name=lab", "addr=192.168.10.255", "addr=255.255.255.255",
                                  "addr=0.0.0.0", "addr=239.1.1.1", "addr=usrp.local",
                                  "type=b200,mgmt_addr=10.0.0.255", "addr"])
def test_factory_refuses_empty_or_broadcast_capable_uhd_args(args):
    with pytest.raises(RadioError, match="uhd:"):
        check_uhd_args(args)
    uhd = FakeUHD()
    with pytest.raises(RadioError):
        make_source(RadioSpec("uhd", args), 1e6, 915e6, uhd=uhd)
    assert uhd.made == []  # refused before any block was asked for


def test_parse_radio_checks_uhd_args_first_and_knows_the_kinds():
    with pytest.raises(RadioError, match="no device args"):
        parse_radio("uhd:")
    with pytest.raises(RadioError, match="expected uhd"):
        parse_radio("soapy:driver=rtlsdr")
    with pytest.raises(RadioError, match="endpoint"):
        parse_radio("zmq:127.0.0.1:5601")
    assert parse_radio("uhd:type=b200,serial=30F1234").arg == "type=b200,serial=30F1234"
    assert parse_radio("zmq:tcp://127.0.0.1:5601").kind == "zmq"
    assert parse_radio("file:/tmp/x.sigmf-data").kind == "file"
    assert check_uhd_args("addr=192.168.10.2") == {"addr": "192.168.10.2"}
    assert check_uhd_args("resource=RIO0,type=x300") == {"resource": "RIO0", "type": "x300"}


def test_fake_usrp_records_settings_and_burst_tags():
    uhd = FakeUHD()
    tx = make_sink(parse_radio("uhd:type=b200,serial=F00"), 2e6, 2.45e9, 55.0, "TX/RX",
                   uhd=uhd)
    assert tx.block.device_addr == "type=b200,serial=F00"
    assert tx.block.settings() == {"set_samp_rate": 2e6, "set_center_freq": 2.45e9,
                                   "set_gain": 55.0, "set_antenna": "TX/RX"}
    assert tx.block.stream_args.cpu_format == "fc32" and tx.block.tsb_tag_name == ""
    # tokcom-tx's burst chain into the fake sink: tx_sob / tx_eob around each burst
    tb = gr.top_block()
    burst_tx = ota_tx(40)
    tb.connect(burst_tx, tx.block)
    # the packets, then "done": the run ends by itself once the burst has gone out
    post(burst_tx.link.source, "in", (packet_pdu(3, i, np.zeros(40, np.uint8))
                                      for i in range(64)))
    post_done(burst_tx.link.source)
    tb.run()
    n = burst_tx.format.burst_samples(64)
    keys = [(pmt.symbol_to_string(t.key), t.offset) for t in tx.block.tags()
            if pmt.symbol_to_string(t.key).startswith("tx_")]
    assert keys == [("tx_sob", 0), ("tx_eob", n - 1)]
    assert len(tx.block.samples()) == n

    rx = make_source(parse_radio("uhd:addr=192.168.10.2"), 1e6, 915e6, 20.0, uhd=FakeUHD(
        rx_samples=np.ones(100, np.complex64)))
    assert rx.block.settings()["set_gain"] == 20.0 and "set_antenna" not in rx.block.settings()
    tb = gr.top_block()
    out = blocks.vector_sink_c()
    tb.connect(rx.block, out)
    tb.run()
    assert len(out.data()) == 100


def test_sigmf_recorder_writes_data_and_meta(tmp_path):
    path = tmp_path / "rec.sigmf-data"
    sink = make_sink(parse_radio(f"file:{path}"), 1e6, 915e6)
    samples = (np.arange(1000) * (1 + 1j)).astype(np.complex64)
    tb = gr.top_block()
    tb.connect(blocks.vector_source_c(samples.tolist()), sink.block)
    tb.run()
    meta = json.loads(sigmf_paths(path)[1].read_text())
    assert meta["global"]["core:datatype"] == "cf32_le"
    assert meta["global"]["core:sample_rate"] == 1e6
    assert meta["captures"][0]["core:frequency"] == 915e6
    assert meta["captures"][0]["core:datetime"].endswith("Z")
    assert read_sigmf_meta(path)["sample_rate"] == 1e6
    np.testing.assert_array_equal(np.fromfile(path, np.complex64), samples)
    src = make_source(parse_radio(f"file:{path}"), 0, 0)
    assert src.finite and src.n_samples == 1000 and src.frequency == 915e6


# -- the two console commands, as processes -----------------------------------------------

def _exe(name):
    exe = Path(sys.executable).parent / name
    exe = str(exe) if exe.exists() else shutil.which(name)
    assert exe, f"{name} is not installed (run ./run.sh test)"
    return [sys.executable, exe]


def test_rx_refuses_empty_uhd_args_at_once():
    proc = subprocess.run([*_exe("tokcom-rx"), "--radio", "uhd:"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0
    assert "no device args" in proc.stderr and "serial=" in proc.stderr


@pytest.fixture(scope="module")
def service():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc, endpoint, _ = start_service(f"tcp://127.0.0.1:{ZMQ_PORT + 1}",
                                      extra_args=["--threads", "1"], env=env)
    yield endpoint
    stop_service(proc)


def _json_last(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out[-2000:] + err[-3000:]
    return json.loads(out.strip().splitlines()[-1]), err


@needs_model
def test_two_processes_over_zmq_deliver_the_images(service, tmp_path):
    n = 4
    endpoint = f"tcp://127.0.0.1:{ZMQ_PORT + 2}"
    rec = tmp_path / "rx.sigmf-data"
    rx = subprocess.Popen([*_exe("tokcom-rx"), "--radio", f"zmq:{endpoint}", "--frames",
                           str(n), "--json", "--service", service, "--references", str(n),
                           "--record", str(rec)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tx = subprocess.run([*_exe("tokcom-tx"), "--radio", f"zmq:{endpoint}", "--images", str(n),
                         "--service", service, "--esn0", "12", "--cfo", "0.002"],
                        capture_output=True, text=True, timeout=120)
    assert tx.returncode == 0, tx.stderr[-3000:]
    result, err = _json_last(rx)
    assert result["frames_decoded"] == n, err[-3000:]
    assert result["bursts"] == n and result["packets_total"] == n * 64
    assert result["per"] < 0.05 and result["ter_before"] is not None
    assert result["frames_without_reference"] == 0
    assert "bursts" in err  # status lines
    # the RX's recording replays to the same frames and packets
    replay = subprocess.Popen([*_exe("tokcom-rx"), "--radio", f"file:{rec}", "--json",
                               "--service", service, "--references", str(n),
                               "--no-pictures"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    again, err = _json_last(replay)
    assert again["frames_decoded"] == n and again["packets_ok"] == result["packets_ok"], err


@needs_model
def test_sigmf_written_by_tx_replays_at_rx(service, tmp_path):
    rec = tmp_path / "tx.sigmf-data"
    tx = subprocess.run([*_exe("tokcom-tx"), "--radio", f"file:{rec}", "--images", "3",
                         "--first-image", "20", "--service", service, "--esn0", "14",
                         "--rate", "2e6", "--freq", "2.45e9"],
                        capture_output=True, text=True, timeout=120)
    assert tx.returncode == 0, tx.stderr[-3000:]
    assert read_sigmf_meta(rec)["sample_rate"] == 2e6
    rx = subprocess.Popen([*_exe("tokcom-rx"), "--radio", f"file:{rec}", "--json",
                           "--service", service, "--first-image", "20", "--references", "3"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result, err = _json_last(rx)
    assert result["frames_decoded"] == 3 and result["bursts"] == 3, err[-3000:]
    assert result["sample_rate"] == 2e6 and result["frequency"] == 2.45e9
    assert result["frames_without_reference"] == 0 and result["per"] < 0.05


@needs_model
def test_grc_examples_ota_tx_and_ota_rx_over_zmq(service, grc_env):
    """examples/ota_tx.py and ota_rx.py (grcc output) deliver 3 images to each other."""
    root = Path(__file__).resolve().parent.parent / "examples"
    radio = f"zmq:tcp://127.0.0.1:{ZMQ_PORT + 3}"
    rx = subprocess.Popen([sys.executable, str(root / "ota_rx.py"), "-r", radio, "-n", "3",
                           "-a", service], env=grc_env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    tx = subprocess.run([sys.executable, str(root / "ota_tx.py"), "-r", radio, "-n", "3",
                         "-a", service], env=grc_env, capture_output=True, text=True,
                        timeout=120)
    assert tx.returncode == 0 and "3 bursts sent" in tx.stdout, tx.stderr[-3000:]
    out, err = rx.communicate(timeout=120)
    assert rx.returncode == 0, err[-3000:]
    assert "bursts 3  header failures 0  frames 3" in out, out + err[-3000:]


def test_tokcom_tx_bursts_into_a_fake_usrp_scaled_and_tagged():
    """tokcom-tx's flowgraph on uhd: (FakeUHD): one tx_sob/tx_eob pair per frame, no gap,
    samples scaled below the fc32 full scale, the USRP tuned as asked."""
    from argparse import Namespace

    from gnuradio.tokcom.frame_pdu import Frame, make_frame_pdu
    from gnuradio.tokcom.link_config import LinkConfig
    from gnuradio.tokcom.radio.tokcom_tx import tokcom_tx

    uhd = FakeUHD()
    sink = make_sink(parse_radio("uhd:type=b200,serial=F00"), 1e6, 915e6, 50.0, "TX/RX",
                     uhd=uhd)
    args = Namespace(sps=2, rolloff=0.35, esn0=None, scale=0.7)
    tb = tokcom_tx(LinkConfig(), sink.block, args, continuous=False)
    rng = np.random.default_rng(0)
    post(tb.packetizer, "in", (make_frame_pdu(Frame(
        rng.integers(0, 1024, (16, 16)).astype(np.uint16), i, 1024, label=i)) for i in range(2)))
    post_done(tb.packetizer)  # the run ends by itself once both bursts have gone out
    tb.run()
    assert tb.sent_everything(2)
    n = tb.tx.format.burst_samples(64)
    tags = [(pmt.symbol_to_string(t.key), t.offset) for t in sink.block.tags()
            if pmt.symbol_to_string(t.key).startswith("tx_")]
    assert tags == [("tx_sob", 0), ("tx_eob", n - 1), ("tx_sob", n), ("tx_eob", 2 * n - 1)]
    x = sink.block.samples()
    assert len(x) == 2 * n and 0.9 < np.abs(x).max() < 1.0
    assert sink.block.settings() == {"set_samp_rate": 1e6, "set_center_freq": 915e6,
                                     "set_gain": 50.0, "set_antenna": "TX/RX"}


def test_file_source_refuses_unreadable_recordings(tmp_path):
    bad = tmp_path / "bad.sigmf-data"
    bad.write_bytes(np.zeros(16, np.complex64).tobytes())
    with pytest.raises(RadioError, match="sigmf-meta"):  # no meta beside the data
        make_source(parse_radio(f"file:{bad}"), 1e6, 0)
    bad.with_suffix(".sigmf-meta").write_text(
        json.dumps({"global": {"core:datatype": "ci16_le", "core:sample_rate": 1e6}}))
    with pytest.raises(RadioError, match="cf32_le"):
        make_source(parse_radio(f"file:{bad}"), 1e6, 0)
    empty = tmp_path / "empty.cf32"
    empty.write_bytes(b"1234")
    with pytest.raises(RadioError, match="no complete"):
        make_source(parse_radio(f"file:{empty}"), 1e6, 0)
