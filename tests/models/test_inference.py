"""The serving fast paths give the results of the straightforward computation.

``mask_predict`` evaluates the output head only at still-masked positions, and
``InferenceTransformer`` skips the last block's work at the other positions and uses other
kernels.  These tests compare both with a reference written the plain way (full forward
pass, softmax over all positions, the pre-optimisation mask_predict loop) on random-weight
models, so an optimisation that changed a result fails here.
"""

import pytest
import torch

from gnuradio.tokcom.models import (
    InferenceTransformer,
    MaskGITConfig,
    MaskTransformer,
    mask_predict,
)
from gnuradio.tokcom.models.decoding import remaining_fraction

CFG = MaskGITConfig(grid_h=6, grid_w=5, codebook_size=40, nclass=3, hidden_dim=32, depth=2,
                    heads=4, mlp_dim=64)


def _model(seed: int, cfg: MaskGITConfig = CFG) -> MaskTransformer:
    torch.manual_seed(seed)
    m = MaskTransformer(cfg)
    with torch.no_grad():  # random, non-trivial logits (the init bias is all zeros)
        m.bias.normal_(0, 2.0)
        m.pos_emb.normal_(0, 0.5)
    return m.eval()


@torch.no_grad()
def reference_mask_predict(model, tokens, mask, labels, steps, schedule):
    """mask_predict before the optimisations (arg-max): logits at every position."""
    cfg = model.config
    b, n = tokens.shape[0], cfg.grid_h * cfg.grid_w
    labels_t = torch.full((b,), -1) if labels is None else labels
    flat_tok = tokens.reshape(b, n)
    still = mask.reshape(b, n).clone()
    current = torch.where(still, torch.full_like(flat_tok, cfg.mask_id), flat_tok)
    conf_out = torch.ones(b, n)
    n_masked = still.sum(1)
    for step in range(1, steps + 1):
        if not bool(still.any()):
            break
        logits = model(current.view(b, cfg.grid_h, cfg.grid_w), labels_t)
        probs = torch.softmax(logits[..., : cfg.codebook_size].float(), dim=-1)
        pred = probs.argmax(-1)
        conf = probs.gather(-1, pred.unsqueeze(-1)).squeeze(-1)
        frac = remaining_fraction(torch.tensor(step / steps), schedule).item()
        keep = torch.floor(n_masked.float() * frac).long()
        if step == steps:
            keep.zero_()
        n_still = still.sum(1)
        n_commit = torch.minimum(torch.clamp(n_still - keep, min=1), n_still)
        ranked = torch.where(still, conf, torch.full_like(conf, -1.0))
        order = torch.argsort(ranked, dim=1, descending=True, stable=True)
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(n).expand(b, n))
        commit = still & (rank < n_commit.unsqueeze(1))
        current = torch.where(commit, pred, current)
        conf_out = torch.where(commit, conf, conf_out)
        still &= ~commit
    filled = torch.where(mask.reshape(b, n), current, flat_tok)
    return filled.view_as(tokens), conf_out.view_as(tokens.float())


def _inputs(seed, batch, p):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, CFG.codebook_size, (batch, CFG.grid_h, CFG.grid_w), generator=g)
    # Per-image loss rates differ, so batched rows need padding in mask_predict.
    rates = torch.linspace(0, p, batch).view(batch, 1, 1) if batch > 1 else torch.tensor(p)
    mask = torch.rand(batch, CFG.grid_h, CFG.grid_w, generator=g) < rates
    labels = torch.randint(-1, CFG.nclass, (batch,), generator=g)
    return tokens, mask, labels


@pytest.mark.parametrize("seed,batch,p,steps,schedule", [
    (0, 1, 0.2, 4, "arccos"), (1, 1, 0.9, 8, "cosine"), (2, 5, 0.6, 4, "arccos"),
    (3, 3, 1.0, 3, "cosine"), (4, 4, 0.05, 2, "arccos"), (5, 2, 0.5, 30, "arccos"),
])
def test_head_at_masked_positions_only_is_exact(seed, batch, p, steps, schedule):
    """Plain MaskTransformer: the row-restricted mask_predict gives the old tokens bit for
    bit; confidences may differ in the last bit (the head's matrix product over fewer rows
    can round differently)."""
    m = _model(seed)
    tokens, mask, labels = _inputs(seed, batch, p)
    ref_tok, ref_conf = reference_mask_predict(m, tokens, mask, labels, steps, schedule)
    tok, conf = mask_predict(m, tokens, mask, labels, steps, schedule)
    assert torch.equal(tok, ref_tok)
    torch.testing.assert_close(conf, ref_conf, rtol=0, atol=1e-6)


@pytest.mark.parametrize("onednn", [False, True])
def test_inference_transformer_matches_reference(onednn):
    m = _model(7)
    fast = InferenceTransformer(m, onednn=onednn)
    tokens, mask, labels = _inputs(7, 4, 0.7)
    ids = m.input_ids(torch.where(mask, CFG.mask_id, tokens), labels)
    with torch.no_grad():
        full = m.hidden(ids)
        torch.testing.assert_close(fast.hidden(ids), full, rtol=1e-4, atol=1e-5)
        rows = torch.stack([torch.randperm(CFG.grid_h * CFG.grid_w)[:9] for _ in range(4)])
        torch.testing.assert_close(fast.hidden(ids, rows), m.hidden(ids, rows),
                                   rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(fast.logits_from_hidden(fast.hidden(ids, rows), rows),
                                   m.logits_from_hidden(m.hidden(ids, rows), rows),
                                   rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(fast(tokens, labels), m(tokens, labels),
                                   rtol=1e-4, atol=1e-4)


def test_inference_transformer_mask_predict_agrees():
    """Different kernels round differently, so arg-max ties could in principle flip; with
    random weights and distinct logits every token and confidence agrees."""
    for seed in range(4):
        m = _model(seed)
        tokens, mask, labels = _inputs(seed, 3, 0.8)
        ref_tok, ref_conf = reference_mask_predict(m, tokens, mask, labels, 4, "arccos")
        tok, conf = mask_predict(InferenceTransformer(m), tokens, mask, labels, 4, "arccos")
        assert torch.equal(tok, ref_tok)
        torch.testing.assert_close(conf, ref_conf, rtol=1e-4, atol=1e-6)


def test_inference_transformer_is_inference_only():
    fast = InferenceTransformer(_model(0))
    with pytest.raises(RuntimeError):
        fast.train()
    fast.eval()  # allowed
