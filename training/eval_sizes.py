#!/usr/bin/python3
"""Validation metrics of a checkpoint at several network input sizes (to choose the size the manifest declares).

  /usr/bin/python3 training/eval_sizes.py --checkpoint training/runs/shipped/best.pt --sizes 160x120,192x144,256x192,384x288
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from navdepth.data import load_sequence  # noqa: E402
from navdepth.model import DepthNet, NetConfig, PoseNet  # noqa: E402
from train import validate  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", default="training/data")
    ap.add_argument("--sizes", default="160x120,192x144,256x192,384x288")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--split", default="val", choices=["val", "test"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.checkpoint, map_location="cpu")
    cfg = NetConfig(**ck["config"])
    d, p = DepthNet(cfg), PoseNet(cfg)
    d.load_state_dict(ck["depth"])
    p.load_state_dict(ck["pose"])
    with open(os.path.join(os.path.dirname(args.checkpoint), "split.json")) as f:
        names = json.load(f)[args.split]
    for size in args.sizes.split(","):
        w, h = (int(v) for v in size.split("x"))
        seqs = [load_sequence(os.path.join(args.data, n), w, h) for n in names]
        v = validate(d, p, seqs, cfg, args.frames)
        print(json.dumps({"size": size, "split": args.split, "step": ck.get("step"), **v}), flush=True)


if __name__ == "__main__":
    main()
