"""GA 36 plate renderer (synthetic training data for the plate reader).

Draws a clean, front-on plate at a given scale (pixels per millimetre) with the
GA 36 character boxes, spacing, separator dot, frame line and rivets, for every
kind the reader must handle (see shared/DOMAIN.md, "Plates (GA 36)"):

  blue        blue single row, 7 chars, white text           (small vehicles)
  yellow      yellow single row, 7 chars, black text          (large vehicle front)
  yellow_dbl  yellow double row 440x220 (2 small + 5 big)     (truck rear)
  trailer     yellow double row ending in 挂                  (semi-trailer)
  learner     yellow single row ending in 学
  nev_small   gradient green 480x140, 8 chars, serial starts D/F
  nev_large   yellow-green 480x140, 8 chars, serial ends D/F
  police      white single row ending in red 警
  military    white single row, 2 red letters + 5 digits
  hk_macau    black single row ending in 港 / 澳
  embassy     black, red 使 first + 6 digits
  consulate   black, 沪A1234领 style with red 领
  black       black plate, 7 chars (foreign-invested, old style)
  farm_dbl    green double row: province + 2 digits on top, 5 digits below

Glyphs come from Debian fonts (wqy-zenhei / Noto CJK for Chinese, DejaVu Sans
Condensed Bold and friends for Latin and digits), cropped to their ink and
stretched into the GA 36 character box. `python render.py --out DIR -n 20` writes
sample PNGs for a look.
"""
from __future__ import annotations

import argparse
import functools
import os
import pickle
import random
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LETTERS_NO_IO = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "0123456789"
SERIAL = LETTERS_NO_IO + DIGITS
SPECIALS = "挂学警港澳使领"
# Alphabet of the CTC head: class i+1 = ALPHABET[i], class 0 = blank.
ALPHABET = PROVINCES + LETTERS + DIGITS + SPECIALS
COLORS = ["blue", "yellow", "green", "white", "black"]
LAYOUTS = ["single", "double"]

CJK_FONTS = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
]
LATIN_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
]

# Province weights: yellow trucks are mostly from the coal provinces around Hebei.
TRUCK_PROV = {"晋": 10, "冀": 12, "蒙": 8, "陕": 6, "京": 3, "津": 3, "辽": 3, "豫": 3, "鲁": 3, "宁": 2, "甘": 2, "黑": 2, "吉": 2}


def _is_cjk(ch: str) -> bool:
    return ord(ch) > 0x2E80


@functools.lru_cache(maxsize=None)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=1)
def _glyph_file() -> dict:
    """Glyphs saved by `render.py --save-glyphs` (KADIAN_GLYPHS=path), for machines
    that lack the Debian fonts: {(char, font path): uint8 ink mask}."""
    path = os.environ.get("KADIAN_GLYPHS")
    if not path:
        return {}
    with open(path, "rb") as f:
        return pickle.load(f)


@functools.lru_cache(maxsize=4096)
def glyph_mask(ch: str, font_path: str) -> np.ndarray:
    """Ink of one character, cropped to its bounding box, float32 0..1."""
    saved = _glyph_file().get((ch, font_path))
    if saved is not None:
        return saved.astype(np.float32) / 255.0
    f = _font(font_path, 160)
    im = Image.new("L", (260, 260), 0)
    ImageDraw.Draw(im).text((40, 20), ch, fill=255, font=f)
    a = np.asarray(im)
    ys, xs = np.nonzero(a > 40)
    a = a[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    return a.astype(np.float32) / 255.0


# GA 36's "1" is a plain upright bar, about a ninth as wide as it is tall. Every
# Latin font above gives it a flag and a foot, and a reader that learnt those
# read real 1s as J or Y, or not at all. Most 1s are drawn as the bar; the
# rest keep the font's, for plates lettered by hand or in another font.
PLAIN_ONE = 0.75
PLAIN_ONE_WIDTH = 0.11


@functools.lru_cache(maxsize=1)
def _plain_one() -> np.ndarray:
    return np.ones((160, int(round(160 * PLAIN_ONE_WIDTH))), np.float32)


def char_mask(ch: str, font_path: str, rng: random.Random) -> np.ndarray:
    """The ink of `ch` on a plate: the font's glyph, or GA 36's plain bar for 1."""
    if ch == "1" and rng.random() < PLAIN_ONE:
        return _plain_one()
    return glyph_mask(ch, font_path)


# ---------------------------------------------------------------- plate texts

def _prov(rng: random.Random, truck: bool) -> str:
    if truck and rng.random() < 0.8:
        ks, ws = zip(*TRUCK_PROV.items())
        return rng.choices(ks, ws)[0]
    return rng.choice(PROVINCES)


def _serial(rng: random.Random, n: int, max_letters: int = 2) -> str:
    # Real serials are mostly digits with at most two letters: none of the 774
    # ordinary plates of real/plates has three (models::plate_grammar::MAX_SERIAL_LETTERS).
    s = [rng.choice(DIGITS) for _ in range(n)]
    k = rng.choice([0, 0, 1, 1, 2, 2, 3][: max_letters + 4])
    for i in rng.sample(range(n), min(k, n)):
        s[i] = rng.choice(LETTERS_NO_IO)
    return "".join(s)


def _authority(rng):
    return rng.choice(LETTERS_NO_IO) if rng.random() < 0.97 else "O"


KINDS = {
    # kind: (weight, colour, layout)
    "blue": (34, "blue", "single"),
    "yellow": (14, "yellow", "single"),
    "yellow_dbl": (18, "yellow", "double"),
    "trailer": (6, "yellow", "double"),
    "learner": (2, "yellow", "single"),
    "nev_small": (7, "green", "single"),
    "nev_large": (3, "green", "single"),
    "police": (3, "white", "single"),
    "military": (1.5, "white", "single"),
    "hk_macau": (3, "black", "single"),
    "embassy": (1.5, "black", "single"),
    "consulate": (1.5, "black", "single"),
    "black": (1.5, "black", "single"),
    "farm_dbl": (2, "green", "double"),
}


def random_kind(rng: random.Random) -> str:
    ks = list(KINDS)
    return rng.choices(ks, [KINDS[k][0] for k in ks])[0]


def random_text(kind: str, rng: random.Random) -> str:
    if kind == "blue":
        return _prov(rng, False) + _authority(rng) + _serial(rng, 5)
    if kind in ("yellow", "yellow_dbl"):
        return _prov(rng, True) + _authority(rng) + _serial(rng, 5, 2)
    if kind == "trailer":
        return _prov(rng, True) + _authority(rng) + _serial(rng, 4, 1) + "挂"
    if kind == "learner":
        return _prov(rng, False) + _authority(rng) + _serial(rng, 4, 1) + "学"
    if kind == "police":
        return _prov(rng, False) + _authority(rng) + _serial(rng, 4, 1) + "警"
    if kind == "hk_macau":
        return "粤" + "Z" + _serial(rng, 4, 2) + rng.choice("港澳")
    if kind == "embassy":
        return "使" + "".join(rng.choice(DIGITS) for _ in range(6))
    if kind == "consulate":
        return rng.choice("沪粤川辽") + "A" + "".join(rng.choice(DIGITS) for _ in range(4)) + "领"
    if kind == "black":
        return _prov(rng, False) + _authority(rng) + _serial(rng, 5)
    if kind == "military":
        return rng.choice("VKHBSLNGQ") + rng.choice(LETTERS_NO_IO) + "".join(rng.choice(DIGITS) for _ in range(5))
    if kind == "nev_small":
        tail = rng.choice(LETTERS_NO_IO + DIGITS) + "".join(rng.choice(DIGITS) for _ in range(4))
        return _prov(rng, False) + _authority(rng) + rng.choice("DF") + tail
    if kind == "nev_large":
        return _prov(rng, True) + _authority(rng) + "".join(rng.choice(DIGITS) for _ in range(5)) + rng.choice("DF")
    if kind == "farm_dbl":
        return _prov(rng, False) + "".join(rng.choice(DIGITS) for _ in range(7))
    raise ValueError(kind)


# ---------------------------------------------------------------- geometry (mm)

def layout_boxes(kind: str, n: int):
    """GA 36 character boxes (x, y, w, h) in mm, plate size, and dot centre."""
    if kind in ("yellow_dbl", "trailer", "farm_dbl"):
        W, H = 440.0, 220.0
        if kind == "farm_dbl":  # province + 2-digit area code on top
            boxes = [(105.0, 15.0, 70.0, 60.0), (215.0, 15.0, 45.0, 60.0), (272.0, 15.0, 45.0, 60.0)]
        else:
            boxes = [(110.0, 15.0, 80.0, 60.0), (250.0, 15.0, 80.0, 60.0)]
        x = 27.5
        for _ in range(5):
            boxes.append((x, 90.0, 65.0, 110.0))
            x += 65.0 + 15.0
        return W, H, boxes, None
    if kind in ("nev_small", "nev_large"):
        W, H = 480.0, 140.0
        boxes, x = [], 16.5
        for i in range(8):
            boxes.append((x, 25.0, 43.0, 90.0))
            x += 43.0 + (9.0 if i != 1 else 49.0)
        return W, H, boxes, (16.5 + 2 * 43 + 9 + 24.5, 70.0)
    W, H = 440.0, 140.0
    boxes, x = [], 15.5
    for i in range(7):
        boxes.append((x, 25.0, 45.0, 90.0))
        x += 45.0 + (12.0 if i != 1 else 34.0)
    return W, H, boxes, (15.5 + 2 * 45 + 12 + 17.0, 70.0)


@dataclass
class Plate:
    image: np.ndarray  # HxWx3 uint8 RGB, exactly the plate (no margin)
    text: str
    kind: str
    color: str
    layout: str


def _jit(c, rng, a=18):
    return np.clip(np.array(c, np.float32) + np.array([rng.uniform(-a, a) for _ in range(3)]), 0, 255)


RED = (200, 20, 25)


def _colours(kind, rng):
    """Background (HxW later) spec and text colour."""
    if kind == "blue":
        return ("flat", _jit((15, 65, 185), rng, 25)), _jit((245, 245, 245), rng, 10)
    if kind in ("yellow", "yellow_dbl", "trailer", "learner"):
        return ("flat", _jit((235, 185, 10), rng, 22)), _jit((15, 15, 15), rng, 12)
    if kind == "nev_small":
        return ("vgrad", _jit((235, 250, 238), rng, 12), _jit((70, 190, 110), rng, 22)), _jit((10, 10, 10), rng, 8)
    if kind == "nev_large":
        return ("split", _jit((225, 200, 30), rng, 18), _jit((60, 175, 90), rng, 20)), _jit((10, 10, 10), rng, 8)
    if kind == "farm_dbl":
        return ("flat", _jit((20, 110, 60), rng, 20)), _jit((240, 240, 240), rng, 10)
    if kind in ("police", "military"):
        return ("flat", _jit((238, 238, 238), rng, 12)), _jit((12, 12, 12), rng, 8)
    return ("flat", _jit((18, 18, 20), rng, 10)), _jit((240, 240, 240), rng, 10)


def _char_colour(kind, i, ch, n, text_col, rng):
    if ch in "警使领" and kind in ("police", "embassy", "consulate"):
        return np.array(RED, np.float32)
    if kind == "military" and i < 2:
        return np.array(RED, np.float32)
    if ch == "学" and rng.random() < 0.5:
        return np.array(RED, np.float32)
    return text_col


def render_plate(text: str, kind: str, scale: float = 0.5, rng: random.Random | None = None) -> Plate:
    """Draw `text` as a GA 36 plate of `kind` at `scale` px/mm."""
    rng = rng or random.Random()
    W, H, boxes, dot = layout_boxes(kind, len(text))
    assert len(boxes) == len(text), (kind, text)
    w, h = int(round(W * scale)), int(round(H * scale))
    bg_spec, text_col = _colours(kind, rng)
    img = np.empty((h, w, 3), np.float32)
    if bg_spec[0] == "flat":
        img[:] = bg_spec[1]
    elif bg_spec[0] == "vgrad":
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None] ** rng.uniform(0.6, 1.4)
        img[:] = bg_spec[1] * (1 - t) + bg_spec[2] * t
    else:  # split: yellow under the first two chars, green for the rest
        cut = int(round((boxes[1][0] + boxes[1][2] + 10) * scale))
        img[:, :cut] = bg_spec[1]
        img[:, cut:] = bg_spec[2]
    # frame line (inset, same colour as text), rounded by drawing with cv2
    fr = rng.uniform(2.0, 4.5) * scale
    th = max(1, int(round(rng.uniform(1.0, 2.0) * scale * 1.5)))
    if rng.random() < 0.9:
        cv2.rectangle(img, (int(fr), int(fr)), (w - 1 - int(fr), h - 1 - int(fr)), text_col.tolist(), th, cv2.LINE_AA)
    # characters
    cjk_font = rng.choice(CJK_FONTS)
    lat_font = rng.choice(LATIN_FONTS)
    bold = rng.uniform(-0.15, 0.25)
    for i, (ch, (bx, by, bw, bh)) in enumerate(zip(text, boxes)):
        cjk = _is_cjk(ch)
        g = char_mask(ch, cjk_font if cjk else lat_font, rng)
        gh, gw = g.shape
        th_px = bh * scale * (0.96 if cjk else 1.0)
        tw_px = bw * scale * (0.96 if cjk else 1.0)
        if not cjk:
            tw_px = min(tw_px, gw * th_px / gh * 1.15)  # narrow glyphs (1, I) stay narrow
        tw_i, th_i = max(2, int(round(tw_px))), max(2, int(round(th_px)))
        m = cv2.resize(g, (tw_i, th_i), interpolation=cv2.INTER_AREA)
        if abs(bold) > 0.05:
            k = max(1, int(round(abs(bold) * tw_i * 0.15)))
            ker = np.ones((k + 1, k + 1), np.float32)
            m = cv2.dilate(m, ker) if bold > 0 else cv2.erode(m, ker)
        x0 = int(round((bx + bw / 2) * scale - tw_i / 2))
        y0 = int(round((by + bh / 2) * scale - th_i / 2))
        x1, y1 = min(w, x0 + tw_i), min(h, y0 + th_i)
        x0c, y0c = max(0, x0), max(0, y0)
        mm = m[y0c - y0: y1 - y0, x0c - x0: x1 - x0][..., None]
        col = _char_colour(kind, i, ch, len(text), text_col, rng)
        img[y0c:y1, x0c:x1] = img[y0c:y1, x0c:x1] * (1 - mm) + col * mm
    # separator dot
    if dot is not None and kind not in ("embassy",):
        cv2.circle(img, (int(dot[0] * scale), int(dot[1] * scale)), max(1, int(5 * scale)), text_col.tolist(), -1, cv2.LINE_AA)
    # rivets (mounting screws): two at the top, sometimes two at the bottom
    rc = (img[int(h * 0.5), 2] * rng.uniform(0.5, 1.3)).clip(0, 255).tolist()
    r = max(1, int(round(rng.uniform(4, 7) * scale)))
    ry = int(round(12 * scale))
    xs = [int(round(W * 0.25 * scale)), int(round(W * 0.75 * scale))] if kind not in ("yellow_dbl", "trailer", "farm_dbl") \
        else [int(round(W * 0.16 * scale)), int(round(W * 0.84 * scale))]
    if rng.random() < 0.7:
        for x in xs:
            cv2.circle(img, (x, ry), r, rc, -1, cv2.LINE_AA)
            if rng.random() < 0.5:
                cv2.circle(img, (x, h - 1 - ry), r, rc, -1, cv2.LINE_AA)
    c, l = KINDS[kind][1], KINDS[kind][2]
    return Plate(np.clip(img, 0, 255).astype(np.uint8), text, kind, c, l)


def random_plate(rng: random.Random, scale: float | None = None, kind: str | None = None) -> Plate:
    kind = kind or random_kind(rng)
    text = random_text(kind, rng)
    if scale is None:
        scale = rng.uniform(0.3, 0.6)
    return render_plate(text, kind, scale, rng)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="runs/render_samples")
    ap.add_argument("-n", type=int, default=28)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-glyphs", default="", help="write every glyph the renderer draws to this pickle and stop")
    a = ap.parse_args()
    if a.save_glyphs:
        glyphs = {}
        for ch in ALPHABET:
            for font in CJK_FONTS if _is_cjk(ch) else dict.fromkeys(LATIN_FONTS):
                glyphs[(ch, font)] = np.round(glyph_mask(ch, font) * 255).astype(np.uint8)
        with open(a.save_glyphs, "wb") as f:
            pickle.dump(glyphs, f)
        print(len(glyphs), "glyphs ->", a.save_glyphs)
        return
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    kinds = list(KINDS)
    for i in range(a.n):
        p = random_plate(rng, 0.5, kinds[i % len(kinds)])
        Image.fromarray(p.image).save(os.path.join(a.out, f"{i:03d}_{p.kind}.png"))
        print(i, p.kind, p.text, p.color, p.layout)


if __name__ == "__main__":
    main()
