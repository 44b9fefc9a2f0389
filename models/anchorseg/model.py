"""AnchorSeg at small scale: vision encoder, reasoner (the LLM role), token map, SAM-style decoder.

The three modules are exported as three ONNX engines (vision, reasoner, decoder). Mechanics follow
the reference (ANCHORSEG-METHOD.md): the reasoner emits a query bank of K latent tokens and one
anchor; the anchor's dot product with every image state is the token map, min-max normalised and
fed to the decoder as a dense prompt; latent and anchor states become sparse prompts through two
separate projections plus learned slot embeddings.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Config:
    vocab_size: int = 256
    input_size: int = 128
    grid: int = 8  # image tokens on a grid x grid lattice (stride input_size / grid)
    dim: int = 96  # D: image tokens, reasoner, query bank
    mask_dim: int = 64  # C: mask features and decoder width
    mask_grid: int = 32  # mask features are mask_grid x mask_grid; logits are 2x that
    text_len: int = 40
    latent: int = 7  # K latent reasoning tokens (reference: 7)
    single_seg: bool = False  # LISA-style baseline: one <SEG> token, no token-map prompt, no TMCC
    image_states: str = "vision"  # decoder image states: "vision" (per-frame) or "reasoner" (reference)
    reasoner_layers: int = 4
    letterbox: str = "bottom-right"  # how a frame fills the input (preprocess.LETTERBOX_MODES)
    heads: int = 4
    decoder_layers: int = 2

    @property
    def queries(self) -> int:
        return 1 if self.single_seg else self.latent + 1

    @classmethod
    def for_input(cls, input_size: int, **kw) -> Config:
        """A config whose grids keep the default strides (16 px a token, 4 px a mask feature)."""
        if input_size % 16:
            raise ValueError(f"Expected an input size that is a multiple of 16 but received {input_size}")
        return cls(input_size=input_size, grid=input_size // 16, mask_grid=input_size // 4, **kw)

    def to_dict(self) -> dict:
        return asdict(self)


class ConvBlock(nn.Module):
    """Depthwise 5x5 + pointwise MLP with a residual (ConvNeXt-style, cheap on a CPU)."""

    def __init__(self, c: int):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 5, padding=2, groups=c)
        self.bn = nn.BatchNorm2d(c)
        self.pw1 = nn.Conv2d(c, 2 * c, 1)
        self.pw2 = nn.Conv2d(2 * c, c, 1)

    def forward(self, x):
        return x + self.pw2(F.gelu(self.pw1(self.bn(self.dw(x)))))


class VisionEncoder(nn.Module):
    """One shared backbone for both roles: image tokens (CLIP role) and mask features (SAM-encoder role)."""

    def __init__(self, cfg: Config):
        super().__init__()
        c1, c2, d = 32, 64, cfg.dim
        stem_stride = cfg.input_size // cfg.mask_grid
        self.stem = nn.Sequential(nn.Conv2d(3, c1, stem_stride, stride=stem_stride), nn.BatchNorm2d(c1))
        self.stage1 = nn.Sequential(ConvBlock(c1), ConvBlock(c1))
        self.down2 = nn.Sequential(nn.Conv2d(c1, c2, 2, stride=2), nn.BatchNorm2d(c2))
        self.stage2 = nn.Sequential(ConvBlock(c2), ConvBlock(c2))
        down3 = cfg.mask_grid // 2 // cfg.grid
        self.down3 = nn.Sequential(nn.Conv2d(c2, d, down3, stride=down3), nn.BatchNorm2d(d))
        self.stage3 = nn.Sequential(ConvBlock(d), ConvBlock(d))
        self.pos = nn.Parameter(torch.randn(1, cfg.grid * cfg.grid, d) * 0.02)
        self.norm = nn.LayerNorm(d)
        # FPN-style top-down path so mask features carry semantics, not just edges
        self.lat1 = nn.Conv2d(c1, cfg.mask_dim, 1)
        self.lat2 = nn.Conv2d(c2, cfg.mask_dim, 1)
        self.lat3 = nn.Conv2d(d, cfg.mask_dim, 1)
        self.fuse = nn.Sequential(
            nn.Conv2d(cfg.mask_dim, cfg.mask_dim, 3, padding=1, groups=cfg.mask_dim),
            nn.BatchNorm2d(cfg.mask_dim),
            nn.GELU(),
            nn.Conv2d(cfg.mask_dim, cfg.mask_dim, 1),
        )

    def forward(self, pixels):
        f1 = self.stage1(self.stem(pixels))
        f2 = self.stage2(self.down2(f1))
        f3 = self.stage3(self.down3(f2))
        tokens = self.norm(f3.flatten(2).transpose(1, 2) + self.pos)
        top = F.interpolate(self.lat3(f3), size=f2.shape[-2:], mode="bilinear", align_corners=False) + self.lat2(f2)
        feats = F.interpolate(top, size=f1.shape[-2:], mode="bilinear", align_corners=False) + self.lat1(f1)
        return tokens, self.fuse(feats)


class Reasoner(nn.Module):
    """The LLM role: a transformer over [image tokens, goal tokens, K latent tokens, anchor]."""

    def __init__(self, cfg: Config):
        super().__init__()
        d = cfg.dim
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, d)
        # nn.Embedding's N(0, 1) init is ~50x the other residual inputs; at Adam's step size the
        # reasoner then ignored the goal for thousands of steps (token map identical for every goal)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.text_pos = nn.Parameter(torch.randn(1, cfg.text_len, d) * 0.02)
        self.type_emb = nn.Parameter(torch.randn(3, d) * 0.02)  # image / text / query
        self.queries = nn.Parameter(torch.randn(1, cfg.queries, d) * 0.02)
        self.img_in = nn.Linear(d, d)
        layer = nn.TransformerEncoderLayer(d, cfg.heads, 4 * d, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, cfg.reasoner_layers, enable_nested_tensor=False)
        self.out_norm = nn.LayerNorm(d)

    def sequence(self, image_tokens, goal_ids, goal_mask):
        """The sequence [image, goal, queries] and its additive key bias [b, len]: padded goal tokens
        are invisible to every position."""
        b, n, _ = image_tokens.shape
        t = goal_ids.shape[1]
        img = self.img_in(image_tokens) + self.type_emb[0]
        txt = self.embed(goal_ids) + self.text_pos[:, :t] + self.type_emb[1]
        qry = self.queries.expand(b, -1, -1) + self.type_emb[2]
        pad = (1.0 - goal_mask) * -1e4
        return torch.cat([img, txt, qry], dim=1), torch.cat([goal_mask.new_zeros(b, n), pad, goal_mask.new_zeros(b, self.cfg.queries)], dim=1)

    def forward(self, image_tokens, goal_ids, goal_mask):
        b, n, _ = image_tokens.shape
        t = goal_ids.shape[1]
        x, key_bias = self.sequence(image_tokens, goal_ids, goal_mask)
        attn = key_bias[:, None, None, :].expand(b, self.cfg.heads, 1, x.shape[1]).reshape(b * self.cfg.heads, 1, x.shape[1])
        attn = attn.expand(-1, x.shape[1], -1)
        y = self.out_norm(self.layers(x, mask=attn))
        return y[:, n + t :], y[:, :n]  # query bank [b, K+1, D], image states [b, N, D]


class TwoWayBlock(nn.Module):
    """SAM's two-way attention block: tokens self-attend, attend to the image, the image attends back."""

    def __init__(self, c: int, heads: int, skip_first_pe: bool):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(c, heads, batch_first=True)
        self.n1 = nn.LayerNorm(c)
        self.t2i = nn.MultiheadAttention(c, heads, batch_first=True)
        self.n2 = nn.LayerNorm(c)
        self.mlp = nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))
        self.n3 = nn.LayerNorm(c)
        self.i2t = nn.MultiheadAttention(c, heads, batch_first=True)
        self.n4 = nn.LayerNorm(c)
        self.skip_first_pe = skip_first_pe

    def forward(self, tok, tok_pe, img, img_pe):
        if self.skip_first_pe:
            tok = self.n1(self.self_attn(tok, tok, tok, need_weights=False)[0])
        else:
            q = tok + tok_pe
            tok = self.n1(tok + self.self_attn(q, q, tok, need_weights=False)[0])
        tok = self.n2(tok + self.t2i(tok + tok_pe, img + img_pe, img, need_weights=False)[0])
        tok = self.n3(tok + self.mlp(tok))
        img = self.n4(img + self.i2t(img + img_pe, tok + tok_pe, tok, need_weights=False)[0])
        return tok, img


class MaskDecoder(nn.Module):
    """Token map + prompt encoding + SAM-style two-way mask decoder."""

    def __init__(self, cfg: Config):
        super().__init__()
        c, d = cfg.mask_dim, cfg.dim
        self.cfg = cfg
        # two separate projections, as in the reference: latent states and the anchor
        self.latent_proj = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, c))
        self.anchor_proj = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, c))
        self.slot_pos = nn.Parameter(torch.randn(1, cfg.queries, c) * 0.02)
        # raw similarity -> logits for TMCC (learned temperature and bias; the map itself is min-max normalised)
        self.map_scale = nn.Parameter(torch.tensor(1.0 / math.sqrt(d)))
        self.map_bias = nn.Parameter(torch.tensor(-2.0))
        # dense prompt: SAM's mask_downscaling applied to the upsampled token map
        self.map_down = nn.Sequential(nn.Conv2d(1, c // 4, 2, stride=2), nn.GELU(), nn.Conv2d(c // 4, c, 2, stride=2), nn.GELU(), nn.Conv2d(c, c, 1))
        self.no_mask = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.img_pe = nn.Parameter(torch.randn(1, cfg.mask_grid * cfg.mask_grid, c) * 0.02)
        self.out_tokens = nn.Parameter(torch.randn(1, 2, c) * 0.02)  # iou token, mask token
        self.blocks = nn.ModuleList(TwoWayBlock(c, 4, i == 0) for i in range(cfg.decoder_layers))
        self.final_attn = nn.MultiheadAttention(c, 4, batch_first=True)
        self.final_norm = nn.LayerNorm(c)
        self.up = nn.Sequential(nn.ConvTranspose2d(c, c // 2, 2, stride=2), nn.GroupNorm(1, c // 2), nn.GELU())
        self.hyper = nn.Sequential(nn.Linear(c, c), nn.GELU(), nn.Linear(c, c // 2))
        self.score_head = nn.Sequential(nn.Linear(c, c), nn.GELU(), nn.Linear(c, 1))

    def token_map(self, anchor, image_states):
        """Raw anchor x image-state similarity -> (min-max map in [0,1], TMCC logits), both [b, g, g]."""
        g = self.cfg.grid
        sim = torch.einsum("bd,bnd->bn", anchor, image_states)
        lo = sim.min(dim=1, keepdim=True).values
        hi = sim.max(dim=1, keepdim=True).values
        norm = (sim - lo) / torch.clamp(hi - lo, min=1e-6)  # guard max == min (NaN in the reference)
        logits = sim * self.map_scale + self.map_bias
        return norm.view(-1, g, g), logits.view(-1, g, g)

    def prompts(self, image_states, mask_features, query_bank):
        """(token map, TMCC logits, tokens, their positions, image [b, HW, C], its positions): the
        decoder's inputs before its two-way blocks."""
        cfg = self.cfg
        b, c = mask_features.shape[:2]
        anchor = query_bank[:, -1]
        tmap, tlogits = self.token_map(anchor, image_states)
        if cfg.single_seg:
            sparse = self.anchor_proj(query_bank)
            dense = self.no_mask.expand(b, -1, cfg.mask_grid, cfg.mask_grid)
        else:
            sparse = torch.cat([self.latent_proj(query_bank[:, :-1]), self.anchor_proj(query_bank[:, -1:])], dim=1)
            up = F.interpolate(tmap[:, None], size=(4 * cfg.mask_grid, 4 * cfg.mask_grid), mode="bilinear", align_corners=False)
            dense = self.map_down(up)
        sparse = sparse + self.slot_pos
        tok_pe = torch.cat([self.out_tokens.new_zeros(1, 2, c), self.slot_pos], dim=1).expand(b, -1, -1)
        tok = torch.cat([self.out_tokens.expand(b, -1, -1), sparse], dim=1)
        img = (mask_features + dense).flatten(2).transpose(1, 2)
        return tmap, tlogits, tok, tok_pe, img, self.img_pe.expand(b, -1, -1)

    def forward(self, image_states, mask_features, query_bank):
        cfg = self.cfg
        b, c = mask_features.shape[:2]
        tmap, tlogits, tok, tok_pe, img, img_pe = self.prompts(image_states, mask_features, query_bank)
        for blk in self.blocks:
            tok, img = blk(tok, tok_pe, img, img_pe)
        tok = self.final_norm(tok + self.final_attn(tok + tok_pe, img + img_pe, img, need_weights=False)[0])
        feat = self.up(img.transpose(1, 2).reshape(b, c, cfg.mask_grid, cfg.mask_grid))
        w = self.hyper(tok[:, 1])
        mask_logits = torch.einsum("bc,bchw->bhw", w, feat)[:, None]
        score_logit = self.score_head(tok[:, 0])[:, 0]
        return tmap, tlogits, mask_logits, score_logit


class AnchorSeg(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.vision = VisionEncoder(cfg)
        self.reasoner = Reasoner(cfg)
        self.decoder = MaskDecoder(cfg)

    def forward(self, pixels, goal_ids, goal_mask, return_states: bool = False):
        tokens, feats = self.vision(pixels)
        bank, reasoner_states = self.reasoner(tokens, goal_ids, goal_mask)
        states = tokens if self.cfg.image_states == "vision" else reasoner_states
        out = self.decoder(states, feats, bank)
        return (out, (tokens, feats, bank)) if return_states else out


# ---- the three engines as exported (fixed names, see docs/bundle-format.md) ----


class VisionEngine(nn.Module):
    def __init__(self, m: AnchorSeg):
        super().__init__()
        self.m = m

    def forward(self, pixels):
        return self.m.vision(pixels)


class ReasonerEngine(nn.Module):
    def __init__(self, m: AnchorSeg):
        super().__init__()
        self.m = m

    def forward(self, image_tokens, goal_ids, goal_mask):
        bank, states = self.m.reasoner(image_tokens, goal_ids, goal_mask)
        return (bank, states) if self.m.cfg.image_states == "reasoner" else bank


class DecoderEngine(nn.Module):
    def __init__(self, m: AnchorSeg):
        super().__init__()
        self.m = m

    def forward(self, image_states, mask_features, query_bank):
        tmap, _, logits, score_logit = self.m.decoder(image_states, mask_features, query_bank)
        return tmap, logits, torch.sigmoid(score_logit)


# The weights whose shapes depend on the input size: learned positions on the token grid and on the
# mask-feature grid. Everything else is convolutions and attention, the same at any size.
GRID_PARAMS = {"vision.pos": "grid", "decoder.img_pe": "mask_grid"}


def resize_grids(state: dict, cfg: Config) -> dict:
    """`state` with its learned grid positions resized bilinearly to `cfg`'s grids: a warm start
    at another input size (train --init --input-size)."""
    out = dict(state)
    for name, field in GRID_PARAMS.items():
        p = state[name]
        old, new = math.isqrt(p.shape[1]), getattr(cfg, field)
        if old != new:
            grid = p.reshape(1, old, old, -1).permute(0, 3, 1, 2)
            out[name] = F.interpolate(grid, size=(new, new), mode="bilinear", align_corners=False).permute(0, 2, 3, 1).reshape(1, new * new, -1)
    return out


# Weights of a reasoner layer that write into the residual stream: zero, the pre-norm layer is an identity.
_RESIDUAL_OUT = ("self_attn.out_proj.weight", "self_attn.out_proj.bias", "linear2.weight", "linear2.bias")


def grow_reasoner(state: dict, cfg: Config) -> dict:
    """`state` with reasoner layers appended up to `cfg.reasoner_layers` (train --init
    --reasoner-layers): each a copy of the last layer with its residual outputs zeroed, so the grown
    model computes what `state` did and the new layers learn from there."""
    prefix = "reasoner.layers.layers."
    have = 1 + max(int(k[len(prefix) :].split(".")[0]) for k in state if k.startswith(prefix))
    if cfg.reasoner_layers < have:
        raise ValueError(f"Expected at least the checkpoint's {have} reasoner layers (--reasoner-layers) but received {cfg.reasoner_layers}")
    out = dict(state)
    last = f"{prefix}{have - 1}."
    for i in range(have, cfg.reasoner_layers):
        for k, v in state.items():
            if k.startswith(last):
                name = k[len(last) :]
                out[f"{prefix}{i}.{name}"] = torch.zeros_like(v) if name in _RESIDUAL_OUT else v.clone()
    return out


def load_checkpoint(path: Path) -> tuple[AnchorSeg, dict]:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = Config(**ck["config"])
    model = AnchorSeg(cfg)
    model.load_state_dict(ck["state"])
    model.eval()
    return model, ck
