"""Losses on hand-computed cases."""

import math

import torch
import torch.nn.functional as F

from anchorseg.losses import blur, dice_loss, mask_loss, tmcc_losses, total_loss


def test_dice_perfect_and_disjoint():
    target = torch.zeros(1, 4, 4)
    target[0, :2] = 1
    perfect = torch.where(target > 0, 50.0, -50.0)
    assert dice_loss(perfect, target).item() < 1e-3
    disjoint = torch.where(target > 0, -50.0, 50.0)
    # 1 - eps / (8 + 8 + eps)
    assert math.isclose(dice_loss(disjoint, target).item(), 1 - 1e-3 / (16 + 1e-3), rel_tol=1e-4)


def test_dice_hand_computed_half():
    # logits 0 -> p = 0.5 everywhere; 2 of 4 pixels positive: 1 - (2*1 + eps) / (2 + 2 + eps)
    target = torch.tensor([[[1.0, 1.0], [0.0, 0.0]]])
    got = dice_loss(torch.zeros(1, 2, 2), target).item()
    assert math.isclose(got, 1 - (2.0 + 1e-3) / (4.0 + 1e-3), rel_tol=1e-5)


def test_mask_loss_bce_matches_torch_at_same_resolution():
    logits = torch.randn(2, 1, 8, 8)
    gt = (torch.rand(2, 8, 8) > 0.5).float()
    bce, _ = mask_loss(logits, gt)
    assert torch.allclose(bce, F.binary_cross_entropy_with_logits(logits[:, 0], gt))


def test_blur_peak_is_one_and_spreads():
    x = torch.zeros(1, 9, 9)
    x[0, 4, 4] = 1
    y = blur(x, sigma=1.0)
    assert math.isclose(y.max().item(), 1.0, rel_tol=1e-6)
    assert y[0, 4, 5] > 0.5 and y[0, 0, 0] < 0.01


def test_tmcc_skips_empty_and_rewards_alignment():
    gt = torch.zeros(2, 32, 32)
    gt[0, 8:16, 8:16] = 1
    present = torch.tensor([True, False])
    good = torch.full((2, 4, 4), -6.0)
    good[0, 1, 1] = 6.0  # the token covering the object
    bad = torch.full((2, 4, 4), -6.0)
    bad[0, 3, 3] = 6.0
    lg = tmcc_losses(good, gt, present, token_px=8)
    lb = tmcc_losses(bad, gt, present, token_px=8)
    for k in lg:
        assert lg[k] < lb[k], k
    none = tmcc_losses(good, gt, torch.tensor([False, False]), token_px=8)
    assert all(v.item() == 0 for v in none.values())


def test_total_loss_includes_tmcc_only_when_asked():
    b = 2
    out = (torch.rand(b, 4, 4), torch.randn(b, 4, 4), torch.randn(b, 1, 16, 16), torch.randn(b))
    gt = torch.zeros(b, 32, 32)
    gt[:, 4:12, 4:12] = 1
    iou = torch.tensor([0.5, 0.0])
    with_tmcc, parts = total_loss(out, gt, iou, True, 8.0)
    without, parts2 = total_loss(out, gt, iou, False, 8.0)
    assert "t2m_bce" in parts and "t2m_bce" not in parts2
    assert with_tmcc > without
