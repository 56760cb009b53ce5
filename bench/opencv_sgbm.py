"""OpenCV StereoSGBM on a rectified pair, for bench/stereo.ts (Debian python3-opencv via /usr/bin/python3).

usage: opencv_sgbm.py LEFT.png RIGHT.png OUT.f32 --min-disparity N --num-disparities N --block-size N
       [--mode sgbm|3way|hh4] [--uniqueness N] [--speckle-window N] [--speckle-range N] [--lr-max-diff N]
       [--repeats N]

Reads both views as grey, runs compute() `repeats` times after one warm-up call, writes the disparity
of the last call as float32 row-major (px; 0 = invalid) and prints one JSON line: the median ms per call,
OpenCV's thread count and version. P1 = p1_factor * bs^2, P2 = p2_factor * bs^2 (OpenCV suggests 8 and 32 per channel).
"""
import argparse
import json
import sys
import time

import cv2
import numpy as np

MODES = {"sgbm": cv2.STEREO_SGBM_MODE_SGBM, "3way": cv2.STEREO_SGBM_MODE_SGBM_3WAY, "hh4": cv2.STEREO_SGBM_MODE_HH4}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("left")
    p.add_argument("right")
    p.add_argument("out")
    p.add_argument("--min-disparity", type=int, required=True)
    p.add_argument("--num-disparities", type=int, required=True)
    p.add_argument("--block-size", type=int, required=True)
    p.add_argument("--p1-factor", type=float, default=4)
    p.add_argument("--p2-factor", type=float, default=16)
    p.add_argument("--mode", choices=sorted(MODES), default="sgbm")
    p.add_argument("--uniqueness", type=int, default=10)
    p.add_argument("--speckle-window", type=int, default=100)
    p.add_argument("--speckle-range", type=int, default=2)
    p.add_argument("--lr-max-diff", type=int, default=1)
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args()
    left = cv2.imread(a.left, cv2.IMREAD_GRAYSCALE)
    right = cv2.imread(a.right, cv2.IMREAD_GRAYSCALE)
    if left is None or right is None:
        print(f"cannot read {a.left} or {a.right}", file=sys.stderr)
        return 2
    if left.shape != right.shape:
        print(f"views differ in size: {left.shape} vs {right.shape}", file=sys.stderr)
        return 2
    bs = a.block_size
    sgbm = cv2.StereoSGBM_create(
        minDisparity=a.min_disparity,
        numDisparities=a.num_disparities,
        blockSize=bs,
        P1=int(a.p1_factor * bs * bs),
        P2=int(a.p2_factor * bs * bs),
        disp12MaxDiff=a.lr_max_diff,
        uniquenessRatio=a.uniqueness,
        speckleWindowSize=a.speckle_window,
        speckleRange=a.speckle_range,
        mode=MODES[a.mode],
    )
    raw = sgbm.compute(left, right)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        raw = sgbm.compute(left, right)
        times.append((time.perf_counter() - t0) * 1000)
    disp = raw.astype(np.float32) / 16.0
    disp[raw < a.min_disparity * 16] = 0  # OpenCV marks invalid as (minDisparity - 1) * 16
    disp.tofile(a.out)
    print(json.dumps({"ms": float(np.median(times)), "threads": cv2.getNumThreads(), "version": cv2.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
