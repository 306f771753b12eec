"""Network input construction, shared by training, evaluation and fixtures.

Follows models/README.md exactly: plain bilinear (triangle) resize to W x H, no
letterbox, RGB 0..1; for double-row plates `row_join` cuts the crop into the
top and bottom bands (fractions of the crop height), resizes the top band to
round(top_width * W) x H and the bottom band to the rest of W, and places them
side by side (top on the left).
"""
from __future__ import annotations

import numpy as np
from PIL import Image

INPUT_H, INPUT_W = 32, 128
# Bands for double-row plates, as the Rust manifest parser (models/src/manifest.rs)
# reads them: the top band is rows 0 .. top*h, the bottom band rows bottom*h .. h
# (they overlap). GA 36 440x220: top row y 15-75 mm (0.07-0.34), bottom row
# y 90-200 mm (0.41-0.91); widened for loose and tight crops. 0.375 is exact in binary.
DOUBLE_ROW = {"top": 0.4, "bottom": 0.375, "top_width": 0.4}


def resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bilinear (triangle filter, antialiased like image::imageops Triangle)."""
    return np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR))


def plain(img: np.ndarray, h: int = INPUT_H, w: int = INPUT_W) -> np.ndarray:
    """uint8 HxWx3 crop -> uint8 h x w x 3."""
    return resize(img, w, h)


def _round_f32(frac: float, n: int) -> int:
    """round(frac * n) as Rust computes it in f32 (half away from zero)."""
    return int(np.floor(np.float32(frac) * np.float32(n) + np.float32(0.5)))


def row_bands(params: dict, height: int) -> tuple[int, int]:
    """(top_end, bottom_start) rows, identical to models/src/preprocess.rs row_bands."""
    top_end = min(max(_round_f32(params["top"], height), 1), max(height, 1))
    bottom_start = min(_round_f32(params["bottom"], height), max(height - 1, 0))
    return top_end, bottom_start


def row_join(img: np.ndarray, params: dict = DOUBLE_ROW, h: int = INPUT_H, w: int = INPUT_W) -> np.ndarray:
    """Double-row crop -> single-row-like h x w x 3 image (top band left, bottom band right)."""
    tw = min(max(_round_f32(params["top_width"], w), 1), max(w - 1, 1))
    top_end, bottom_start = row_bands(params, img.shape[0])
    top = resize(img[:top_end], tw, h)
    bot = resize(img[bottom_start:], w - tw, h)
    return np.concatenate([top, bot], axis=1)


def to_chw(img: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 -> float32 3xHxW in 0..1."""
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32) / 255.0


# The province classifier's window (fractions of the crop: x0, y0, x1, y1), cut
# and resized to PROVINCE_SIZE square. Single row: GA 36 puts the province at
# 15.5-60.5 of 440 mm, so the left 30 % holds it for tight and loose crops alike
# (and part of the authority letter). Double row: the province is at x 110-190
# of 440 mm in the top row (y 15-75 of 220 mm).
PROVINCE_WINDOW = {"single": (0.0, 0.0, 0.30, 1.0), "double": (0.12, 0.0, 0.56, 0.42)}
PROVINCE_SIZE = 40


def province_window(img: np.ndarray, layout: str, size: int = PROVINCE_SIZE, windows: dict = PROVINCE_WINDOW) -> np.ndarray:
    """uint8 HxWx3 crop -> uint8 size x size x 3 window on its province character
    (rows and columns rounded as Rust rounds them in f32, at least one of each)."""
    h, w = img.shape[:2]
    fx0, fy0, fx1, fy1 = windows[layout]
    x0 = min(_round_f32(fx0, w), max(w - 1, 0))
    y0 = min(_round_f32(fy0, h), max(h - 1, 0))
    x1 = min(max(_round_f32(fx1, w), x0 + 1), w)
    y1 = min(max(_round_f32(fy1, h), y0 + 1), h)
    return resize(np.ascontiguousarray(img[y0:y1, x0:x1]), size, size)
