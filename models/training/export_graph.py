"""The plate reader rewritten for tract, for export: same numbers, fewer cycles.

Profiling the exported net in tract (`tract plate_reader.onnx -i 1,3,32,128,f32
-O dump --profile`) showed two nodes far slower than their arithmetic:

- the first convolution (3 input channels, 3x3, stride 2): an im2col matmul with
  a depth of 27 ran at 3.5 GFLOP/s, against 30-45 for the other convolutions,
  and took a quarter of the run;
- the max pool over both spatial axes of the colour/layout heads.

So the export computes the first layer as a 2x2 convolution over 2x2
space-to-depth blocks (12 channels, depth 48: the 3x3 stride-2 taps land in two
blocks each way), with the input normalisation and the batch norm folded into
its weights, and the pools over one flattened axis. The arithmetic is the
trained net's; export.py checks the exported graph against `PlateReader`.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import PlateReader

# A 3x3 tap at offset d (-1, 0, +1) from row 2i, in blocks of two rows starting at
# row -1: block i holds rows 2i-1 and 2i, block i+1 holds rows 2i+1 and 2i+2.
# -> (which of the two blocks, which row inside it)
_TAP = {-1: (0, 0), 0: (0, 1), 1: (1, 0)}


def _fold_first_layer(m: PlateReader) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and bias of features[0] (conv + BN) acting on the raw 0..1 input."""
    conv, bn = m.features[0][0], m.features[0][1]
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = conv.weight * scale.view(-1, 1, 1, 1) / m.std.view(1, 3, 1, 1)
    b = bn.bias - bn.running_mean * scale - (w * m.mean.view(1, 3, 1, 1)).sum(dim=(1, 2, 3))
    return w, b


def _space_to_depth_kernel(w: torch.Tensor) -> torch.Tensor:
    """[out, 3, 3, 3] stride-2 kernel -> [out, 12, 2, 2] kernel over 2x2 blocks
    (channel c * 4 + row-in-block * 2 + column-in-block)."""
    out = w.shape[0]
    k = torch.zeros(out, 3, 2, 2, 2, 2, dtype=w.dtype)  # out, c, row-in, col-in, block-row, block-col
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            (by, ry), (bx, rx) = _TAP[dy], _TAP[dx]
            k[:, :, ry, rx, by, bx] = w[:, :, dy + 1, dx + 1]
    return k.reshape(out, 12, 2, 2)


class ExportGraph(nn.Module):
    """`PlateReader.forward` for tract: same input, outputs and numbers."""

    def __init__(self, m: PlateReader):
        super().__init__()
        w, b = _fold_first_layer(m)
        self.register_buffer("w0", _space_to_depth_kernel(w.detach()))
        self.register_buffer("b0", b.detach())
        # The trained net pads the *normalised* input with zeros, i.e. the raw
        # input with the mean: the folded layer must see the same border.
        self.register_buffer("mean", m.mean.clone())
        self.rest = m.features[1:]
        self.collapse, self.seq1, self.seq2, self.seq3 = m.collapse, m.seq1, m.seq2, m.seq3
        self.cls, self.color, self.layout = m.cls, m.color, m.layout

    def forward(self, image):
        bh, bw = (int(image.shape[2]) + 2) // 2, (int(image.shape[3]) + 2) // 2  # blocks
        x = F.pad(image - self.mean, (1, 1, 1, 1)) + self.mean       # rows/cols -1 .. h
        x = x.reshape(-1, 3, bh, 2, bw, 2).permute(0, 1, 3, 5, 2, 4).reshape(-1, 12, bh, bw)
        f = self.rest(F.relu(F.conv2d(x, self.w0, self.b0)))          # N,96,4,32
        flat = f.flatten(2)
        g = torch.cat([flat.mean(-1), flat.amax(-1)], 1)
        s = self.collapse(f).flatten(2)                               # N,128,32
        s = s + self.seq1(s)
        s = s + self.seq2(s)
        s = s + self.seq3(s)
        ctc = self.cls(s).permute(0, 2, 1)
        return ctc, self.color(g), self.layout(g)
