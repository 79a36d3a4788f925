"""The bundled model loads from the package and predicts offline."""

import pytest
import torch

from gnuradio.tokcom.models import (
    crop_output,
    default_model_dir,
    load_bundle,
    mask_predict,
    to_model_input,
)

pytestmark = pytest.mark.skipif(not (default_model_dir() / "config.json").exists(),
                                reason="no bundled model in this tree")


def test_bundled_model_loads_and_predicts():
    torch.set_num_threads(1)
    b = load_bundle()
    cfg = b.config
    assert (cfg.transformer.grid_h, cfg.transformer.grid_w) == cfg.tokenizer.grid
    assert cfg.transformer.codebook_size == cfg.tokenizer.n_embed
    assert 0 <= cfg.fill_token < cfg.tokenizer.n_embed
    assert b.classifier is not None
    g = torch.Generator().manual_seed(0)
    img = torch.randint(0, 256, (2, cfg.geometry.image_size, cfg.geometry.image_size),
                        generator=g, dtype=torch.uint8)
    x = to_model_input(img, cfg.geometry)
    tokens = b.tokenizer.tokenize(x)
    assert tokens.shape == (2, *cfg.tokenizer.grid)
    mask = torch.rand(tokens.shape, generator=g) < 0.2
    filled, _ = mask_predict(b.transformer, tokens, mask, torch.tensor([3, -1]), steps=4)
    assert torch.equal(filled[~mask], tokens[~mask])
    out = crop_output(b.tokenizer.decode_tokens(filled), cfg.geometry)
    assert out.shape == (2, 1, cfg.geometry.image_size, cfg.geometry.image_size)


def test_bundle_size_budget():
    total = sum(p.stat().st_size for p in default_model_dir().iterdir() if p.is_file())
    assert total <= 20 * 1024 * 1024
