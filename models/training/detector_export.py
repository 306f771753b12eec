"""Export the detector (or, with --cargo, the cargo classifier) checkpoint to ONNX and
check onnxruntime against torch.

  python detector_export.py --ckpt runs/det/last.pt --out ../onnx/plate_detector.onnx
  python detector_export.py --cargo --ckpt runs/cargo/last.pt --out ../onnx/cargo_classifier.onnx

BatchNorm is folded into the convolutions; opset 17, TorchScript exporter (dynamo=False),
fixed batch 1 (tract pins the shape). Writes <ckpt dir>/export.json (params, MACs, max diff).
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import onnxruntime as ort
import torch

torch.set_num_threads(1)


def macs(model, x):
    tot = [0]

    def hook(mod, i, o):
        k = mod.weight.shape
        tot[0] += o.numel() * k[1] * k[2] * k[3]

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    lin = [m.register_forward_hook(lambda mod, i, o: tot.__setitem__(0, tot[0] + mod.weight.numel())) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        model(x)
    for h in hs + lin:
        h.remove()
    return tot[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cargo", action="store_true")
    a = ap.parse_args()
    from detector_model import fuse_bn
    if a.cargo:
        from cargo_model import IN, CargoClassifier
        model, x, outs = CargoClassifier(), torch.rand(1, 3, IN, IN), ["cover", "material"]
    else:
        from detector_model import IN_H, IN_W, PlateDetector
        model, x, outs = PlateDetector(), torch.rand(1, 3, IN_H, IN_W), ["plate", "region"]
    st = torch.load(a.ckpt, map_location="cpu")
    model.load_state_dict(st["model"])
    model.eval()
    with torch.no_grad():
        ref = [t.numpy() for t in model(x)]
    fuse_bn(model)
    with torch.no_grad():
        fused = [t.numpy() for t in model(x)]
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    torch.onnx.export(model, (x,), a.out, input_names=["image"], output_names=outs, opset_version=17, dynamo=False, do_constant_folding=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(a.out, so, providers=["CPUExecutionProvider"])
    got = sess.run(outs, {"image": x.numpy()})
    diff = max(float(np.abs(g - r).max() / (np.abs(r).max() + 1e-6)) for g, r in zip(got, ref))
    fdiff = max(float(np.abs(g - r).max() / (np.abs(r).max() + 1e-6)) for g, r in zip(fused, ref))
    print(f"exported {a.out}: outputs {[(n, g.shape) for n, g in zip(outs, got)]}; max rel diff ort vs torch {diff:.2e} (fused bn {fdiff:.2e})")
    assert diff < 1e-3, diff
    info = {"params": int(sum(p.numel() for p in model.parameters())), "macs": int(macs(model, x)), "ort_vs_torch_max_rel_diff": diff,
            "step": st.get("step"), "seed": st.get("seed"), "size_bytes": os.path.getsize(a.out)}
    json.dump(info, open(os.path.join(os.path.dirname(a.ckpt), "export.json"), "w"), indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
