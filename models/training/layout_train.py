"""Train the layout net (layout_model.py), export it, measure it, write its manifest table.

  python layout_train.py --seed 1 --steps 2000 --real-train DATA/plates/train [--resume]
  python layout_train.py --export ../onnx/plate_layout.onnx --real DATA/plates/dev --holdout 2000

Training: synthetic plates of every kind (render.py + augment.py, on the fly, in a
loader process) with a share of the real train crops (all single-row blue: they
teach it what real single-row crops look like, loose ones included). Both heads
see the plain resize the reader sees. Checkpoints in runs/<name>/last.pt.

Export: ONNX (batch dynamic) checked against torch in onnxruntime, figures on
the synthetic hold-out (evaluate.synthetic_holdout) and on a real labelled folder,
written to models/onnx/manifest.toml as [plate_layout] (other tables untouched).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

import preprocess as pp
from augment import augment, augment_real
from detector_manifest import write_table
from evaluate import load_labels_dir, synthetic_holdout
from export import sha256
from layout_model import ExportLayoutNet, LayoutNet
from model import count_macs
from render import COLORS, LAYOUTS, random_plate

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.normpath(os.path.join(HERE, "..", "onnx", "manifest.toml"))
HEADER = "# [plate_layout]: written by models/training/layout_train.py --export (other tables are kept as they are).\n"
# A plate is read in one pass on its joined rows only when the layout net is at
# least this sure it is double-row; below, the reader's own two-pass path decides.
DOUBLE_THRESHOLD = 0.9


class Stream(torch.utils.data.IterableDataset):
    def __init__(self, seed, real, real_frac, batch, steps):
        self.seed, self.real, self.real_frac, self.batch, self.steps = seed, real, real_frac, batch, steps

    def __iter__(self):
        rng = random.Random(self.seed * 7919)
        np.random.seed(self.seed % (2 ** 31))
        for _ in range(self.steps):
            xs, ls, cs = [], [], []
            for _ in range(self.batch):
                if self.real and rng.random() < self.real_frac:
                    it = rng.choice(self.real)
                    img, layout, color = augment_real(it["img"], rng), it["layout"] or "single", it["color"] or "blue"
                else:
                    p = random_plate(rng)
                    img, layout, color = augment(p.image, rng, strength=rng.uniform(0.5, 1.0)), p.layout, p.color
                xs.append(pp.to_chw(pp.plain(img)))
                ls.append(LAYOUTS.index(layout))
                cs.append(COLORS.index(color))
            yield torch.from_numpy(np.stack(xs)).float(), torch.tensor(ls), torch.tensor(cs)


def predict(run, items, bs=128):
    """run: f(float32 [N,3,H,W]) -> (layout, color) logits. Returns P(double), colour indices."""
    pd, col = [], []
    for i in range(0, len(items), bs):
        x = np.stack([pp.to_chw(pp.plain(it["img"])) for it in items[i: i + bs]]).astype(np.float32)
        lay, c = run(x)
        e = np.exp(lay - lay.max(-1, keepdims=True))
        pd.append(e[:, 1] / e.sum(-1))
        col.append(c.argmax(-1))
    return np.concatenate(pd), np.concatenate(col)


def score(run, items) -> dict:
    """Layout accuracy at 0.5, and what the one-pass route would do at DOUBLE_THRESHOLD."""
    pd, col = predict(run, items)
    dbl = np.array([it["layout"] == "double" for it in items])
    colour = np.array([COLORS.index(it["color"]) if it["color"] in COLORS else -1 for it in items])
    routed = pd >= DOUBLE_THRESHOLD
    known = colour >= 0
    return {
        "n": len(items), "n_double": int(dbl.sum()),
        "layout_acc_pct": round(100.0 * float(((pd >= 0.5) == dbl).mean()), 2),
        "double_one_pass": int((routed & dbl).sum()),
        "single_misrouted": int((routed & ~dbl).sum()),
        "color_acc_double_pct": round(100.0 * float((col[dbl & known] == colour[dbl & known]).mean()), 2) if (dbl & known).any() else None,
    }


def train(a):
    torch.manual_seed(a.seed)
    out = os.path.join(HERE, "runs", a.name)
    os.makedirs(out, exist_ok=True)
    ck = os.path.join(out, "last.pt")
    model = LayoutNet()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    step = 0
    if a.resume and os.path.exists(ck):
        st = torch.load(ck, map_location="cpu")
        model.load_state_dict(st["model"]); opt.load_state_dict(st["opt"]); step = st["step"]
        print(f"resumed at step {step}", flush=True)
    real = load_labels_dir(a.real_train) if a.real_train else []
    hold = synthetic_holdout(a.holdout)
    # the loader process renders while this one trains; a resumed run draws a new stream
    stream = Stream(a.seed * 100 + step, real, a.real_frac, a.batch, a.steps - step)
    loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=1, prefetch_factor=4)
    t0, tl, tc = time.time(), 0.0, 0.0
    for x, ly, c in loader:
        lr = a.lr * 0.5 * (1 + math.cos(math.pi * step / a.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        lo, co = model(x)
        l1, l2 = F.cross_entropy(lo, ly), F.cross_entropy(co, c)
        opt.zero_grad(); (l1 + l2).backward(); opt.step()
        step += 1
        tl += l1.item(); tc += l2.item()
        if step % 50 == 0:
            print(f"step {step}/{a.steps} layout {tl / 50:.4f} colour {tc / 50:.4f} lr {lr:.2e} "
                  f"{(time.time() - t0) / 50:.2f}s/step", flush=True)
            tl = tc = 0.0; t0 = time.time()
        if step % 250 == 0 or step == a.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "seed": a.seed,
                        "args": vars(a)}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
            model.eval()
            with torch.no_grad():
                s = score(lambda v: [t.numpy() for t in model(torch.from_numpy(v))], hold)
            print(f"  hold-out {s}", flush=True)
    print("done", flush=True)


def export(a):
    import onnx
    import onnxruntime as ort
    st = torch.load(os.path.join(HERE, "runs", a.name, "last.pt"), map_location="cpu")
    model = LayoutNet()
    model.load_state_dict(st["model"])
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(ExportLayoutNet(model).eval(), (torch.rand(2, 3, pp.INPUT_H, pp.INPUT_W),), a.export, input_names=["image"],
                          output_names=["layout", "color"],
                          dynamic_axes={"image": {0: "N"}, "layout": {0: "N"}, "color": {0: "N"}},
                          opset_version=17, dynamo=False, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(a.export))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(a.export, so, providers=["CPUExecutionProvider"])
    x = torch.rand(5, 3, pp.INPUT_H, pp.INPUT_W)
    with torch.no_grad():
        ref = [t.numpy() for t in model(x)]
    for r, g in zip(ref, s.run(["layout", "color"], {"image": x.numpy()})):
        assert float(np.abs(r - g).max()) < 1e-4
    run = lambda v: s.run(["layout", "color"], {"image": v})
    metrics = {}
    for key, items in (("synthetic_holdout", synthetic_holdout(a.holdout)),
                       ("real_dev", load_labels_dir(a.real) if a.real else [])):
        if items:
            for k, v in score(run, items).items():
                if v is not None:
                    metrics[f"{key}_{k}"] = v
    args = st.get("args", {})
    table = {
        "file": os.path.basename(a.export),
        "sha256": sha256(a.export),
        "input": [pp.INPUT_H, pp.INPUT_W],
        "input_name": "image",
        "input_shape": [-1, 3, pp.INPUT_H, pp.INPUT_W],
        "input_resize": "the plate reader's plain resize of the crop (same tensor); normalisation inside the network",
        "outputs": ["layout", "color"],
        "layouts": list(LAYOUTS),
        "colors": list(COLORS),
        "double_threshold": DOUBLE_THRESHOLD,
        "architecture": f"4x4/4 and 2x2/2 convs, (4, 1) height-collapsing conv, residual 1-D conv, mean + max over 16 columns, "
                        f"{sum(p.numel() for p in model.parameters())} params, "
                        f"{count_macs(model) / 1e6:.2f} M MACs per crop",
        "trained_on": (f"synthetic plates of every kind (render.py + augment.py, on the fly), {args.get('steps')} steps x "
                       f"{args.get('batch')}, with real/plates/train crops (fraction {args.get('real_frac')}); seed "
                       f"{st.get('seed')}; never real/plates/dev"),
        "seed": int(st.get("seed", 0)),
        "metrics": metrics,
    }
    write_table(MANIFEST, "plate_layout", table, HEADER)
    print(json.dumps(metrics, ensure_ascii=False), flush=True)
    print(f"wrote {a.export} and [plate_layout] in {MANIFEST}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="layout")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--real-train", default="")
    ap.add_argument("--real-frac", type=float, default=0.15)
    ap.add_argument("--holdout", type=int, default=1000, help="synthetic hold-out plates (evaluate.py's seed)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--export", default="", help="export runs/<name>/last.pt to this ONNX and write the manifest table")
    ap.add_argument("--real", default="", help="with --export: a real labelled folder to measure on (evaluation only)")
    a = ap.parse_args()
    export(a) if a.export else train(a)


if __name__ == "__main__":
    main()
