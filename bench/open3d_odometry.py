#!/usr/bin/python3
"""Frame-to-frame RGB-D odometry with Open3D (the baseline of `npm run bench:tracking`).

Usage: /usr/bin/python3 bench/open3d_odometry.py <dataset> <color|hybrid> [max_frames]

Reads a NavWS dataset folder (intrinsics.json, rgb/NNNNNN.png, depth/NNNNNN.png, depth in
png/depth_scale mm) and chains compute_rgbd_odometry between consecutive frames. Everything stays in
millimetres: Open3D's depth_scale is the dataset's PNG units per mm, so its depth gates (depth_max,
depth_diff_max) are in mm too. Prints one JSON object on stdout: camera-to-world poses (row-major,
world = frame 0), per-pair milliseconds (odometry only, not image loading) and failed pairs.
"""
import json
import os
import sys
import time

try:
    import numpy as np
    import open3d as o3d
except ImportError as exc:  # the benchmark reports this and carries on without the baseline
    print(json.dumps({"error": f"Open3D is not available ({exc}); install Debian's python3-open3d"}))
    sys.exit(3)


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[2] not in ("color", "hybrid"):
        print(json.dumps({"error": "usage: open3d_odometry.py <dataset> <color|hybrid> [max_frames]"}))
        sys.exit(2)
    root, term = sys.argv[1], sys.argv[2]
    max_frames = int(sys.argv[3]) if len(sys.argv) > 3 else None
    with open(os.path.join(root, "intrinsics.json"), encoding="utf-8") as f:
        k = json.load(f)
    names = sorted(n for n in os.listdir(os.path.join(root, "rgb")) if n.endswith(".png"))
    if max_frames:
        names = names[:max_frames]
    intr = o3d.camera.PinholeCameraIntrinsic(k["width"], k["height"], k["fx"], k["fy"], k["cx"], k["cy"])
    # Scenes are 20-150 mm away: gate depth at 300 mm and depth differences at 5 mm (Open3D's
    # defaults, 4 m and 0.03 m, are for room-scale scenes in metres).
    option = o3d.pipelines.odometry.OdometryOption(
        iteration_number_per_pyramid_level=o3d.utility.IntVector([20, 10, 5]),
        depth_diff_max=5.0,
        depth_min=1.0,
        depth_max=300.0,
    )
    jacobian = (
        o3d.pipelines.odometry.RGBDOdometryJacobianFromColorTerm()
        if term == "color"
        else o3d.pipelines.odometry.RGBDOdometryJacobianFromHybridTerm()
    )

    def load(name: str):
        color = o3d.io.read_image(os.path.join(root, "rgb", name))
        depth = o3d.io.read_image(os.path.join(root, "depth", name))
        return o3d.geometry.RGBDImage.create_from_color_and_depth(
            color, depth, depth_scale=float(k["depth_scale"]), depth_trunc=300.0, convert_rgb_to_intensity=True
        )

    pose = np.eye(4)
    poses = [pose.reshape(-1).tolist()]
    ms = []
    failed = []
    prev = load(names[0])
    for i in range(1, len(names)):
        cur = load(names[i])
        t0 = time.perf_counter()
        ok, trans, _info = o3d.pipelines.odometry.compute_rgbd_odometry(cur, prev, intr, np.eye(4), jacobian, option)
        ms.append((time.perf_counter() - t0) * 1000.0)
        if not ok or not np.all(np.isfinite(trans)):
            failed.append(i)
            trans = np.eye(4)  # a failed pair contributes no motion
        # trans maps points of the current camera into the previous one: T_prev_cur.
        pose = pose @ trans
        poses.append(pose.reshape(-1).tolist())
        prev = cur
    print(json.dumps({"term": term, "frames": len(names), "poses": poses, "ms": ms, "failed": failed}))


if __name__ == "__main__":
    main()
