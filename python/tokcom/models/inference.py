"""Inference-only forward pass of a ``MaskTransformer``: same weights, same maths, less time.

``MaskTransformer.forward`` stays the reference (training, checkpoint layout).  For
serving, ``InferenceTransformer`` computes the same function with three changes, measured
on the project's 2-core AMD EPYC (AVX-512) at one thread, bundled model (docs/service.md):

* attention through ``F.scaled_dot_product_attention`` (fused kernel) instead of
  ``nn.MultiheadAttention``'s bmm + softmax + bmm: one forward 9.3 -> 7.6 ms;
* float32 linear layers through oneDNN with weights packed once, instead of MKL's sgemm,
  which takes its AVX2 code path on AMD CPUs (about 100 GFLOP/s vs 210 GFLOP/s for the
  same products): 7.6 -> 5.1 ms;
* ``hidden(ids, rows)`` runs the last block's queries, MLP and the output MLP only at the
  requested positions (keys and values still come from every position), so
  mask-and-predict pays for the still-masked positions only.

Optionally (``int8=True``) the linear layers of the blocks run as dynamically quantised
int8 products (weights per output channel, activations per call; fbgemm / oneDNN with VNNI
on x86).  That changes results a little: the service uses it only after a start-up check
(service/precision.py) and docs/service.md gives its measured accuracy and speed.

Float32 results agree with the reference to float32 rounding (|difference| ~1e-6 in the hidden
states; tests/models/test_inference.py), not bit for bit: oneDNN and the fused attention
sum in a different order.  The packed weights are a snapshot: build a new
``InferenceTransformer`` after changing the model's weights.
"""

from __future__ import annotations

import logging
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from .maskgit import MaskTransformer

log = logging.getLogger("tokcom.models.inference")


def _onednn_linear_usable(device: torch.device) -> bool:
    """The packed oneDNN linear (the op torch.compile uses on CPU) exists and agrees."""
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    try:
        g = torch.Generator().manual_seed(0)
        w, x, b = (torch.randn(s, generator=g) for s in ((24, 16), (5, 16), (24,)))
        packed = torch.ops.mkldnn._reorder_linear_weight(w)
        y = torch.ops.mkldnn._linear_pointwise(x, packed, b, "none", [], "")
        return bool(torch.allclose(y, F.linear(x, w, b), rtol=1e-5, atol=1e-5))
    except (AttributeError, RuntimeError) as exc:  # op missing in this torch build
        log.info("oneDNN packed linear unavailable (%s); using F.linear", exc)
        return False


def int8_usable() -> bool:
    """This torch build has a quantised CPU engine whose dynamic int8 linear works."""
    if "x86" not in torch.backends.quantized.supported_engines \
            and "fbgemm" not in torch.backends.quantized.supported_engines:
        return False
    try:
        g = torch.Generator().manual_seed(0)
        w, x = torch.randn(24, 16, generator=g), torch.randn(5, 16, generator=g)
        y = torch.ops.quantized.linear_dynamic(x, _prepack_int8(w, None), True)
        ref = F.linear(x, w)
        return bool((y - ref).abs().max() <= 0.05 * ref.abs().max())  # int8 rounding
    except (AttributeError, RuntimeError) as exc:
        log.info("int8 dynamic linear unavailable (%s)", exc)
        return False


def _prepack_int8(weight: torch.Tensor, bias):
    """Symmetric int8 weights, one scale per output channel, packed for linear_dynamic."""
    scale = (weight.abs().amax(1) / 127).clamp_min(1e-12).double()
    zero = torch.zeros(weight.shape[0], dtype=torch.long)
    with warnings.catch_warnings():  # torch marks the eager quantisation API deprecated
        warnings.simplefilter("ignore")
        q = torch.quantize_per_channel(weight.detach().float(), scale, zero, 0, torch.qint8)
        return torch.ops.quantized.linear_prepack(q, None if bias is None else bias.detach())


# Row counts of the per-position work (last block, head) are rounded up to a multiple of
# this by repeating the last row.  oneDNN and torch's ideep cache one compiled primitive
# per matrix shape (each ~1 MB, up to 1024 of them); with a new count of still-masked
# positions in almost every request, that cache was most of the service's memory growth.
# Costs ~1 % more arithmetic at 4 steps (docs/service.md, "Memory").
ROW_BUCKET = 16


def _bucketed(x: torch.Tensor | None) -> torch.Tensor | None:
    """(B, k, ...) -> (B, k rounded up to ROW_BUCKET, ...), the last row repeated."""
    if x is None or x.shape[1] % ROW_BUCKET == 0:
        return x
    extra = ROW_BUCKET - x.shape[1] % ROW_BUCKET
    return torch.cat([x, x[:, -1:].expand(x.shape[0], extra, *x.shape[2:])], dim=1)


class InferenceTransformer(nn.Module):
    """Wraps an eval-mode ``MaskTransformer`` (no dropout, no gradients)."""

    def __init__(self, model: MaskTransformer, onednn: bool | None = None, int8: bool = False):
        super().__init__()
        self.model = model
        self.config = model.config
        super().train(False)  # always in eval mode (this also puts `model` there)
        device = next(model.parameters()).device
        dtype = next(model.parameters()).dtype
        if onednn is None:
            onednn = dtype == torch.float32 and _onednn_linear_usable(device)
        self.onednn = onednn
        self.int8 = int8
        self._packed: dict[int, torch.Tensor] = {}  # id(weight) -> packed oneDNN weight
        # id(weight) -> packed int8 weight and bias: the blocks' linears only; the input
        # and output MLPs and the head (every logit) stay float32.
        self._int8: dict[int, object] = {}
        if int8:
            for attn, ff in model.transformer.layers:
                mha = attn.fn.mha
                pairs = [(mha.in_proj_weight, mha.in_proj_bias),
                         (mha.out_proj.weight, mha.out_proj.bias)]
                pairs += [(m.weight, m.bias) for m in ff.fn.net if isinstance(m, nn.Linear)]
                for w, b in pairs:
                    self._int8[id(w)] = _prepack_int8(w, b)
        if onednn:
            with torch.no_grad():
                for w in self._linear_weights():
                    self._packed[id(w)] = torch.ops.mkldnn._reorder_linear_weight(w.detach())
                # The tied head is a slice of tok_emb, packed under the embedding's id.
                self._packed[id(model.tok_emb.weight)] = \
                    torch.ops.mkldnn._reorder_linear_weight(self._head_weight().detach())

    def _linear_weights(self):
        for mod in self.model.modules():
            if isinstance(mod, nn.Linear):
                yield mod.weight
            elif isinstance(mod, nn.MultiheadAttention):
                yield mod.in_proj_weight

    def _head_weight(self) -> torch.Tensor:
        return self.model.tok_emb.weight[: self.config.codebook_size + 1]

    def train(self, mode: bool = True):
        if mode:
            raise RuntimeError("InferenceTransformer is inference-only")
        return super().train(False)

    # -- pieces -------------------------------------------------------------------------

    def _linear(self, x: torch.Tensor, weight: torch.Tensor, bias, key=None) -> torch.Tensor:
        q = self._int8.get(id(weight) if key is None else key)
        if q is not None and x.dtype == torch.float32:
            # reduce_range=True: 7-bit activations, as fbgemm's VNNI kernels expect
            y = torch.ops.quantized.linear_dynamic(x.reshape(-1, x.shape[-1]), q, True)
            return y.view(*x.shape[:-1], y.shape[-1])
        packed = self._packed.get(id(weight) if key is None else key)
        # Under bfloat16 autocast F.linear is the one autocast converts; oneDNN packs f32.
        if packed is None or x.dtype != torch.float32 or torch.is_autocast_enabled(x.device.type):
            return F.linear(x, weight, bias)
        y = torch.ops.mkldnn._linear_pointwise(x.reshape(-1, x.shape[-1]), packed, bias,
                                               "none", [], "")
        return y.view(*x.shape[:-1], y.shape[-1])

    def _sequential(self, seq: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
        for mod in seq:
            if isinstance(mod, nn.Linear):
                x = self._linear(x, mod.weight, mod.bias)
            elif not isinstance(mod, nn.Dropout):  # dropout is the identity in eval
                x = mod(x)
        return x

    def _block(self, attn, ff, x: torch.Tensor, rows: torch.Tensor | None) -> torch.Tensor:
        """Pre-norm attention + MLP block; with ``rows`` only those positions' outputs."""
        mha: nn.MultiheadAttention = attn.fn.mha
        b, length, d = x.shape
        heads = mha.num_heads
        qkv = self._linear(attn.norm(x), mha.in_proj_weight, mha.in_proj_bias)
        q, k, v = qkv.view(b, length, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        if rows is not None:  # queries (and the residual stream) at the wanted rows only
            q = q.gather(2, rows[:, None, :, None].expand(b, heads, rows.shape[1], d // heads))
            x = x.gather(1, rows.unsqueeze(-1).expand(b, rows.shape[1], d))
        o = F.scaled_dot_product_attention(q, k, v)  # scale 1/sqrt(d/heads), as in MHA
        o = o.transpose(1, 2).reshape(b, -1, d)
        x = x + self._linear(o, mha.out_proj.weight, mha.out_proj.bias)
        return x + self._sequential(ff.fn.net, ff.norm(x))

    # -- the MaskTransformer interface used by mask_predict -----------------------------

    def input_ids(self, tokens: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.model.input_ids(tokens, labels)

    def hidden(self, ids: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        m = self.model
        x = self._sequential(m.first_layer, m.tok_emb(ids) + m.pos_emb)
        layers = m.transformer.layers
        k = None if rows is None else rows.shape[1]
        rows = _bucketed(rows)
        for i, (attn, ff) in enumerate(layers):
            x = self._block(attn, ff, x, rows if i == len(layers) - 1 else None)
        return self._sequential(m.last_layer, x)[:, :k]

    def logits_from_hidden(self, h: torch.Tensor, positions: torch.Tensor | None = None):
        n_out = self.config.codebook_size + 1
        if positions is None:
            npos = self.config.grid_h * self.config.grid_w
            h, bias = h[:, :npos], self.model.bias[:npos, :n_out]
        else:
            bias = self.model.bias[positions, :n_out]
            h = _bucketed(h)
        head = self._linear(h, self._head_weight(), None, key=id(self.model.tok_emb.weight))
        return head[:, :bias.shape[-2]] + bias

    def forward(self, tokens: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.logits_from_hidden(self.hidden(self.input_ids(tokens, labels)))
