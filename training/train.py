#!/usr/bin/python3
"""Trains the NavWS depth + pose networks (see training/README.md for the exact command of the shipped model).

  /usr/bin/python3 training/train.py --data training/data --out training/runs/shipped --width 0.5 \
      --size 192x144 --steps 3000 --batch 6 --seed 7

Deterministic for a given seed and thread count (fixed seeds, ordered sequence split, no data-loader workers).
Writes <out>/log.jsonl (one line per logging interval and per validation), <out>/best.pt and <out>/last.pt.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from navdepth.data import SnippetDataset, load_sequence, split_sequences  # noqa: E402
from navdepth.losses import compute_losses, pose_loss  # noqa: E402
from navdepth.metrics import depth_metrics, mean_metrics  # noqa: E402
from navdepth.model import DepthNet, NetConfig, PoseNet, axis_angle_to_matrix, disp_to_depth  # noqa: E402


def parse_size(s: str):
    w, h = s.lower().split("x")
    return int(w), int(h)


def list_sequences(root: str):
    return sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "intrinsics.json")))


@torch.no_grad()
def validate(depth_net: DepthNet, pose_net: PoseNet, seqs, cfg: NetConfig, max_frames: int):
    """Runs each held-out sequence in order with the SAB memory carried (as at inference)."""
    depth_net.eval()
    pose_net.eval()
    raw, med, rot_err, trans_err = [], [], [], []
    for seq in seqs:
        memory = depth_net.empty_memory(1)
        prev = None
        for i in range(min(len(seq.rgb), max_frames)):
            img = torch.from_numpy(seq.rgb[i]).permute(2, 0, 1).float()[None] / 255.0
            disps, memory = depth_net(img, memory)
            depth = disp_to_depth(disps[0], cfg.min_depth_mm, cfg.max_depth_mm)[0, 0].numpy()
            if seq.depth is not None:
                raw.append(depth_metrics(depth, seq.depth[i], False))
                med.append(depth_metrics(depth, seq.depth[i], True))
            if prev is not None and seq.poses is not None:
                aa, tr = pose_net(torch.cat([prev, img], 1))
                pred = axis_angle_to_matrix(aa, tr)[0].numpy()
                gt = np.linalg.inv(seq.poses[i - 1]) @ seq.poses[i]
                d = np.linalg.inv(gt) @ pred
                rot_err.append(math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(d[:3, :3]) - 1) / 2)))))
                trans_err.append(float(np.linalg.norm(pred[:3, 3] - gt[:3, 3])))
            prev = img
    depth_net.train()
    pose_net.train()
    out = {}
    if raw:
        out["raw"] = mean_metrics(raw)
        out["median_scaled"] = mean_metrics(med)
    if rot_err:
        out["pose_rot_err_deg"] = float(np.mean(rot_err))
        out["pose_trans_err_mm"] = float(np.mean(trans_err))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="training/data")
    ap.add_argument("--out", default="training/runs/default")
    ap.add_argument("--width", type=float, default=0.5)
    ap.add_argument("--pose-width", type=float, default=0.25)
    ap.add_argument("--size", default="192x144")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-every", type=int, default=250)
    ap.add_argument("--val-frames", type=int, default=40)
    ap.add_argument("--max-minutes", type=float, default=0, help="stop early (after a validation) past this")
    ap.add_argument("--min-depth", type=float, default=10.0)
    ap.add_argument("--max-depth", type=float, default=200.0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    width, height = parse_size(args.size)
    cfg = NetConfig(width=args.width, pose_width=args.pose_width, min_depth_mm=args.min_depth, max_depth_mm=args.max_depth)

    names = list_sequences(args.data)
    if len(names) < 3:
        raise SystemExit(f"{args.data}: need at least 3 sequences for a train/val/test split, found {len(names)}")
    train_names, val_names, test_names = split_sequences(names, 0.1, 0.1, seed=0)
    with open(os.path.join(args.out, "split.json"), "w") as f:
        json.dump({"train": train_names, "val": val_names, "test": test_names}, f, indent=1)
    t0 = time.time()
    train_seqs = [load_sequence(os.path.join(args.data, n), width, height) for n in train_names]
    val_seqs = [load_sequence(os.path.join(args.data, n), width, height) for n in val_names]
    print(f"loaded {len(train_seqs)} train / {len(val_seqs)} val sequences in {time.time() - t0:.1f}s", flush=True)

    ds = SnippetDataset(train_seqs)
    gen = torch.Generator().manual_seed(args.seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch, shuffle=True, drop_last=True, generator=gen)

    depth_net = DepthNet(cfg)
    pose_net = PoseNet(cfg)
    params = list(depth_net.parameters()) + list(pose_net.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps)))
    )
    log = open(os.path.join(args.out, "log.jsonl"), "a")
    meta = {"event": "start", "args": vars(args), "config": cfg.to_dict(), "train_samples": len(ds),
            "train": train_names, "val": val_names, "test": test_names, "torch": torch.__version__}
    log.write(json.dumps(meta) + "\n")
    best = float("inf")
    step = 0
    t_start = time.time()
    acc = {}
    done = False
    while not done:
        for batch in loader:
            frames = batch["frames"]  # B,4,3,H,W
            b = frames.shape[0]
            f_prev2, f_prev, f_t, f_next = frames[:, 0], frames[:, 1], frames[:, 2], frames[:, 3]
            # SAB memory from the two previous frames (encoder without gradient; token pooling trains).
            with torch.no_grad():
                c5 = depth_net.encoder(torch.cat([f_prev2, f_prev], 0))[4]
            tokens = depth_net.sab.frame_tokens(c5)
            memory = torch.cat([tokens[:b], tokens[b:]], 1)
            # The first frame of a sequence sees an empty memory: train that case too.
            keep = (torch.rand(b, 1, 1) > 0.2).float()
            memory = memory * keep
            disps, _ = depth_net(f_t, memory)
            aa, tr = pose_net(torch.cat([torch.cat([f_prev, f_t], 1), torch.cat([f_t, f_next], 1)], 0))
            t_all = axis_angle_to_matrix(aa, tr)
            t_prev_t, t_t_next = t_all[:b], t_all[b:]
            k = batch["k"].float()
            has_depth = bool(batch["has_depth"].all())
            losses = compute_losses(
                f_t, [f_prev, f_next], [t_prev_t, torch.linalg.inv(t_t_next)], disps, k,
                cfg.min_depth_mm, cfg.max_depth_mm, batch["depth"] if has_depth else None,
            )
            has_pose = batch["has_pose"].float()
            lp = pose_loss(t_prev_t, batch["pose_prev_t"], has_pose) + pose_loss(t_t_next, batch["pose_t_next"], has_pose)
            total = losses["total"] + lp
            opt.zero_grad()
            total.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            opt.step()
            sched.step()
            step += 1
            for name, v in list(losses.items()) + [("pose", lp)]:
                acc[name] = acc.get(name, 0.0) + float(v)
            acc["n"] = acc.get("n", 0) + 1
            if step % 25 == 0:
                row = {k2: v / acc["n"] for k2, v in acc.items() if k2 != "n"}
                row.update(event="train", step=step, lr=sched.get_last_lr()[0], elapsed_s=round(time.time() - t_start, 1))
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(json.dumps(row), flush=True)
                acc = {}
            out_of_time = args.max_minutes > 0 and (time.time() - t_start) > args.max_minutes * 60
            if step % args.val_every == 0 or step >= args.steps or out_of_time:
                v = validate(depth_net, pose_net, val_seqs, cfg, args.val_frames)
                v.update(event="val", step=step, elapsed_s=round(time.time() - t_start, 1))
                log.write(json.dumps(v) + "\n")
                log.flush()
                print(json.dumps(v), flush=True)
                state = {"config": cfg.to_dict(), "depth": depth_net.state_dict(), "pose": pose_net.state_dict(),
                         "step": step, "val": v, "args": vars(args)}
                torch.save(state, os.path.join(args.out, "last.pt"))
                score = v.get("raw", {}).get("abs_rel", float("inf"))
                if score < best:
                    best = score
                    torch.save(state, os.path.join(args.out, "best.pt"))
            if step >= args.steps or out_of_time:
                done = True
                break
    log.write(json.dumps({"event": "end", "step": step, "elapsed_s": round(time.time() - t_start, 1), "best_raw_abs_rel": best}) + "\n")
    log.close()


if __name__ == "__main__":
    main()
