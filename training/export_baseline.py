#!/usr/bin/python3
"""Exports the speed baseline of `npm run bench:depth`: a plain ResNet34-UNet (torchvision resnet34 encoder at
full width, Monodepth2's U-Net decoder, one sigmoid disparity output) at a given input size, exported the same
way as the shipped model (opset 13, constant folding, static shapes). Weights are random: only speed matters.

  /usr/bin/python3 training/export_baseline.py --out /tmp/resnet34-unet.onnx --size 384x288
"""
import argparse
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from navdepth.model import DepthDecoder, NetConfig, ResNetEncoder  # noqa: E402


class ResNet34UNet(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = NetConfig(width=1.0)
        self.encoder = ResNetEncoder(cfg)
        self.decoder = DepthDecoder(cfg.enc_channels, cfg.dec_channels)

    def forward(self, image):
        return self.decoder(self.encoder(image), image.shape[2:])[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", default="384x288")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    torch.manual_seed(0)
    net = ResNet34UNet().eval()
    torch.onnx.export(net, (torch.rand(1, 3, h, w),), args.out, opset_version=13, input_names=["image"],
                      output_names=["disparity"], do_constant_folding=True)
    print(args.out)


if __name__ == "__main__":
    main()
