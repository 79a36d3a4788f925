"""Bidirectional masked-token transformer (MaskGIT).

Parameter names, shapes and forward conventions follow the v1.0 release of
valeoai/Halton-MaskGIT (formerly "MaskGIT-pytorch"), file ``Network/transformer.py``
(class ``MaskTransformer``), so a v1.0 ``model_state_dict`` loads strictly.  The
conventions are documented in ``docs/models.md``; the implementation is our own.

Vocabulary layout (``V = codebook_size + 1 + nclass + 1``)::

    [0, codebook_size)                      image tokens
    codebook_size                           [MASK]
    codebook_size + 1 + c                   class c
    codebook_size + 1 + nclass              dropped label ("no class")

Sequence: ``grid_h * grid_w`` image tokens in raster order, then one class token.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class MaskGITConfig:
    grid_h: int = 16
    grid_w: int = 16
    codebook_size: int = 1024
    nclass: int = 10
    hidden_dim: int = 128
    depth: int = 4
    heads: int = 4
    mlp_dim: int = 512
    dropout: float = 0.1

    @property
    def seq_len(self) -> int:
        return self.grid_h * self.grid_w + 1

    @property
    def vocab_size(self) -> int:
        return self.codebook_size + 1 + self.nclass + 1

    @property
    def mask_id(self) -> int:
        return self.codebook_size

    @property
    def drop_label_id(self) -> int:
        return self.codebook_size + 1 + self.nclass

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> MaskGITConfig:
        return cls(**d)


def halton_maskgit_v1_base() -> MaskGITConfig:
    """ImageNet 256 "base" model of Halton-MaskGIT v1.0 (``Trainer/vit.py``)."""
    return MaskGITConfig(grid_h=16, grid_w=16, codebook_size=1024, nclass=1000, hidden_dim=768,
                         depth=24, heads=16, mlp_dim=3072, dropout=0.1)


class PreNorm(nn.Module):
    """LayerNorm (default eps 1e-5) then ``fn``; attribute names match the checkpoint."""

    def __init__(self, dim: int, fn: nn.Module):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class SelfAttention(nn.Module):
    """Packed-qkv multi-head attention (``mha.in_proj_weight`` is [q; k; v])."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.mha = nn.MultiheadAttention(dim, heads, dropout=dropout, bias=True, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Attention weights are not needed; skipping them allows the fused kernel.
        return self.mha(x, x, x, need_weights=False)[0]


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        # Index layout (0: Linear, 3: Linear) is part of the checkpoint key names.
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TransformerEncoder(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, mlp_dim: int, dropout: float):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleList([PreNorm(dim, SelfAttention(dim, heads, dropout)),
                           PreNorm(dim, FeedForward(dim, mlp_dim, dropout))])
            for _ in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for attn, ff in self.layers:
            x = x + attn(x)
            x = x + ff(x)
        return x


class MaskTransformer(nn.Module):
    def __init__(self, cfg: MaskGITConfig):
        super().__init__()
        self.config = cfg
        d = cfg.hidden_dim
        self.tok_emb = nn.Embedding(cfg.vocab_size, d)
        pos = torch.zeros(1, cfg.seq_len, d)
        self.pos_emb = nn.Parameter(nn.init.trunc_normal_(pos, 0.0, 0.02))
        # eps=1e-12 in the input/output MLPs (BERT style) differs from the blocks' 1e-5.
        self.first_layer = nn.Sequential(
            nn.LayerNorm(d, eps=1e-12), nn.Dropout(cfg.dropout), nn.Linear(d, d), nn.GELU(),
            nn.LayerNorm(d, eps=1e-12), nn.Dropout(cfg.dropout), nn.Linear(d, d))
        self.transformer = TransformerEncoder(d, cfg.depth, cfg.heads, cfg.mlp_dim, cfg.dropout)
        self.last_layer = nn.Sequential(
            nn.LayerNorm(d, eps=1e-12), nn.Dropout(cfg.dropout), nn.Linear(d, d), nn.GELU(),
            nn.LayerNorm(d, eps=1e-12))
        self.bias = nn.Parameter(torch.zeros(cfg.seq_len, cfg.vocab_size))

    def input_ids(self, tokens: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """tokens (B, h, w) with [MASK] = codebook_size; labels (B,), -1 = no label.

        Returns the (B, h*w + 1) id sequence with the class token last.
        """
        b = tokens.shape[0]
        cfg = self.config
        if labels is None:
            labels = torch.full((b,), -1, dtype=torch.long, device=tokens.device)
        labels = labels.to(device=tokens.device, dtype=torch.long).view(b)
        cls = torch.where(labels < 0, torch.full_like(labels, cfg.drop_label_id),
                          labels + cfg.codebook_size + 1)
        return torch.cat([tokens.reshape(b, -1).long(), cls.view(b, 1)], dim=1)

    def hidden(self, ids: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Final hidden states (B, L, d), or only at ``rows`` (B, k) positions -> (B, k, d).

        This is the reference: it computes every position and then selects.
        ``inference.InferenceTransformer`` gives the same result without computing the
        unselected positions in the last block.
        """
        x = self.tok_emb(ids) + self.pos_emb
        x = self.first_layer(x)
        x = self.transformer(x)
        x = self.last_layer(x)
        if rows is None:
            return x
        return x.gather(1, rows.unsqueeze(-1).expand(-1, -1, x.shape[-1]))

    def logits_from_hidden(self, h: torch.Tensor, positions: torch.Tensor | None = None):
        """Tied output head: h @ tok_emb^T + bias[position], cut to codebook + [MASK].

        ``positions`` (same leading shape as ``h`` without the last dim) are the image
        positions of the rows of ``h``; None means ``h`` holds every position in order.
        """
        n_out = self.config.codebook_size + 1
        w = self.tok_emb.weight[:n_out]
        if positions is None:
            npos = self.config.grid_h * self.config.grid_w
            return h[:, :npos] @ w.t() + self.bias[:npos, :n_out]
        return h @ w.t() + self.bias[positions, :n_out]

    def forward(self, tokens: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """-> logits (B, h*w, codebook_size + 1); the last column is the [MASK] logit."""
        return self.logits_from_hidden(self.hidden(self.input_ids(tokens, labels)))

    def forward_v1(self, img_token: torch.Tensor, y: torch.Tensor,
                   drop_label: torch.Tensor) -> torch.Tensor:
        """Halton-MaskGIT v1.0 call signature: explicit ``drop_label`` bool mask."""
        labels = torch.where(drop_label.to(y.device), torch.full_like(y, -1), y)
        return self.forward(img_token, labels)
