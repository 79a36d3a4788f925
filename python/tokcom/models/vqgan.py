"""VQ tokenizer (encoder, vector quantizer, decoder).

The module tree mirrors taming-transformers' ``VQModel`` (CompVis/taming-transformers,
``taming/models/vqgan.py`` and ``taming/modules/diffusionmodules/model.py``) so that a
taming checkpoint's ``state_dict`` maps 1:1 onto these parameter names and shapes.  The
forward conventions that matter for bit-compatibility are kept on purpose and are listed
in ``docs/models.md``; the code itself is an independent implementation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class VQConfig:
    """Hyper-parameters of the tokenizer (names follow taming's ``ddconfig``)."""

    in_channels: int = 1
    out_ch: int = 1
    resolution: int = 32
    ch: int = 32
    ch_mult: list[int] = field(default_factory=lambda: [1, 2])
    num_res_blocks: int = 1
    attn_resolutions: list[int] = field(default_factory=list)
    z_channels: int = 64
    embed_dim: int = 16
    n_embed: int = 1024
    dropout: float = 0.0

    @property
    def grid(self) -> tuple[int, int]:
        """Token grid (h, w) for an input of ``resolution`` x ``resolution``."""
        side = self.resolution // 2 ** (len(self.ch_mult) - 1)
        return side, side

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> VQConfig:
        return cls(**d)


def taming_vqgan_f16_1024() -> VQConfig:
    """The ImageNet VQGAN f=16, 1024-code config (taming ``configs/imagenet_vqgan.yaml``)."""
    return VQConfig(in_channels=3, out_ch=3, resolution=256, ch=128, ch_mult=[1, 1, 2, 2, 4],
                    num_res_blocks=2, attn_resolutions=[16], z_channels=256, embed_dim=256,
                    n_embed=1024)


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


def group_norm(channels: int) -> nn.GroupNorm:
    # 32 groups and eps=1e-6 are what taming checkpoints were trained with.
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)


def conv3(cin: int, cout: int, stride: int = 1, padding: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=padding)


def conv1(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, stride=1, padding=0)


class ResnetBlock(nn.Module):
    """Pre-activation residual block; 1x1 ``nin_shortcut`` only when channels change."""

    def __init__(self, cin: int, cout: int, dropout: float = 0.0):
        super().__init__()
        self.in_channels, self.out_channels = cin, cout
        self.norm1 = group_norm(cin)
        self.conv1 = conv3(cin, cout)
        self.norm2 = group_norm(cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = conv3(cout, cout)
        if cin != cout:
            self.nin_shortcut = conv1(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        if self.in_channels != self.out_channels:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    """Single-head spatial self-attention with q/k/v/proj_out as 1x1 convolutions."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = group_norm(channels)
        self.q = conv1(channels, channels)
        self.k = conv1(channels, channels)
        self.v = conv1(channels, channels)
        self.proj_out = conv1(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        hn = self.norm(x)
        q = self.q(hn).reshape(b, c, h * w).transpose(1, 2)  # (b, hw, c)
        k = self.k(hn).reshape(b, c, h * w)  # (b, c, hw)
        v = self.v(hn).reshape(b, c, h * w)  # (b, c, hw)
        attn = torch.softmax(torch.bmm(q, k) * (c ** -0.5), dim=2)  # rows: queries
        out = torch.bmm(v, attn.transpose(1, 2)).reshape(b, c, h, w)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = conv3(channels, channels, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Pad right/bottom only: this asymmetric padding is what the weights expect.
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0.0))


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = conv3(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def _mid(channels: int, dropout: float) -> nn.Module:
    mid = nn.Module()
    mid.block_1 = ResnetBlock(channels, channels, dropout)
    mid.attn_1 = AttnBlock(channels)
    mid.block_2 = ResnetBlock(channels, channels, dropout)
    return mid


class Encoder(nn.Module):
    def __init__(self, cfg: VQConfig):
        super().__init__()
        self.num_resolutions = len(cfg.ch_mult)
        self.num_res_blocks = cfg.num_res_blocks
        self.conv_in = conv3(cfg.in_channels, cfg.ch)
        in_mult = (1, *cfg.ch_mult)
        res = cfg.resolution
        self.down = nn.ModuleList()
        block_in = cfg.ch
        for level, mult in enumerate(cfg.ch_mult):
            stage = nn.Module()
            stage.block = nn.ModuleList()
            stage.attn = nn.ModuleList()
            block_in = cfg.ch * in_mult[level]
            for _ in range(cfg.num_res_blocks):
                stage.block.append(ResnetBlock(block_in, cfg.ch * mult, cfg.dropout))
                block_in = cfg.ch * mult
                if res in cfg.attn_resolutions:
                    stage.attn.append(AttnBlock(block_in))
            if level != self.num_resolutions - 1:
                stage.downsample = Downsample(block_in)
                res //= 2
            self.down.append(stage)
        self.mid = _mid(block_in, cfg.dropout)
        self.norm_out = group_norm(block_in)
        self.conv_out = conv3(block_in, cfg.z_channels)  # taming's double_z=False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for level, stage in enumerate(self.down):
            for i, block in enumerate(stage.block):
                h = block(h)
                if len(stage.attn) > 0:
                    h = stage.attn[i](h)
            if level != self.num_resolutions - 1:
                h = stage.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg: VQConfig):
        super().__init__()
        self.num_resolutions = len(cfg.ch_mult)
        block_in = cfg.ch * cfg.ch_mult[-1]
        res = cfg.resolution // 2 ** (self.num_resolutions - 1)
        self.conv_in = conv3(cfg.z_channels, block_in)
        self.mid = _mid(block_in, cfg.dropout)
        stages: list[nn.Module] = []
        for level in reversed(range(self.num_resolutions)):
            stage = nn.Module()
            stage.block = nn.ModuleList()
            stage.attn = nn.ModuleList()
            block_out = cfg.ch * cfg.ch_mult[level]
            for _ in range(cfg.num_res_blocks + 1):
                stage.block.append(ResnetBlock(block_in, block_out, cfg.dropout))
                block_in = block_out
                if res in cfg.attn_resolutions:
                    stage.attn.append(AttnBlock(block_in))
            if level != 0:
                stage.upsample = Upsample(block_in)
                res *= 2
            stages.insert(0, stage)  # index by level, as taming does
        self.up = nn.ModuleList(stages)
        self.norm_out = group_norm(block_in)
        self.conv_out = conv3(block_in, cfg.out_ch)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        for level in reversed(range(self.num_resolutions)):
            stage = self.up[level]
            for i, block in enumerate(stage.block):
                h = block(h)
                if len(stage.attn) > 0:
                    h = stage.attn[i](h)
            if level != 0:
                h = stage.upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


class VectorQuantizer(nn.Module):
    """Nearest-codeword quantizer with a straight-through gradient.

    Distances use ``|z|^2 + |e|^2 - 2 z.e`` (not ``|z - e|^2``) because that is the
    formula taming uses; the two differ in rounding, which can flip near-ties.  ``argmin``
    returns the first index on exact ties.
    """

    def __init__(self, n_embed: int, embed_dim: int, beta: float = 0.25):
        super().__init__()
        self.n_embed, self.embed_dim, self.beta = n_embed, embed_dim, beta
        self.embedding = nn.Embedding(n_embed, embed_dim)
        nn.init.uniform_(self.embedding.weight, -1.0 / n_embed, 1.0 / n_embed)

    def distances(self, flat: torch.Tensor) -> torch.Tensor:
        w = self.embedding.weight
        return (flat.pow(2).sum(1, keepdim=True) + w.pow(2).sum(1)
                - 2 * torch.einsum("bd,dn->bn", flat, w.t()))

    def forward(self, z: torch.Tensor):
        """z: (B, C, H, W) -> (z_q straight-through, vq loss, indices (B, H, W))."""
        b, c, h, w = z.shape
        zl = z.permute(0, 2, 3, 1).contiguous()
        idx = torch.argmin(self.distances(zl.view(-1, c)), dim=1)
        zq = self.embedding(idx).view(zl.shape)
        # Codebook term pulls codes to encoder outputs; beta-weighted commitment term
        # keeps the encoder near its codes.
        loss = F.mse_loss(zq, zl.detach()) + self.beta * F.mse_loss(zl, zq.detach())
        zq = zl + (zq - zl).detach()
        return zq.permute(0, 3, 1, 2).contiguous(), loss, idx.view(b, h, w)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """indices (B, H, W) -> quantized latents (B, C, H, W)."""
        return self.embedding(indices).permute(0, 3, 1, 2).contiguous()


class VQModel(nn.Module):
    """Encoder -> quant_conv -> quantize -> post_quant_conv -> decoder (inputs in [-1, 1])."""

    def __init__(self, cfg: VQConfig):
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quantize = VectorQuantizer(cfg.n_embed, cfg.embed_dim)
        self.quant_conv = nn.Conv2d(cfg.z_channels, cfg.embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(cfg.embed_dim, cfg.z_channels, 1)

    @property
    def grid(self) -> tuple[int, int]:
        return self.config.grid

    def encode_latent(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-quantization latents (B, embed_dim, h, w)."""
        return self.quant_conv(self.encoder(x))

    def encode(self, x: torch.Tensor):
        """x (B, C, H, W) in [-1, 1] -> (z_q, vq loss, tokens (B, h, w) int64)."""
        return self.quantize(self.encode_latent(x))

    @torch.no_grad()
    def tokenize(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[2]

    def decode(self, zq: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(zq))

    def decode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, h, w) int in [0, n_embed) -> images (B, out_ch, H, W), roughly [-1, 1]."""
        return self.decode(self.quantize.lookup(tokens.long()))

    def forward(self, x: torch.Tensor):
        zq, loss, idx = self.encode(x)
        return self.decode(zq), loss, idx


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def bits_per_token(n_embed: int) -> int:
    return math.ceil(math.log2(n_embed))
