#!/usr/bin/python3
"""Exports a trained checkpoint to ONNX (depth and pose graphs) and writes models/manifest.json.

  /usr/bin/python3 training/export.py --checkpoint training/runs/shipped/best.pt --out models --size 384x288

Also writes parity fixtures (random inputs and the PyTorch outputs, raw float32) to <checkpoint dir>/parity/;
`npx tsx training/check_onnx.ts` then runs the ONNX files in onnxruntime-node on the same inputs and records the
max abs difference in the manifest (Debian has no python3-onnxruntime).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from navdepth.model import DepthExport, DepthNet, NetConfig, PoseExport, PoseNet  # noqa: E402

OPSET = 13
NORMALISATION = (
    "RGB, NCHW, float32 value/255 in [0, 1], resized to the declared size (area / bilinear); "
    "the graph applies (x - 0.45) / 0.225 itself"
)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def io_spec(model_path: str):
    m = onnx.load(model_path)
    init = {i.name for i in m.graph.initializer}

    def dims(v):
        return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]

    ins = [{"name": v.name, "shape": dims(v), "dtype": "float32"} for v in m.graph.input if v.name not in init]
    outs = [{"name": v.name, "shape": dims(v), "dtype": "float32"} for v in m.graph.output]
    return ins, outs


def export(module: torch.nn.Module, args, path: str, input_names, output_names, dynamic) -> None:
    """Height and width stay symbolic in the graph (any size runs); the manifest declares the size to feed."""
    module.eval()
    axes = {name: {2: "height", 3: "width"} for name in dynamic}
    torch.onnx.export(
        module, args, path, opset_version=OPSET, input_names=input_names, output_names=output_names,
        do_constant_folding=True, dynamic_axes=axes,
    )
    onnx.checker.check_model(onnx.load(path))


def save_bin(path: str, t: torch.Tensor) -> None:
    t.detach().contiguous().numpy().astype(np.float32).tofile(path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", default="models")
    ap.add_argument("--size", default="384x288", help="input size of the exported graphs (WxH)")
    ap.add_argument("--prefix", default="navdepth")
    ap.add_argument("--training-summary", default=None, help="JSON file merged into the manifest's training field")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    ck = torch.load(args.checkpoint, map_location="cpu")
    cfg = NetConfig(**ck["config"])
    depth_net, pose_net = DepthNet(cfg), PoseNet(cfg)
    depth_net.load_state_dict(ck["depth"])
    pose_net.load_state_dict(ck["pose"])
    os.makedirs(args.out, exist_ok=True)
    parity_dir = os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "parity")
    os.makedirs(parity_dir, exist_ok=True)

    torch.manual_seed(0)
    image = torch.rand(1, 3, h, w)
    memory = torch.randn(1, cfg.memory_slots, cfg.memory_dim)
    pair = torch.rand(1, 6, h, w)
    depth_file = f"{args.prefix}-depth.onnx"
    pose_file = f"{args.prefix}-pose.onnx"
    dexp, pexp = DepthExport(depth_net).eval(), PoseExport(pose_net).eval()
    export(dexp, (image, memory), os.path.join(args.out, depth_file), ["image", "memory_in"], ["depth", "disparity", "memory_out"],
           ["image", "depth", "disparity"])
    export(pexp, (pair,), os.path.join(args.out, pose_file), ["pair"], ["axisangle", "translation"], ["pair"])
    with torch.no_grad():
        depth, disp, mem_out = dexp(image, memory)
        aa, tr = pexp(pair)
    for name, t in [("image", image), ("memory_in", memory), ("depth", depth), ("disparity", disp),
                    ("memory_out", mem_out), ("pair", pair), ("axisangle", aa), ("translation", tr)]:
        save_bin(os.path.join(parity_dir, f"{name}.bin"), t)

    manifest_path = os.path.join(args.out, "manifest.json")
    training = {}
    if args.training_summary:
        with open(args.training_summary) as f:
            training = json.load(f)
    common_arch = {"width_multiplier": cfg.width, "encoder": "ResNet34 (torchvision layout 3-4-6-3 BasicBlocks), from scratch",
                   "config": cfg.to_dict()}
    d_in, d_out = io_spec(os.path.join(args.out, depth_file))
    p_in, p_out = io_spec(os.path.join(args.out, pose_file))
    # Output shapes from the traced run (the exporter leaves some as symbolic names).
    actual = {"depth": depth, "disparity": disp, "memory_out": mem_out, "axisangle": aa, "translation": tr}
    for o in d_out + p_out:
        o["shape"] = list(actual[o["name"]].shape)
    fed = {"image": list(image.shape), "memory_in": list(memory.shape), "pair": list(pair.shape)}
    for i in d_in + p_in:
        i["shape"] = fed[i["name"]]
    for i in d_in:
        if i["name"] == "image":
            i["normalisation"] = NORMALISATION
        if i["name"] == "memory_in":
            i["description"] = "SAB memory: zeros for the first frame of a sequence, then the previous call's memory_out"
    for o in d_out:
        o["description"] = {
            "depth": "depth along the optical axis, mm, in depth_range_mm, at the input size",
            "disparity": "sigmoid disparity in [0, 1]; depth = 1 / (1/max + (1/min - 1/max) * disparity)",
            "memory_out": "SAB memory to feed as memory_in of the next frame",
        }[o["name"]]
    p_in[0]["normalisation"] = "previous frame RGB (channels 0-2) then current frame RGB (channels 3-5); " + NORMALISATION
    p_out[0]["description"] = "rotation of T_prev_cur (pose of the current camera in the previous camera's frame), axis-angle, rad"
    p_out[1]["description"] = "translation of T_prev_cur, mm"
    manifest = {
        "format": "navws-models/1",
        "models": {
            "depth": {
                "file": depth_file, "bytes": os.path.getsize(os.path.join(args.out, depth_file)),
                "sha256": sha256(os.path.join(args.out, depth_file)), "opset": OPSET,
                "inputs": d_in, "outputs": d_out, "depth_units": "mm",
                "depth_range_mm": [cfg.min_depth_mm, cfg.max_depth_mm],
                "architecture": dict(common_arch, blocks=["SAB top-k attention over past-frame memory (deepest level)",
                                                          "improved FPN (per-level channels, 3x3 conv after fusion)",
                                                          "feature enhancement (stride-2 3x3 convs + same-channel FPN maps + 3x3 conv)",
                                                          "decoder: 3x3 conv + ELU, upsampling, skip fusion, sigmoid disparity at 4 scales (scale 0 exported)"]),
            },
            "pose": {
                "file": pose_file, "bytes": os.path.getsize(os.path.join(args.out, pose_file)),
                "sha256": sha256(os.path.join(args.out, pose_file)), "opset": OPSET,
                "inputs": p_in, "outputs": p_out,
                "convention": "T_prev_cur maps points from the current camera frame to the previous camera frame; "
                              "camera-to-world of the current frame = camera-to-world of the previous frame * T_prev_cur",
                "architecture": dict(common_arch, blocks=["6-channel ResNet34 encoder", "deepest map -> 1x1 conv + ReLU, 2x 3x3 conv + ReLU, 1x1 conv -> 6, spatial mean"]),
            },
        },
        "training": training,
        "checkpoint_step": ck.get("step"),
        "validation_at_checkpoint": ck.get("val"),
    }
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps({k: {"file": v["file"], "bytes": v["bytes"]} for k, v in manifest["models"].items()}))


if __name__ == "__main__":
    main()
