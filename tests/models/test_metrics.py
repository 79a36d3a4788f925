import math

import pytest
import torch

from gnuradio.tokcom.metrics import (
    LPIPS,
    CLIPImageSimilarity,
    MetricUnavailableError,
    classifier_correct,
    mean_ci95,
    ms_ssim,
    ms_ssim_params,
    psnr,
    ssim,
)


def _pair(size=28, noise=0.1):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 1, size, size, generator=g) * 2 - 1
    return x, (x + noise * torch.randn(x.shape, generator=g)).clamp(-1, 1)


def test_psnr_matches_definition():
    x, y = _pair()
    mse = (x - y).pow(2).flatten(1).mean(1)
    assert torch.allclose(psnr(y, x), 10 * torch.log10(4.0 / mse), atol=1e-4)


@pytest.mark.parametrize("size", [28, 32])
def test_ssim_family_on_small_images(size):
    x, y = _pair(size)
    for fn in (ssim, ms_ssim):
        same, noisy = fn(x, x), fn(y, x)
        assert same.shape == (5,) and torch.allclose(same, torch.ones(5), atol=1e-4)
        assert bool((noisy < 0.999).all())
    p = ms_ssim_params(size)
    assert p["kernel_size"] == 3 and len(p["betas"]) == 3
    assert math.isclose(sum(p["betas"]), 1.0)


def test_mean_ci95():
    m, h = mean_ci95(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert m == 2.5 and math.isclose(h, 1.96 * 1.2909944 / 2, rel_tol=1e-5)


def test_classifier_correct():
    clf = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        clf[1].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
        clf[1].bias.zero_()
    x = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]).view(2, 1, 2, 2)
    assert classifier_correct(clf, x, torch.tensor([0, 0])).tolist() == [1.0, 0.0]


def test_lpips_and_clip_say_clearly_when_unavailable(tmp_path, monkeypatch):
    monkeypatch.delenv("TOKCOM_LPIPS_WEIGHTS", raising=False)
    monkeypatch.delenv("TOKCOM_CLIP_IMAGE_ENCODER", raising=False)
    with pytest.raises(MetricUnavailableError, match="LPIPS is unavailable"):
        LPIPS()
    with pytest.raises(MetricUnavailableError, match="not found"):
        CLIPImageSimilarity(tmp_path / "missing.pt")


def test_hooks_work_with_user_weights(tmp_path):
    class Dist(torch.nn.Module):
        def forward(self, a, b):
            return (a - b).abs().mean(dim=(1, 2, 3))

    class Enc(torch.nn.Module):
        def forward(self, a):
            return a.mean(dim=(2, 3))

    x, y = _pair()
    rgb = (x.repeat(1, 3, 1, 1), y.repeat(1, 3, 1, 1))  # the hook feeds 3 channels
    torch.export.save(torch.export.export(Dist(), rgb), tmp_path / "lpips.pt2")
    d = LPIPS(tmp_path / "lpips.pt2")(x, y)
    assert d.shape == (5,) and bool((d > 0).all())
    s = CLIPImageSimilarity(Enc())(x, x)
    assert torch.allclose(s, torch.ones(5))
