"""Compare plate readers on the real frames at several crop margins.

A reader's end-to-end figure on frames/dev or the checkpoint frames rests on one
cut of each plate, and a small plate's reading moves with that cut (2 % of its
width can turn 皖 into 鄂): one reader may read a plate the pipeline happens to cut
well, where another reads it at the next margin. This reads the same detector quads
(the detector's boxes matched to the labelled plates; on a checkpoint frame its
best-scoring box) at each of MARGINS with every reader given, so that readers are
compared over 8 cuts of every plate rather than one.

  python margin_sweep.py --frames DATA/frames/dev --checkpoint DATA/checkpoint \\
      ../onnx/plate_reader.onnx runs/other/plate_reader.onnx

Each reader is read through the layout and province nets of the manifest beside it.
Evaluation only: never trains on anything.
"""
from __future__ import annotations

import argparse
import csv
import json
import os

import numpy as np
from PIL import Image

import detector_eval as de

# Side margins (fractions of the plate's width, then its height): the reader's
# own 4 % / 8 %, tighter and looser widths, and no or a double height margin.
MARGINS = [(0.0, 0.08), (0.02, 0.08), (0.04, 0.08), (0.06, 0.08), (0.08, 0.08), (0.1, 0.08), (0.04, 0.0), (0.04, 0.16)]


def frame_plates(det: de.Pipeline, frames: str):
    """(image, detector box, label) for every labelled plate of frames/dev the detector boxes."""
    out = []
    for f, gts in de.load_frames(frames).items():
        img = np.asarray(Image.open(os.path.join(frames, f)).convert("RGB"))
        preds, _, _ = det.detect(img)
        out += [(img, p, g["text"]) for p, g in de.match(preds, gts)[0] if g["text"]]
    return out


def checkpoint_plates(det: de.Pipeline, d: str):
    """(image, best-scoring detector box, label) for every checkpoint frame with a readable plate."""
    out = []
    with open(os.path.join(d, "labels.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if not r["plate_text"]:
                continue
            img = np.asarray(Image.open(os.path.join(d, r["file"])).convert("RGB"))
            preds, _, _ = det.detect(img)
            if preds:
                out.append((img, max(preds, key=lambda p: p["score"]), r["plate_text"]))
    return out


def sweep(pipe: de.Pipeline, plates) -> list[int]:
    """Plates read exactly at each of MARGINS."""
    right = [0] * len(MARGINS)
    for img, p, text in plates:
        for k, m in enumerate(MARGINS):
            r = pipe.read_cut(img, p, m)
            right[k] += int(r is not None and r[0] == text)
    return right


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("readers", nargs="+", help="plate reader ONNX files (manifest.toml beside each)")
    ap.add_argument("--det", default="../onnx/plate_detector.onnx")
    ap.add_argument("--frames", default="")
    ap.add_argument("--checkpoint", default="")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    det = de.Pipeline(a.det, None, None)
    sets = {}
    if a.frames:
        sets["frames"] = frame_plates(det, a.frames)
    if a.checkpoint:
        sets["checkpoint"] = checkpoint_plates(det, a.checkpoint)
    print("margins (width, height): " + " ".join(f"{w:g}/{h:g}" for w, h in MARGINS))
    res = {}
    for reader in a.readers:
        if not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(reader)), "manifest.toml")):
            print(f"{reader}: no manifest.toml beside it, so read without the layout and province nets")
        pipe = de.Pipeline(a.det, reader, None)
        res[reader] = {}
        for name, plates in sets.items():
            right = sweep(pipe, plates)
            res[reader][name] = {"per_margin": right, "sum": sum(right), "of": len(plates) * len(MARGINS)}
            print(f"{reader} {name}: {' '.join(map(str, right))} = {sum(right)} of {len(plates) * len(MARGINS)}", flush=True)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"margins": MARGINS, "readers": res}, f, indent=1)


if __name__ == "__main__":
    main()
