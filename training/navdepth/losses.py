"""Training losses: Monodepth2's self-supervised recipe plus a supervised depth term where ground truth exists.

Photometric reprojection: 0.85 * (1 - SSIM) / 2 + 0.15 * L1, per-pixel minimum over the source frames,
auto-masking (a pixel whose un-warped source already matches better is static or texture-less and is left
out), edge-aware smoothness of the mean-normalised disparity. Pixels of specular highlights and of the black
endoscope border are excluded, in the target and (warped) in each source.
"""
from __future__ import annotations

from typing import Dict, List

import torch
import torch.nn.functional as F

from .model import disp_to_depth

SSIM_WEIGHT = 0.85
SMOOTH_WEIGHT = 1e-3
SUPERVISED_WEIGHT = 1.0
POSE_WEIGHT = 0.05
# A pixel is "black border" when every channel is below this, "specular" when it is bright and colourless.
BORDER_LEVEL = 0.04
SPECULAR_LEVEL = 0.92
SPECULAR_MAX_SATURATION = 0.15


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-pixel SSIM over 3x3 windows (reflection padded), as in Monodepth2."""
    c1, c2 = 0.01**2, 0.03**2
    x = F.pad(x, (1, 1, 1, 1), mode="reflect")
    y = F.pad(y, (1, 1, 1, 1), mode="reflect")
    mu_x = F.avg_pool2d(x, 3, 1)
    mu_y = F.avg_pool2d(y, 3, 1)
    sigma_x = F.avg_pool2d(x * x, 3, 1) - mu_x**2
    sigma_y = F.avg_pool2d(y * y, 3, 1) - mu_y**2
    sigma_xy = F.avg_pool2d(x * y, 3, 1) - mu_x * mu_y
    n = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    d = (mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2)
    return torch.clamp(n / d, -1, 1)


def photometric_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    l1 = (pred - target).abs().mean(1, keepdim=True)
    s = ((1 - ssim(pred, target)) / 2).mean(1, keepdim=True)
    return SSIM_WEIGHT * s + (1 - SSIM_WEIGHT) * l1


def valid_pixel_mask(img: torch.Tensor) -> torch.Tensor:
    """1 where a pixel is usable for photometric matching: not the black border, not a specular highlight."""
    mx = img.max(1, keepdim=True).values
    mn = img.min(1, keepdim=True).values
    saturation = (mx - mn) / mx.clamp_min(1e-3)
    border = mx < BORDER_LEVEL
    specular = (mn > SPECULAR_LEVEL) | ((mx > SPECULAR_LEVEL) & (saturation < SPECULAR_MAX_SATURATION))
    return (~(border | specular)).float()


def smoothness(disp: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
    d = disp / (disp.mean((2, 3), keepdim=True) + 1e-7)
    gdx = (d[:, :, :, :-1] - d[:, :, :, 1:]).abs()
    gdy = (d[:, :, :-1, :] - d[:, :, 1:, :]).abs()
    gix = (img[:, :, :, :-1] - img[:, :, :, 1:]).abs().mean(1, keepdim=True)
    giy = (img[:, :, :-1, :] - img[:, :, 1:, :]).abs().mean(1, keepdim=True)
    return (gdx * torch.exp(-gix)).mean() + (gdy * torch.exp(-giy)).mean()


def warp(source: torch.Tensor, depth: torch.Tensor, k: torch.Tensor, t_src_tgt: torch.Tensor):
    """Samples `source` at the projection of each target pixel (depth mm, intrinsics k [B,3,3] at this size,
    t_src_tgt [B,4,4] mapping target-camera points to source-camera points). Returns (warped, in_view)."""
    b, _, h, w = depth.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=depth.dtype, device=depth.device),
        torch.arange(w, dtype=depth.dtype, device=depth.device),
        indexing="ij",
    )
    pix = torch.stack([xs, ys, torch.ones_like(xs)], 0).view(1, 3, -1)  # 1,3,HW
    rays = torch.linalg.inv(k) @ pix  # B,3,HW (k is tiny; inverting it per call is negligible)
    pts = rays * depth.view(b, 1, -1)
    pts = t_src_tgt[:, :3, :3] @ pts + t_src_tgt[:, :3, 3:]
    proj = k @ pts
    z = proj[:, 2:3].clamp_min(1e-3)
    uv = proj[:, :2] / z
    gx = uv[:, 0] / (w - 1) * 2 - 1
    gy = uv[:, 1] / (h - 1) * 2 - 1
    grid = torch.stack([gx, gy], -1).view(b, h, w, 2)
    warped = F.grid_sample(source, grid, mode="bilinear", padding_mode="border", align_corners=True)
    in_view = ((gx.abs() <= 1) & (gy.abs() <= 1) & (pts[:, 2] > 0)).view(b, 1, h, w).float()
    return warped, in_view


def compute_losses(
    target: torch.Tensor,
    sources: List[torch.Tensor],
    t_src_tgt: List[torch.Tensor],
    disps: List[torch.Tensor],
    k: torch.Tensor,
    min_depth: float,
    max_depth: float,
    gt_depth: torch.Tensor | None,
    use_photometric: bool = True,
) -> Dict[str, torch.Tensor]:
    """All terms at full resolution (multi-scale disparities are upsampled first, as in Monodepth2).

    gt_depth: [B,1,H,W] mm with 0 = unknown, or None. Returns the total and each term (for logging)."""
    h, w = target.shape[2:]
    tgt_valid = valid_pixel_mask(target)
    src_valid = [valid_pixel_mask(s) for s in sources]
    identity = torch.cat([photometric_error(s, target) for s in sources], 1)
    identity = identity + torch.randn_like(identity) * 1e-5  # breaks ties in favour of the warped source
    big = torch.tensor(1e3, dtype=target.dtype, device=target.device)
    out: Dict[str, torch.Tensor] = {}
    total_photo = target.new_zeros(())
    total_smooth = target.new_zeros(())
    total_sup = target.new_zeros(())
    for scale, disp in enumerate(disps):
        disp_full = disp if scale == 0 else F.interpolate(disp, size=(h, w), mode="bilinear", align_corners=False)
        depth = disp_to_depth(disp_full, min_depth, max_depth)
        if use_photometric:
            reproj = []
            for s, sv, t in zip(sources, src_valid, t_src_tgt):
                # The source's validity mask travels as a 4th channel through the same sampling.
                warped4, in_view = warp(torch.cat([s, sv], 1), depth, k, t)
                warped, warped_valid = warped4[:, :3], warped4[:, 3:]
                err = photometric_error(warped, target)
                ok = in_view * (warped_valid > 0.5).float()
                reproj.append(torch.where(ok > 0, err, big))
            reproj_t = torch.cat(reproj, 1)
            combined = torch.cat([identity, reproj_t], 1)
            best, idx = combined.min(1, keepdim=True)
            auto_mask = (idx >= identity.shape[1]).float()
            mask = tgt_valid * auto_mask * (best < big * 0.5).float()
            total_photo = total_photo + (best * mask).sum() / mask.sum().clamp_min(1.0)
        small = F.interpolate(target, size=disp.shape[2:], mode="area") if scale > 0 else target
        total_smooth = total_smooth + SMOOTH_WEIGHT * smoothness(disp, small) / (2**scale)
        if gt_depth is not None:
            m = (gt_depth > 0).float()
            if m.sum() > 0:
                err = (torch.log(depth) - torch.log(gt_depth.clamp_min(1e-3))).abs()
                total_sup = total_sup + SUPERVISED_WEIGHT * (err * m).sum() / m.sum()
    n = len(disps)
    out["photometric"] = total_photo / n
    out["smoothness"] = total_smooth / n
    out["supervised"] = total_sup / n
    out["total"] = out["photometric"] + out["smoothness"] + out["supervised"]
    return out


def pose_loss(pred: torch.Tensor, gt: torch.Tensor, has_gt: torch.Tensor) -> torch.Tensor:
    """Supervision of the pose head where the sequence has a ground-truth trajectory: rotation (rad) and
    translation (mm) differences of T_a_b; has_gt [B] selects samples."""
    if has_gt.sum() == 0:
        return pred.new_zeros(())
    dr = (pred[:, :3, :3] - gt[:, :3, :3]).abs().mean((1, 2)) * 100.0
    dt = (pred[:, :3, 3] - gt[:, :3, 3]).abs().mean(1)
    return POSE_WEIGHT * ((dr + dt) * has_gt).sum() / has_gt.sum()
