"""Fusion of channel bit LLRs with the transformer prior (models/decoding.py, docs/models.md)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio.tokcom.models import MaskGITConfig, MaskTransformer, mask_predict
from gnuradio.tokcom.models.decoding import token_bit_matrix

CFG = MaskGITConfig(grid_h=4, grid_w=6, codebook_size=20, nclass=3, hidden_dim=16, depth=1,
                    heads=2, mlp_dim=32)
BITS = 5  # ceil(log2 20)
N = 24


def _model(seed: int) -> MaskTransformer:
    torch.manual_seed(seed)
    m = MaskTransformer(CFG)
    with torch.no_grad():
        m.bias.normal_(0, 2.0)
    return m.eval()


def _llrs_of(tokens: torch.Tensor, scale: float) -> torch.Tensor:
    """LLRs of strength `scale` pointing at `tokens` (B, h, w) -> (B, h*w, BITS)."""
    bits = token_bit_matrix(CFG.codebook_size, BITS)[:, tokens.reshape(tokens.shape[0], -1)]
    return (2 * bits - 1).permute(1, 2, 0) * scale


def test_token_bit_matrix_is_msb_first():
    m = token_bit_matrix(20, 5)
    assert m[:, 19].tolist() == [1, 0, 0, 1, 1]
    assert m[:, 1].tolist() == [0, 0, 0, 0, 1]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 3), p=st.floats(0.0, 1.0),
       steps=st.integers(1, 6), temperature=st.sampled_from([0.0, 1.0]),
       scale=st.floats(-20, 20), candidates=st.sampled_from([0, 3]))
def test_fusion_never_changes_received_tokens(seed, batch, p, steps, temperature, scale,
                                              candidates):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, 20, (batch, 4, 6), generator=g)
    mask = torch.rand(batch, 4, 6, generator=g) < p
    # LLRs everywhere, also where tokens were received, pointing at other tokens.
    llrs = _llrs_of((tokens + 7) % 20, scale)
    out = mask_predict(_model(seed % 5), tokens, mask, None, steps, "arccos", temperature,
                       seed=seed, bit_llrs=llrs, candidates=candidates)
    filled, conf = out[0], out[1]
    assert torch.equal(filled[~mask], tokens[~mask])
    assert bool((conf[~mask] == 1.0).all())
    assert int(filled.max()) < 20


def test_zero_llrs_give_the_plain_prediction():
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 20, (2, 4, 6), generator=g)
    mask = torch.rand(2, 4, 6, generator=g) < 0.5
    plain = mask_predict(_model(0), tokens, mask, None, 4)
    fused = mask_predict(_model(0), tokens, mask, None, 4, bit_llrs=torch.zeros(2, N, BITS))
    assert torch.equal(plain[0], fused[0])
    assert torch.allclose(plain[1], fused[1])


def test_strong_llrs_decide_and_weak_ones_defer_to_the_prior():
    g = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, 20, (2, 4, 6), generator=g)
    mask = torch.ones(2, 4, 6, dtype=torch.bool)
    truth = torch.randint(0, 20, (2, 4, 6), generator=g)
    strong = mask_predict(_model(3), tokens, mask, None, 4, bit_llrs=_llrs_of(truth, 30.0))
    assert torch.equal(strong[0], truth)
    assert bool((strong[1] > 0.99).all())
    weight0 = mask_predict(_model(3), tokens, mask, None, 4, bit_llrs=_llrs_of(truth, 30.0),
                           llr_weight=0.0)
    assert torch.equal(weight0[0], mask_predict(_model(3), tokens, mask, None, 4)[0])


def test_fused_posterior_is_prior_times_likelihood():
    # One masked position, one step: the fused distribution is softmax(logits + w * bits.L).
    model = _model(4)
    tokens = torch.zeros(1, 4, 6, dtype=torch.long)
    mask = torch.zeros(1, 4, 6, dtype=torch.bool)
    mask[0, 1, 2] = True
    llrs = torch.zeros(1, N, BITS)
    llrs[0, 8] = torch.tensor([1.5, -0.5, 2.0, 0.0, -3.0])
    _, _, cand, logp = mask_predict(model, tokens, mask, None, 1, bit_llrs=llrs,
                                    llr_weight=0.7, candidates=20)
    cur = torch.where(mask, torch.full_like(tokens, CFG.mask_id), tokens)
    logits = model(cur, torch.tensor([-1]))[0, 8, :20].float()
    bits = token_bit_matrix(20, BITS)
    prior_ll = torch.log_softmax(logits, -1)
    ll = torch.nn.functional.logsigmoid((2 * bits.T - 1) * llrs[0, 8]).sum(-1)
    want = torch.log_softmax(prior_ll + 0.7 * ll, -1)
    assert torch.allclose(logp[0, 8], want[cand[0, 8]], atol=1e-4)
    assert bool((logp[0, 8][:-1] >= logp[0, 8][1:]).all())


def test_bad_llr_shape_is_refused():
    tokens = torch.zeros(1, 4, 6, dtype=torch.long)
    with pytest.raises(ValueError, match="bit_llrs"):
        mask_predict(_model(0), tokens, tokens.bool(), None, 2, bit_llrs=torch.zeros(1, N, 4))
