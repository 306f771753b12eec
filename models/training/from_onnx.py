"""Rebuild a PyTorch checkpoint of the shipped plate reader from its ONNX file.

Training checkpoints live in runs/ (gitignored) and do not survive a fresh
machine; the shipped ONNX does. This inverts export.py / export_graph.py so the
shipped reader can be fine-tuned again:

  python from_onnx.py --onnx ../onnx/plate_reader.onnx --out runs/shipped/last.pt
  python train.py --init runs/shipped/last.pt --freeze-bn ...

The export folded every batch norm into its convolution, and the input
normalisation and the space-to-depth rewrite into the first one. Folding loses
the batch statistics, so each convolution gets the folded weight and its batch
norm becomes the identity carrying the folded bias (running mean 0, running
variance 1 - eps, weight 1). The rebuilt net computes what the ONNX computes
(checked here against onnxruntime), but only with its batch norms in eval mode:
fine-tune it with train.py --freeze-bn. The training-only province head was not
exported and starts from scratch.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import preprocess as pp
from export_graph import _TAP
from model import PlateReader


def train_with_frozen_bn(model: torch.nn.Module, freeze: bool = True) -> None:
    """Training mode; with `freeze` every batch norm stays in eval mode. A net
    rebuilt from ONNX (here, or by detector_from_onnx.py) has no batch statistics
    to update: train.py, detector_train.py and cargo_train.py --freeze-bn."""
    model.train()
    if freeze:
        for mod in model.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.eval()


def _identity_bn(bn: torch.nn.modules.batchnorm._BatchNorm, bias: np.ndarray):
    bn.weight.data.fill_(1.0)
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)
    bn.bias.data.copy_(torch.from_numpy(bias))


def _unfold_first_layer(w0: np.ndarray) -> np.ndarray:
    """[out, 12, 2, 2] space-to-depth kernel -> the [out, 3, 3, 3] stride-2 kernel."""
    k = w0.reshape(w0.shape[0], 3, 2, 2, 2, 2)  # out, c, row-in, col-in, block-row, block-col
    w = np.zeros((w0.shape[0], 3, 3, 3), np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            (by, ry), (bx, rx) = _TAP[dy], _TAP[dx]
            w[:, :, dy + 1, dx + 1] = k[:, :, ry, rx, by, bx]
    return w


def rebuild(onnx_path: str) -> PlateReader:
    g = onnx.load(onnx_path).graph
    init = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in g.initializer}
    m = PlateReader()
    m.eval()
    # First layer: ExportGraph folded w = W * scale / std and b = beta - mu * scale - sum(w * mean).
    w = _unfold_first_layer(init["w0"])
    std, mean = m.std.view(1, 3, 1, 1).numpy(), m.mean.view(1, 3, 1, 1).numpy()
    conv0, bn0 = m.features[0][0], m.features[0][1]
    conv0.weight.data.copy_(torch.from_numpy(w * std))
    _identity_bn(bn0, init["b0"] + (w * mean).sum(axis=(1, 2, 3)))
    # The other conv + BN pairs, in graph order: the exporter named their fused
    # weights onnx::Conv_*; the layers without a batch norm kept their names.
    named = {"seq3.0.weight", "cls.weight", "cls.bias", "w0", "b0", "mean"}
    fused = []
    for node in g.node:
        if node.op_type == "Conv" and node.input[1] not in named:
            fused.append((node.input[1], node.input[2]))
    pairs = [(m.features[1][0], m.features[1][1]), (m.features[2][0], m.features[2][1]),
             (m.features[3][0], m.features[3][1]), (m.collapse[0], m.collapse[1]),
             (m.seq1[0], m.seq1[1]), (m.seq2[0], m.seq2[1]), (m.seq3[1], m.seq3[2])]
    assert len(fused) == len(pairs), f"{len(fused)} fused convolutions in the graph, {len(pairs)} expected"
    for (wn, bn_name), (conv, bn) in zip(fused, pairs):
        assert tuple(conv.weight.shape) == init[wn].shape, (wn, conv.weight.shape, init[wn].shape)
        conv.weight.data.copy_(torch.from_numpy(init[wn]))
        _identity_bn(bn, init[bn_name])
    m.seq3[0].weight.data.copy_(torch.from_numpy(init["seq3.0.weight"]))
    for name in ("cls", "color", "layout"):
        layer = getattr(m, name)
        layer.weight.data.copy_(torch.from_numpy(init[f"{name}.weight"]))
        layer.bias.data.copy_(torch.from_numpy(init[f"{name}.bias"]))
    return m


def check(m: PlateReader, onnx_path: str) -> float:
    import onnxruntime as ort
    s = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(0, 1, (4, 3, pp.INPUT_H, pp.INPUT_W)).astype(np.float32)
    with torch.no_grad():
        ref = [t.numpy() for t in m.eval()(torch.from_numpy(x))]
    got = s.run(["ctc", "color", "layout"], {"image": x})
    return max(float(np.abs(r - o).max()) for r, o in zip(ref, got))


def rebuild_cli(onnx_name: str, rebuild, check, tolerance: float):
    """The command line of from_onnx.py and detector_from_onnx.py: rebuild the net
    from --onnx (models/onnx/<onnx_name> by default), check it against onnxruntime
    (`check` returns the largest difference) and save it as a checkpoint at --out."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "onnx", onnx_name))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    m = rebuild(a.onnx)
    err = check(m, a.onnx)
    assert err < tolerance, f"rebuilt net differs from the ONNX by {err}"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save({"model": m.state_dict(), "step": 0, "seed": 0, "args": {"from_onnx": os.path.abspath(a.onnx)}}, a.out)
    print(f"wrote {a.out}: matches {a.onnx} to {err:.2e} (batch norms in eval mode)", flush=True)


if __name__ == "__main__":
    rebuild_cli("plate_reader.onnx", rebuild, check, 1e-3)
