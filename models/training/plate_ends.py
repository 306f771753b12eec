"""Where a detected plate really begins and ends, from its background colour:
the Python reference of models::plate_ends (refine_plate_ends).

The detector's left or right end can be a quarter of a plate width off on real
frames (a box running on over the car body, or one starting inside the province),
and the reader then loses the province. Along the plate's own axis, the columns
that carry its background colour (blue, yellow, green: HSV ranges below) in the
margins above and below the characters are the plate. refine() moves the two ends
there (read_detected.py reads the cuts). The constants are the Rust ones.
"""
from __future__ import annotations

import cv2
import numpy as np

SEARCH_BEYOND = 0.3   # looked for this far beyond each end, fraction of the width
MAX_GROWTH = 0.2      # an end moves outwards at most this much (longer: paint of the same hue)
MIN_WIDTH, MAX_WIDTH = 0.7, 1.4  # the refined plate's width against the detector's
MIN_MOVE = 0.03       # ends that move less are left alone (no second read)
MIN_COLOUR_SHARE = 0.35
EDGE_FRACTION = 0.3
SMOOTHING = 0.04
GAP = 0.06          # a run of columns below the floor this long (fraction of the width) ends the plate
MAX_GRID_COLUMNS, MAX_GRID_ROWS = 160, 24
ROW_BANDS = ((0.04, 0.18), (0.82, 0.96), (0.25, 0.75))
# OpenCV 8-bit HSV: (hue lo, hue hi, min saturation, min value); blue, yellow, green.
BACKGROUNDS = ((100, 130, 90, 40), (12, 35, 90, 80), (35, 95, 40, 80))


def refine(img: np.ndarray, corners) -> list | None:
    """RGB uint8 frame, corners TL, TR, BR, BL -> the refined corners, or None
    when the detector's ends stand."""
    q = np.float64(corners)
    if not np.isfinite(q).all():
        return None
    w = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
    h = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))
    if not (w >= 16 and h >= 4):
        return None
    mx = SEARCH_BEYOND * w
    sw = w + 2 * mx
    src = np.float32([[mx, 0], [mx + w, 0], [mx + w, h], [mx, h]])
    try:
        m = cv2.getPerspectiveTransform(src, np.float32(q))  # strip -> frame
    except cv2.error:
        return None
    cols = int(np.clip(round(sw), 1, MAX_GRID_COLUMNS))
    rows = int(np.clip(round(h), 1, MAX_GRID_ROWS))
    du, dv = sw / cols, h / rows
    # Sample the grid at its cell centres (as Rust's bilinear sampler).
    grid_to_strip = np.array([[du, 0, 0.5 * du], [0, dv, 0.5 * dv], [0, 0, 1]])
    g = m @ grid_to_strip
    # warpPerspective maps destination pixel (x, y) through the inverse; frame pixel centres are at +0.5 in Rust.
    shift = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
    strip = cv2.warpPerspective(img, shift @ g, (cols, rows), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REPLICATE)
    hsv = cv2.cvtColor(strip, cv2.COLOR_RGB2HSV)

    def col_of(u):
        return min(int(round(u / du)), cols - 1)

    def row_of(f):
        return min(int(round(f * rows)), rows - 1)

    core = (col_of(mx + 0.3 * w), max(col_of(mx + 0.7 * w), col_of(mx + 0.3 * w) + 1))
    middle = (row_of(0.25), max(row_of(0.75), row_of(0.25) + 1))
    masks = [(hsv[..., 0] >= lo) & (hsv[..., 0] <= hi) & (hsv[..., 1] >= s) & (hsv[..., 2] >= v)
             for lo, hi, s, v in BACKGROUNDS]
    shares = [mk[middle[0]:middle[1], core[0]:core[1]].mean() for mk in masks]
    k = int(np.argmax(shares))
    if shares[k] < MIN_COLOUR_SHARE:
        return None
    mask = masks[k]
    bands = [(row_of(a), max(row_of(b), row_of(a) + 1)) for a, b in ROW_BANDS]
    raw = np.max([mask[a:b].mean(0) for a, b in bands], axis=0)
    n = max(int(round(SMOOTHING * w / du)), 1)
    score = np.convolve(raw, np.ones(n) / n, mode="same")
    reference = np.sort(score[core[0]:core[1]])[(core[1] - core[0]) // 2]
    if reference <= 0:
        return None
    floor = EDGE_FRACTION * reference
    # Walk out from the middle; a dip shorter than GAP (a dense character) is crossed.
    gap = GAP * w / du
    centre = col_of(mx + 0.5 * w)
    left = probe = centre
    while probe > 0 and left - probe <= gap:
        probe -= 1
        if score[probe] >= floor:
            left = probe
    right = probe = centre
    while probe + 1 < cols and probe - right <= gap:
        probe += 1
        if score[probe] >= floor:
            right = probe
    u0, u1 = left * du, (right + 1) * du
    if u0 < mx - MAX_GROWTH * w:
        u0 = mx
    if u1 > mx + w + MAX_GROWTH * w:
        u1 = mx + w
    if not (MIN_WIDTH * w <= u1 - u0 <= MAX_WIDTH * w):
        return None
    if abs(u0 - mx) < MIN_MOVE * w and abs(u1 - mx - w) < MIN_MOVE * w:
        return None
    pts = cv2.perspectiveTransform(np.float64([[[u0, 0], [u1, 0], [u1, h], [u0, h]]]), m)[0]
    return [tuple(map(float, p)) for p in pts]
