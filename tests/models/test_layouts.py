"""Full-size configs reproduce the public checkpoints' state-dict keys and shapes.

The reference lists in ``reference_layouts/`` were taken from the public code (see their
headers); the models are built on the ``meta`` device, so no memory is allocated.
"""

from pathlib import Path

import torch

from gnuradio.tokcom.models import (
    MaskTransformer,
    VQModel,
    halton_maskgit_v1_base,
    taming_vqgan_f16_1024,
)

REF = Path(__file__).resolve().parent / "reference_layouts"


def _reference(name: str) -> list[tuple[str, tuple[int, ...]]]:
    rows = []
    for line in (REF / name).read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, shape = line.split()
        rows.append((key, tuple(int(s) for s in shape.split("x"))))
    return rows


def _layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def test_taming_vqgan_f16_1024_layout():
    with torch.device("meta"):
        model = VQModel(taming_vqgan_f16_1024())
    ref = _reference("taming_vqgan_f16_1024.txt")
    assert dict(_layout(model)) == dict(ref)
    assert len(ref) == 343


def test_halton_maskgit_v1_base_layout():
    with torch.device("meta"):
        model = MaskTransformer(halton_maskgit_v1_base())
    ref = _reference("halton_maskgit_v1_base.txt")
    assert _layout(model) == ref  # same order too
    n_params = sum(p.numel() for p in model.parameters())
    assert round(n_params / 1e6, 3) == 174.161  # "174.161M for the transformer" (v1.0 README)


def test_vqgan_param_count_matches_public_readme():
    with torch.device("meta"):
        model = VQModel(taming_vqgan_f16_1024())
    # Halton-MaskGIT v1.0 README: "72.142M for VQGAN".
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 3) == 72.142
