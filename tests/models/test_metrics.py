import math

import numpy as np
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


def _images(shape, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g) * 2 - 1
    return x, (x + 0.2 * torch.randn(shape, generator=g)).clamp(-1, 1)


@pytest.mark.parametrize("shape", [(4, 1, 28, 28), (2, 1, 32, 32), (2, 3, 40, 24)])
def test_ssim_and_psnr_equal_torchmetrics(shape):
    # The one SSIM/PSNR (frame_quality, numpy) against torchmetrics in float64: measured
    # max differences ~3e-8 (SSIM) and ~2e-6 dB (PSNR, float32 input); bound 1e-6 / 1e-4.
    from torchmetrics.functional.image import (
        peak_signal_noise_ratio,
        structural_similarity_index_measure,
    )

    x, y = _images(shape, sum(shape))
    # Both compare intensities in [0, 1] (module doc of metrics/quality.py).
    ref_ssim = structural_similarity_index_measure((y.double() + 1) / 2, (x.double() + 1) / 2,
                                                   data_range=1.0, reduction="none")
    ref_psnr = peak_signal_noise_ratio(y.double(), x.double(), data_range=2.0,
                                       reduction="none", dim=(1, 2, 3))
    assert (ssim(y, x).double() - ref_ssim).abs().max() < 1e-6
    assert (psnr(y, x).double() - ref_psnr).abs().max() < 1e-4


def test_ssim_is_computed_on_non_negative_intensities():
    # SSIM's luminance term depends on the offset: on [-1, 1] itself the value differs.
    from torchmetrics.functional.image import structural_similarity_index_measure

    x, y = _images((2, 1, 28, 28), 7)
    shifted = structural_similarity_index_measure(y.double(), x.double(), data_range=2.0,
                                                  reduction="none")
    assert (ssim(y, x).double() - shifted).abs().max() > 1e-3


def test_flowgraph_quality_is_the_same_ssim_on_uint8():
    # frame_quality.image_quality (uint8, range 255) is the same definition as the model
    # card's metric on [-1, 1] floats mapped to [0, 1]: equal up to float rounding.
    from gnuradio.tokcom.frame_quality import image_quality

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-40, 41, a.shape), 0, 255).astype(np.uint8)
    q = image_quality(a, b)

    def to_t(u):
        return torch.from_numpy(u.astype(np.float64) / 127.5 - 1)[None, None]

    assert q["ssim"] == pytest.approx(float(ssim(to_t(b), to_t(a))[0]), abs=1e-6)
    assert q["psnr"] == pytest.approx(float(psnr(to_t(b), to_t(a))[0]), abs=1e-4)
