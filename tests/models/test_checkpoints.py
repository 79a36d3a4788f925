"""Tiny checkpoints in the two public layouts load; strict errors name the key."""

import pytest
import torch

from gnuradio.tokcom.models import (
    TAMING_IGNORED_PREFIXES,
    CheckpointError,
    MaskGITConfig,
    MaskTransformer,
    VQConfig,
    VQModel,
    load_maskgit,
    load_vqgan,
)

VQ = VQConfig(in_channels=3, out_ch=3, resolution=16, ch=32, ch_mult=[1, 2], num_res_blocks=1,
              attn_resolutions=[8], z_channels=32, embed_dim=4, n_embed=16)
MG = MaskGITConfig(grid_h=4, grid_w=4, codebook_size=16, nclass=3, hidden_dim=32, depth=1,
                   heads=2, mlp_dim=64)


def _random_state(model):
    g = torch.Generator().manual_seed(0)
    return {k: torch.randn(v.shape, generator=g) for k, v in model.state_dict().items()}


def _lightning_ckpt(path, state):
    # What a taming/Lightning file holds: weights plus training-loss weights and metadata.
    sd = dict(state)
    sd["loss.logvar"] = torch.zeros(())
    sd["loss.discriminator.main.0.weight"] = torch.randn(8, 3, 4, 4)
    sd["loss.perceptual_loss.net.slice1.0.weight"] = torch.randn(8, 3, 3, 3)
    torch.save({"epoch": 3, "global_step": 100, "state_dict": sd}, path)


def _maskgit_ckpt(path, state):
    torch.save({"iter": 10, "global_epoch": 1, "model_state_dict": state,
                "optimizer_state_dict": {"state": {}, "param_groups": []}}, path)


def test_taming_layout_loads_and_ignores_only_loss(tmp_path):
    state = _random_state(VQModel(VQ))
    _lightning_ckpt(tmp_path / "last.ckpt", state)
    model = load_vqgan(tmp_path / "last.ckpt", VQ)
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert TAMING_IGNORED_PREFIXES == ("loss.",)


def test_maskgit_layout_loads(tmp_path):
    state = _random_state(MaskTransformer(MG))
    _maskgit_ckpt(tmp_path / "current.pth", state)
    model = load_maskgit(tmp_path / "current.pth", MG)
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k


@pytest.mark.parametrize("kind", ["vq", "maskgit"])
def test_missing_key_is_named(tmp_path, kind):
    if kind == "vq":
        state = _random_state(VQModel(VQ))
        del state["quantize.embedding.weight"]
        _lightning_ckpt(tmp_path / "c", state)
        with pytest.raises(CheckpointError, match=r"missing keys: quantize\.embedding\.weight"):
            load_vqgan(tmp_path / "c", VQ)
    else:
        state = _random_state(MaskTransformer(MG))
        del state["transformer.layers.0.0.fn.mha.in_proj_weight"]
        _maskgit_ckpt(tmp_path / "c", state)
        with pytest.raises(CheckpointError, match=r"missing keys: .*in_proj_weight"):
            load_maskgit(tmp_path / "c", MG)


def test_extra_key_is_named_and_not_silently_ignored(tmp_path):
    state = _random_state(VQModel(VQ))
    state["lossy.weight"] = torch.zeros(1)  # looks like loss.* but is not: must fail
    _lightning_ckpt(tmp_path / "c", state)
    with pytest.raises(CheckpointError, match=r"unexpected keys: lossy\.weight"):
        load_vqgan(tmp_path / "c", VQ)
    mstate = _random_state(MaskTransformer(MG))
    mstate["loss.logvar"] = torch.zeros(())  # the taming rule does not apply to MaskGIT
    _maskgit_ckpt(tmp_path / "m", mstate)
    with pytest.raises(CheckpointError, match=r"unexpected keys: loss\.logvar"):
        load_maskgit(tmp_path / "m", MG)


def test_wrong_shape_is_named(tmp_path):
    state = _random_state(MaskTransformer(MG))
    state["bias"] = torch.zeros(17, 99)
    _maskgit_ckpt(tmp_path / "c", state)
    with pytest.raises(CheckpointError, match=r"wrong shapes: bias: checkpoint \(17, 99\)"):
        load_maskgit(tmp_path / "c", MG)
    vstate = _random_state(VQModel(VQ))
    vstate["decoder.conv_out.weight"] = torch.zeros(1, 32, 3, 3)
    _lightning_ckpt(tmp_path / "v", vstate)
    with pytest.raises(CheckpointError, match=r"decoder\.conv_out\.weight"):
        load_vqgan(tmp_path / "v", VQ)


def test_wrong_top_level_layout(tmp_path):
    torch.save({"model_state_dict": {}}, tmp_path / "c")
    with pytest.raises(CheckpointError, match="'state_dict'"):
        load_vqgan(tmp_path / "c", VQ)
