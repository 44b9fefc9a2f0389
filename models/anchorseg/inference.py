"""The reasoner and decoder engines re-expressed for inference: the trained weights, the same outputs
to float rounding, fewer and cheaper operators on a CPU (the export's "inference" graph, its default).

Where one side of an attention is long (the decoder's 44 x 44 image) and the other short (ten
tokens), the long side is never projected: the short side's projections are folded into the
weights it meets, so each attention over the image is two matrix products of the image with small
matrices, with no per-head transposes of the long side. The decoder's 2x2 stride-2 transposed
convolution is one matrix product, and the reasoner's last layer runs only the query rows the bank
reads. The reasoner takes the goal at its own length (padding would only be masked out again).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from . import model
from .model import MaskDecoder, Reasoner, TwoWayBlock


def _weights(m: nn.MultiheadAttention):
    e = m.embed_dim
    w, b = m.in_proj_weight, m.in_proj_bias
    return m.num_heads, e // m.num_heads, (w[:e], w[e : 2 * e], w[2 * e :]), (b[:e], b[e : 2 * e], b[2 * e :])


def attend_short(m: nn.MultiheadAttention, q, k, v, key_bias=None):
    """`m(q, k, v)` for a short q [b, n, E] over long k, v [b, L, E]; `key_bias` [b, L] is added to
    the scaled scores (a float attn_mask). Keys and values are never projected: q.Wk_h scores the
    raw keys (q.bk is the same for every key and cancels in the softmax) and the softmax-weighted
    raw values go through Wv_h after the sum (each row of weights sums to one, so bv passes as is)."""
    heads, d, (wq, wk, wv), (bq, _, bv) = _weights(m)
    b, n, e = q.shape
    qh = F.linear(q, wq, bq).view(b, n, heads, d).transpose(1, 2)  # b h n d
    g = (qh @ wk.view(heads, d, e)).reshape(b, heads * n, e) / math.sqrt(d)
    s = g @ k.transpose(1, 2)  # b hn L
    if key_bias is not None:
        s = s + key_bias[:, None, :]
    p = (torch.softmax(s, -1) @ v).view(b, heads, n, e)
    o = p @ wv.view(heads, d, e).transpose(1, 2) + bv.view(heads, 1, d)  # b h n d
    return F.linear(o.transpose(1, 2).reshape(b, n, e), m.out_proj.weight, m.out_proj.bias)


def attend_long(m: nn.MultiheadAttention, q, k, v):
    """`m(q, k, v)` for a long q [b, L, E] over short k, v [b, n, E]. Queries are never projected:
    each head's keys fold into Wq (scores = q.M + c) and its values into the output projection
    (out = softmax . U + bo)."""
    heads, d, (wq, wk, wv), (bq, bk, bv) = _weights(m)
    b, n, e = k.shape
    kh = F.linear(k, wk, bk).view(b, n, heads, d).permute(0, 2, 3, 1) / math.sqrt(d)  # b h d n
    mq = (wq.view(heads, d, e).transpose(1, 2) @ kh).permute(0, 2, 1, 3).reshape(b, e, heads * n)
    c = (bq.view(heads, 1, d) @ kh).reshape(b, 1, heads * n)
    s = q @ mq + c  # b L hn
    a = torch.softmax(s.view(b, -1, heads, n), -1).view(b, -1, heads * n)
    vh = F.linear(v, wv, bv).view(b, n, heads, d).transpose(1, 2)  # b h n d
    u = (vh @ m.out_proj.weight.view(e, heads, d).permute(1, 2, 0)).reshape(b, heads * n, e)
    return a @ u + m.out_proj.bias


def _self_attend(m: nn.MultiheadAttention, x, key_bias):
    """`m(x, x, x)` with `key_bias` [b, L] added to the scaled scores, at any sequence length
    (nn.MultiheadAttention traces the length into its reshapes)."""
    heads, d, _, _ = _weights(m)
    b, e = x.shape[0], m.embed_dim
    qkv = F.linear(x, m.in_proj_weight, m.in_proj_bias).view(b, -1, 3, heads, d)
    s = qkv[:, :, 0].transpose(1, 2) @ qkv[:, :, 1].permute(0, 2, 3, 1) / math.sqrt(d)  # b h L L
    o = torch.softmax(s + key_bias[:, None, None, :], -1) @ qkv[:, :, 2].transpose(1, 2)
    return F.linear(o.transpose(1, 2).reshape(b, -1, e), m.out_proj.weight, m.out_proj.bias)


def _two_way(blk: TwoWayBlock, tok, tok_pe, img, img_pe):
    if blk.skip_first_pe:
        tok = blk.n1(attend_short(blk.self_attn, tok, tok, tok))
    else:
        q = tok + tok_pe
        tok = blk.n1(tok + attend_short(blk.self_attn, q, q, tok))
    x = img + img_pe
    tok = blk.n2(tok + attend_short(blk.t2i, tok + tok_pe, x, img))
    tok = blk.n3(tok + blk.mlp(tok))
    img = blk.n4(img + attend_long(blk.i2t, x, tok + tok_pe, tok))
    return tok, img


def _decode(dec: MaskDecoder, image_states, mask_features, query_bank):
    """MaskDecoder.forward's outputs (no TMCC logits) with the attentions above and the upscaling
    as a matrix product: rows (channel, ky, kx), columns the 44 x 44 positions, never transposed."""
    g = dec.cfg.mask_grid
    tmap, _, tok, tok_pe, img, img_pe = dec.prompts(image_states, mask_features, query_bank)
    for blk in dec.blocks:
        tok, img = _two_way(blk, tok, tok_pe, img, img_pe)
    tok = dec.final_norm(tok + attend_short(dec.final_attn, tok + tok_pe, img + img_pe, img))
    conv, norm = dec.up[0], dec.up[1]
    b, c, co = img.shape[0], conv.in_channels, conv.out_channels
    t = conv.weight.reshape(c, 4 * co).t() @ img.transpose(1, 2) + conv.bias[:, None].expand(co, 4).reshape(4 * co, 1)
    t = F.group_norm(t.reshape(b, 1, -1), 1, eps=norm.eps).view(b, co, -1) * norm.weight[:, None] + norm.bias[:, None]
    w = dec.hyper(tok[:, 1])
    logits = (w[:, None] @ dec.up[2](t)).view(b, 2, 2, g, g).permute(0, 3, 1, 4, 2).reshape(b, 1, 2 * g, 2 * g)
    return tmap, logits, torch.sigmoid(dec.score_head(tok[:, 0])[:, 0])


def _layer(layer: nn.TransformerEncoderLayer, x, key_bias, rows: int | None = None):
    """A pre-norm encoder layer at any length; with `rows`, only the last `rows` positions come out."""
    h = layer.norm1(x)
    if rows is None:
        x = x + _self_attend(layer.self_attn, h, key_bias)
    else:
        x = x[:, -rows:] + attend_short(layer.self_attn, h[:, -rows:], h, h, key_bias)
    return x + layer.linear2(layer.activation(layer.linear1(layer.norm2(x))))


def _reason(r: Reasoner, image_tokens, goal_ids, goal_mask):
    """Reasoner.forward's query bank; its image states too where the decoder reads them."""
    x, key_bias = r.sequence(image_tokens, goal_ids, goal_mask)
    *first, last = r.layers.layers
    for layer in first:
        x = _layer(layer, x, key_bias)
    if r.cfg.image_states == "reasoner":
        y = r.out_norm(_layer(last, x, key_bias))
        return y[:, -r.cfg.queries :], y[:, : image_tokens.shape[1]]
    return r.out_norm(_layer(last, x, key_bias, r.cfg.queries))  # nothing reads the other rows


class ReasonerEngine(model.ReasonerEngine):
    def forward(self, image_tokens, goal_ids, goal_mask):
        return _reason(self.m.reasoner, image_tokens, goal_ids, goal_mask)


class DecoderEngine(model.DecoderEngine):
    def forward(self, image_states, mask_features, query_bank):
        return _decode(self.m.decoder, image_states, mask_features, query_bank)
