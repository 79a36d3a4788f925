import torch
import torch.nn.functional as F

from gnuradio.tokcom.models import VQConfig, VQModel
from gnuradio.tokcom.models.vqgan import Downsample, VectorQuantizer

TINY = VQConfig(in_channels=1, out_ch=1, resolution=16, ch=32, ch_mult=[1, 2],
                num_res_blocks=1, attn_resolutions=[8], z_channels=32, embed_dim=4, n_embed=16)


def test_shapes_and_grid():
    torch.manual_seed(0)
    m = VQModel(TINY).eval()
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    rec, loss, idx = m(x)
    assert rec.shape == x.shape and idx.shape == (3, 8, 8) and TINY.grid == (8, 8)
    assert idx.dtype == torch.int64 and int(idx.min()) >= 0 and int(idx.max()) < 16
    assert torch.equal(m.tokenize(x), idx)
    assert torch.allclose(m.decode_tokens(idx), rec, atol=1e-5)
    assert loss.dim() == 0


def test_quantizer_picks_nearest_and_first_on_ties():
    q = VectorQuantizer(4, 2)
    with torch.no_grad():
        q.embedding.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]))
    z = torch.tensor([[1.0, 0.1], [0.1, 1.0], [4.0, 4.0]]).t().reshape(1, 2, 1, 3)
    _, _, idx = q(z)
    assert idx.flatten().tolist() == [0, 2, 3]  # codes 0 and 1 tie: first index wins


def test_quantizer_distance_formula():
    q = VectorQuantizer(8, 3)
    flat = torch.randn(5, 3)
    w = q.embedding.weight
    expected = (flat ** 2).sum(1, keepdim=True) + (w ** 2).sum(1) - 2 * flat @ w.t()
    assert torch.allclose(q.distances(flat), expected)


def test_downsample_pads_right_and_bottom_only():
    d = Downsample(32)
    x = torch.randn(1, 32, 8, 8)
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), d.conv.weight, d.conv.bias, stride=2)
    assert torch.allclose(d(x), expected) and d(x).shape[-1] == 4


def test_group_norm_convention():
    norms = [m for m in VQModel(TINY).modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(n.num_groups == 32 and n.eps == 1e-6 for n in norms)
