"""The reference AnchorSeg (github rui-qian/AnchorSeg at 0d8e3f0) on transformers' own classes, cut
into the three engines of the bundle (docs/full-size.md).

LLaVA-1.5 is `LlavaForConditionalGeneration` (CLIP ViT, feature layer -2, CLS dropped, GELU MLP
projector, LLaMA), SAM is `SamModel`. What the reference adds is here: padded CLIP patches masked in
the ViT and the LLM (`llava_arch._generate_vit_attention_mask`), the query bank read at the
positions before `[SEG]` (`PPMv2.quick_select`, the evaluation path), the anchor x image-state token
map (`compute_similarity`, min-max normalised), the two projection MLPs (`text_hidden_fcs`,
`latent_hidden_fcs`), the positional embeddings of the 8 prompt slots and of the mask tokens
(`mask_decoder.latent_token_positional_embedding`, `.positional_embedding`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration, SamConfig, SamModel
from transformers.models.sam.configuration_sam import SamVisionConfig

CLIP_SIZE = 336
SAM_SIZE = 1024
DENSE_SIZE = 256  # SAM's mask-prompt input (4 x its 64 x 64 embedding)


@dataclass
class Arch:
    """The sub-configs; `reference_7b()` is the released model, tests use tiny ones of the same classes."""

    clip: dict
    llama: dict
    sam_vision: dict
    latent_tokens: int = 7
    prompt_dim: int = 256  # SAM's prompt embedding size (config.out_dim in the reference)
    extra: dict = field(default_factory=dict)

    def llava_config(self, vocab_size: int, image_token_id: int) -> LlavaConfig:
        text = LlamaConfig(**{**self.llama, "vocab_size": vocab_size})
        vision = CLIPVisionConfig(**{"image_size": CLIP_SIZE, "patch_size": 14, **self.clip})
        cfg = LlavaConfig(
            vision_config=vision,
            text_config=text,
            image_token_id=image_token_id,
            projector_hidden_act="gelu",
            vision_feature_layer=-2,
            vision_feature_select_strategy="default",
        )
        cfg._attn_implementation = "eager"
        cfg.text_config._attn_implementation = "eager"
        cfg.vision_config._attn_implementation = "eager"
        return cfg

    def sam_config(self) -> SamConfig:
        cfg = SamConfig(vision_config=SamVisionConfig(**{"image_size": SAM_SIZE, "patch_size": 16, "output_channels": self.prompt_dim, **self.sam_vision}))
        return cfg


def reference_7b(llama: dict) -> Arch:
    """CLIP ViT-L/14-336, SAM ViT-H; `llama` from the checkpoint's config.json."""
    return Arch(
        clip={"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16, "projection_dim": 768},
        llama=llama,
        sam_vision={"hidden_size": 1280, "num_hidden_layers": 32, "num_attention_heads": 16, "global_attn_indexes": [7, 15, 23, 31], "mlp_dim": 5120},
    )


def mlp(dim: int, out: int) -> nn.Sequential:
    """The reference's projection: Linear, ReLU, Linear (its trailing Dropout(0) is omitted)."""
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, out))


class AnchorSegFullSize(nn.Module):
    def __init__(self, arch: Arch, vocab_size: int, image_token_id: int, seg_id: int, rej_id: int):
        super().__init__()
        self.arch = arch
        self.llava = LlavaForConditionalGeneration(arch.llava_config(vocab_size, image_token_id))
        self.sam = SamModel(arch.sam_config())
        dim = arch.llama["hidden_size"]
        self.anchor_fc = mlp(dim, arch.prompt_dim)  # text_hidden_fcs[0]
        self.latent_fc = mlp(dim, arch.prompt_dim)  # latent_hidden_fcs[0]
        self.slot_pos = nn.Parameter(torch.zeros(arch.latent_tokens + 1, arch.prompt_dim))  # latent_token_positional_embedding
        self.seg_id, self.rej_id = seg_id, rej_id
        vision = self.llava.config.vision_config
        self.grid = vision.image_size // vision.patch_size
        self.register_buffer("dense_resize", dense_resize_matrix(self.grid), persistent=False)

    # -- vision: CLIP tokens (+ which are real) and SAM features, per frame --------------------
    def patch_mask(self, clip_pixels: torch.Tensor) -> torch.Tensor:
        """[1, g*g]: 1 where the patch's top-left pixel is content. The SDK pads with exact zeros and a
        normalised 8-bit pixel is never 0 in all three channels; the reference samples its resize mask
        the same way (nearest, 336 -> 24)."""
        p = self.llava.config.vision_config.patch_size
        corners = clip_pixels[:, :, ::p, ::p]
        return (corners != 0).any(dim=1).flatten(1).to(clip_pixels.dtype)

    def image_tokens(self, clip_pixels: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        vt = self.llava.model.vision_tower
        keys = torch.cat([torch.ones_like(patch_mask[:, :1]), patch_mask], dim=1)  # CLS always attends
        bias = (1 - keys)[:, None, None, :] * torch.finfo(clip_pixels.dtype).min
        h = vt.pre_layrnorm(vt.embeddings(clip_pixels))
        for layer in vt.encoder.layers[:-1]:  # feature layer -2: the output of the second-to-last layer
            h = layer(h, bias)
        return self.llava.model.multi_modal_projector(h[:, 1:])

    def dense_valid(self, sam_pixels: torch.Tensor) -> torch.Tensor:
        """[1,1,256,256]: 1 inside the SAM input's content, where the reference's dense prompt is not padding."""
        step = SAM_SIZE // DENSE_SIZE
        return (sam_pixels[:, :, ::step, ::step] != 0).any(dim=1, keepdim=True).to(sam_pixels.dtype)

    # -- reasoner: one KV-less forward over [prefix, image, prompt] ----------------------------
    def reason(self, prefix_ids, image_tokens, patch_mask, goal_ids, goal_mask, tail: int):
        """Final hidden states (after the norm, as the reference's `hidden_states[-1]`), the query bank
        (the K+1 states before `[SEG]`, `tail` ids after it) and p([SEG]) against p([REJ]) at the anchor."""
        lm = self.llava.model.language_model
        embed = lm.get_input_embeddings()
        x = torch.cat([embed(prefix_ids), image_tokens, embed(goal_ids)], dim=1)
        attn = torch.cat([torch.ones_like(prefix_ids, dtype=goal_mask.dtype), patch_mask, goal_mask], dim=1)
        h = lm(inputs_embeds=x, attention_mask=attn, use_cache=False).last_hidden_state
        k = self.arch.latent_tokens
        length = h.shape[1]
        bank = h[:, length - tail - k - 2 : length - tail - 1]
        bank = bank.reshape(1, k + 1, self.arch.llama["hidden_size"])  # static shape for the manifest
        n = self.grid * self.grid
        p = prefix_ids.shape[1]
        states = h[:, p : p + n].reshape(1, n, self.arch.llama["hidden_size"])
        w = self.llava.lm_head.weight[[self.seg_id, self.rej_id]]
        logits = bank[:, k] @ w.t()
        score = torch.softmax(logits.float(), dim=-1)[:, 0].to(h.dtype)
        return bank, states, score

    # -- decoder: token map, prompts, SAM mask decoder, per frame ------------------------------
    def decode(self, image_states, mask_features, query_bank, dense_valid):
        k = self.arch.latent_tokens
        anchor = query_bank[:, k]
        sim = torch.einsum("bd,bnd->bn", anchor, image_states).float()
        lo = sim.min(dim=1, keepdim=True).values
        hi = sim.max(dim=1, keepdim=True).values
        # Min-max as the reference; a flat map (hi == lo, NaN there) becomes 0.
        tm = (sim - lo) / (hi - lo).clamp_min(1e-12)
        token_map = tm.reshape(1, self.grid, self.grid)
        r = self.dense_resize.float()
        dense_map = r @ token_map @ r.t()
        dense_map = dense_map[:, None].to(mask_features.dtype) * dense_valid
        dense = self.sam.prompt_encoder.mask_embed(dense_map)
        sparse = torch.cat([self.latent_fc(query_bank[:, :k]), self.anchor_fc(query_bank[:, k:])], dim=1) + self.slot_pos
        pe = self.sam.get_image_wide_positional_embeddings().to(mask_features.dtype)
        low_res, _iou = self.sam.mask_decoder(
            image_embeddings=mask_features,
            image_positional_embeddings=pe,
            sparse_prompt_embeddings=sparse[:, None],
            dense_prompt_embeddings=dense,
            multimask_output=False,
        )
        return token_map.to(mask_features.dtype), low_res[:, 0]


def dense_resize_matrix(grid: int) -> torch.Tensor:
    """[256, g]: the reference's token map -> dense prompt chain along one axis, as one linear map:
    bilinear g -> 336 (`get_similarity_map`), then antialiased bilinear 336 -> 256 (`apply_image_torch`).
    The reference's crop to the content and resize to the original frame in between are left out
    (see docs/full-size.md); the padding is zeroed by `dense_valid` instead."""
    eye = torch.eye(grid, dtype=torch.float64)[:, None, :, None].expand(grid, 1, grid, 1).contiguous()
    up = F.interpolate(eye.float(), size=(CLIP_SIZE, 1), mode="bilinear", align_corners=False)
    down = F.interpolate(up, size=(DENSE_SIZE, 1), mode="bilinear", align_corners=False, antialias=True)
    return down[:, 0, :, 0].t().contiguous()
