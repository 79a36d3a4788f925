"""The GRC block files: valid YAML, documented, installed, and making real blocks."""

import re
from pathlib import Path

import pmt
import pytest
import yaml
from gnuradio import blocks, gr, tokcom

ROOT = Path(__file__).resolve().parent.parent

BLOCK_FILES = sorted((ROOT / "grc").glob("*.block.yml"))


@pytest.mark.parametrize("path", BLOCK_FILES, ids=lambda p: p.name)
def test_block_yml_is_documented_and_installed(path):
    block = yaml.safe_load(path.read_text())
    assert block["id"] == path.name.removesuffix(".block.yml")
    assert block["category"] == "[TokCom]"
    assert len(block["documentation"]) > 300, "document ports, parameters and an example"
    for param in block.get("parameters", []):
        assert param["label"] and "default" in param
    assert path.name in (ROOT / "grc" / "CMakeLists.txt").read_text()
    tree = (ROOT / "grc" / "tokcom.tree.yml").read_text()
    assert block["id"] in tree


@pytest.mark.parametrize("path", BLOCK_FILES, ids=lambda p: p.name)
def test_make_template_builds_the_block_with_defaults(path):
    block = yaml.safe_load(path.read_text())
    values = {}
    for param in block.get("parameters", []):
        default = str(param["default"])
        # string parameters are plain text in the yml and quoted by GRC when generating
        values[param["id"]] = repr(default) if param["dtype"] == "string" else default
    make = block["templates"]["make"]
    if "gui_hint()" in make:  # a Qt GUI block: its constructor, then lines placing its widget
        make = make.splitlines()[0]  # (they need a QApplication; the GUI test runs them)
    make = re.sub(r"\$\{\s*(\w+)\s*\}", lambda m: values[m.group(1)], make)
    assert make.startswith("tokcom.")
    instance = eval(make, {"tokcom": tokcom})  # noqa: S307  (our own template)
    ports_in = {p["id"] for p in block.get("inputs", []) if p.get("domain") == "message"}
    ports_out = {p["id"] for p in block.get("outputs", []) if p.get("domain") == "message"}
    # msg_connect refuses a port the block (or hier block) does not have.
    tb = gr.top_block()
    for port in ports_in:
        tb.msg_connect(blocks.message_strobe(pmt.PMT_T, 1000), "strobe", instance, port)
    for port in ports_out:
        tb.msg_connect(instance, port, blocks.message_debug(), "store")
