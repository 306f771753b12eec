"""Train the cargo classifier on cached synthetic load crops (scene_cache.py --kind crops).

  python cargo_train.py --name cargo --steps 2000 --batch 64 --seed 1 [--resume]

Progress every 20 steps; runs/<name>/last.pt is resumable; the last shard (by
name) is held out for a synthetic accuracy printed at the end. Never reads real frames.
"""
from __future__ import annotations

import argparse
import glob
import math
import os
import pickle
import random
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from cargo_model import CargoClassifier
from from_onnx import train_with_frozen_bn
from scene_synth import COVERS, MATERIALS

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))


def load(files):
    xs, cs, ms = [], [], []
    for f in files:
        with open(f, "rb") as fh:
            for enc, lab in pickle.load(fh):
                xs.append(cv2.imdecode(np.frombuffer(enc, np.uint8), cv2.IMREAD_COLOR)[..., ::-1])
                cs.append(COVERS.index(lab["cover"]))
                ms.append(MATERIALS.index(lab["material"]))
    return np.stack(xs), np.array(cs), np.array(ms)


def aug(x, rng):
    x = x.astype(np.float32)
    if rng.random() < 0.5:
        x = x[:, ::-1]
    if rng.random() < 0.5:
        x = x * rng.uniform(0.6, 1.4) + rng.uniform(-25, 25)
    if rng.random() < 0.15:
        x = np.repeat(x.mean(2, keepdims=True), 3, 2)
    return np.clip(x, 0, 255)


def evaluate(model, X, C, M, freeze_bn=False):
    model.eval()
    with torch.no_grad():
        pc, pm = [], []
        for i in range(0, len(X), 256):
            x = torch.from_numpy(X[i:i + 256].astype(np.float32).transpose(0, 3, 1, 2) / 255.0)
            c, m = model(x)
            pc.append(c.argmax(1).numpy()); pm.append(m.argmax(1).numpy())
    train_with_frozen_bn(model, freeze_bn)
    pc, pm = np.concatenate(pc), np.concatenate(pm)
    return float((pc == C).mean() * 100), float((pm == M).mean() * 100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="cargo")
    ap.add_argument("--data", default="data/crops")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default="", help="start from another run's weights (fine-tuning)")
    ap.add_argument("--freeze-bn", action="store_true", help="batch norms stay in eval mode (for --init from detector_from_onnx.py --cargo)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    torch.manual_seed(a.seed)
    out = os.path.join("runs", a.name)
    os.makedirs(out, exist_ok=True)
    files = sorted(glob.glob(os.path.join(a.data, "shard_*.pkl")))
    X, C, M = load(files[:-1])
    Xh, Ch, Mh = load(files[-1:])
    print(f"train {len(X)} crops, hold-out {len(Xh)} ({files[-1]})", flush=True)
    model = CargoClassifier()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    step = 0
    ck = os.path.join(out, "last.pt")
    if a.resume and os.path.exists(ck):
        st = torch.load(ck, map_location="cpu")
        model.load_state_dict(st["model"]); opt.load_state_dict(st["opt"]); step = st["step"]
        print(f"resumed at step {step}", flush=True)
    elif a.init:
        model.load_state_dict(torch.load(a.init, map_location="cpu")["model"])
        print(f"initialised from {a.init}", flush=True)
    train_with_frozen_bn(model, a.freeze_bn)
    t0 = time.time()
    lc = lm = 0
    while step < a.steps:
        lr = a.lr * 0.5 * (1 + math.cos(math.pi * step / a.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = [rng.randrange(len(X)) for _ in range(a.batch)]
        x = torch.from_numpy(np.stack([aug(X[i], rng) for i in idx]).transpose(0, 3, 1, 2) / 255.0).float()
        c, m = model(x)
        l1 = F.cross_entropy(c, torch.from_numpy(C[idx]), label_smoothing=0.05)
        l2 = F.cross_entropy(m, torch.from_numpy(M[idx]), label_smoothing=0.05)
        opt.zero_grad(); (l1 + l2).backward(); opt.step()
        step += 1
        lc += l1.item(); lm += l2.item()
        if step % 20 == 0:
            print(f"step {step}/{a.steps} cover {lc / 20:.3f} material {lm / 20:.3f} lr {lr:.2e} {(time.time() - t0) / 20:.2f}s/step", flush=True)
            lc = lm = 0; t0 = time.time()
        if step % 200 == 0 or step == a.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "seed": a.seed}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
            ca, ma = evaluate(model, Xh, Ch, Mh, a.freeze_bn)
            print(f"  hold-out cover {ca:.1f}% material {ma:.1f}%", flush=True)
    ca, ma = evaluate(model, Xh, Ch, Mh, a.freeze_bn)
    import json
    json.dump({"synthetic_holdout_n": len(Xh), "synthetic_cover_acc_pct": round(ca, 2), "synthetic_material_acc_pct": round(ma, 2),
               "steps": step, "batch": a.batch, "train_crops": len(X), "seed": a.seed}, open(os.path.join(out, "train_metrics.json"), "w"), indent=1)
    print("done", flush=True)


if __name__ == "__main__":
    main()
