"""Province classifier: the province window of a plate crop -> which of the 31
provinces its first character is.

Input  image [N, 3, 40, 40] RGB 0..1 (preprocess.province_window; normalised inside).
Output province [N, 31] logits, in render.PROVINCES order.

Plain 3x3 convs + BN + ReLU down to a 5x5 map, flattened into one linear layer:
where the strokes are matters for a Chinese character, so no global pool. The
shipped LAYERS end in 128 channels: about 14 M multiply-adds per crop, 0.25 M
parameters (province_train.py --layers tries others).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from model import MEAN, STD, cbr
from render import PROVINCES

SIZE = 40


# The shipped layers: output channels, "s" for a stride-2 layer.
LAYERS = "24,48s,64s,64,128s"


def parse_layers(spec: str):
    """ "24,48s,..." -> [(channels, stride), ...]; three stride-2 layers take 40 to 5."""
    layers = [(int(t.rstrip("s")), 2 if t.endswith("s") else 1) for t in spec.split(",")]
    if sum(s == 2 for _, s in layers) != 3:
        raise ValueError(f"{spec!r}: the net needs three stride-2 layers (40 -> 5)")
    return layers


class ProvinceNet(nn.Module):
    def __init__(self, n_classes: int = len(PROVINCES), layers: str = LAYERS):
        super().__init__()
        self.layers = layers
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        convs, cin = [], 3
        for cout, s in parse_layers(layers):
            convs.append(cbr(cin, cout, s=s))
            cin = cout
        self.features = nn.Sequential(*convs)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(cin * 5 * 5, n_classes)

    def forward(self, image):
        x = (image - self.mean) / self.std
        return self.fc(self.drop(self.features(x).flatten(1)))
