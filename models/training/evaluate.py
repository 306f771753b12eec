"""Evaluate a plate reader the way the Rust side runs it.

plain resize -> layout/colour from the first pass -> if layout says double,
row_join (manifest double_row) -> second pass for the text; greedy CTC decoding.
When the manifest beside the reader has a [plate_layout] table, its layout net
runs first and a plate it gives at least double_threshold of being double-row is
read in one pass on its joined rows, with the net's colour (as the Rust reader).

  python evaluate.py --onnx ../onnx/plate_reader.onnx --real /work/shared/data/real/plates/dev --synthetic 2000

prints exact-match accuracy overall and by colour, layout and source, and the
onnxruntime single-thread time per crop; --json writes the figures.
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import random
import time

import numpy as np
from PIL import Image

import plate_grammar
from ctc_search import char_peaks
import preprocess as pp
from augment import augment
from render import ALPHABET, COLORS, LAYOUTS, random_plate

HOLDOUT_SEED = 900001


def real_color(s: str) -> str:
    """'blue (inferred)' / 'blue(ccpd2019: blue only)' -> 'blue'."""
    return s.strip().split("(")[0].split()[0].strip().lower() if s.strip() else ""


def load_labels_dir(d: str):
    items = []
    with open(os.path.join(d, "labels.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            img = np.asarray(Image.open(os.path.join(d, r["file"])).convert("RGB"))
            color = real_color(r.get("plate_color_if_known") or r.get("color") or "")
            items.append(dict(img=img, text=r["plate_text"], color=color,
                              layout=(r.get("plate_layout") or r.get("layout") or "single").strip(),
                              source=(r.get("source_repo") or "fixture").split("/")[0], file=r["file"]))
    return items


def synthetic_holdout(n: int, seed: int = HOLDOUT_SEED):
    rng = random.Random(seed)
    np.random.seed(seed % (2 ** 31))
    items = []
    for i in range(n):
        p = random_plate(rng)
        items.append(dict(img=augment(p.image, rng), text=p.text, color=p.color, layout=p.layout,
                          source="synthetic/" + p.kind, file=f"syn{i:05d}"))
    return items


def ctc_greedy(logits: np.ndarray) -> list[str]:
    out = []
    for seq in logits.argmax(-1):
        s, prev = [], 0
        for c in seq:
            c = int(c)
            if c != prev and c != 0:
                s.append(ALPHABET[c - 1])
            prev = c
        out.append("".join(s))
    return out


def read(run, imgs, params=pp.DOUBLE_ROW, bs: int = 64, route=None, province=None, with_confidences=False,
         grammar=True):
    """run: f(float32 [N,3,H,W]) -> (ctc, color, layout) numpy; route: the layout
    net from layout_router() or None; province: the province net from
    province_refiner() or None. A reading that is not a plausible GA 36 plate is
    read as the most probable one near it (plate_grammar.read_as_plate; grammar=False
    reads without it). Returns texts, colours, layouts, and with with_confidences
    each reading's char_confidences (the reader's CTC, before the province net; a
    plate read instead has each character's probability at its aligned peak) as a
    fourth list."""
    texts, colors, layouts, confidences = [], [], [], []
    for i in range(0, len(imgs), bs):
        chunk = imgs[i: i + bs]
        x = np.stack([pp.to_chw(pp.plain(im)) for im in chunk])
        ctc, col, lay = run(x)
        lay_i = lay.argmax(-1)
        col_i = col.argmax(-1)
        routed = route(x) if route else [None] * len(chunk)
        for j, r in enumerate(routed):
            if r is not None:  # straight to the joined pass: the net's layout and colour
                lay_i[j], col_i[j] = LAYOUTS.index("double"), r
        dbl = [j for j in range(len(chunk)) if LAYOUTS[lay_i[j]] == "double"]
        if dbl:
            x2 = np.stack([pp.to_chw(pp.row_join(chunk[j], params)) for j in dbl])
            ctc = ctc.copy()
            ctc[dbl] = run(x2)[0]
        t = ctc_greedy(ctc)
        peaks = [char_peaks(seq) for seq in ctc]
        confs = [[p for _, _, p in pk] for pk in peaks]  # the reader's, before the province net
        if province:
            t = province(chunk, [LAYOUTS[k] for k in lay_i], ctc, t)
        for j, seq in enumerate(ctc if grammar else []):  # GA 36's last word (models::plate_grammar)
            t[j], read_confs = plate_grammar.read_as_plate(t[j], seq, confs[j][0] if confs[j] else None)
            if read_confs is not None:
                confs[j] = read_confs
        confidences += confs
        texts += t
        colors += [COLORS[k] for k in col_i]
        layouts += [LAYOUTS[k] for k in lay_i]
    if with_confidences:
        return texts, colors, layouts, confidences
    return texts, colors, layouts


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def first_char_peak(seq: np.ndarray):
    """(class, step) of the first character greedy decoding reads from one item's
    CTC logits [T, C] (char_peaks); None when nothing is read."""
    peaks = char_peaks(seq)
    return peaks[0][:2] if peaks else None


def net_beside(reader_onnx: str, table: str):
    """(the manifest's [table], a one-thread onnxruntime session on its file) for
    a network named in the manifest beside the reader; (None, None) without it."""
    import onnxruntime as ort
    import tomllib
    manifest = os.path.join(os.path.dirname(os.path.abspath(reader_onnx)), "manifest.toml")
    spec = tomllib.load(open(manifest, "rb")).get(table) if os.path.exists(manifest) else None
    if not spec:
        return None, None
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return spec, ort.InferenceSession(os.path.join(os.path.dirname(manifest), spec["file"]), so,
                                      providers=["CPUExecutionProvider"])


def province_refiner(reader_onnx: str):
    """The province net named by [plate_province] in the manifest beside the
    reader, as f(crops, layouts, ctc [N,T,C], texts) -> texts: when a text starts
    with a province the reader is unsure of (peak softmax below the table's
    consult_below, 1 when absent), that province becomes the one maximising the
    reader's softmax at its peak step, raised to reader_weight (1 when absent),
    times the net's softmax (as models::PlateReader). None when the manifest has
    no such table."""
    spec, s = net_beside(reader_onnx, "plate_province")
    if not spec:
        return None
    provinces = spec["provinces"]
    classes = [ALPHABET.index(p) + 1 for p in provinces]
    windows = {"single": tuple(spec["window_single"]), "double": tuple(spec["window_double"])}
    size = spec["input"][0]
    consult_below = spec.get("consult_below", 1.0)
    reader_weight = spec.get("reader_weight", 1.0)

    def unsure(seq):
        """The reader's softmax over the provinces at its first character's peak
        step, when that character is a province read below consult_below; else None."""
        f = first_char_peak(seq)
        if f is None or f[0] not in classes:
            return None
        p = _softmax(seq[f[1]])
        return p[classes] if p[f[0]] < consult_below else None

    def refine(crops, layouts, ctc, texts):
        out = list(texts)
        todo = [(k, p) for k, p in ((k, unsure(seq)) for k, seq in enumerate(ctc)) if p is not None]
        if not todo:
            return out
        x = np.stack([pp.to_chw(pp.province_window(crops[k], layouts[k], size, windows)) for k, _ in todo])
        p_net = _softmax(s.run(["province"], {"image": x})[0])
        for (k, p_reader), p in zip(todo, p_net):
            out[k] = provinces[int((p_reader ** reader_weight * p).argmax())] + texts[k][1:]
        return out

    return refine


def layout_router(reader_onnx: str):
    """The layout net named by [plate_layout] in the manifest beside the reader, as
    f(x [N,3,H,W]) -> per crop the colour index when routed to the joined pass, else
    None; None when the manifest has no such table (as models::PlateReader::load)."""
    spec, s = net_beside(reader_onnx, "plate_layout")
    if not spec:
        return None
    dbl, thr = spec["layouts"].index("double"), spec["double_threshold"]

    def route(x):
        lay, col = s.run(["layout", "color"], {"image": x.astype(np.float32)})
        e = np.exp(lay - lay.max(-1, keepdims=True))
        p = e[:, dbl] / e.sum(-1)
        return [COLORS.index(spec["colors"][int(c)]) if pj >= thr else None for pj, c in zip(p, col.argmax(-1))]
    return route


def score(items, preds):
    texts, colors, layouts = preds
    groups = collections.defaultdict(lambda: [0, 0])
    for it, t, c, l in zip(items, texts, colors, layouts):
        ok = t == it["text"]
        for key in ("all", "color:" + it["color"], "layout:" + it["layout"], "source:" + it["source"]):
            groups[key][0] += ok
            groups[key][1] += 1
        groups["color_head"][0] += c == it["color"]
        groups["color_head"][1] += 1
        groups["layout_head"][0] += l == it["layout"]
        groups["layout_head"][1] += 1
    return {k: {"correct": v[0], "n": v[1], "acc": v[0] / max(1, v[1])} for k, v in sorted(groups.items())}


def print_score(title, sc):
    print(f"== {title}")
    for k, v in sc.items():
        print(f"  {k:40s} {v['correct']:5d}/{v['n']:<5d} {100 * v['acc']:6.2f} %")


def ort_runner(path, threads=1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return s, (lambda x: s.run(["ctc", "color", "layout"], {"image": x.astype(np.float32)}))


def ort_ms_per_crop(path, reps=2000):
    s, run = ort_runner(path, 1)
    x = np.random.default_rng(0).uniform(0, 1, (1, 3, pp.INPUT_H, pp.INPUT_W)).astype(np.float32)
    for _ in range(100):
        run(x)
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps // 3):
            run(x)
        best = min(best, (time.perf_counter() - t) / (reps // 3) * 1000)
    return best


def failures(items, preds, limit=400):
    out = []
    for it, t, c, l in zip(items, *preds):
        if t != it["text"]:
            out.append((it["file"], it["text"], t, it["color"], c, it["layout"], l))
    return out[:limit]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(os.path.dirname(__file__), "..", "onnx", "plate_reader.onnx"))
    ap.add_argument("--real", action="append", default=[], help="folder with labels.csv (repeatable)")
    ap.add_argument("--synthetic", type=int, default=0, help="synthetic hold-out size")
    ap.add_argument("--time", action="store_true", help="measure onnxruntime single-thread ms per crop")
    ap.add_argument("--json", help="write figures here")
    ap.add_argument("--show-failures", action="store_true")
    a = ap.parse_args()
    _, run = ort_runner(a.onnx, 1)
    route = layout_router(a.onnx)
    province = province_refiner(a.onnx)
    res = {}
    for d in a.real:
        items = load_labels_dir(d)
        preds = read(run, [it["img"] for it in items], route=route, province=province)
        sc = score(items, preds)
        print_score(d, sc)
        if a.show_failures:
            for f in failures(items, preds):
                print("   FAIL", *f)
        res[d] = sc
    if a.synthetic:
        items = synthetic_holdout(a.synthetic)
        preds = read(run, [it["img"] for it in items], route=route, province=province)
        sc = score(items, preds)
        print_score(f"synthetic hold-out (n={a.synthetic}, seed={HOLDOUT_SEED})", sc)
        res["synthetic"] = sc
    if a.time:
        ms = ort_ms_per_crop(a.onnx)
        print(f"onnxruntime single thread: {ms:.3f} ms per crop (batch 1)")
        res["ort_ms_per_crop"] = ms
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
