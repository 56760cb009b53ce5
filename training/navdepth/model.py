"""Depth and pose networks of NavWS (method section 3.1).

Depth network:  ResNet34 encoder -> SAB attention over a memory of past-frame features (at the deepest level)
                -> improved FPN (per-level channel counts, 3x3 conv after each fusion)
                -> feature-enhancement block (stride-2 3x3 convs, fused with same-channel FPN maps, 3x3 conv)
                -> depth decoder (3x3 conv + ELU, upsampling, skip fusion, sigmoid disparity at 4 scales).
Pose network:   ResNet34 encoder on two frames stacked on channels (6 channels) -> deepest map -> convs + ReLU
                -> 6-DoF (axis-angle + translation).

A width multiplier scales every channel count of the same architecture (1.0 = torchvision's resnet34 widths),
so a narrower variant can ship where CPU speed or model size demand it.

The SAB memory is an explicit tensor input and output (shape [B, memory_slots, memory_dim]) so the exported
ONNX graph is stateless: the caller feeds back `memory_out` as the next frame's `memory_in`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock

# Layout of torchvision's resnet34: BasicBlocks per stage.
RESNET34_LAYERS = (3, 4, 6, 3)


@dataclass(frozen=True)
class NetConfig:
    width: float = 1.0  # channel multiplier over torchvision resnet34 (64, 64, 128, 256, 512)
    pose_width: float = 0.0  # channel multiplier of the pose network's encoder (0 = same as width)
    memory_frames: int = 2  # past frames kept in the SAB memory
    tokens_per_frame: int = 8  # feature tokens each frame contributes to the memory
    memory_dim: int = 64  # channel count of a memory token
    top_k: int = 4  # each query attends to its k best-matching memory tokens only
    min_depth_mm: float = 10.0
    max_depth_mm: float = 200.0

    @property
    def enc_channels(self) -> List[int]:
        return [max(8, int(round(c * self.width))) for c in (64, 64, 128, 256, 512)]

    def for_pose(self) -> "NetConfig":
        return replace(self, width=self.pose_width or self.width)

    @property
    def dec_channels(self) -> List[int]:
        return [max(8, int(round(c * self.width))) for c in (16, 32, 64, 128, 256)]

    @property
    def memory_slots(self) -> int:
        return self.memory_frames * self.tokens_per_frame

    def to_dict(self) -> Dict[str, float]:
        return asdict(self)


class ResNetEncoder(nn.Module):
    """torchvision resnet34 structure (7x7 stem, max-pool, 3-4-6-3 BasicBlocks) with scaled widths.

    Returns the five U-Net skip features at strides 2, 4, 8, 16, 32. Inputs are RGB in [0, 1]; the
    (x - 0.45) / 0.225 normalisation of Monodepth2 happens inside so callers only divide by 255.
    """

    def __init__(self, cfg: NetConfig, in_frames: int = 1):
        super().__init__()
        ch = cfg.enc_channels
        self.inplanes = ch[0]
        self.conv1 = nn.Conv2d(3 * in_frames, ch[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(ch[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(ch[1], RESNET34_LAYERS[0], 1)
        self.layer2 = self._make_layer(ch[2], RESNET34_LAYERS[1], 2)
        self.layer3 = self._make_layer(ch[3], RESNET34_LAYERS[2], 2)
        self.layer4 = self._make_layer(ch[4], RESNET34_LAYERS[3], 2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Zero-init the last BN of each residual branch: every block starts as identity (trains faster from scratch).
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = (x - 0.45) / 0.225
        c1 = self.relu(self.bn1(self.conv1(x)))
        c2 = self.layer1(self.maxpool(c1))
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return [c1, c2, c3, c4, c5]


class SABlock(nn.Module):
    """Sparse attentive backtracking over past-frame features.

    Each position of the current deepest feature map queries the memory of tokens from past frames; only
    the top-k scores per query survive (the rest are masked before the softmax), so each position recalls
    the few past features relevant to it. The recalled values are projected back and added (gated) to the
    current features. The frame's own tokens come from learned attention pooling (size-independent, so the
    graph accepts any input size), and the updated memory drops the oldest frame's tokens.
    """

    def __init__(self, channels: int, cfg: NetConfig):
        super().__init__()
        d = cfg.memory_dim
        self.cfg = cfg
        self.token_queries = nn.Parameter(torch.randn(cfg.tokens_per_frame, d) * 0.1)
        self.pool_key = nn.Conv2d(channels, d, 1)
        self.pool_value = nn.Conv2d(channels, d, 1)
        self.query = nn.Conv2d(channels, d, 1)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.out = nn.Conv2d(d, channels, 1)
        self.gate = nn.Parameter(torch.zeros(1))
        self.scale = d ** -0.5

    def frame_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, tokens_per_frame, memory_dim] by attention pooling over positions."""
        k = self.pool_key(x).flatten(2)  # B, d, HW
        v = self.pool_value(x).flatten(2)  # B, d, HW
        att = torch.softmax(torch.matmul(self.token_queries, k) * self.scale, dim=-1)  # B, T, HW
        return torch.matmul(att, v.transpose(1, 2))  # B, T, d

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        b, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # B, HW, d
        k = self.key(memory)  # B, M, d
        v = self.value(memory)  # B, M, d
        scores = torch.matmul(q, k.transpose(1, 2)) * self.scale  # B, HW, M
        kth = torch.topk(scores, self.cfg.top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
        recalled = torch.matmul(torch.softmax(scores, dim=-1), v)  # B, HW, d
        recalled = recalled.transpose(1, 2).reshape(b, -1, h, w)
        y = x + self.gate * self.out(recalled)
        new_memory = torch.cat([memory[:, self.cfg.tokens_per_frame :], self.frame_tokens(x)], dim=1)
        return y, new_memory


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ImprovedFPN(nn.Module):
    """Top-down pathway whose channel count follows the ResNet level (64, 128, 256, 512 x width).

    The upsampled coarser map is brought to the same-level ResNet channel count by a 1x1 conv, added to the
    ResNet feature, and a 3x3 conv follows the fusion.
    """

    def __init__(self, ch: List[int]):
        super().__init__()
        # levels 2..5 (strides 4..32) -> indices 1..4 of ch
        self.lateral = nn.ModuleList([nn.Conv2d(ch[i + 1], ch[i], 1) for i in range(1, 4)])
        self.smooth = nn.ModuleList([conv3x3(ch[i], ch[i]) for i in range(1, 4)])

    def forward(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        c2, c3, c4, c5 = feats[1:]
        outs = [c5]
        top = c5
        for lvl, c in ((2, c4), (1, c3), (0, c2)):  # index into lateral/smooth
            up = F.interpolate(top, size=c.shape[2:], mode="nearest")
            top = self.smooth[lvl](c + self.lateral[lvl](up))
            outs.insert(0, top)
        return outs  # p2, p3, p4, p5


class FeatureEnhancement(nn.Module):
    """Bottom-up pass on the FPN: a stride-2 3x3 conv downsamples and changes channels, the result is added
    to the FPN map of the same channel count and a 3x3 conv forms the enhanced feature."""

    def __init__(self, ch: List[int]):
        super().__init__()
        self.down = nn.ModuleList([conv3x3(ch[i], ch[i + 1], stride=2) for i in range(1, 4)])
        self.fuse = nn.ModuleList([conv3x3(ch[i + 1], ch[i + 1]) for i in range(1, 4)])

    def forward(self, p: List[torch.Tensor]) -> List[torch.Tensor]:
        outs = [p[0]]
        for i in range(3):
            outs.append(self.fuse[i](p[i + 1] + self.down[i](outs[-1])))
        return outs  # n2, n3, n4, n5


class ConvELU(nn.Sequential):
    def __init__(self, cin: int, cout: int):
        super().__init__(nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3), nn.ELU(inplace=True))


class DepthDecoder(nn.Module):
    """Monodepth2-style decoder: per stage 3x3 conv + ELU, x2 upsampling, fusion (concat) with the skip
    feature of that resolution, 3x3 conv + ELU; sigmoid disparity heads at scales 3..0 (0 = full input size)."""

    def __init__(self, enc_ch: List[int], dec_ch: List[int]):
        super().__init__()
        self.up0 = nn.ModuleList()
        self.up1 = nn.ModuleList()
        cin = enc_ch[4]
        for i in range(4, -1, -1):
            self.up0.append(ConvELU(cin, dec_ch[i]))
            skip = enc_ch[i - 1] if i > 0 else 0
            self.up1.append(ConvELU(dec_ch[i] + skip, dec_ch[i]))
            cin = dec_ch[i]
        self.heads = nn.ModuleList(
            [nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dec_ch[s], 1, 3)) for s in range(4)]
        )

    def forward(self, skips: List[torch.Tensor], image_size: List[int]) -> List[torch.Tensor]:
        """skips: features at strides 2, 4, 8, 16, 32. Returns sigmoid disparities, index = scale (0 finest).
        Upsampling goes to the size of the next skip (any input size works, not only multiples of 32)."""
        x = skips[4]
        disps: List[torch.Tensor] = [x, x, x, x]
        for j, i in enumerate(range(4, -1, -1)):
            x = self.up0[j](x)
            x = F.interpolate(x, size=skips[i - 1].shape[2:] if i > 0 else image_size, mode="nearest")
            if i > 0:
                x = torch.cat([x, skips[i - 1]], dim=1)
            x = self.up1[j](x)
            if i < 4:
                disps[i] = torch.sigmoid(self.heads[i](x))
        return disps


def disp_to_depth(disp: torch.Tensor, min_depth: float, max_depth: float) -> torch.Tensor:
    """Sigmoid disparity -> depth in [min_depth, max_depth] (Monodepth2's inverse-depth mapping)."""
    min_disp = 1.0 / max_depth
    max_disp = 1.0 / min_depth
    return 1.0 / (min_disp + (max_disp - min_disp) * disp)


class DepthNet(nn.Module):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        ch = cfg.enc_channels
        self.encoder = ResNetEncoder(cfg)
        self.sab = SABlock(ch[4], cfg)
        self.fpn = ImprovedFPN(ch)
        self.enhance = FeatureEnhancement(ch)
        self.decoder = DepthDecoder(ch, cfg.dec_channels)

    def empty_memory(self, batch: int, device: torch.device | None = None) -> torch.Tensor:
        return torch.zeros(batch, self.cfg.memory_slots, self.cfg.memory_dim, device=device)

    @torch.no_grad()
    def memory_tokens(self, image: torch.Tensor) -> torch.Tensor:
        """Tokens a frame contributes to the memory (what `forward` appends), without the decoder."""
        return self.sab.frame_tokens(self.encoder(image)[4])

    def forward(self, image: torch.Tensor, memory: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        c = self.encoder(image)
        c5, new_memory = self.sab(c[4], memory)
        p = self.fpn([c[0], c[1], c[2], c[3], c5])
        n = self.enhance(p)
        disps = self.decoder([c[0], n[0], n[1], n[2], n[3]], image.shape[2:])
        return disps, new_memory


class PoseNet(nn.Module):
    """Two frames [a, b] stacked on channels -> T_a_b, the pose of camera b in camera a's frame (mm)."""

    # Output scale: the head starts near zero motion; translation is predicted in units of 1 mm.
    ROT_SCALE = 0.01
    TRANS_SCALE = 1.0

    def __init__(self, cfg: NetConfig):
        super().__init__()
        cfg = cfg.for_pose()
        ch = cfg.enc_channels
        hidden = max(32, int(round(256 * cfg.width)))
        self.encoder = ResNetEncoder(cfg, in_frames=2)
        self.head = nn.Sequential(
            nn.Conv2d(ch[4], hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, 6, 1),
        )

    def forward(self, pair: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.encoder(pair)[4]).mean(dim=(2, 3))
        return out[:, :3] * self.ROT_SCALE, out[:, 3:] * self.TRANS_SCALE


def axis_angle_to_matrix(axisangle: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """[B,3] axis-angle + [B,3] translation -> [B,4,4] rigid transform (Rodrigues)."""
    angle = torch.linalg.norm(axisangle, dim=1, keepdim=True).clamp_min(1e-8)
    axis = axisangle / angle
    ca, sa = torch.cos(angle), torch.sin(angle)
    c1 = 1 - ca
    x, y, z = axis[:, 0:1], axis[:, 1:2], axis[:, 2:3]
    r = torch.cat(
        [
            ca + x * x * c1, x * y * c1 - z * sa, x * z * c1 + y * sa,
            y * x * c1 + z * sa, ca + y * y * c1, y * z * c1 - x * sa,
            z * x * c1 - y * sa, z * y * c1 + x * sa, ca + z * z * c1,
        ],
        dim=1,
    ).view(-1, 3, 3)
    top = torch.cat([r, translation.view(-1, 3, 1)], dim=2)
    bottom = torch.tensor([0.0, 0.0, 0.0, 1.0], device=r.device).view(1, 1, 4).expand(r.shape[0], 1, 4)
    return torch.cat([top, bottom], dim=1)


class DepthExport(nn.Module):
    """The exported depth graph: image [1,3,H,W] RGB/255 + memory -> depth (mm), disparity, memory_out."""

    def __init__(self, net: DepthNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor, memory: torch.Tensor):
        disps, new_memory = self.net(image, memory)
        disp = disps[0]
        depth = disp_to_depth(disp, self.net.cfg.min_depth_mm, self.net.cfg.max_depth_mm)
        return depth, disp, new_memory


class PoseExport(nn.Module):
    """The exported pose graph: pair [1,6,H,W] (previous RGB/255, current RGB/255) -> axisangle, translation (mm)."""

    def __init__(self, net: PoseNet):
        super().__init__()
        self.net = net

    def forward(self, pair: torch.Tensor):
        return self.net(pair)
