"""Compact CTC plate reader with colour and layout heads.

Input  image [N, 3, 32, 128] RGB 0..1 (normalised inside the net).
Output ctc [N, 32, 1 + len(alphabet)] logits (class 0 = blank), color [N, 5], layout [N, 2].

Backbone (plain 3x3 convs + BN + ReLU, fused into the convs at export):
  32x128x3 -> s2 16x64x32 -> s2 8x32x48 -> 8x32x64 -> s(2,1) 4x32x96
  -> (4,1) conv to 1x32x128 -> two residual 1-D convs (k=3) over the 32 steps
  -> residual depthwise k=9 + pointwise 1-D conv (wide context) -> 1x1 classifier. Heads: global average + max pool of the 4x32x96 map -> linear.
About 23.6 M multiply-adds (47 MFLOPs) per crop, 0.26 M parameters.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from render import ALPHABET, COLORS, LAYOUTS, PROVINCES

MEAN = (0.45, 0.45, 0.45)
STD = (0.25, 0.25, 0.25)


def cbr(cin, cout, k=3, s=1, p=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class PlateReader(nn.Module):
    def __init__(self, n_classes: int = len(ALPHABET) + 1, n_colors: int = len(COLORS), n_layouts: int = len(LAYOUTS)):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.features = nn.Sequential(
            cbr(3, 32, s=2),                   # 16x64
            cbr(32, 48, s=2),                  # 8x32
            cbr(48, 64),                       # 8x32
            cbr(64, 96, s=(2, 1), p=1),        # 4x32
        )
        self.collapse = cbr(96, 128, k=(4, 1), s=1, p=0)  # 1x32
        self.seq1 = nn.Sequential(nn.Conv1d(128, 128, 3, 1, 1, bias=False), nn.BatchNorm1d(128), nn.ReLU(inplace=True))
        self.seq2 = nn.Sequential(nn.Conv1d(128, 128, 3, 1, 1, bias=False), nn.BatchNorm1d(128), nn.ReLU(inplace=True))
        # wide context for each step (a Chinese character spans ~4 steps and its left
        # radical alone is ambiguous: 沪/湘/渝/浙): depthwise k=9 + pointwise, residual,
        # zero-initialised so it starts as the identity.
        self.seq3 = nn.Sequential(nn.Conv1d(128, 128, 9, 1, 4, groups=128, bias=False),
                                  nn.Conv1d(128, 128, 1, bias=False), nn.BatchNorm1d(128), nn.ReLU(inplace=True))
        nn.init.zeros_(self.seq3[2].weight)
        self.drop = nn.Dropout(0.1)
        self.cls = nn.Conv1d(128, n_classes, 1)
        self.color = nn.Linear(192, n_colors)
        self.layout = nn.Linear(192, n_layouts)
        # training-only auxiliary head (not exported): which province (or none) is the
        # first character, read from the left 12 of the 32 steps. It gives the 31
        # Chinese classes a direct gradient; CTC alone learns them very slowly.
        self.prov_aux = nn.Linear(128, len(PROVINCES) + 1)
        self.aux_steps = 12

    def forward(self, image):
        x = (image - self.mean) / self.std
        f = self.features(x)                      # N,96,4,32
        g = torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], 1)
        s = self.collapse(f).squeeze(2)           # N,128,32
        s = s + self.seq1(s)
        s = s + self.seq2(s)
        s = s + self.seq3(s)
        self._seq = s
        ctc = self.cls(self.drop(s)).permute(0, 2, 1)  # N,32,C
        return ctc, self.color(g), self.layout(g)

    def province_logits(self):
        """Auxiliary province logits of the last forward pass (training only)."""
        return self.prov_aux(self._seq[:, :, : self.aux_steps].amax(-1))


def count_macs(model: nn.Module, h=32, w=128) -> int:
    macs = 0

    def hook(m, i, o):
        nonlocal macs
        if isinstance(m, (nn.Conv2d, nn.Conv1d)):
            k = 1
            for v in m.kernel_size:
                k *= v
            macs += o.numel() * (m.in_channels // m.groups) * k
        elif isinstance(m, nn.Linear):
            macs += o.numel() * m.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Conv1d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, h, w))
    for x in hs:
        x.remove()
    return macs


if __name__ == "__main__":
    m = PlateReader()
    print("params", sum(p.numel() for p in m.parameters()), "MACs", count_macs(m))
