#!/usr/bin/python3
"""Open3D 0.16 ScalableTSDFVolume baseline for bench/fusion.ts (run by it as a subprocess).

Reads the frames bench/fusion.ts wrote (raw float32 depth in mm, uint8 RGB, float64 camera-to-world
poses in mm), fuses them with the same voxel size, truncation and depth range, and prints one JSON
line with per-frame integration times, full-mesh extraction times and the mesh size. Writes the mesh
to --out as PLY. Exits with code 3 and {"error": ...} when Open3D is not installed; installs nothing.
"""
import argparse
import json
import sys
import time

try:
    import numpy as np
    import open3d as o3d
except ImportError as exc:  # reported by the caller
    print(json.dumps({"error": f"Open3D is not available to {sys.executable}: {exc} "
                               "(Debian: apt-get install python3-open3d)"}))
    sys.exit(3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", required=True, help="folder written by bench/fusion.ts")
    ap.add_argument("--voxel", type=float, required=True, help="voxel size, mm")
    ap.add_argument("--trunc", type=float, required=True, help="truncation, mm")
    ap.add_argument("--max-depth", type=float, required=True, help="depth cut-off, mm")
    ap.add_argument("--extract-runs", type=int, default=3)
    ap.add_argument("--out", required=True, help="mesh PLY to write")
    args = ap.parse_args()

    with open(f"{args.frames}/meta.json") as f:
        meta = json.load(f)
    n, w, h = meta["frames"], meta["width"], meta["height"]
    depth = np.fromfile(f"{args.frames}/depth.f32", dtype=np.float32).reshape(n, h, w)
    rgb = np.fromfile(f"{args.frames}/rgb.u8", dtype=np.uint8).reshape(n, h, w, 3)
    poses = np.fromfile(f"{args.frames}/poses.f64", dtype=np.float64).reshape(n, 4, 4)
    k = meta["intrinsics"]
    intrinsic = o3d.camera.PinholeCameraIntrinsic(w, h, k["fx"], k["fy"], k["cx"], k["cy"])

    volume = o3d.pipelines.integration.ScalableTSDFVolume(
        voxel_length=args.voxel,
        sdf_trunc=args.trunc,
        color_type=o3d.pipelines.integration.TSDFVolumeColorType.RGB8,
    )
    integrate_ms = []
    for i in range(n):
        # Depth is already in mm: depth_scale 1 keeps Open3D in the same unit as voxel and truncation.
        rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(
            o3d.geometry.Image(np.ascontiguousarray(rgb[i])),
            o3d.geometry.Image(np.ascontiguousarray(depth[i])),
            depth_scale=1.0,
            depth_trunc=args.max_depth,
            convert_rgb_to_intensity=False,
        )
        extrinsic = np.linalg.inv(poses[i])  # Open3D wants world-to-camera
        t0 = time.perf_counter()
        volume.integrate(rgbd, intrinsic, extrinsic)
        integrate_ms.append((time.perf_counter() - t0) * 1000)

    extract_ms = []
    mesh = None
    for _ in range(args.extract_runs):
        t0 = time.perf_counter()
        mesh = volume.extract_triangle_mesh()
        extract_ms.append((time.perf_counter() - t0) * 1000)
    o3d.io.write_triangle_mesh(args.out, mesh, write_ascii=False)
    print(json.dumps({
        "open3d": o3d.__version__,
        "integrateMs": integrate_ms,
        "extractMs": extract_ms,
        "vertices": len(mesh.vertices),
        "triangles": len(mesh.triangles),
    }))


if __name__ == "__main__":
    main()
