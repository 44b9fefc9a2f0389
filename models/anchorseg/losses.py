"""Mask losses and Token-Mask Cycle Consistency (TMCC), on logits throughout.

Reference (ANCHORSEG-METHOD.md): L = l_bce*(BCE(mask)+BCE(T2M)+BCE(M2T)) + l_dice*(Dice(mask)+Dice(T2M)+Dice(M2T)),
l_bce = l_dice = 2. Differences, on purpose:
- the reference applies a sigmoid to the min-max map (already in [0,1]); we keep the min-max map for the
  dense prompt and give TMCC the raw similarity through a learned scale and bias (`tlogits`), so BCE
  sees real logits;
- blur scales follow our resolution: T2M sigma = a quarter token (4 px at 128 input, reference 7 px
  at ~1000 px), M2T sigma = 1 token on the 8x8 grid (reference 7 tokens on 24x24);
- M2T downsamples the ground truth by area (the reference takes nearest samples, which can miss an
  object narrower than a token on our coarse grid).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

L_BCE = 2.0
L_DICE = 2.0
DICE_EPS = 1e-3


def gaussian_kernel(sigma: float, radius: int) -> torch.Tensor:
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of [b, h, w], normalised so each sample's maximum is 1 (as the reference)."""
    radius = max(1, min(int(math.ceil(3 * sigma)), (min(x.shape[-2:]) - 1) // 2))
    k = gaussian_kernel(sigma, radius).to(x)
    y = x[:, None]
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1))[:, 0]
    peak = y.flatten(1).max(dim=1).values.clamp(min=1e-6)
    return y / peak[:, None, None]


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample soft Dice on sigmoid(logits), [b, ...] -> [b]."""
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    return 1 - (2 * (p * t).sum(1) + DICE_EPS) / (p.sum(1) + t.sum(1) + DICE_EPS)


def mask_loss(mask_logits: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """BCE + Dice between [b,1,Lh,Lw] logits upsampled to the input grid and the [b,H,W] letterboxed ground truth."""
    up = F.interpolate(mask_logits, size=gt.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    bce = F.binary_cross_entropy_with_logits(up, gt, reduction="none").flatten(1).mean(1)
    return bce.mean(), dice_loss(up, gt).mean()


def tmcc_losses(tlogits: torch.Tensor, gt: torch.Tensor, present: torch.Tensor, token_px: float) -> dict[str, torch.Tensor]:
    """TMCC in both directions. tlogits [b,g,g], gt [b,H,W] in {0,1} (soft at edges), present [b] bool.

    Samples without a target are skipped, as in the reference.
    """
    zero = tlogits.sum() * 0
    if not bool(present.any()):
        return {"t2m_bce": zero, "t2m_dice": zero, "m2t_bce": zero, "m2t_dice": zero}
    tl, g = tlogits[present], gt[present]
    # token -> mask: the token map upsampled to pixels against a Gaussian-blurred ground truth
    up = F.interpolate(tl[:, None], size=g.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    soft = blur(g, sigma=token_px / 4)
    s = soft.flatten(1).sum(1)
    pos_weight = ((soft[0].numel() - s) / s.clamp(min=1.0)).clamp(max=100.0)
    bce = F.binary_cross_entropy_with_logits(up, soft, reduction="none")
    weight = 1 + (pos_weight[:, None, None] - 1) * soft  # positive weighting, per sample
    t2m_bce = (bce * weight).flatten(1).mean(1).mean()
    t2m_dice = dice_loss(up, soft).mean()
    # mask -> token: the ground truth downsampled to the token grid and blurred there
    grid = tl.shape[-1]
    coarse = F.adaptive_avg_pool2d(g[:, None], grid)[:, 0]
    coarse_soft = blur(coarse, sigma=1.0)
    m2t_bce = F.binary_cross_entropy_with_logits(tl, coarse_soft)
    m2t_dice = dice_loss(tl, coarse_soft).mean()
    return {"t2m_bce": t2m_bce, "t2m_dice": t2m_dice, "m2t_bce": m2t_bce, "m2t_dice": m2t_dice}


def total_loss(out, gt: torch.Tensor, iou_target: torch.Tensor, tmcc: bool, token_px: float) -> tuple[torch.Tensor, dict[str, float]]:
    _tmap, tlogits, mask_logits, score_logit = out
    bce, dice = mask_loss(mask_logits, gt)
    parts = {"mask_bce": bce, "mask_dice": dice}
    loss = L_BCE * bce + L_DICE * dice
    if tmcc:
        present = gt.flatten(1).amax(1) > 0.5
        t = tmcc_losses(tlogits, gt, present, token_px)
        parts.update(t)
        loss = loss + L_BCE * (t["t2m_bce"] + t["m2t_bce"]) + L_DICE * (t["t2m_dice"] + t["m2t_dice"])
    # confidence: SAM's IoU head; 0 where nothing should be found ("not there")
    score = F.binary_cross_entropy_with_logits(score_logit, iou_target)
    parts["score"] = score
    loss = loss + score
    return loss, {k: float(v.detach()) for k, v in parts.items()}
