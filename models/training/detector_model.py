"""Plate / vehicle / load detector: a small anchor-free CenterNet-style network.

Input  image [N, 3, 384, 640] RGB 0..1, letterboxed (pad 114/255, image at the top-left);
normalisation happens inside the network.

Outputs (raw head tensors; decoding + NMS happen outside, see models/README.md):
  plate  [N, 14, 48, 80]  stride 8
         0 objectness logit (plate centre heat-map)
         1 double-row logit
         2,3 centre offset dx, dy (stride units, from the cell centre)
         4,5 log(w / 8), log(h / 8)
         6..13 corners TL, TR, BR, BL as (x, y) offsets from the cell centre in stride units
  region [N, 10, 24, 40]  stride 16
         0 vehicle objectness logit, 1 load objectness logit
         2..5 vehicle dx, dy, log(w / 16), log(h / 16)
         6..9 load dx, dy, log(w / 16), log(h / 16)

Backbone: stride-2 stem + depthwise-separable blocks (BN + ReLU, BN fused at export)
to stride 32, a light top-down FPN to stride 16 (region head) and stride 8 (plate head).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

IN_H, IN_W = 384, 640
PLATE_STRIDE, REGION_STRIDE = 8, 16
PLATE_CH, REGION_CH = 14, 10


def cbr(cin, cout, k=3, s=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DW(nn.Module):
    """Depthwise 3x3 (stride s) + pointwise 1x1, residual when shapes match."""

    def __init__(self, cin, cout, s=1):
        super().__init__()
        self.dw = cbr(cin, cin, 3, s, groups=cin)
        self.pw = cbr(cin, cout, 1)
        self.res = s == 1 and cin == cout

    def forward(self, x):
        y = self.pw(self.dw(x))
        return x + y if self.res else y


class PlateDetector(nn.Module):
    def __init__(self, w=1.0):
        super().__init__()
        c = [int(v * w) for v in (16, 24, 64, 96, 128)]
        self.stem = cbr(3, c[0], 3, 2)                                   # /2
        self.s4 = cbr(c[0], c[1], 3, 2)                                  # /4 (plain conv: cheaper to train than DW here)
        self.s8 = nn.Sequential(DW(c[1], c[2], 2), DW(c[2], c[2]), DW(c[2], c[2]))  # /8
        self.s16 = nn.Sequential(DW(c[2], c[3], 2), DW(c[3], c[3]), DW(c[3], c[3]))  # /16
        self.s32 = nn.Sequential(DW(c[3], c[4], 2), DW(c[4], c[4]), DW(c[4], c[4]))  # /32
        f = 48
        self.l32 = cbr(c[4], f, 1)
        self.l16 = cbr(c[3], f, 1)
        self.l8 = cbr(c[2], f, 1)
        self.l4 = nn.Sequential(cbr(c[1], c[1], 3, 2, groups=c[1]), cbr(c[1], f, 1))  # stride-4 detail -> stride 8
        self.m16 = DW(f, f)
        self.m8 = nn.Sequential(DW(f, f), DW(f, f))
        self.ph = nn.Sequential(DW(f, f), nn.Conv2d(f, PLATE_CH, 1))
        self.rh = nn.Sequential(DW(f, f), DW(f, f), nn.Conv2d(f, REGION_CH, 1))
        self.register_buffer("mean", torch.tensor([0.45, 0.45, 0.45]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.25]).view(1, 3, 1, 1))
        with torch.no_grad():  # CenterNet prior: low initial objectness
            self.ph[-1].bias.zero_()
            self.ph[-1].bias[0] = -4.6
            self.rh[-1].bias.zero_()
            self.rh[-1].bias[0:2] = -4.6

    def forward(self, image):
        x = (image - self.mean) / self.std
        x = self.stem(x)
        x4 = self.s4(x)
        x8 = self.s8(x4)
        x16 = self.s16(x8)
        x32 = self.s32(x16)
        p16 = self.m16(self.l16(x16) + F.interpolate(self.l32(x32), scale_factor=2.0, mode="nearest"))
        p8 = self.m8(self.l8(x8) + F.interpolate(p16, scale_factor=2.0, mode="nearest") + self.l4(x4))
        return self.ph(p8), self.rh(p16)


def fuse_bn(model: nn.Module) -> nn.Module:
    """Fold every Conv2d+BatchNorm2d pair (inside our cbr Sequentials) for export."""
    for m in model.modules():
        if isinstance(m, nn.Sequential) and len(m) >= 2 and isinstance(m[0], nn.Conv2d) and isinstance(m[1], nn.BatchNorm2d):
            conv, bn = m[0], m[1]
            w = conv.weight
            std = torch.sqrt(bn.running_var + bn.eps)
            scale = bn.weight / std
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, groups=conv.groups, bias=True)
            fused.weight.data = w * scale.view(-1, 1, 1, 1)
            b = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
            fused.bias.data = (b - bn.running_mean) * scale + bn.bias
            m[0] = fused
            m[1] = nn.Identity()
    return model


if __name__ == "__main__":
    m = PlateDetector().eval()
    n = sum(p.numel() for p in m.parameters())
    x = torch.rand(1, 3, IN_H, IN_W)
    p, r = m(x)
    print(n, p.shape, r.shape)
