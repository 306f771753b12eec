"""Render the Rust test fixtures: models/tests/fixtures/plates/*.png + labels.csv.

Plates come from render.py (clean or lightly augmented crops with a small
margin); only plates the shipped reader reads correctly (text, colour, layout;
with the layout and province nets its manifest names, as the Rust reader) are
written, so the Rust tests can assert exact reads. One more, SECOND_LOOK, is a
plate the reader network alone misreads in its province only and the province
net puts right: the Rust test of that net reads it both ways. And GRAMMAR, a plate
whose greedy reading is not a GA 36 plate number and which GA 36's last word
(plate_grammar.read_as_plate) puts right.

  python make_fixtures.py --onnx ../onnx/plate_reader.onnx --out ../tests/fixtures/plates
"""
from __future__ import annotations

import argparse
import csv
import glob
import io
import os
import random

import cv2
import numpy as np
from PIL import Image

from augment import augment
from evaluate import layout_router, ort_runner, province_refiner, read
from render import random_plate, random_text, render_plate

HERE = os.path.dirname(os.path.abspath(__file__))

WANTED = [  # (file stem, kind, fixed text or None, light augmentation)
    ("blue_single", "blue", "皖A7K2L8", False),
    ("blue_single_aug", "blue", None, True),
    ("yellow_single", "yellow", "晋H93513", False),
    ("yellow_double", "yellow_dbl", "冀J6K825", False),
    ("yellow_double_aug", "yellow_dbl", None, True),
    ("green_nev_8", "nev_small", "京AD12345", False),
    ("yellow_trailer", "trailer", "蒙K3861挂", False),
    ("black_hk", "hk_macau", "粤Z1A23港", False),
]
SECOND_LOOK = "province_second_look"
GRAMMAR = "grammar_repair"


def clean_crop(plate: np.ndarray, rng: random.Random, width: int) -> np.ndarray:
    """Front-on crop with a small margin of dark bumper, downscaled to `width`."""
    h, w = plate.shape[:2]
    mx, my = int(w * rng.uniform(0.02, 0.05)), int(h * rng.uniform(0.04, 0.1))
    canvas = np.full((h + 2 * my, w + 2 * mx, 3), rng.randint(30, 90), np.uint8)
    canvas[my: my + h, mx: mx + w] = plate
    nh = int(round(canvas.shape[0] * width / canvas.shape[1]))
    return cv2.resize(canvas, (width, nh), interpolation=cv2.INTER_AREA)


def grammar_fixture(run, route, province, rng: random.Random, out: str, attempts: int = 5000) -> list:
    """Writes GRAMMAR.png: a rendered plate read right only thanks to GA 36's last
    word (plate_grammar.read_as_plate). Returns its labels.csv row (none when no
    plate in `attempts` fits)."""
    for attempt in range(attempts):
        kind = rng.choice(["blue", "yellow", "yellow", "nev_small"])
        p = render_plate(random_text(kind, rng), kind, scale=0.5, rng=rng)
        img = augment(p.image, rng, strength=rng.uniform(0.6, 1.0))
        data = png_bytes(img)
        if img.shape[1] > 200 or len(data) >= 20000:
            continue
        dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        raw = read(run, [dec], route=route, province=province, grammar=False)[0][0]
        full = read(run, [dec], route=route, province=province)
        if raw != p.text and (full[0][0], full[1][0], full[2][0]) == (p.text, p.color, p.layout):
            with open(os.path.join(out, f"{GRAMMAR}.png"), "wb") as f:
                f.write(data)
            print(f"{GRAMMAR}.png {p.text} (without the last word: {raw}; attempt {attempt})")
            return [(f"{GRAMMAR}.png", p.text, p.color, p.layout)]
    print(f"!! no plate for {GRAMMAR} in {attempts} attempts")
    return []


def png_bytes(img: np.ndarray) -> bytes:
    b = io.BytesIO()
    Image.fromarray(img).save(b, format="PNG", optimize=True)
    return b.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(HERE, "..", "onnx", "plate_reader.onnx"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "tests", "fixtures", "plates"))
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for f in glob.glob(os.path.join(a.out, "*.png")):
        os.remove(f)
    _, run = ort_runner(a.onnx, 1)
    route, province = layout_router(a.onnx), province_refiner(a.onnx)
    rng = random.Random(a.seed)
    np.random.seed(a.seed)
    rows = []
    for stem, kind, text, aug in WANTED:
        for attempt in range(40):
            t = text if (text and attempt < 10) else random_text(kind, rng)
            p = render_plate(t, kind, scale=0.5, rng=rng)
            img = augment(p.image, rng, strength=0.3) if aug else clean_crop(p.image, rng, 160)
            if img.shape[1] > 200:
                img = cv2.resize(img, (200, max(8, int(img.shape[0] * 200 / img.shape[1]))), interpolation=cv2.INTER_AREA)
            data = png_bytes(img)
            if len(data) >= 20000:
                continue
            # check on the decoded PNG, exactly what the Rust test will read
            dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
            texts, colors, layouts = read(run, [dec], route=route, province=province)
            if (texts[0], colors[0], layouts[0]) == (p.text, p.color, p.layout):
                fn = f"{stem}.png"
                with open(os.path.join(a.out, fn), "wb") as f:
                    f.write(data)
                rows.append((fn, p.text, p.color, p.layout))
                print(f"{fn:24s} {p.text} {p.color} {p.layout} ({len(data)} bytes, attempt {attempt})")
                break
        else:
            print(f"!! no correctly read sample for {stem} ({kind}) in 40 attempts")
    if province:
        for attempt in range(2000):
            p = render_plate(random_text("blue", rng), "blue", scale=0.5, rng=rng)
            img = augment(p.image, rng, strength=0.3)
            data = png_bytes(img)
            if img.shape[1] > 200 or len(data) >= 20000:
                continue
            dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
            alone = read(run, [dec])[0][0]
            full = read(run, [dec], route=route, province=province)
            if alone[:1] != p.text[:1] and alone[1:] == p.text[1:] and (full[0][0], full[1][0], full[2][0]) == (p.text, p.color, p.layout):
                with open(os.path.join(a.out, f"{SECOND_LOOK}.png"), "wb") as f:
                    f.write(data)
                rows.append((f"{SECOND_LOOK}.png", p.text, p.color, p.layout))
                print(f"{SECOND_LOOK}.png {p.text} (the reader alone: {alone}; attempt {attempt})")
                break
        else:
            print(f"!! no plate for {SECOND_LOOK} in 2000 attempts")
    rows += grammar_fixture(run, route, province, rng, a.out)
    with open(os.path.join(a.out, "labels.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "plate_text", "color", "layout"])
        w.writerows(rows)
    print(f"wrote {len(rows)} fixtures to {a.out}")


if __name__ == "__main__":
    main()
