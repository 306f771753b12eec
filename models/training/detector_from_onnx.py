"""Rebuild a PyTorch checkpoint of the shipped plate detector (or, with --cargo,
the cargo classifier) from its ONNX file.

Their training checkpoints live in runs/ (gitignored) and do not survive a fresh
machine; the shipped ONNX files do. detector_export.py folded every batch norm
into its convolution and kept the module names, so each fused
`<module>.0.weight` / `.bias` goes back into that convolution and its batch norm
becomes the identity carrying the folded bias (as from_onnx.py does for the
reader); the layers without a batch norm keep their own names. The rebuilt net
computes what the ONNX computes (checked here against onnxruntime) only with its
batch norms in eval mode: fine-tune it with `--freeze-bn` (detector_train.py,
cargo_train.py).

  python detector_from_onnx.py --out runs/det_shipped/last.pt
  python detector_from_onnx.py --cargo --out runs/cargo_shipped/last.pt
"""
from __future__ import annotations

import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from from_onnx import _identity_bn, rebuild_cli


def rebuild_folded(model: torch.nn.Module, onnx_path: str) -> torch.nn.Module:
    init = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in onnx.load(onnx_path).graph.initializer}
    m = model.eval()
    used = set()
    for name, mod in m.named_modules():
        # cbr blocks: Sequential(Conv2d without bias, BatchNorm2d, ReLU)
        if isinstance(mod, torch.nn.Sequential) and len(mod) == 3 and isinstance(mod[1], torch.nn.BatchNorm2d):
            w, b = init[f"{name}.0.weight"], init[f"{name}.0.bias"]
            assert tuple(mod[0].weight.shape) == w.shape, (name, mod[0].weight.shape, w.shape)
            mod[0].weight.data.copy_(torch.from_numpy(w))
            _identity_bn(mod[1], b)
            used |= {f"{name}.0.weight", f"{name}.0.bias"}
    state = m.state_dict()
    for key in set(init) - used:  # the output layers and the normalisation buffers
        assert key in state and tuple(state[key].shape) == init[key].shape, f"initializer {key} has no place in the net"
        state[key].copy_(torch.from_numpy(init[key]))
    return m


def checker(outputs: list[str], shape: tuple):
    def check(m: torch.nn.Module, onnx_path: str) -> float:
        """The largest difference to onnxruntime, relative to each output's range."""
        import onnxruntime as ort
        s = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
        with torch.no_grad():
            ref = [t.numpy() for t in m.eval()(torch.from_numpy(x))]
        got = s.run(outputs, {"image": x})
        return max(float(np.abs(r - o).max() / (np.abs(o).max() + 1e-6)) for r, o in zip(ref, got))
    return check


if __name__ == "__main__":
    if "--cargo" in sys.argv:
        sys.argv.remove("--cargo")
        from cargo_model import IN, CargoClassifier
        rebuild_cli("cargo_classifier.onnx", lambda p: rebuild_folded(CargoClassifier(), p),
                    checker(["cover", "material"], (1, 3, IN, IN)), 1e-4)
    else:
        from detector_model import IN_H, IN_W, PlateDetector
        rebuild_cli("plate_detector.onnx", lambda p: rebuild_folded(PlateDetector(), p),
                    checker(["plate", "region"], (1, 3, IN_H, IN_W)), 1e-4)
