"""Train the province classifier: which of the 31 provinces the plate's first
character is, read from a window on the plate crop at more resolution than the
CTC reader gives it.

Why a second network: the reader squeezes the crop to 32x128 and reaches its
per-step features at 8x32, where a Chinese character is about 5 rows by 3
columns. Most of the reader's real errors are the province (12 of the 15 on
non-皖 plates of real/plates/dev), and on rendered plates under the training
augmentation it gets the province right in only about two of three, against 97 %
on clean renders. The classifier sees the province's window (preprocess.
province_window: the left 30 % of a single-row crop, the top-left of a double-row
one) at 40x40.

Data: rendered plates of every kind whose first character is a province, with the
province drawn uniformly (the reader's renderer weights trucks' provinces), then
the reader's augmentation; the real train crops (label: their first character)
with the real-crop augmentation in a fraction of each batch. The rendered set is
made once into runs/<name>/data.npz (two processes) and reused; training resumes
from runs/<name>/last.pt.

  python province_train.py --name province --seed 5 --n 100000 --epochs 8 --real-train /work/shared/data/real/plates/train
  python province_train.py ... --eval /work/shared/data/real/plates/dev   # report each epoch
  python province_train.py --export ../onnx/plate_province.onnx --real /work/shared/data/real/plates/dev

--export writes the ONNX and the [plate_province] table of models/onnx/manifest.toml
(other tables untouched), with the figures of the reader and this net together
(evaluate.read) on a synthetic hold-out and, for the record, on --real.

Never give it real/plates/dev to train on.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import preprocess as pp
from augment import augment, augment_real
from detector_manifest import write_table
from evaluate import load_labels_dir
from export import sha256
from model import count_macs
from province_model import LAYERS, ProvinceNet
from render import KINDS, PROVINCES, random_kind, random_text, render_plate

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "..", "onnx", "manifest.toml")
# The net is asked only when the reader's peak probability for the province is
# below this. Under the product a surer reader is all but never overruled: on the
# synthetic hold-out (2000 plates) every threshold from 0.98 to 1 gave the same
# readings, 0.95 one fewer, 0.9 three fewer; at 0.99 the net runs on 40 of the
# 277 real dev crops instead of all of them, with the same readings.
CONSULT_BELOW = 0.99
# The exponent on the reader's softmax in the product (models::plate_province::
# combine). The reader is overconfident on provinces; on the synthetic hold-out
# (2000, Python, consult_below 0.99) the weights 1 / 0.75 / 0.5 / 0.25 / 0 read
# 1337 / 1344 / 1357 / 1357 / 1338 plates exactly. Real dev: 258 at 1 and at 0.5.
READER_WEIGHT = 0.5
HEADER = "# [plate_province]: written by models/training/province_train.py --export (other tables are kept as they are).\n"
PROV_KINDS = [k for k in KINDS if k not in ("embassy", "military")]


def rendered_sample(rng: random.Random, strength: float):
    """One augmented rendered plate whose first character is a uniform province:
    (window uint8 SxSx3, province index)."""
    kind = rng.choices(PROV_KINDS, [KINDS[k][0] for k in PROV_KINDS])[0]
    text = random_text(kind, rng)
    if kind not in ("hk_macau", "consulate"):  # those keep their real provinces
        text = rng.choice(PROVINCES) + text[1:]
    plate = render_plate(text, kind, rng.uniform(0.3, 0.6), rng)
    img = augment(plate.image, rng, strength)
    return pp.province_window(img, KINDS[kind][2]), PROVINCES.index(text[0])


def _make_chunk(args):
    seed, n = args
    rng = random.Random(seed)
    np.random.seed(seed % (2 ** 31))
    xs, ys = [], []
    for _ in range(n):
        x, y = rendered_sample(rng, rng.uniform(0.3, 1.0))
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.array(ys, np.int64)


def make_set(n: int, seed: int, procs: int):
    chunk = 2000
    jobs = [(seed * 100003 + i, min(chunk, n - i * chunk)) for i in range((n + chunk - 1) // chunk)]
    with mp.Pool(procs) as pool:
        parts = []
        for k, part in enumerate(pool.imap(_make_chunk, jobs)):
            parts.append(part)
            print(f"  rendered {min((k + 1) * chunk, n)}/{n}", flush=True)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def real_set(d: str):
    """The labelled crops of `d` whose plate starts with a province."""
    return [it for it in load_labels_dir(d) if it["text"][:1] and it["text"][0] in PROVINCES]


def to_tensor(batch: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0)


def evaluate_real(net, items, label=""):
    net.eval()
    x = np.stack([pp.province_window(it["img"], it["layout"]) for it in items])
    with torch.no_grad():
        pred = net(to_tensor(x)).argmax(1).numpy()
    truth = np.array([PROVINCES.index(it["text"][0]) for it in items])
    ok = pred == truth
    anhui = truth == PROVINCES.index("皖")
    res = dict(n=len(items), acc=float(ok.mean()), anhui=f"{ok[anhui].sum()}/{anhui.sum()}",
               other=f"{ok[~anhui].sum()}/{(~anhui).sum()}")
    print(f"  real {label}: {res}", flush=True)
    return res, pred


def export(a):
    """ONNX (symbolic batch, output `province`) + the [plate_province] table, with
    the reader's figures with and without this net."""
    import onnx
    import onnxruntime as ort

    import evaluate as ev
    st = torch.load(os.path.join(HERE, "runs", a.name, "last.pt"), map_location="cpu")
    net = ProvinceNet(layers=st.get("layers", LAYERS))
    net.load_state_dict(st["model"])
    net.eval()
    size = pp.PROVINCE_SIZE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.rand(2, 3, size, size),), a.export, input_names=["image"],
                          output_names=["province"], dynamic_axes={"image": {0: "N"}, "province": {0: "N"}},
                          opset_version=17, dynamo=False, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(a.export))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(a.export, so, providers=["CPUExecutionProvider"])
    x = torch.rand(5, 3, size, size)
    with torch.no_grad():
        ref = net(x).numpy()
    assert float(np.abs(ref - s.run(["province"], {"image": x.numpy()})[0]).max()) < 1e-4

    table = {
        "file": os.path.basename(a.export),
        "sha256": sha256(a.export),
        "input": [size, size],
        "input_name": "image",
        "input_shape": [-1, 3, size, size],
        "input_resize": "the crop's province window (window_single or window_double by the reader's layout: "
                        "fractions x0, y0, x1, y1 of the crop, rounded as the reader rounds its row bands), "
                        "bilinear (triangle) resize to the input size; normalisation inside the network",
        "outputs": ["province"],
        "provinces": PROVINCES,
        "window_single": list(pp.PROVINCE_WINDOW["single"]),
        "window_double": list(pp.PROVINCE_WINDOW["double"]),
        "combine": "when the reader's first character is a province: the province maximising the reader's "
                   "softmax at that character's peak step, raised to reader_weight, times this net's softmax",
        "consult_below": CONSULT_BELOW,
        "reader_weight": READER_WEIGHT,
        "architecture": f"3x3 convs + BN + ReLU ({net.layers}: channels, s = stride 2) to 5x5, one linear layer, "
                        f"{sum(p.numel() for p in net.parameters())} params, {count_macs(net, size, size) / 1e6:.2f} M MACs per crop",
        "trained_on": (f"{st.get('n', a.n)} rendered plates of every kind with a uniform province (render.py + augment.py at "
                       f"strength 0.3-1.0), {st.get('epochs', a.epochs)} epochs x batch {st.get('batch', a.batch)}, with real/plates/train crops "
                       f"(fraction {st.get('real_frac', a.real_frac)} of each batch); seed {st.get('seed', a.seed)}; never real/plates/dev"),
        "seed": st.get("seed", a.seed),
    }
    write_table(MANIFEST, "plate_province", table, HEADER)

    # The reader with and without this net (the manifest now names it).
    reader = os.path.join(HERE, "..", "onnx", "plate_reader.onnx")
    _, run = ev.ort_runner(reader)
    route = ev.layout_router(reader)
    metrics = {}
    for key, items in (("synthetic_holdout", ev.synthetic_holdout(a.holdout)),
                       ("real_dev", ev.load_labels_dir(a.real) if a.real else [])):
        if not items:
            continue
        for with_net, province in (("without", None), ("with", ev.province_refiner(reader))):
            texts = ev.read(run, [it["img"] for it in items], route=route, province=province)[0]
            metrics[f"{key}_n"] = len(items)
            metrics[f"{key}_exact_pct_{with_net}_net"] = round(float(100 * np.mean([t == it["text"] for t, it in zip(texts, items)])), 2)
            pv = [(t[:1], it["text"][0]) for t, it in zip(texts, items) if it["text"][:1] in PROVINCES]
            metrics[f"{key}_province_pct_{with_net}_net"] = round(float(100 * np.mean([p == q for p, q in pv])), 2)
    table["metrics"] = metrics
    write_table(MANIFEST, "plate_province", table, HEADER)
    print(json.dumps(metrics, ensure_ascii=False), flush=True)
    print(f"wrote {a.export} and [plate_province] in {MANIFEST}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="province")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--n", type=int, default=100000, help="rendered training windows")
    ap.add_argument("--holdout", type=int, default=3000)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--layers", default=LAYERS, help="conv channels, 's' marks a stride-2 layer")
    ap.add_argument("--real-train", default=None)
    ap.add_argument("--real-frac", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval", action="append", default=[], help="labelled crops to report on (never trained on)")
    ap.add_argument("--export", default="", help="export runs/<name>/last.pt to this ONNX and write the manifest table")
    ap.add_argument("--real", default="", help="with --export: a real labelled folder to measure on (evaluation only)")
    a = ap.parse_args()
    if a.export:
        return export(a)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    run = os.path.join(HERE, "runs", a.name)
    os.makedirs(run, exist_ok=True)

    data = os.path.join(run, "data.npz")
    if not os.path.exists(data):
        t = time.time()
        x, y = make_set(a.n, a.seed, a.threads)
        hx, hy = make_set(a.holdout, a.seed + 7777, a.threads)
        np.savez(data, x=x, y=y, hx=hx, hy=hy)
        print(f"rendered {len(x)} + {len(hx)} windows in {time.time() - t:.0f} s", flush=True)
    d = np.load(data)
    x, y, hx, hy = d["x"], d["y"], d["hx"], d["hy"]
    real = real_set(a.real_train) if a.real_train else []
    evals = {e: real_set(e) for e in a.eval}

    net = ProvinceNet(layers=a.layers)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=5e-4)
    steps_per_epoch = len(x) // a.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=a.epochs * steps_per_epoch, pct_start=0.15)
    start = 0
    ckpt = os.path.join(run, "last.pt")
    if os.path.exists(ckpt):
        s = torch.load(ckpt, map_location="cpu")
        net.load_state_dict(s["model"])
        opt.load_state_dict(s["opt"])
        sched.load_state_dict(s["sched"])
        start = s["epoch"] + 1
        print(f"resumed at epoch {start}")
    rng = random.Random(a.seed)
    n_real = int(round(a.batch * a.real_frac)) if real else 0
    for epoch in range(start, a.epochs):
        net.train()
        perm = np.random.default_rng(a.seed * 1000 + epoch).permutation(len(x))
        t, tot, cnt = time.time(), 0.0, 0
        for i in range(steps_per_epoch):
            idx = perm[i * a.batch: (i + 1) * a.batch - n_real]
            bx, by = x[idx], y[idx]
            if n_real:
                picks = [rng.choice(real) for _ in range(n_real)]
                rx = np.stack([pp.province_window(augment_real(it["img"], rng), it["layout"]) for it in picks])
                ry = np.array([PROVINCES.index(it["text"][0]) for it in picks])
                bx, by = np.concatenate([bx, rx]), np.concatenate([by, ry])
            logits = net(to_tensor(bx))
            loss = F.cross_entropy(logits, torch.from_numpy(by).long(), label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot, cnt = tot + loss.item(), cnt + 1
            if i % 100 == 0:
                print(f"epoch {epoch} step {i}/{steps_per_epoch} loss {tot / cnt:.3f}", flush=True)
        net.eval()
        with torch.no_grad():
            hp = torch.cat([net(to_tensor(hx[j: j + 512])).argmax(1) for j in range(0, len(hx), 512)]).numpy()
        figs = {"epoch": epoch, "loss": tot / max(cnt, 1), "holdout_acc": float((hp == hy).mean()),
                "s": round(time.time() - t)}
        for e, items in evals.items():
            figs[e] = evaluate_real(net, items, os.path.basename(e.rstrip("/")))[0]
        print(json.dumps(figs, ensure_ascii=False), flush=True)
        torch.save(dict(model=net.state_dict(), opt=opt.state_dict(), sched=sched.state_dict(), epoch=epoch,
                        seed=a.seed, layers=a.layers, n=a.n, epochs=a.epochs, batch=a.batch, real_frac=a.real_frac if real else 0.0),
                   ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        with open(os.path.join(run, "log.jsonl"), "a") as f:
            f.write(json.dumps(figs, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
