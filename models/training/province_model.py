"""Province classifier: the province window of a plate crop -> which of the 31
provinces its first character is.

Input  image [N, 3, 40, 40] RGB 0..1 (preprocess.province_window; normalised inside).
Output province [N, 31] logits, in render.PROVINCES order.

Plain 3x3 convs + BN + ReLU down to a 5x5x128 map, flattened into one linear
layer: where the strokes are matters for a Chinese character, so no global pool.
About 14 M multiply-adds per crop, 0.2 M parameters.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from model import MEAN, STD, cbr
from render import PROVINCES

SIZE = 40


class ProvinceNet(nn.Module):
    def __init__(self, n_classes: int = len(PROVINCES)):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.features = nn.Sequential(
            cbr(3, 24),            # 40x40
            cbr(24, 48, s=2),      # 20x20
            cbr(48, 64, s=2),      # 10x10
            cbr(64, 64),           # 10x10
            cbr(64, 128, s=2),     # 5x5
        )
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(128 * 5 * 5, n_classes)

    def forward(self, image):
        x = (image - self.mean) / self.std
        return self.fc(self.drop(self.features(x).flatten(1)))
