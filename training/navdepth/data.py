"""Dataset folders (docs/formats.md) read straight from Python, held in memory at the training size.

<dataset>/intrinsics.json, rgb/NNNNNN.png (8-bit RGB), depth/NNNNNN.png (16-bit, value / depth_scale = mm,
0 = unknown, optional), groundtruth.txt (TUM "t tx ty tz qx qy qz qw", camera-to-world, mm, optional).

Splits are by sequence (a dataset folder is one sequence), never by frame.
"""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np
import torch


@dataclass
class Sequence:
    name: str
    rgb: np.ndarray  # N,H,W,3 uint8 at training size
    depth: Optional[np.ndarray]  # N,H,W float32 mm (0 = unknown) at training size
    poses: Optional[np.ndarray]  # N,4,4 camera-to-world, mm
    k: np.ndarray  # 3x3 at training size


def scale_k(fx: float, fy: float, cx: float, cy: float, w0: int, h0: int, w: int, h: int) -> np.ndarray:
    """Same convention as src/shared/camera.ts scaleIntrinsics: pixel centres at integer coordinates."""
    sx, sy = w / w0, h / h0
    return np.array(
        [[fx * sx, 0, (cx + 0.5) * sx - 0.5], [0, fy * sy, (cy + 0.5) * sy - 0.5], [0, 0, 1]], dtype=np.float32
    )


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    x, y, z, w = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def read_tum(path: str) -> np.ndarray:
    poses = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            v = np.array([float(x) for x in line.split()])
            t = np.eye(4)
            t[:3, :3] = quat_to_matrix(v[4:8])
            t[:3, 3] = v[1:4]
            poses.append(t)
    return np.stack(poses).astype(np.float64)


def load_sequence(root: str, width: int, height: int) -> Sequence:
    with open(os.path.join(root, "intrinsics.json")) as f:
        intr = json.load(f)
    names = sorted(n for n in os.listdir(os.path.join(root, "rgb")) if n.endswith(".png"))
    rgb = []
    for n in names:
        img = cv2.imread(os.path.join(root, "rgb", n), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"{root}/rgb/{n}: not a readable image")
        rgb.append(cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), (width, height), interpolation=cv2.INTER_AREA))
    depth = None
    ddir = os.path.join(root, "depth")
    if os.path.isdir(ddir):
        depth = []
        for n in names:
            d = cv2.imread(os.path.join(ddir, n), cv2.IMREAD_UNCHANGED)
            if d is None:
                raise ValueError(f"{ddir}/{n}: not a readable depth PNG")
            d = d.astype(np.float32) / float(intr["depth_scale"])
            # Nearest keeps 0 = unknown from bleeding into valid depth.
            depth.append(cv2.resize(d, (width, height), interpolation=cv2.INTER_NEAREST))
        depth = np.stack(depth)
    gt = os.path.join(root, "groundtruth.txt")
    poses = read_tum(gt) if os.path.exists(gt) else None
    k = scale_k(intr["fx"], intr["fy"], intr["cx"], intr["cy"], intr["width"], intr["height"], width, height)
    return Sequence(os.path.basename(root.rstrip("/")), np.stack(rgb), depth, poses, k)


def split_sequences(names: List[str], val_fraction: float, test_fraction: float, seed: int):
    """Deterministic split of sequence names into train/val/test (whole sequences)."""
    names = sorted(names)
    rng = random.Random(seed)
    rng.shuffle(names)
    n_val = max(1, int(round(len(names) * val_fraction)))
    n_test = max(1, int(round(len(names) * test_fraction)))
    return sorted(names[n_val + n_test :]), sorted(names[:n_val]), sorted(names[n_val : n_val + n_test])


def to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1).float() / 255.0


class SnippetDataset(torch.utils.data.Dataset):
    """Samples (t-2s, t-s, t, t+s) with stride s: t-2s and t-s fill the SAB memory, t-s and t+s are the
    photometric source frames of target t."""

    def __init__(self, seqs: List[Sequence], strides: Tuple[int, ...] = (1, 2), augment: bool = True):
        self.seqs = seqs
        self.augment = augment
        self.index = [
            (si, t, s)
            for si, seq in enumerate(seqs)
            for s in strides
            for t in range(2 * s, len(seq.rgb) - s)
        ]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        si, t, s = self.index[i]
        seq = self.seqs[si]
        ids = [t - 2 * s, t - s, t, t + s]
        frames = [to_tensor(seq.rgb[j]) for j in ids]
        if self.augment:
            # Same colour jitter on every frame of the snippet (photometric consistency is preserved).
            gain = torch.empty(3, 1, 1).uniform_(0.85, 1.15)
            gamma = float(np.random.uniform(0.85, 1.15))
            frames = [(f.clamp_min(1e-6) ** gamma * gain).clamp(0, 1) for f in frames]
        out = {
            "frames": torch.stack(frames),  # 4,3,H,W
            "k": torch.from_numpy(seq.k),
            "has_depth": torch.tensor(seq.depth is not None),
            "depth": torch.from_numpy(seq.depth[t])[None] if seq.depth is not None else torch.zeros(1, *frames[0].shape[1:]),
            "has_pose": torch.tensor(seq.poses is not None),
        }
        if seq.poses is not None:
            inv = np.linalg.inv
            # T_a_b = inv(T_w_a) T_w_b: pose of camera b in camera a (what the pose net predicts for pair [a, b]).
            out["pose_prev_t"] = torch.from_numpy(inv(seq.poses[t - s]) @ seq.poses[t]).float()
            out["pose_t_next"] = torch.from_numpy(inv(seq.poses[t]) @ seq.poses[t + s]).float()
        else:
            out["pose_prev_t"] = torch.eye(4)
            out["pose_t_next"] = torch.eye(4)
        return out
