"""Layout net: tells a double-row plate from a single-row one before the reader runs.

The reader reads a double-row plate on its two rows laid side by side
(preprocess.row_join), so it must know the layout before it reads. Its own layout
head answers only after a full pass over the plain crop, and a double-row plate
then costs two passes (1.6 ms in Rust, over the issue's 1 ms per crop). This net
answers from the same plain 32x128 input for a small fraction of the reader's
cost, so a double-row plate is read in one pass on the joined rows. It also gives
the colour, because the reader's colour head is unreliable on the joined rows (it
was trained on plain crops: 274 of 400 synthetic double-row plates right, against
396 plain).

Input  image [N, 3, 32, 128] RGB 0..1, the reader's plain resize (shared).
Output layout [N, 2] logits over LAYOUTS, color [N, 5] logits over COLORS.

Shaped for tract, where a small network's time is mostly per-operation overhead
and slow small-depth convolutions rather than arithmetic. Measured in tract, one
thread: a 2x2 average pool and three 3x3 convolutions (1.3 M multiply-adds) took
103 us; one 8x8 stride-8 convolution and a height-collapsing one took 32-39 us but
routed only 219 of 255 synthetic double-row plates; this one takes about 60 us:
4x4 stride-4 conv to 8x32 -> 2x2 stride-2 conv to 4x16 -> a (4, 1) conv that
collapses the height into 1x16 (each column sees a full-height strip: a
double-row plate's small top row over its large bottom row) -> a residual 1-D
conv (k = 3) across the columns -> mean + max over the 16 columns -> two linear
heads. No padding before the collapse, so the input normalisation folds exactly
into the first convolution at export (ExportLayoutNet).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from model import MEAN, STD
from render import COLORS, LAYOUTS


def cbr(cin, cout, k, s=1, conv=nn.Conv2d, bn=nn.BatchNorm2d, p=0):
    return nn.Sequential(conv(cin, cout, k, s, p, bias=False), bn(cout), nn.ReLU(inplace=True))


class LayoutNet(nn.Module):
    def __init__(self, a: int = 32, b: int = 48, c: int = 64):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.down = cbr(3, a, 4, 4)                  # 8x32
        self.down2 = cbr(a, b, 2, 2)                 # 4x16
        self.collapse = cbr(b, c, (4, 1))            # 1x16
        self.ctx = cbr(c, c, 3, conv=nn.Conv1d, bn=nn.BatchNorm1d, p=1)
        self.layout = nn.Linear(2 * c, len(LAYOUTS))
        self.color = nn.Linear(2 * c, len(COLORS))

    def head(self, x):
        """From the first convolution's output to the two heads' logits."""
        f = self.collapse(self.down2(x)).flatten(2)   # N, c, 16
        f = f + self.ctx(f)
        g = torch.cat([f.mean(-1), f.amax(-1)], 1)
        return self.layout(g), self.color(g)

    def forward(self, image):
        return self.head(self.down((image - self.mean) / self.std))


class ExportLayoutNet(nn.Module):
    """`LayoutNet.forward` for tract: the input normalisation and the first batch norm
    folded into the first convolution's weights (no padding, so the fold is exact;
    two fewer whole-input operations; the exporter folds the other batch norms).
    Same numbers, checked at export."""

    def __init__(self, m: LayoutNet):
        super().__init__()
        conv, bn = m.down[0], m.down[1]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        w = conv.weight * scale.view(-1, 1, 1, 1) / m.std
        b = bn.bias - bn.running_mean * scale - (w * m.mean).sum(dim=(1, 2, 3))
        self.register_buffer("w", w.detach())
        self.register_buffer("b", b.detach())
        self.stride = conv.stride
        self.m = m

    def forward(self, image):
        return self.m.head(torch.relu(nn.functional.conv2d(image, self.w, self.b, stride=self.stride)))
