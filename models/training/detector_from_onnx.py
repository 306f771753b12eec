"""Rebuild a PyTorch checkpoint of the shipped plate detector from its ONNX file.

The detector's training checkpoint lives in runs/ (gitignored) and does not
survive a fresh machine; the shipped ONNX does. detector_export.py folded every
batch norm into its convolution and kept the module names, so each fused
`<module>.0.weight` / `.bias` goes back into that convolution and its batch norm
becomes the identity carrying the folded bias (as from_onnx.py does for the
reader). The rebuilt net computes what the ONNX computes (checked here against
onnxruntime) only with its batch norms in eval mode: fine-tune it with
detector_train.py --init ... --freeze-bn.

  python detector_from_onnx.py --out runs/det_shipped/last.pt
"""
from __future__ import annotations

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from detector_model import IN_H, IN_W, PlateDetector
from from_onnx import _identity_bn, rebuild_cli


def rebuild(onnx_path: str) -> PlateDetector:
    init = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in onnx.load(onnx_path).graph.initializer}
    m = PlateDetector().eval()
    used = {"mean", "std"}
    for name, mod in m.named_modules():
        # cbr blocks: Sequential(Conv2d without bias, BatchNorm2d, ReLU)
        if isinstance(mod, torch.nn.Sequential) and len(mod) == 3 and isinstance(mod[1], torch.nn.BatchNorm2d):
            w, b = init[f"{name}.0.weight"], init[f"{name}.0.bias"]
            assert tuple(mod[0].weight.shape) == w.shape, (name, mod[0].weight.shape, w.shape)
            mod[0].weight.data.copy_(torch.from_numpy(w))
            _identity_bn(mod[1], b)
            used |= {f"{name}.0.weight", f"{name}.0.bias"}
    for head in ("ph.1", "rh.2"):  # the plain output convolutions
        conv = m.get_submodule(head)
        conv.weight.data.copy_(torch.from_numpy(init[f"{head}.weight"]))
        conv.bias.data.copy_(torch.from_numpy(init[f"{head}.bias"]))
        used |= {f"{head}.weight", f"{head}.bias"}
    m.mean.copy_(torch.from_numpy(init["mean"]))
    m.std.copy_(torch.from_numpy(init["std"]))
    left = set(init) - used
    assert not left, f"initializers not placed: {sorted(left)}"
    return m


def check(m: PlateDetector, onnx_path: str) -> float:
    import onnxruntime as ort
    s = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(0, 1, (1, 3, IN_H, IN_W)).astype(np.float32)
    with torch.no_grad():
        ref = [t.numpy() for t in m.eval()(torch.from_numpy(x))]
    got = s.run(["plate", "region"], {"image": x})
    return max(float(np.abs(r - o).max() / (np.abs(o).max() + 1e-6)) for r, o in zip(ref, got))


if __name__ == "__main__":
    rebuild_cli("plate_detector.onnx", rebuild, check, 1e-4)  # check: relative difference
