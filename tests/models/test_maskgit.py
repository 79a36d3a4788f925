import torch

from gnuradio.tokcom.models import MaskGITConfig, MaskTransformer

CFG = MaskGITConfig(grid_h=4, grid_w=4, codebook_size=32, nclass=5, hidden_dim=32, depth=2,
                    heads=4, mlp_dim=64, dropout=0.1)


def test_vocabulary_layout():
    assert CFG.vocab_size == 32 + 1 + 5 + 1
    assert CFG.mask_id == 32 and CFG.drop_label_id == 38 and CFG.seq_len == 17


def test_class_token_is_last_and_offset():
    m = MaskTransformer(CFG)
    tok = torch.randint(0, 32, (3, 4, 4))
    ids = m.input_ids(tok, torch.tensor([0, 4, -1]))
    assert ids.shape == (3, 17)
    assert torch.equal(ids[:, :16], tok.view(3, 16))
    assert ids[:, 16].tolist() == [33, 37, 38]
    assert m.input_ids(tok, None)[:, 16].tolist() == [38, 38, 38]


def test_logits_shape_and_tied_head():
    torch.manual_seed(0)
    m = MaskTransformer(CFG).eval()
    tok = torch.randint(0, 33, (2, 4, 4))
    logits = m(tok, torch.tensor([1, 2]))
    assert logits.shape == (2, 16, 33)  # codebook + [MASK]
    h = m.hidden(m.input_ids(tok, torch.tensor([1, 2])))
    manual = (h @ m.tok_emb.weight.t() + m.bias)[:, :16, :33]
    assert torch.allclose(logits, manual, atol=1e-5)


def test_forward_v1_drop_label_matches_no_label():
    torch.manual_seed(1)
    m = MaskTransformer(CFG).eval()
    tok = torch.randint(0, 33, (2, 4, 4))
    y = torch.tensor([3, 4])
    a = m.forward_v1(tok, y, torch.tensor([True, False]))
    b = m(tok, torch.tensor([-1, 4]))
    assert torch.allclose(a, b)


def test_layer_norm_eps_and_gelu():
    m = MaskTransformer(CFG)
    assert m.first_layer[0].eps == 1e-12 and m.last_layer[4].eps == 1e-12
    assert m.transformer.layers[0][0].norm.eps == 1e-5
    assert isinstance(m.transformer.layers[0][1].fn.net[1], torch.nn.GELU)
    assert m.transformer.layers[0][1].fn.net[1].approximate == "none"
