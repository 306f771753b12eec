"""Export a checkpoint to models/onnx/plate_reader.onnx and write manifest.toml.

  python export.py --ckpt runs/plate_reader/last.pt [--metrics runs/plate_reader/eval.json]

Outputs `ctc` [N,T,C], `color` [N,5], `layout` [N,2], input `image` [N,3,32,128]
(batch dynamic), legacy TorchScript exporter at opset 17 (tract and onnxruntime
load it). The graph written is export_graph.ExportGraph, the trained net
rearranged for tract's speed; onnxruntime's outputs are checked against the
trained net's in torch. The manifest is the contract read by
models/src/manifest.rs: `input = [H, W]`, `double_row = {top, bottom, top_width}`
(top band rows 0..top*h, bottom band rows bottom*h..h); extra keys (sha256,
metrics, notes) are ignored there.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import warnings

import numpy as np
import torch

import preprocess as pp
from detector_manifest import drop_tables
from export_graph import ExportGraph
from model import PlateReader, count_macs
from render import ALPHABET, COLORS, LAYOUTS

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = "# [plate_reader]: written by models/training/export.py (other tables are kept as they are).\n"
ONNX_DIR = os.path.normpath(os.path.join(HERE, "..", "onnx"))


def export(ckpt: str, out: str) -> dict:
    st = torch.load(ckpt, map_location="cpu")
    model = PlateReader()
    model.load_state_dict(st["model"])
    model.eval()
    graph = ExportGraph(model).eval()
    x = torch.rand(2, 3, pp.INPUT_H, pp.INPUT_W)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (x,), out, input_names=["image"], output_names=["ctc", "color", "layout"],
                          dynamic_axes={"image": {0: "N"}, "ctc": {0: "N"}, "color": {0: "N"}, "layout": {0: "N"}},
                          opset_version=17, dynamo=False, do_constant_folding=True)
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(onnx.load(out))
    s = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    for n in (1, 5):
        xi = torch.rand(n, 3, pp.INPUT_H, pp.INPUT_W)
        with torch.no_grad():
            ref = [t.numpy() for t in model(xi)]
        got = s.run(["ctc", "color", "layout"], {"image": xi.numpy()})
        for name, r, g in zip(("ctc", "color", "layout"), ref, got):
            assert r.shape == g.shape, (name, r.shape, g.shape)
            err = float(np.abs(r - g).max())
            assert err < 1e-3, (name, err)
    print(f"exported {out} ({os.path.getsize(out) / 1e6:.2f} MB); onnxruntime matches torch; "
          f"ctc shape {got[0].shape}", flush=True)
    return {"seed": int(st.get("seed", 0)), "args": st.get("args", {}), "macs": count_macs(model),
            "params": sum(p.numel() for p in model.parameters())}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def to_toml(doc: dict, prefix: str = "") -> str:
    """Small TOML writer: scalars and arrays first, then sub-tables."""
    lines, subs = [], []
    for k, v in doc.items():
        if isinstance(v, dict):
            subs.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    out = ""
    if prefix:
        out += f"\n[{prefix}]\n"
    out += "\n".join(lines) + ("\n" if lines else "")
    for k, v in subs:
        out += to_toml(v, f"{prefix}.{k}" if prefix else k)
    return out


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def _pct(sc: dict, key: str):
    v = sc.get(key)
    return None if v is None else round(100.0 * v["acc"], 2)


def metrics_table(ev: dict) -> dict:
    m: dict = {}
    syn = ev.get("synthetic")
    if syn:
        m["synthetic_holdout_n"] = syn["all"]["n"]
        m["synthetic_holdout_exact_pct"] = _pct(syn, "all")
        for k in sorted(syn):
            if k.startswith(("color:", "layout:")):
                m[f"synthetic_exact_pct_{k.replace(':', '_')}"] = _pct(syn, k)
        m["synthetic_color_head_pct"] = _pct(syn, "color_head")
        m["synthetic_layout_head_pct"] = _pct(syn, "layout_head")
    real = [v for k, v in ev.items() if k.rstrip("/").endswith("dev")]
    if real:
        r = real[0]
        m["real_dev_n"] = r["all"]["n"]
        m["real_dev_exact_pct"] = _pct(r, "all")
        for k in sorted(r):
            if k.startswith(("color:", "layout:")):
                m[f"real_dev_exact_pct_{k.replace(':', '_')}"] = _pct(r, k)
                m[f"real_dev_n_{k.replace(':', '_')}"] = r[k]["n"]
        m["real_dev_color_head_pct"] = _pct(r, "color_head")
        m["real_dev_layout_head_pct"] = _pct(r, "layout_head")
    if "ort_ms_per_crop" in ev:
        m["onnxruntime_ms_per_crop_1thread"] = round(ev["ort_ms_per_crop"], 3)
    return {k: v for k, v in m.items() if v is not None}


def write_manifest(onnx_path: str, info: dict, ev: dict, trained_on: str, path: str):
    pr = {
        "file": os.path.basename(onnx_path),
        "sha256": sha256(onnx_path),
        "input": [pp.INPUT_H, pp.INPUT_W],
        "input_name": "image",
        "input_shape": [-1, 3, pp.INPUT_H, pp.INPUT_W],
        "input_channels": "RGB",
        "input_range": [0.0, 1.0],
        "input_resize": "bilinear (triangle), no letterbox; normalisation inside the network",
        "alphabet": ALPHABET,
        "colors": list(COLORS),
        "layouts": list(LAYOUTS),
        "outputs": ["ctc", "color", "layout"],
        "ctc_steps": pp.INPUT_W // 4,
        "architecture": f"conv CRNN-CTC, {info['params']} params, {info['macs'] / 1e6:.1f} M MACs per crop",
        "trained_on": trained_on,
        "seed": info["seed"],
        "double_row": dict(pp.DOUBLE_ROW),
    }
    mt = metrics_table(ev)
    if mt:
        pr["metrics"] = mt
    doc = {"plate_reader": pr}
    ours = to_toml(doc)
    import tomllib
    assert tomllib.loads(ours) == doc, "TOML round trip"
    # read-modify-write: other tables ([plate_detector], [cargo_classifier], ...)
    # written by other exporters stay byte-identical; [plate_reader] is replaced.
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    base = drop_tables(old, ("plate_reader",), (HEADER,)).strip("\n")
    new = HEADER + ours.lstrip("\n") + ("\n" + base + "\n" if base else "")
    nd = tomllib.loads(new)
    assert nd["plate_reader"] == pr
    od = tomllib.loads(old) if old else {}
    for k in od:
        if k != "plate_reader":
            assert od[k] == nd[k], k
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(path + ".tmp", path)
    print(f"wrote {path}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", default=os.path.join(ONNX_DIR, "plate_reader.onnx"))
    ap.add_argument("--metrics", default="", help="evaluate.py --json output to put in the manifest")
    ap.add_argument("--trained-on", default="", help="override the trained_on text (e.g. for a chain of runs)")
    ap.add_argument("--manifest-only", action="store_true", help="only rewrite the manifest for an existing onnx")
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    if a.manifest_only:
        st = torch.load(a.ckpt, map_location="cpu")
        m = PlateReader()
        m.load_state_dict(st["model"])
        info = {"seed": int(st.get("seed", 0)), "args": st.get("args", {}), "macs": count_macs(m),
                "params": sum(p.numel() for p in m.parameters())}
    else:
        info = export(a.ckpt, a.out)
    ev = json.load(open(a.metrics)) if a.metrics and os.path.exists(a.metrics) else {}
    args = info.get("args", {})
    trained_on = ("synthetic GA 36 plates (render.py + augment.py, all kinds, rendered on the fly), "
                  f"{args.get('epochs', '?')} epochs x {args.get('steps', '?')} steps x {args.get('batch', '?')}")
    if args.get("real_train"):
        trained_on += f"; mixed with real/plates/train crops (fraction {args.get('real_frac')}) from epoch {args.get('real_from_epoch')}"
    if args.get("init"):
        trained_on += f"; fine-tuned from {os.path.basename(os.path.dirname(args['init']))}"
    trained_on += "; never real/plates/dev"
    if a.trained_on:
        trained_on = a.trained_on
    write_manifest(a.out, info, ev, trained_on, os.path.join(os.path.dirname(a.out), "manifest.toml"))


if __name__ == "__main__":
    main()
