"""The sample camera clip of `make demo`: a few trucks approaching a gantry camera.

Each truck is one synthetic sprite from scene_synth (the same renderer the detector
learned from) composited on a road background at a growing scale, so that the
checkpoint's tracker sees one vehicle over several frames; empty-road frames between
trucks let each track close. Writes numbered JPEG frames; the Makefile turns them into
an H.264 clip with ffmpeg.

    python demo_clip.py --out runs/demo_frames --seed 7
"""
from __future__ import annotations

import argparse
import os
import random

import cv2
import numpy as np

import scene_synth as ss

# (cover, material) of each truck, in order: what the demo's incidents should show.
TRUCKS = [("open", "coal"), ("tarped", "none"), ("partial", "other_bulk"), ("open", "coal"), ("empty", "none")]


def composite(bg: np.ndarray, sp: ss.Sprite, scale: float, cx: float, bottom: float) -> np.ndarray:
    """Paste the sprite scaled by `scale`, centred at x = cx, its bottom edge at y = bottom."""
    img = cv2.resize(sp.img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    al = cv2.resize(sp.alpha, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)[..., None]
    h, w = img.shape[:2]
    H, W = bg.shape[:2]
    x0, y0 = int(cx - w / 2), int(bottom - h)
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    out = bg.copy()
    if xb > xa and yb > ya:
        a = al[ya - y0:yb - y0, xa - x0:xb - x0]
        out[ya:yb, xa:xb] = out[ya:yb, xa:xb] * (1 - a) + img[ya - y0:yb - y0, xa - x0:xb - x0] * a
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--frames-per-truck", type=int, default=10)
    ap.add_argument("--gap-frames", type=int, default=8)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    nr = np.random.default_rng(a.seed)
    W, H = a.width, a.height
    bg = ss._road_bg(rng, nr, H, W)
    n = 0

    def emit(frame: np.ndarray) -> None:
        nonlocal n
        noisy = np.clip(frame + nr.normal(0, 2.0, frame.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(os.path.join(a.out, f"{n:05d}.jpg"), cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
        n += 1

    for _ in range(a.gap_frames):
        emit(bg)
    for cargo in TRUCKS:
        sp = ss.truck_front(rng, nr, W * 0.34, light=False, cargo=cargo, cab_only_prob=0.0)
        cx = W * rng.uniform(0.4, 0.6)
        for k in range(a.frames_per_truck):
            t = k / max(1, a.frames_per_truck - 1)
            emit(composite(bg, sp, 0.7 + 0.3 * t, cx, H * (0.72 + 0.26 * t)))
        for _ in range(a.gap_frames):
            emit(bg)
    print(f"{n} frames in {a.out}")


if __name__ == "__main__":
    main()
