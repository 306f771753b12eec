"""Reference pipeline for the plate detector + cargo classifier, run exactly as the
Rust side will (models/README.md, "The plate detector contract" / "The cargo
classifier contract"):

  frame -> letterbox (bilinear/triangle resize, pad 114, top-left) -> ONNX raw heads
  -> decode (sigmoid, 3x3 local maximum, threshold) -> NMS -> un-letterbox (/ scale)
  -> plate crops rectified from the 4 corners -> plate reader ONNX (if present)
  -> the load a checkpoint classifies (vehicle_load) -> crop -> cargo classifier ONNX

  python detector_eval.py --frames /work/shared/data/real/frames/dev \
      --checkpoint /work/shared/data/real/checkpoint --synthetic 200 --time --json runs/det/eval.json

--frames: plate recall / precision at IoU >= 0.5 (labels.csv: one row per plate, empty
box = no plate), a threshold sweep, every false positive and miss listed, and
end-to-end exact text with the reader. --checkpoint: per frame plate found / read
text / cover / material; cover accuracy with covered->tarped, partially_covered->partial,
uncovered->open, empty->empty. --synthetic N: the same metrics on N hold-out scenes
(seed 424242, never in training). Real images are only read, never written anywhere.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import time

import cv2
import numpy as np
import onnxruntime as ort
from PIL import Image

import read_detected

IN_W, IN_H, PAD = 640, 384, 114
PLATE_STRIDE, REGION_STRIDE = 8, 16
COVERS = ["empty", "open", "partial", "tarped", "enclosed"]
MATERIALS = ["coal", "briquette", "other_bulk", "none"]
COVER_MAP = {"covered": "tarped", "partially_covered": "partial", "uncovered": "open", "empty": "empty"}
SYN_SEED = 424242
# The tiled second look ([plate_detector.tiling] of the manifest; models/README.md,
# "Tiled second look"): tiles at GAIN x the full-frame scale.
TILING = {"gain": 2.0, "overlap": 0.2, "score_threshold": 0.5, "max_tiles": 12, "max_plate_width": 160.0}
TILE_EDGE = 0.02
# The reader's crop: margins around the plate's corner quad, fractions of its width
# and of its height ([plate_detector] reader_crop_margin; models::PlateDetector::rectify).
READER_CROP_MARGIN = (0.04, 0.08)
# Further cuts of a plate whose first reading is not a plate number read with
# every character at `below` or more ([plate_detector.recrop];
# models::read_detected_plate): the reading of a small plate moves with its framing.
RECROP = {"margins": [[0.06, 0.08], [0.02, 0.08]], "below": 0.99}


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def letterbox(img):
    """uint8 HxWx3 RGB frame -> (float32 [1,3,384,640] in 0..1, scale)."""
    h, w = img.shape[:2]
    s = min(IN_W / w, IN_H / h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    r = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    canvas = np.full((IN_H, IN_W, 3), PAD, np.uint8)
    canvas[:nh, :nw] = r
    return (canvas.astype(np.float32) / 255.0).transpose(2, 0, 1)[None], s


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _local_max(logit):
    """True where the logit is >= all 8 neighbours (3x3 max filter, edges padded with -inf)."""
    p = np.pad(logit, 1, constant_values=-np.inf)
    H, W = logit.shape
    m = np.max(np.stack([p[dy: dy + H, dx: dx + W] for dy in range(3) for dx in range(3)]), 0)
    return logit >= m


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / u if u > 0 else 0.0


def _inside(a, b):
    """Share of box a lying inside box b."""
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / max(1e-6, (a[2] - a[0]) * (a[3] - a[1]))


def vehicle_load(veh, loads):
    """The load a checkpoint classifies, as models::scene: vehicles lying 70 % or more
    inside a better-scored one dropped; each vehicle's load is its best-scored load box
    lying at least half inside it; the frame's is the best-scored vehicle's that has one."""
    kept = []
    for v in veh:  # by descending score
        if not any(_inside(v["box"], k["box"]) >= 0.7 or _inside(k["box"], v["box"]) >= 0.7 for k in kept):
            kept.append(v)
    for v in kept:
        mine = [l for l in loads if _inside(l["box"], v["box"]) >= 0.5]
        if mine:
            return max(mine, key=lambda l: (l["score"], _inside(l["box"], v["box"])))
    return None


def nms(dets, thr):
    dets = sorted(dets, key=lambda d: -d["score"])
    keep = []
    for d in dets:
        if all(iou(d["box"], k["box"]) <= thr for k in keep):
            keep.append(d)
    return keep


def decode_plates(P, thr, nms_iou):
    """P: [14, 48, 80] raw plate head -> list of dicts in letterboxed input pixels."""
    s = PLATE_STRIDE
    obj = P[0]
    ys, xs = np.nonzero((_sig(obj) >= thr) & _local_max(obj))
    out = []
    for j, i in zip(ys, xs):
        v = P[:, j, i]
        cx, cy = (i + 0.5 + v[2]) * s, (j + 0.5 + v[3]) * s
        w, h = np.exp(v[4]) * s, np.exp(v[5]) * s
        corners = [((i + 0.5 + v[6 + 2 * k]) * s, (j + 0.5 + v[7 + 2 * k]) * s) for k in range(4)]
        out.append({"score": float(_sig(v[0])), "box": [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
                    "corners": corners, "double": bool(_sig(v[1]) >= 0.5), "double_p": float(_sig(v[1]))})
    return nms(out, nms_iou)


def decode_regions(R, thr, nms_iou):
    """R: [10, 24, 40] raw region head -> (vehicles, loads) in letterboxed input pixels."""
    s = REGION_STRIDE
    res = []
    for k in range(2):
        obj = R[k]
        ys, xs = np.nonzero((_sig(obj) >= thr) & _local_max(obj))
        out = []
        for j, i in zip(ys, xs):
            v = R[2 + 4 * k: 6 + 4 * k, j, i]
            cx, cy = (i + 0.5 + v[0]) * s, (j + 0.5 + v[1]) * s
            w, h = np.exp(v[2]) * s, np.exp(v[3]) * s
            out.append({"score": float(_sig(obj[j, i])), "box": [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]})
        res.append(nms(out, nms_iou))
    return res


def unletterbox(dets, s, fw, fh):
    for d in dets:
        b = d["box"]
        d["box"] = [min(max(b[0] / s, 0), fw), min(max(b[1] / s, 0), fh), min(max(b[2] / s, 0), fw), min(max(b[3] / s, 0), fh)]
        if "corners" in d:
            d["corners"] = [(x / s, y / s) for x, y in d["corners"]]
    return dets


def tile_windows(fw, fh, full_scale, t=TILING):
    """[x, y, w, h] windows (frame pixels, row by row) of the tiled second look; [] for none."""
    st = min(1.0, full_scale * t["gain"])
    if not st > 1.2 * full_scale or fw == 0 or fh == 0:
        return []
    ww = int(min(max(round(IN_W / st), 1), fw))
    wh = int(min(max(round(IN_H / st), 1), fh))

    def starts(n_px, win):
        if win >= n_px:
            return [0]
        n = int(np.ceil((n_px - win) / (win * (1 - t["overlap"])))) + 1
        return [int(round((n_px - win) * k / (n - 1))) for k in range(n)]

    xs, ys = starts(fw, ww), starts(fh, wh)
    if len(xs) * len(ys) > t["max_tiles"]:
        return []
    return [[x, y, ww, wh] for y in ys for x in xs]


class Pipeline:
    def __init__(self, det, reader=None, cargo=None, plate_thr=0.3, region_thr=0.3, nms_iou=0.45, region_nms=0.5, tiling=True):
        self.det = session(det)
        self.reader = session(reader) if reader and os.path.exists(reader) else None
        if self.reader is not None:
            import evaluate
            self.route = evaluate.layout_router(reader)
            self.province = evaluate.province_refiner(reader)
        self.cargo = session(cargo) if cargo and os.path.exists(cargo) else None
        self.plate_thr, self.region_thr, self.nms_iou, self.region_nms = plate_thr, region_thr, nms_iou, region_nms
        self.tiling = TILING if tiling else None

    def tile_plates(self, img, full_scale):
        """Plates of the tiled second look, in frame pixels (not yet merged with the full pass)."""
        if self.tiling is None:
            return []
        fh, fw = img.shape[:2]
        out = []
        for x, y, w, h in tile_windows(fw, fh, full_scale, self.tiling):
            P, _, s = self.raw(np.ascontiguousarray(img[y:y + h, x:x + w]))
            ds = [d for d in decode_plates(P, self.tiling["score_threshold"], 2.0)
                  if d["box"][2] - d["box"][0] <= self.tiling["max_plate_width"]]
            mx, my = TILE_EDGE * w, TILE_EDGE * h
            for d in unletterbox(nms(ds, self.nms_iou), s, w, h):
                b = d["box"]
                if (b[0] < mx and x > 0) or (b[2] > w - mx and x + w < fw) or (b[1] < my and y > 0) or (b[3] > h - my and y + h < fh):
                    continue  # cut by an inner window edge
                d["box"] = [b[0] + x, b[1] + y, b[2] + x, b[3] + y]
                d["corners"] = [(cx + x, cy + y) for cx, cy in d["corners"]]
                out.append(d)
        return out

    def raw(self, img):
        x, s = letterbox(img)
        P, R = self.det.run(["plate", "region"], {"image": x})
        return P[0], R[0], s

    def detect(self, img, plate_thr=None):
        P, R, s = self.raw(img)
        fh, fw = img.shape[:2]
        plates = unletterbox(decode_plates(P, self.plate_thr if plate_thr is None else plate_thr, self.nms_iou), s, fw, fh)
        plates = nms(plates + self.tile_plates(img, s), self.nms_iou)
        veh, loads = decode_regions(R, self.region_thr, self.region_nms)
        return plates, unletterbox(veh, s, fw, fh), unletterbox(loads, s, fw, fh)

    def read_plate(self, img, d):
        """Read a detected plate as models::read_detected_plate does: the
        detector's cut, the refined ends' cut, and further margins when unsure,
        the better-ranked reading kept (read_detected.py)."""
        return read_detected.read_detected(self.read_cut, confirms_plate, img, d, READER_CROP_MARGIN, RECROP)[0]

    def read_cut(self, img, d, margin=READER_CROP_MARGIN):
        """Rectify the plate from its corners with `margin` (fractions of its width
        and height on each side) and read it with the plate reader."""
        if self.reader is None:
            return None
        import evaluate  # the colleague's reader reference: plain resize, double-row second pass
        q = np.float32(d["corners"])
        w = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
        h = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))
        mx, my = margin[0] * w, margin[1] * h
        W, H = max(8, int(round(w + 2 * mx))), max(4, int(round(h + 2 * my)))
        dst = np.float32([[mx, my], [mx + w, my], [mx + w, my + h], [mx, my + h]])
        M = cv2.getPerspectiveTransform(q, dst)
        crop = cv2.warpPerspective(img, M, (W, H), flags=cv2.INTER_AREA if w > 200 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        run = lambda x: self.reader.run(["ctc", "color", "layout"], {"image": x.astype(np.float32)})
        texts, colors, layouts, confs = evaluate.read(run, [crop], route=self.route, province=self.province,
                                                      with_confidences=True)
        return texts[0], colors[0], layouts[0], confs[0]

    def classify(self, img, box):
        if self.cargo is None:
            return None
        x0, y0, x1, y1 = [int(round(v)) for v in box]
        crop = img[max(0, y0): max(y0 + 1, y1), max(0, x0): max(x0 + 1, x1)]
        if crop.size == 0:
            return None
        x = np.asarray(Image.fromarray(crop).resize((96, 96), Image.BILINEAR)).astype(np.float32).transpose(2, 0, 1)[None] / 255.0
        c, m = self.cargo.run(["cover", "material"], {"image": x})
        return COVERS[int(c[0].argmax())], MATERIALS[int(m[0].argmax())], _sig(c[0]).tolist(), _sig(m[0]).tolist()


def load_frames(d):
    rows = {}
    with open(os.path.join(d, "labels.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            g = rows.setdefault(r["file"], [])
            if r["x1"].strip():
                corners = None
                c = r.get("corners_if_known", "").strip()
                if c.startswith("RB,LB,LT,RT="):
                    pts = [tuple(float(v) for v in xy.split("&")) for xy in c.split("=", 1)[1].split(";")]
                    corners = [pts[2], pts[3], pts[0], pts[1]]  # -> TL, TR, BR, BL
                g.append({"box": [float(r["x1"]), float(r["y1"]), float(r["x2"]), float(r["y2"])], "text": r["plate_text"],
                          "color": r["plate_color"].split("(")[0].strip(), "layout": r["plate_layout"], "corners": corners})
    return rows


def match(preds, gts, thr=0.5):
    """Greedy by score; returns (tp, matched pairs, unmatched preds, unmatched gts)."""
    used = set()
    pairs, fps = [], []
    for p in sorted(preds, key=lambda d: -d["score"]):
        best, bi = thr, -1
        for gi, g in enumerate(gts):
            if gi in used:
                continue
            v = iou(p["box"], g["box"])
            if v >= best:
                best, bi = v, gi
        if bi >= 0:
            used.add(bi)
            pairs.append((p, gts[bi]))
        else:
            fps.append(p)
    return pairs, fps, [g for gi, g in enumerate(gts) if gi not in used]


def draw(img, plates, veh, loads, path, gts=()):
    """Debug drawing (write it outside the repository: real frames must not be copied into it)."""
    im = np.ascontiguousarray(img.copy())
    for g in gts:
        x0, y0, x1, y1 = map(int, g["box"])
        cv2.rectangle(im, (x0, y0), (x1, y1), (255, 255, 0), 2)
    for d in veh:
        x0, y0, x1, y1 = map(int, d["box"])
        cv2.rectangle(im, (x0, y0), (x1, y1), (255, 128, 0), 2)
    for d in loads:
        x0, y0, x1, y1 = map(int, d["box"])
        cv2.rectangle(im, (x0, y0), (x1, y1), (255, 0, 0), 2)
    for d in plates:
        cv2.polylines(im, [np.int32(d["corners"])], True, (0, 255, 0) if not d["double"] else (0, 255, 255), 2)
        cv2.putText(im, f"{d['score']:.2f}", (int(d["box"][0]), int(d["box"][1]) - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 0), 2)
    h, w = im.shape[:2]
    f = min(1.0, 1000 / max(h, w))
    Image.fromarray(cv2.resize(im, (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA)).save(path)


# A reading of at least this many characters confirms a box as a plate, as
# models::MIN_WHOLE_PLATE_CHARS (GA 36 plates have 7 or 8; one may be lost).
MIN_WHOLE_PLATE_CHARS = 6
# models::MIN_CONFIRMING_CHAR_CONFIDENCE: every character after the province must be
# read at least this surely (badges and overlays read as six or more guesses).
MIN_CONFIRMING_CHAR_CONFIDENCE = 0.4


def confirms_plate(read) -> bool:
    """models::PlateRead::confirms_plate on a read_plate() result (or None)."""
    if not read:
        return False
    text, confs = read[0], read[3]
    return len(text) >= MIN_WHOLE_PLATE_CHARS and all(c >= MIN_CONFIRMING_CHAR_CONFIDENCE for c in confs[1:])


def eval_frames(pipe, d, verbose=True, vis=""):
    rows = load_frames(d)
    cache = {}
    for f in rows:
        img = np.asarray(Image.open(os.path.join(d, f)).convert("RGB"))
        P, R, s = pipe.raw(img)
        cache[f] = (img, P, s, pipe.tile_plates(img, s))
    sweep = {}
    for thr in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7):
        tp = npred = ngt = 0
        for f, gts in rows.items():
            img, P, s, tiles = cache[f]
            preds = nms(unletterbox(decode_plates(P, thr, pipe.nms_iou), s, img.shape[1], img.shape[0]) + [dict(d) for d in tiles], pipe.nms_iou)
            pairs, fps, miss = match(preds, gts)
            tp += len(pairs); npred += len(preds); ngt += len(gts)
        sweep[thr] = {"recall": tp / max(1, ngt), "precision": tp / max(1, npred), "tp": tp, "pred": npred, "gt": ngt}
    # detail at the pipeline threshold
    tp = npred = ngt = exact = 0
    ctp = nconf = 0  # boxes the reader confirms (models::PlateRead::confirms_plate)
    details = []
    per_color = {}
    cerr = []
    for f, gts in rows.items():
        img, P, s, tiles = cache[f]
        preds = nms(unletterbox(decode_plates(P, pipe.plate_thr, pipe.nms_iou), s, img.shape[1], img.shape[0]) + [dict(d) for d in tiles], pipe.nms_iou)
        pairs, fps, miss = match(preds, gts)
        tp += len(pairs); npred += len(preds); ngt += len(gts)
        if pipe.reader is not None:
            confirmed = [p for p in preds if confirms_plate(pipe.read_plate(img, p))]
            ctp += len(match(confirmed, gts)[0]); nconf += len(confirmed)
        if vis:
            draw(img, preds, [], [], os.path.join(vis, os.path.splitext(f)[0] + ".png"), gts)
        for p, g in pairs:
            if g.get("corners"):
                cerr.append(float(np.abs(np.float32(p["corners"]) - np.float32(g["corners"])).mean() / max(1.0, g["box"][2] - g["box"][0])))
            r = pipe.read_plate(img, p)
            ok = r is not None and g["text"] and r[0] == g["text"]
            exact += int(bool(ok))
            pc = per_color.setdefault(g["color"] or "?", [0, 0, 0])
            pc[1] += 1
            pc[2] += int(bool(ok))
            details.append(f"  TP {f} {g['text'] or '(unreadable)'} iou={iou(p['box'], g['box']):.2f} score={p['score']:.2f} double={p['double']} read={r[0] if r else None}")
        for g in miss:
            per_color.setdefault(g["color"] or "?", [0, 0, 0])[0] += 1
            details.append(f"  MISS {f} {g['text']} box={[int(v) for v in g['box']]}")
        for p in fps:
            r = pipe.read_plate(img, p)
            details.append(f"  FP {f} box={[int(v) for v in p['box']]} score={p['score']:.2f} read={r[0] if r else None}")
    readable = sum(1 for gts in rows.values() for g in gts if g["text"])
    res = {"n_frames": len(rows), "n_plates": ngt, "plate_thr": pipe.plate_thr, "recall": tp / max(1, ngt), "precision": tp / max(1, npred),
           "tp": tp, "pred": npred, "confirmed_recall": ctp / max(1, ngt), "confirmed_precision": ctp / max(1, nconf),
           "confirmed_tp": ctp, "confirmed": nconf, "end_to_end_exact": exact / max(1, readable), "n_readable": readable,
           "corner_err_rel_width": float(np.mean(cerr)) if cerr else None, "n_corner_plates": len(cerr),
           "sweep": {str(k): v for k, v in sweep.items()}}
    if verbose:
        print(f"frames/dev: {len(rows)} frames, {ngt} plates; thr {pipe.plate_thr}: recall {res['recall']:.3f} precision {res['precision']:.3f} "
              f"(tp {tp}, pred {npred}); end-to-end exact {exact}/{readable}; corner error {res['corner_err_rel_width']} of the plate width on {len(cerr)} plates")
        if pipe.reader is not None:
            print(f"  boxes the reader confirms (>= {MIN_WHOLE_PLATE_CHARS} characters, each after the first "
                  f">= {MIN_CONFIRMING_CHAR_CONFIDENCE}): recall {res['confirmed_recall']:.3f} "
                  f"precision {res['confirmed_precision']:.3f} (tp {ctp}, confirmed {nconf})")
        for k, v in sweep.items():
            print(f"  sweep thr {k}: recall {v['recall']:.3f} precision {v['precision']:.3f} (pred {v['pred']})")
        print("\n".join(details))
    return res


# Load strips of the six real checkpoint frames, boxed by eye (frame pixels) for an
# evaluation of the classifier alone, independent of the detector. Evaluation only.
ORACLE_LOADS = {
    "tarp_covered_img_00010.jpg": (905, 302, 1621, 735),
    "tarp_empty_img_02343.jpg": (1960, 660, 3241, 1206),
    "tarp_empty_img_02344.jpg": (1677, 320, 2356, 641),
    "tarp_partially_covered_img_00001.jpg": (654, 64, 1192, 378),
    "tarp_uncovered_img_02342.jpg": (917, 69, 1525, 355),
    "tarp_uncovered_img_02555.jpg": (1828, 302, 2601, 603),
}


def eval_checkpoint(pipe, d, verbose=True, vis=""):
    out = []
    with open(os.path.join(d, "labels.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    n_cov = n_cov_oracle = 0
    n_read = n_readable = 0
    for r in rows:
        img = np.asarray(Image.open(os.path.join(d, r["file"])).convert("RGB"))
        plates, veh, loads = pipe.detect(img)
        reads = [pipe.read_plate(img, p) for p in plates]
        texts = [x[0] for x in reads if x]
        load = vehicle_load(veh, loads)
        if vis:
            draw(img, plates, veh, loads, os.path.join(vis, os.path.splitext(r["file"])[0] + ".png"))
        cls = pipe.classify(img, load["box"]) if load else None
        want = COVER_MAP[r["cover_state_source_label"]]
        ok_cov = cls is not None and cls[0] == want
        n_cov += int(ok_cov)
        ob = ORACLE_LOADS.get(r["file"])
        ocls = pipe.classify(img, ob) if ob else None
        n_cov_oracle += int(ocls is not None and ocls[0] == want)
        if r["plate_text"]:
            n_readable += 1
            n_read += int(r["plate_text"] in texts)
        item = {"file": r["file"], "want_plate": r["plate_text"], "plates": [{"box": [round(v) for v in p["box"]], "score": round(p["score"], 3),
                "double": p["double"], "read": (x[0] if x else None)} for p, x in zip(plates, reads)],
                "n_vehicles": len(veh), "load_box": [round(v) for v in load["box"]] if load else None,
                "load_score": round(load["score"], 3) if load else None,
                "want_cover": want, "cover": cls[0] if cls else None, "material": cls[1] if cls else None, "cover_ok": ok_cov,
                "oracle_box_cover": ocls[0] if ocls else None, "oracle_box_material": ocls[1] if ocls else None}
        out.append(item)
        if verbose:
            print(f"  {r['file']}: want {r['plate_text'] or '(none)'} / {want}; plates {[(p['read'], p['score']) for p in item['plates']]}; "
                  f"vehicles {len(veh)}; load {item['load_box']} ({item['load_score']}) -> {item['cover']}/{item['material']} {'OK' if ok_cov else 'WRONG'}; hand-drawn load box -> {item['oracle_box_cover']}/{item['oracle_box_material']}")
    res = {"frames": out, "cover_correct": n_cov, "cover_correct_hand_box": n_cov_oracle, "n": len(rows), "plates_read": n_read, "plates_readable": n_readable,
           "plate_found": sum(1 for o in out if o["plates"])}
    if verbose:
        print(f"checkpoint: cover {n_cov}/{len(rows)} (classifier on hand-drawn load boxes: {n_cov_oracle}/{len(rows)}), readable plates read {n_read}/{n_readable}, frames with a plate box {res['plate_found']}/{len(rows)}")
    return res


def eval_synthetic(pipe, n, verbose=True):
    import scene_synth
    rng = random.Random(SYN_SEED)
    tp = npred = ngt = 0
    ltp = lgt = lpred = 0
    dbl_ok = dbl_n = 0
    cov_ok = cov_n = 0
    corner_err = []
    for _ in range(n):
        x, lab = scene_synth.scene(rng)
        cw, ch = lab["content"]
        img = np.ascontiguousarray(x[:ch, :cw])  # the frame (already at input scale; letterbox is then 1:1)
        plates, veh, loads = pipe.detect(img)
        gts = [p for p in lab["plates"] if not p["ignore"]]
        ign = [p for p in lab["plates"] if p["ignore"]]
        preds = [p for p in plates if not any(iou(p["box"], g["box"]) >= 0.3 for g in ign)]
        pairs, fps, miss = match(preds, [{"box": list(g["box"]), **g} for g in gts])
        tp += len(pairs); npred += len(preds); ngt += len(gts)
        for p, g in pairs:
            dbl_n += 1
            dbl_ok += int(p["double"] == g["double"])
            q = np.float32(g["quad"])
            corner_err.append(float(np.abs(np.float32(p["corners"]) - q).mean() / max(1.0, g["box"][2] - g["box"][0])))
        lg = [l for l in lab["loads"] if not l["ignore"]]
        lpairs, lfps, lmiss = match(loads, [{"box": list(l["box"]), **l} for l in lg])
        ltp += len(lpairs); lgt += len(lg); lpred += len(loads)
        for p, g in lpairs:
            c = pipe.classify(img, p["box"])
            if c:
                cov_n += 1
                cov_ok += int(c[0] == g["cover"])
    res = {"n_scenes": n, "recall": tp / max(1, ngt), "precision": tp / max(1, npred), "n_plates": ngt,
           "double_acc": dbl_ok / max(1, dbl_n), "corner_err_rel_width": float(np.mean(corner_err)) if corner_err else None,
           "load_recall": ltp / max(1, lgt), "load_precision": ltp / max(1, lpred), "cover_acc_on_detected_loads": cov_ok / max(1, cov_n)}
    if verbose:
        print("synthetic:", json.dumps(res))
    return res


def timing(path, n=30):
    s = session(path)
    name = s.get_inputs()[0].name
    shp = [d if isinstance(d, int) else 1 for d in s.get_inputs()[0].shape]
    x = np.random.rand(*shp).astype(np.float32)
    for _ in range(3):
        s.run(None, {name: x})
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        s.run(None, {name: x})
        ts.append(time.perf_counter() - t)
    return float(np.median(ts) * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--det", default="../onnx/plate_detector.onnx")
    ap.add_argument("--reader", default="../onnx/plate_reader.onnx")
    ap.add_argument("--cargo", default="../onnx/cargo_classifier.onnx")
    ap.add_argument("--frames", default="")
    ap.add_argument("--checkpoint", default="")
    ap.add_argument("--synthetic", type=int, default=0)
    ap.add_argument("--plate-thr", type=float, default=0.3)
    ap.add_argument("--region-thr", type=float, default=0.3)
    ap.add_argument("--nms", type=float, default=0.45)
    ap.add_argument("--no-tiling", action="store_true", help="one detector pass per frame, without the tiled second look")
    ap.add_argument("--time", action="store_true")
    ap.add_argument("--json", default="")
    ap.add_argument("--vis", default="", help="write debug drawings here (outside the repository)")
    a = ap.parse_args()
    if a.vis:
        assert not os.path.abspath(a.vis).startswith(os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))), "--vis must be outside the repository"
        os.makedirs(a.vis, exist_ok=True)
    pipe = Pipeline(a.det, a.reader, a.cargo, a.plate_thr, a.region_thr, a.nms, tiling=not a.no_tiling)
    res = {}
    if a.synthetic:
        res["synthetic"] = eval_synthetic(pipe, a.synthetic)
    if a.frames:
        res["frames_dev"] = eval_frames(pipe, a.frames, vis=a.vis)
    if a.checkpoint:
        res["checkpoint"] = eval_checkpoint(pipe, a.checkpoint, vis=a.vis)
    if a.time:
        res["ms_detector_ort_1thread"] = timing(a.det)
        if os.path.exists(a.cargo):
            res["ms_cargo_ort_1thread"] = timing(a.cargo)
        print(f"onnxruntime 1 thread: detector {res['ms_detector_ort_1thread']:.2f} ms" +
              (f", cargo {res['ms_cargo_ort_1thread']:.2f} ms" if "ms_cargo_ort_1thread" in res else ""))
    if a.json:
        os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
        json.dump(res, open(a.json, "w"), indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
