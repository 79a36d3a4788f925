"""ModelEngine in-process: checkpoint loading (RGB, no padding) and strictness."""

import numpy as np
import pytest
import torch

from gnuradio.tokcom.models import MaskGITConfig, MaskTransformer, VQConfig, VQModel
from gnuradio.tokcom.models.checkpoints import save_maskgit, save_vqgan
from gnuradio.tokcom.service import engine as engine_mod
from gnuradio.tokcom.service.engine import ModelEngine
from gnuradio.tokcom.service.validation import Limits

# Small stand-ins for the paper-size configs: same code path (3 channels, no padding).
SMALL_VQ = VQConfig(in_channels=3, out_ch=3, resolution=32, ch=32, ch_mult=[1, 2, 2],
                    num_res_blocks=1, attn_resolutions=[], z_channels=32, embed_dim=8,
                    n_embed=64)
SMALL_TR = MaskGITConfig(grid_h=8, grid_w=8, codebook_size=64, nclass=5, hidden_dim=32,
                         depth=1, heads=2, mlp_dim=64, dropout=0.0)


@pytest.fixture
def small_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_mod, "taming_vqgan_f16_1024", lambda: SMALL_VQ)
    monkeypatch.setattr(engine_mod, "halton_maskgit_v1_base", lambda: SMALL_TR)
    torch.manual_seed(0)
    vq, tr = tmp_path / "vq.ckpt", tmp_path / "tr.pth"
    save_vqgan(VQModel(SMALL_VQ), vq, global_step=1)
    save_maskgit(MaskTransformer(SMALL_TR), tr, iter=1)
    return vq, tr


def test_checkpoints_serve_rgb_images(small_checkpoints):
    eng = ModelEngine.from_checkpoints(*small_checkpoints)
    spec = eng.spec(Limits())
    assert (spec.image_height, spec.image_width, spec.image_channels) == (32, 32, 3)
    assert (spec.grid_h, spec.grid_w, spec.codebook_size, spec.num_classes) == (8, 8, 64, 5)
    assert spec.model_id.startswith("vqgan-maskgit@")
    g = np.random.default_rng(0)
    images = g.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    tokens = eng.tokenize(images)
    assert tokens.shape == (2, 8, 8) and tokens.dtype == np.uint16
    out = eng.detokenize(tokens)
    assert out.shape == (2, 32, 32, 3) and out.dtype == np.uint8
    mask = g.random(tokens.shape) < 0.5
    filled, conf = eng.predict(tokens, mask, np.array([4, -1], np.int32), 2, "cosine", 0.0, 0)
    assert np.array_equal(filled[~mask], tokens[~mask]) and conf.dtype == np.float32


def test_mismatched_checkpoint_is_refused(small_checkpoints, monkeypatch):
    from gnuradio.tokcom.models import CheckpointError

    vq, tr = small_checkpoints
    with pytest.raises(CheckpointError):
        ModelEngine.from_checkpoints(tr, tr)  # a transformer file is no tokenizer
    monkeypatch.setattr(engine_mod, "halton_maskgit_v1_base",
                        lambda: MaskGITConfig(**{**SMALL_TR.to_dict(), "hidden_dim": 64}))
    with pytest.raises(CheckpointError):
        ModelEngine.from_checkpoints(vq, tr)


def test_bundle_engine_matches_mask_predict(tiny_bundle):
    from gnuradio.tokcom.models import load_bundle, mask_predict

    eng = ModelEngine.from_bundle(tiny_bundle)
    b = load_bundle(tiny_bundle, with_classifier=False)
    g = np.random.default_rng(1)
    tokens = g.integers(0, 64, (3, 8, 8)).astype(np.uint16)
    mask = g.random(tokens.shape) < 0.4
    filled, conf = eng.predict(tokens, mask, None, 4, "arccos", 0.0, 0)
    ref, ref_conf = mask_predict(b.transformer, torch.from_numpy(tokens.astype(np.int64)),
                                 torch.from_numpy(mask), None, steps=4)
    assert np.array_equal(filled, ref.numpy()) and np.allclose(conf, ref_conf.numpy())


def test_bf16_autocast_keeps_received_tokens(tiny_bundle):
    eng = ModelEngine.from_bundle(tiny_bundle, bf16=True)
    g = np.random.default_rng(2)
    tokens = g.integers(0, 64, (2, 8, 8)).astype(np.uint16)
    mask = g.random(tokens.shape) < 0.5
    filled, conf = eng.predict(tokens, mask, np.array([1, -1], np.int32), 4, "arccos", 0.0, 0)
    assert np.array_equal(filled[~mask], tokens[~mask]) and filled.max() < 64
    assert conf.dtype == np.float32 and np.all(conf[~mask] == 1.0)
