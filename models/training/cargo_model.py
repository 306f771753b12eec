"""Cargo classifier: load-region crop -> cover state and material logits.

Input  image [N, 3, 96, 96] RGB 0..1 (plain bilinear resize of the load crop, no
letterbox); normalisation inside the network.
Outputs cover [N, 5] logits over COVERS, material [N, 4] logits over MATERIALS.
Plain 3x3 conv stages (BN + ReLU, fused at export), global average + max pooling, two linear heads.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from scene_synth import COVERS, MATERIALS

IN = 96


def cbr(cin, cout, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, s, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class CargoClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(cbr(3, 16, 2), cbr(16, 32, 2), cbr(32, 32), cbr(32, 64, 2), cbr(64, 64), cbr(64, 96, 2), cbr(96, 96))
        self.drop = nn.Dropout(0.2)
        self.cover = nn.Linear(192, len(COVERS))
        self.material = nn.Linear(192, len(MATERIALS))
        self.register_buffer("mean", torch.tensor([0.45, 0.45, 0.45]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.25]).view(1, 3, 1, 1))

    def forward(self, image):
        x = self.f((image - self.mean) / self.std)
        g = torch.cat([x.mean((2, 3)), x.amax((2, 3))], 1)
        g = self.drop(g)
        return self.cover(g), self.material(g)
