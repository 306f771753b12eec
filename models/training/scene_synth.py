"""Checkpoint scene synthesizer (training data for the plate detector and the cargo classifier).

Draws whole scenes procedurally (numpy / OpenCV / PIL), already letterboxed into the
detector input (default 640x384, pad value 114, image at the top-left; see
models/README.md "The plate detector contract"):

  gantry   the border-road view: a camera above the road looks down at the front of
           oncoming heavy trucks; cab with signboard text (大运·重卡 ...), windshield,
           grille, headlights, a yellow single-row plate below the grille, and the load
           strip above and behind the cab (heaped coal with fines, bagged / boxed
           briquettes, sand, gravel, earth, light stone, green / blue / patterned tarps
           drawn fully or partly, empty beds, box vans, tankers). Light trucks with blue
           plates, cars in other lanes, trucks cut by the frame edge, empty road.
           Three in ten main vehicles (light trucks aside) are heavy trucks right under
           the camera (steep): a large cab roof with its brand painted on it, a
           foreshortened front, the long bed between tall walls, the cab often cut by
           the bottom edge; empty beds sometimes hold the folded tarp. mode="gantry"
           draws only these scenes (a separate cache).
  street   cars, vans and box trucks from the front or rear at street / parking-lot
           distance (CCPD-like close-ups up to half the frame width), blue / green /
           yellow (single and double row) / black / white plates; vans with painted
           plate numbers, hazmat placards, road signs, shop signs, burned-in
           timestamps: plate-like traps that are not plates.
  closeup  (mode="closeup", a separate cache) one car, van or light truck close up, its
           plate 35-160 input px wide: body sheen, chrome-barred grilles, badges, boot
           lettering, plate surrounds; with --real-plates, half the blue plates are real
           crops from real/plates/train (the one real split the project may train on).

Day, dusk, colour night with headlight bloom and glare, infrared grey night,
horizontal banding / lit cables, shadows, motion blur, defocus, noise, JPEG.

`scene(rng)` -> (img uint8 HxWx3 RGB, labels) with labels = {
    "plates":   [{"quad": 4x2 float (TL, TR, BR, BL, input px), "double": bool, "ignore": bool, "text", "kind"}],
    "vehicles": [{"box": (x1,y1,x2,y2), "ignore": bool}],
    "loads":    [{"box": (x1,y1,x2,y2), "cover": str, "material": str, "ignore": bool}],
    "scale": letterbox scale, "content": (cw, ch)}
`load_crop(rng)` -> (crop uint8, cover, material): a load-region crop for the classifier.
`python scene_synth.py --out DIR -n 24` writes samples with the labels drawn.
"""
from __future__ import annotations

import argparse
import functools
import math
import os
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

import render
from augment import _dirt, _motion_kernel

IN_W, IN_H = 640, 384
PAD = 114
COVERS = ["empty", "open", "partial", "tarped", "enclosed"]
MATERIALS = ["coal", "briquette", "other_bulk", "none"]

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
CJK_FONTS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"]
LAT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

SIGNBOARDS = ["大运·重卡", "陕汽重卡", "东风商用车", "解放", "欧曼", "重汽豪沃", "福田戴姆勒", "红岩", "联合卡车",
              "一汽解放", "德龙", "乘龙", "江淮格尔发", "北奔重汽", "华菱", "三一重卡", "汕德卡", "大运", "豪瀚"]
BRANDS = ["DAYUN", "AUMAN", "HOWO", "SHACMAN", "FAW", "DONGFENG", "JAC", "SITRAK", "HONGYAN", "FOTON"]
SIGN_WORDS = ["限速40", "前方检查站", "禁止运输散煤", "煤炭检查站", "承德", "张家口", "出口", "收费站", "安全驾驶",
              "加油站", "超市", "五金建材", "停车场", "宾馆", "减速慢行", "国道G112", "东环路", "入口"]


@functools.lru_cache(maxsize=256)
def _font(path, size):
    return ImageFont.truetype(path, max(6, int(size)))


def _u(rng, a, b):
    return rng.uniform(a, b)


def _col(rng, base, j=20):
    return np.clip(np.array(base, np.float32) + np.array([rng.uniform(-j, j) for _ in range(3)]), 0, 255)


def _randn(h, w, ch, sd):
    out = np.empty((h, w, ch) if ch > 1 else (h, w), np.float32)
    cv2.randn(out, 0.0, float(sd))
    return out.reshape(h, w, ch)


def _rand01(h, w):
    out = np.empty((h, w), np.float32)
    cv2.randu(out, 0.0, 1.0)
    return out


def _noise(nr, h, w, cell, ch=1):
    """Smooth value noise in 0..1, shape (h, w[, ch])."""
    sh, sw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    small = nr.random((sh, sw, ch)).astype(np.float32)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    if ch == 1:
        out = out.reshape(h, w)
    return np.clip(out, 0, 1)


def _text_img(text, font, fill, pad=2, stroke=0):
    """RGBA-free: returns (mask float HxW, w, h) of the rendered text."""
    bb = font.getbbox(text, stroke_width=stroke)
    w, h = bb[2] - bb[0] + 2 * pad, bb[3] - bb[1] + 2 * pad
    im = Image.new("L", (max(1, w), max(1, h)), 0)
    ImageDraw.Draw(im).text((pad - bb[0], pad - bb[1]), text, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    return np.asarray(im, np.float32) / 255.0


def _paste_text(img, text, x0, y0, w, h, color, rng, font_path=None):
    """Draw text stretched into the box (x0, y0, w, h) of img (float HxWx3)."""
    if w < 3 or h < 3:
        return
    font_path = font_path or rng.choice(CJK_FONTS)
    m = _text_img(text, _font(font_path, max(8, min(120, h * 1.2))), 255)
    m = cv2.resize(m, (int(w), int(h)), interpolation=cv2.INTER_AREA)
    _blend(img, m, int(x0), int(y0), color)


def _blend(img, mask, x0, y0, color):
    H, W = img.shape[:2]
    h, w = mask.shape[:2]
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if xb <= xa or yb <= ya:
        return
    m = mask[ya - y0: yb - y0, xa - x0: xb - x0]
    if m.ndim == 2:
        m = m[..., None]
    img[ya:yb, xa:xb] = img[ya:yb, xa:xb] * (1 - m) + np.asarray(color, np.float32) * m


def _poly(img, pts, color, alpha=None):
    pts = np.round(np.asarray(pts)).astype(np.int32)
    cv2.fillPoly(img, [pts], np.asarray(color, np.float64).tolist(), cv2.LINE_AA)
    if alpha is not None:
        cv2.fillPoly(alpha, [pts], 1.0, cv2.LINE_AA)


def _rect(img, x0, y0, x1, y1, color, alpha=None):
    _poly(img, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], color, alpha)


# ------------------------------------------------------------------ load textures

def _texture(kind, h, w, rng, nr):
    """Fill texture (float HxWx3) for a load material."""
    h, w = max(2, h), max(2, w)
    if kind == "coal":
        base = _u(rng, 14, 48)
        n1 = _noise(nr, h, w, max(2, w / _u(rng, 10, 40)))
        n2 = _noise(nr, h, w, max(1.5, w / _u(rng, 40, 120)))
        fines = _rand01(h, w)
        v = base * (0.55 + 0.6 * n1 + 0.5 * n2) + 14 * (fines - 0.5)
        gloss = (n2 > _u(rng, 0.8, 0.92)).astype(np.float32) * _u(rng, 30, 90)  # glossy facets
        v = v + gloss
        # heap: brighter ridge along the middle
        ridge = 1.0 - np.abs(np.linspace(-1, 1, w, dtype=np.float32))[None, :] ** 2 * _u(rng, 0, 0.45)
        v = v * ridge
        tint = np.array([1.0, 1.0, _u(rng, 1.0, 1.12)], np.float32)
        return np.clip(v[..., None] * tint, 0, 255)
    if kind in ("sand", "earth", "gravel", "stone"):
        base = {"sand": (195, 165, 115), "earth": (115, 85, 55), "gravel": (125, 122, 115), "stone": (185, 182, 175)}[kind]
        c = _col(rng, base, 22)
        cell = {"sand": _u(rng, 3, 12), "earth": _u(rng, 3, 10), "gravel": _u(rng, 1.2, 3), "stone": _u(rng, 1.5, 4)}[kind]
        n1 = _noise(nr, h, w, max(1.2, w / _u(rng, 8, 30)))
        n2 = _noise(nr, h, w, cell)
        fine = _rand01(h, w)
        amp = 0.5 if kind in ("gravel", "stone") else 0.25
        v = 0.75 + 0.3 * n1 + amp * (n2 - 0.5) + 0.12 * (fine - 0.5)
        return np.clip(c * v[..., None], 0, 255)
    if kind == "bags":  # woven sacks of briquettes in rows
        out = np.full((h, w, 3), _u(rng, 40, 90), np.float32)
        c = _col(rng, rng.choice([(225, 225, 215), (200, 200, 190), (215, 200, 160), (150, 170, 200), (200, 80, 60)]), 15)
        bw = max(4, w / rng.randint(3, 8))
        bh = bw * _u(rng, 0.45, 0.8)
        y = -_u(0 and rng or rng, 0, bh)
        while y < h:
            x = -_u(rng, 0, bw)
            while x < w:
                cc = c * _u(rng, 0.8, 1.1)
                cv2.ellipse(out, (int(x + bw / 2), int(y + bh / 2)), (int(bw * 0.48), int(bh * 0.5)), _u(rng, -8, 8), 0, 360, cc.tolist(), -1, cv2.LINE_AA)
                x += bw * _u(rng, 0.85, 1.0)
            y += bh * _u(rng, 0.8, 1.0)
        weave = _noise(nr, h, w, 1.2)
        return np.clip(out * (0.9 + 0.2 * weave[..., None]), 0, 255)
    if kind == "honeycomb":  # honeycomb briquettes (grey cylinders with holes) stacked / boxed
        out = np.full((h, w, 3), _u(rng, 20, 50), np.float32)
        c = _col(rng, (95, 92, 88), 20)
        r = max(2.0, w / rng.randint(8, 22) / 2)
        for yi, y in enumerate(np.arange(r, h + r, 2 * r * 0.95)):
            for x in np.arange(r + (yi % 2) * r, w + r, 2 * r * 0.95):
                cv2.circle(out, (int(x), int(y)), int(r * 0.95), (c * _u(rng, 0.8, 1.15)).tolist(), -1, cv2.LINE_AA)
                if r > 4:
                    for k in range(6):
                        a = k * math.pi / 3
                        cv2.circle(out, (int(x + 0.5 * r * math.cos(a)), int(y + 0.5 * r * math.sin(a))), max(1, int(r * 0.12)), (25, 25, 25), -1)
        return out
    if kind == "boxes":  # boxed briquettes: cartons
        out = np.full((h, w, 3), 60, np.float32)
        c = _col(rng, rng.choice([(180, 140, 90), (200, 170, 120), (210, 210, 200)]), 15)
        bw = max(5, w / rng.randint(3, 7))
        bh = bw * _u(rng, 0.5, 0.9)
        for y in np.arange(0, h, bh):
            for x in np.arange(0, w, bw):
                _rect(out, x + 1, y + 1, x + bw - 1, y + bh - 1, c * _u(rng, 0.85, 1.1))
                if bw > 12 and rng.random() < 0.6:
                    _paste_text(out, rng.choice(["型煤", "洁净煤", "蜂窝煤", "民用型煤"]), x + bw * 0.2, y + bh * 0.3, bw * 0.6, bh * 0.35, (170, 30, 30), rng)
        return out
    if kind == "tarp":
        style = rng.random()
        if style < 0.45:
            c = _col(rng, rng.choice([(40, 140, 60), (60, 160, 80), (30, 110, 50), (80, 170, 90)]), 20)
        elif style < 0.7:
            c = _col(rng, rng.choice([(30, 80, 170), (50, 110, 190), (40, 60, 120)]), 20)
        elif style < 0.75:
            c = _col(rng, rng.choice([(60, 60, 60), (110, 110, 105), (150, 150, 140), (170, 60, 40)]), 15)
        else:
            c = None
        if c is None:  # patterned (floral / multi-colour) tarp
            cols = nr.uniform(40, 230, (rng.randint(3, 6), 3)).astype(np.float32)
            lab = (_noise(nr, h, w, max(1.2, w / _u(rng, 15, 110))) * len(cols) * 0.999).astype(np.int32)
            lab = np.clip(lab, 0, len(cols) - 1)
            out = cols[lab]
        else:
            out = np.broadcast_to(c, (h, w, 3)).astype(np.float32).copy()
        # folds and wrinkles
        fold = _noise(nr, h, w, max(2, w / _u(rng, 4, 14)))
        ang = _u(rng, 0, math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        wav = np.sin((xx * math.cos(ang) + yy * math.sin(ang)) / max(2, w / _u(rng, 3, 12)) + fold * 4)
        out = out * (0.72 + 0.18 * wav[..., None] + 0.25 * fold[..., None])
        # ropes
        for _ in range(rng.randint(0, 5)):
            y = _u(rng, 0, h)
            cv2.line(out, (0, int(y)), (w, int(y + _u(rng, -h * 0.1, h * 0.1))), (_u(rng, 150, 240),) * 3, max(1, int(w / 150)))
        return np.clip(out, 0, 255)
    if kind == "floor":  # empty bed floor / walls
        c = _col(rng, rng.choice([(120, 60, 45), (95, 95, 95), (140, 90, 60), (70, 50, 45), (150, 150, 150), (40, 40, 40)]), 18)
        n = _noise(nr, h, w, max(2, w / _u(rng, 5, 20)))
        out = c * (0.75 + 0.4 * n[..., None])
        # floor ribs
        step = max(3, int(w / rng.randint(6, 20)))
        if rng.random() < 0.7:
            out[:, ::step] *= 0.7
        out = out * np.linspace(_u(rng, 0.55, 0.9), 1.05, h, dtype=np.float32)[:, None, None]  # shadow of the front wall
        return np.clip(out, 0, 255)
    raise ValueError(kind)


def _material_tex(material, h, w, rng, nr):
    if material == "coal":
        return _texture("coal", h, w, rng, nr)
    if material == "briquette":
        return _texture(rng.choice(["bags", "bags", "honeycomb", "boxes"]), h, w, rng, nr)
    return _texture(rng.choice(["sand", "earth", "gravel", "stone"]), h, w, rng, nr)


def _pick_cargo(rng):
    r = rng.random()
    if r < 0.14:
        return "empty", "none"
    if r < 0.50:
        m = rng.choices(["coal", "briquette", "other_bulk"], [0.55, 0.15, 0.30])[0]
        return "open", m
    if r < 0.66:
        return "partial", rng.choices(["coal", "briquette", "other_bulk"], [0.55, 0.15, 0.30])[0]
    if r < 0.87:
        return "tarped", "none"
    return "enclosed", "none"


def _draw_load(spr, alpha, quad, cover, material, rng, nr, deep=False):
    """Fill the load quad (TL, TR, BR, BL in sprite px) of a truck seen from above/front.
    deep: a steep view into a long bed, its tall inner side walls wide in the picture."""
    quad = np.asarray(quad, np.float32)
    x0, y0 = np.floor(quad.min(0)).astype(int)
    x1, y1 = np.ceil(quad.max(0)).astype(int)
    w, h = x1 - x0 + 1, y1 - y0 + 1
    if cover == "enclosed":
        if rng.random() < 0.55:  # box van roof with ribs
            c = _col(rng, rng.choice([(220, 220, 220), (190, 195, 200), (60, 90, 160), (200, 60, 50), (230, 230, 235)]), 15)
            tex = np.broadcast_to(c, (h, w, 3)).astype(np.float32).copy()
            step = max(3, int(h / rng.randint(6, 18)))
            tex[::step] *= 0.75
            tex *= np.linspace(0.85, 1.05, w, dtype=np.float32)[None, :, None]
        else:  # tanker: a cylinder
            c = _col(rng, rng.choice([(200, 200, 205), (230, 230, 230), (120, 120, 125), (210, 150, 60)]), 15)
            prof = np.cos(np.linspace(-1.3, 1.3, w, dtype=np.float32)) ** 0.7
            tex = c * (0.35 + 0.75 * prof)[None, :, None] * np.ones((h, 1, 1), np.float32)
            for y in np.linspace(0, h, rng.randint(2, 5))[1:-1]:
                tex[int(y): int(y) + max(1, h // 60)] *= 0.6
    else:
        tex = _texture("floor", h, w, rng, nr)
        wallc = _col(rng, rng.choice([(120, 125, 135), (150, 60, 45), (110, 110, 110), (90, 100, 130), (160, 150, 140)]), 18)
        empty = cover == "empty"
        band = int(h * (_u(rng, 0.3, 0.7) if empty else _u(rng, 0.0, 0.35))) if rng.random() < 0.85 else 0
        if band > 1:  # inner face of the rear wall, facing the camera, with vertical ribs
            wall = np.broadcast_to(wallc, (band, w, 3)).astype(np.float32).copy()
            step = max(3, int(w / rng.randint(5, 14)))
            wall[:, ::step] *= 0.65
            wall *= np.linspace(0.8, 1.1, band, dtype=np.float32)[:, None, None]
            tex[:band] = wall
        sw = int(w * (_u(rng, 0.08, 0.3) if empty else _u(rng, 0.02, 0.12)) * (_u(rng, 1.0, 1.6) if deep else 1.0))
        if empty:  # the floor of a deep empty bed lies in the walls' shadow
            tex[band:] *= _u(rng, 0.35, 0.85)
        if sw > 1:  # inner faces of the side walls, widening towards the camera
            yy = np.arange(h, dtype=np.float32)[:, None] / h
            xx = np.arange(w, dtype=np.float32)[None, :]
            lim = sw * (0.4 + 0.6 * yy)
            side = ((xx < lim) | (xx > w - 1 - lim)).astype(np.float32)[..., None]
            tex = tex * (1 - side) + wallc * _u(rng, 0.6, 0.95) * side
        fill_frac = _u(rng, 0.65, 1.0)
        if cover in ("open", "partial"):
            mt = _material_tex(material, h, w, rng, nr)
            if material in ("coal", "other_bulk") and rng.random() < 0.8:  # heap visible from the top to near the front wall
                yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
                mask = np.clip((fill_frac + 0.1 - yy) * 8, 0, 1)
                tex = tex * (1 - mask) + mt * mask
            else:
                tex = mt
        elif cover == "empty" and rng.random() < 0.3:  # a few bags or a pile of debris in an empty bed
            for _ in range(rng.randint(1, 3)):
                cx, cy = _u(rng, 0.2, 0.8) * w, _u(rng, 0.4, 0.95) * h
                cv2.ellipse(tex, (int(cx), int(cy)), (int(w * _u(rng, 0.05, 0.2)), int(h * _u(rng, 0.03, 0.1))), 0, 0, 360, (_u(rng, 10, 40),) * 3, -1)
        elif cover == "empty" and rng.random() < 0.3:  # the folded tarp left lying across an empty bed
            th = max(2, int(h * _u(rng, 0.06, 0.2)))
            y0t = int(_u(rng, 0.3, 0.95) * (h - th))
            x0t, x1t = int(w * _u(rng, 0.05, 0.3)), int(w * _u(rng, 0.7, 0.95))
            roll = _texture("tarp", th, x1t - x0t, rng, nr) if rng.random() < 0.5 else np.full((th, x1t - x0t, 3), _u(rng, 12, 45), np.float32)
            bump = _noise(nr, th, x1t - x0t, max(1.5, th / 2))
            tex[y0t:y0t + th, x0t:x1t] = roll * (0.6 + 0.6 * bump[..., None])
        if cover in ("tarped", "partial"):
            tarp = _texture("tarp", h, w, rng, nr)
            if cover == "tarped":
                tex = tarp
                if rng.random() < 0.3:  # tarp tucked: a little floor visible at the edges is still "tarped"
                    pass
            else:
                m = np.zeros((h, w), np.float32)
                mode = rng.random()
                if mode < 0.4:  # drawn from the front or back
                    cut = _u(rng, 0.25, 0.75) * h
                    pts = [(0, 0), (w, 0), (w, cut + _u(rng, -0.2, 0.2) * h), (0, cut + _u(rng, -0.2, 0.2) * h)]
                    if rng.random() < 0.5:
                        pts = [(0, h), (w, h), (w, cut), (0, cut)]
                elif mode < 0.7:  # drawn from one side
                    cut = _u(rng, 0.3, 0.7) * w
                    pts = [(0, 0), (cut + _u(rng, -0.2, 0.2) * w, 0), (cut + _u(rng, -0.2, 0.2) * w, h), (0, h)]
                    if rng.random() < 0.5:
                        pts = [(w - x, y) for x, y in pts]
                else:  # crumpled heap in the middle (like a tarp thrown over part of the load)
                    cx, cy = _u(rng, 0.3, 0.7) * w, _u(rng, 0.3, 0.7) * h
                    pts = [(cx + math.cos(a) * w * _u(rng, 0.25, 0.5), cy + math.sin(a) * h * _u(rng, 0.25, 0.5)) for a in np.linspace(0, 2 * math.pi, 9)[:-1]]
                cv2.fillPoly(m, [np.int32(pts)], 1.0, cv2.LINE_AA)
                tex = tex * (1 - m[..., None]) + tarp * m[..., None]
        # side walls of the bed
        wall = _col(rng, rng.choice([(170, 50, 40), (150, 150, 150), (60, 60, 160), (200, 200, 200), (120, 60, 40)]), 15)
        t = max(1, int(w * _u(rng, 0.02, 0.06)))
        if rng.random() < 0.9:
            tex[:, :t] = wall * 0.8
            tex[:, w - t:] = wall * 0.9
            if cover in ("empty",) or rng.random() < 0.3:
                tex[:max(1, t // 2)] = wall
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    M = cv2.getPerspectiveTransform(src, (quad - np.float32([x0, y0])).astype(np.float32))
    warped = cv2.warpPerspective(tex, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    m = np.zeros((h, w), np.float32)
    cv2.fillPoly(m, [np.round(quad - np.float32([x0, y0])).astype(np.int32)], 1.0, cv2.LINE_AA)
    H, W = spr.shape[:2]
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    mm = m[ya - y0: yb - y0, xa - x0: xb - x0, None]
    spr[ya:yb, xa:xb] = spr[ya:yb, xa:xb] * (1 - mm) + warped[ya - y0: yb - y0, xa - x0: xb - x0] * mm
    alpha[ya:yb, xa:xb] = np.maximum(alpha[ya:yb, xa:xb], mm[..., 0])


# ------------------------------------------------------------------ plates

# Real plate crops (real/plates/train, the one real split the project may train on;
# never dev), pasted in place of a rendered blue plate with probability REAL_PLATE_P:
# real paint, wear, glare and camera softness on the plates the detector learns.
# Empty unless use_real_plates() was called (scene_cache.py --real-plates DIR).
_REAL_PLATES: list = []
REAL_PLATE_P = 0.5


def use_real_plates(d: str) -> int:
    from evaluate import load_labels_dir
    assert "/dev" not in d.rstrip("/")[-4:], "never train on a dev split"
    _REAL_PLATES[:] = [it for it in load_labels_dir(d) if it["layout"] == "single"]
    return len(_REAL_PLATES)


def _plate_img(rng, kind, width_px):
    if kind == "blue" and _REAL_PLATES and rng.random() < REAL_PLATE_P:
        it = rng.choice(_REAL_PLATES)
        p = render.Plate(image=it["img"], text=it["text"], kind="blue", color=it["color"] or "blue", layout="single")
        return it["img"].astype(np.float32), p
    text = render.random_text(kind, rng)
    W_mm = 480.0 if kind in ("nev_small", "nev_large") else 440.0
    scale = max(0.08, min(1.2, width_px / W_mm * _u(rng, 1.0, 1.6)))
    p = render.render_plate(text, kind, scale, rng)
    img = p.image.astype(np.float32)
    if rng.random() < 0.3:
        img = _dirt(img, rng, _u(rng, 0.2, 0.9))
    return img, p


def _paste_plate(spr, alpha, rng, kind, cx, cy, width_px):
    """Paste a plate (rotated slightly) centred at (cx, cy); returns (quad TL,TR,BR,BL, Plate)."""
    img, p = _plate_img(rng, kind, width_px)
    ph, pw = img.shape[:2]
    w = width_px
    h = w * ph / pw
    ang = math.radians(rng.gauss(0, 2.5))
    c, s = math.cos(ang), math.sin(ang)
    d = np.float32([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    quad = np.float32([[cx + c * x - s * y, cy + s * x + c * y] for x, y in d])
    M = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), quad)
    H, W = spr.shape[:2]
    x0, y0 = np.floor(quad.min(0)).astype(int) - 2
    x1, y1 = np.ceil(quad.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 <= x0 or y1 <= y0:
        return quad, p
    T = np.float64([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]]) @ M
    interp = cv2.INTER_AREA if pw > 2 * w else cv2.INTER_LINEAR
    warped = cv2.warpPerspective(img, T, (x1 - x0, y1 - y0), flags=interp)
    m = cv2.warpPerspective(np.ones((ph, pw), np.float32), T, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)[..., None]
    spr[y0:y1, x0:x1] = spr[y0:y1, x0:x1] * (1 - m) + warped * m
    if alpha is not None:
        alpha[y0:y1, x0:x1] = np.maximum(alpha[y0:y1, x0:x1], m[..., 0])
    return quad, p


# ------------------------------------------------------------------ vehicles (sprites)

class Sprite:
    def __init__(self, h, w):
        self.img = np.zeros((h, w, 3), np.float32)
        self.alpha = np.zeros((h, w), np.float32)
        self.plates = []  # (quad, Plate)
        self.loads = []  # (quad, cover, material)
        self.lights = []  # (x, y, r) headlights / tail lights for night bloom
        self.traps = 0


def truck_front(rng, nr, Wc, light=False, cargo=None, cab_only_prob=0.08, steep=False):
    """Heavy (or light) truck seen from the front and above. Wc = cab width in px.

    steep: the truck right under a high camera (as in real gantry frames where the cab
    fills the bottom of the frame): the cab roof is seen from above and large, the front
    foreshortened, and the long bed stretches up the frame between tall walls."""
    Wc = int(max(24, Wc))
    has_load = rng.random() > cab_only_prob
    f = _u(rng, 0.35, 0.6) if steep else 1.0  # foreshortening of the cab front
    Lh = int(Wc * ((_u(rng, 1.0, 2.6) if steep else _u(rng, 0.35, 1.8)) if has_load else 0))
    bedw = _u(rng, 1.0, 1.12)
    mirror = int(Wc * 0.12)
    W = int(Wc * bedw) + 2 * mirror + 4
    roof_h = int(Wc * (_u(rng, 0.35, 0.7) if steep else _u(rng, 0.12, 0.28)))
    sign_h = int(Wc * _u(rng, 0.09, 0.14) * (0.8 if steep else 1.0))
    wind_h = int(Wc * _u(rng, 0.22, 0.32) * f)
    grille_h = int(Wc * _u(rng, 0.22, 0.32) * f)
    bump_h = int(Wc * _u(rng, 0.16, 0.24) * max(f, 0.6))
    H = Lh + roof_h + sign_h + wind_h + grille_h + bump_h + 6
    s = Sprite(H, W)
    img, al = s.img, s.alpha
    cx = W / 2
    xl, xr = cx - Wc / 2, cx + Wc / 2
    cab = _col(rng, rng.choice([(190, 30, 30), (200, 40, 35), (170, 25, 30), (230, 230, 230), (40, 80, 170), (240, 200, 40), (30, 110, 70), (150, 150, 155), (220, 120, 30)]), 18)
    if light and rng.random() < 0.5:
        cab = _col(rng, rng.choice([(40, 80, 170), (230, 230, 230), (60, 120, 190)]), 15)
    y = 0
    # load strip (bed seen from above, narrowing away from the camera)
    if has_load:
        cover, material = cargo or _pick_cargo(rng)
        topw = Wc * bedw * (_u(rng, 0.6, 0.85) if steep else _u(rng, 0.72, 0.97))
        botw = Wc * bedw
        shift = _u(rng, -0.1, 0.1) * Wc
        q = [(cx - topw / 2 + shift, 0), (cx + topw / 2 + shift, 0), (cx + botw / 2, Lh + roof_h * 0.6), (cx - botw / 2, Lh + roof_h * 0.6)]
        _draw_load(img, al, q, cover, material, rng, nr, deep=steep)
        lq = np.float32(q)
        lq[2:, 1] = Lh  # the visible strip ends where the cab roof starts
        s.loads.append((lq, cover, material))
        if cover in ("open", "partial", "empty") and rng.random() < 0.7:  # high side walls seen at an angle
            wc = _col(rng, rng.choice([(170, 50, 40), (150, 150, 150), (200, 200, 200), (120, 60, 40)]), 15)
            side = [(q[1][0], q[1][1]), (q[1][0] + Wc * 0.05, q[1][1] + 2), (q[2][0] + Wc * 0.05, q[2][1]), (q[2][0], q[2][1])]
            _poly(img, side, wc * 0.7, al)
    y = Lh
    # cab roof (trapezoid) with optional deflector / lights
    rw0, rw1 = Wc * _u(rng, 0.8, 0.95), Wc
    _poly(img, [(cx - rw0 / 2, y), (cx + rw0 / 2, y), (cx + rw1 / 2, y + roof_h), (cx - rw1 / 2, y + roof_h)], cab * _u(rng, 0.75, 1.05), al)
    if rng.random() < 0.6:
        _rect(img, cx - Wc * 0.15, y + roof_h * 0.3, cx + Wc * 0.15, y + roof_h * 0.6, cab * 0.6)
    if steep:  # what the roof shows from above: ribs, a hatch, the brand painted on its front
        for _ in range(rng.randint(0, 6)):
            yy = y + roof_h * _u(rng, 0.1, 0.6)
            _rect(img, cx - rw0 * 0.4, yy, cx + rw0 * 0.4, yy + max(1, roof_h * 0.04), cab * _u(rng, 1.05, 1.3))
        if rng.random() < 0.5:
            _rect(img, cx - Wc * 0.12, y + roof_h * 0.15, cx + Wc * 0.12, y + roof_h * 0.4, (_u(rng, 120, 200),) * 3)
        if rng.random() < 0.5:
            tw = Wc * _u(rng, 0.5, 0.8)
            _paste_text(img, rng.choice(SIGNBOARDS), cx - tw / 2, y + roof_h * 0.68, tw, roof_h * 0.25, _col(rng, (235, 235, 240), 15), rng)
            s.traps += 1
    for sx in (-1, 1):
        if rng.random() < 0.5:
            cv2.circle(img, (int(cx + sx * Wc * 0.35), int(y + roof_h * 0.5)), max(1, int(Wc * 0.025)), (230, 230, 220), -1)
            s.lights.append((cx + sx * Wc * 0.35, y + roof_h * 0.5, Wc * 0.02))
    y += roof_h
    # signboard with text (not a plate)
    sb = rng.random()
    sign_bg = cab * 0.9 if sb < 0.5 else _col(rng, (35, 30, 35), 15)
    _rect(img, xl, y, xr, y + sign_h, sign_bg, al)
    if not light or rng.random() < 0.5:
        txt = rng.choice(SIGNBOARDS)
        tc = rng.choice([(240, 200, 40), (245, 245, 245), (250, 220, 60), (200, 30, 30) if sb >= 0.5 else (245, 245, 245)])
        tw = Wc * _u(rng, 0.45, 0.85)
        _paste_text(img, txt, cx - tw / 2, y + sign_h * 0.12, tw, sign_h * 0.76, _col(rng, tc, 10), rng)
        s.traps += 1
    elif rng.random() < 0.5:
        _paste_text(img, rng.choice(BRANDS), cx - Wc * 0.25, y + sign_h * 0.2, Wc * 0.5, sign_h * 0.6, (235, 235, 235), rng, LAT_FONT)
    y += sign_h
    # windshield
    glass = _col(rng, (35, 40, 48), 12)
    _poly(img, [(xl + Wc * 0.04, y), (xr - Wc * 0.04, y), (xr - Wc * 0.02, y + wind_h), (xl + Wc * 0.02, y + wind_h)], glass, al)
    refl = _noise(nr, int(wind_h), int(Wc * 0.9), max(2, Wc / 10))
    _blend(img, (refl > 0.6).astype(np.float32) * _u(rng, 0.1, 0.5), int(xl + Wc * 0.05), int(y), (200, 210, 220))
    for sx in (-1, 1):  # occupants
        if rng.random() < 0.6:
            cv2.ellipse(img, (int(cx + sx * Wc * 0.22), int(y + wind_h * 0.55)), (int(Wc * 0.07), int(wind_h * 0.35)), 0, 0, 360, (_u(rng, 30, 120),) * 3, -1)
    if rng.random() < 0.35:  # inspection sticker / sign behind the glass (plate-like trap)
        sx0 = xl + Wc * _u(rng, 0.05, 0.6)
        _rect(img, sx0, y + wind_h * 0.75, sx0 + Wc * 0.12, y + wind_h * 0.92, _col(rng, rng.choice([(240, 240, 200), (60, 110, 200), (240, 200, 40)]), 20))
        s.traps += 1
    # mirrors
    for sx in (-1, 1):
        mx = cx + sx * (Wc / 2 + mirror * 0.6)
        _rect(img, mx - mirror * 0.35, y + wind_h * 0.1, mx + mirror * 0.35, y + wind_h * 0.8, (30, 30, 30), al)
    y += wind_h
    # grille
    _rect(img, xl, y, xr, y + grille_h, cab, al)
    gx0, gx1 = xl + Wc * _u(rng, 0.12, 0.22), xr - Wc * _u(rng, 0.12, 0.22)
    nb = rng.randint(2, 6)
    for i in range(nb):
        yy = y + grille_h * (0.12 + 0.8 * i / nb)
        _rect(img, gx0, yy, gx1, yy + grille_h * 0.8 / nb * 0.55, _col(rng, (30, 30, 32), 10))
        if rng.random() < 0.5:
            _rect(img, gx0, yy - 1, gx1, yy + max(1, grille_h * 0.02), (200, 200, 200))
    cv2.circle(img, (int(cx), int(y + grille_h * 0.45)), max(2, int(Wc * 0.04)), (190, 190, 195), -1, cv2.LINE_AA)
    if rng.random() < 0.6:
        _paste_text(img, rng.choice(BRANDS), xl + Wc * 0.05, y + grille_h * 0.05, Wc * 0.18, grille_h * 0.1, (220, 220, 220), rng, LAT_FONT)
    y += grille_h
    # bumper with headlights and the plate below the grille
    _rect(img, xl - Wc * 0.01, y, xr + Wc * 0.01, y + bump_h, cab * _u(rng, 0.4, 1.0), al)
    for sx in (-1, 1):
        lx = cx + sx * Wc * _u(rng, 0.33, 0.40)
        lw, lh = Wc * 0.12, bump_h * 0.35
        _rect(img, lx - lw / 2, y + bump_h * 0.15, lx + lw / 2, y + bump_h * 0.15 + lh, (225, 230, 235))
        s.lights.append((lx, y + bump_h * 0.15 + lh / 2, lw * 0.6))
    pw = Wc * _u(rng, 0.16, 0.19)
    if light:
        kind = rng.choices(["blue", "yellow", "nev_large", "nev_small"], [6, 3, 1, 1])[0]
    else:
        kind = rng.choices(["yellow", "nev_large", "yellow_dbl"], [20, 1, 0.5])[0]
    ph = pw * (0.5 if kind == "yellow_dbl" else 140 / 440)
    pcy = y + max(ph / 2 + 1, bump_h * _u(rng, 0.35, 0.65))
    pcx = cx + _u(rng, -0.06, 0.06) * Wc
    _rect(img, pcx - pw * 0.55, pcy - ph * 0.6, pcx + pw * 0.55, pcy + ph * 0.6, (25, 25, 25))  # plate holder
    q, p = _paste_plate(img, al, rng, kind, pcx, pcy, pw)
    s.plates.append((q, p))
    return s


def _car_details(img, al, rng, nr, cx, Wb, roof, body_h, rear, col):
    """What a close-up shows of a car front or rear: body sheen and reflections, a
    chrome-barred grille with a badge (bars and badge text are the detector's most
    plate-like distractors in real close-ups), shaped lamps, fog lamps, bumper vents."""
    H, W = img.shape[:2]
    m = al[..., None]
    sheen = 0.85 + 0.3 * _noise(nr, H, W, max(6, Wb / 6))[..., None]
    band = np.clip(1 - np.abs(np.linspace(-1, 1, W, dtype=np.float32)[None, :] * _u(rng, 1, 3) + np.linspace(-1, 1, H, dtype=np.float32)[:, None] * _u(rng, -1, 1)), 0, 1)
    img[:] = img * (1 - m) + np.clip(img * sheen + band[..., None] * _u(rng, 0, 60), 0, 255) * m
    chrome = _col(rng, (205, 205, 210), 20)
    dark = _col(rng, (25, 25, 28), 8)
    if not rear:
        gy0, gy1 = roof + body_h * _u(rng, 0.05, 0.1), roof + body_h * _u(rng, 0.2, 0.3)
        gw = Wb * _u(rng, 0.2, 0.33)
        style = rng.choice(["hbars", "vbars", "mesh", "split"])
        if style == "split":  # two kidney-like halves
            for sx in (-1, 1):
                _rect(img, cx + sx * gw * 0.05, gy0, cx + sx * gw, gy1, dark)
        else:
            _poly(img, [(cx - gw, gy0), (cx + gw, gy0), (cx + gw * 0.9, gy1), (cx - gw * 0.9, gy1)], dark)
        t = max(1, int(Wb / 200))
        if style in ("hbars", "split"):
            for y in np.linspace(gy0, gy1, rng.randint(3, 8))[1:-1]:
                cv2.line(img, (int(cx - gw), int(y)), (int(cx + gw), int(y)), chrome.tolist(), t + rng.randint(0, 2), cv2.LINE_AA)
        if style in ("vbars", "split"):
            for x in np.linspace(cx - gw, cx + gw, rng.randint(6, 16))[1:-1]:
                cv2.line(img, (int(x), int(gy0)), (int(x), int(gy1)), chrome.tolist(), t, cv2.LINE_AA)
        if style == "mesh":
            step = max(3, int(gw / rng.randint(6, 14)))
            for y in range(int(gy0) + step // 2, int(gy1), step):
                for x in range(int(cx - gw) + step // 2, int(cx + gw), step):
                    cv2.circle(img, (x, y), max(1, step // 4), (chrome * 0.6).tolist(), -1)
        cv2.rectangle(img, (int(cx - gw), int(gy0)), (int(cx + gw), int(gy1)), chrome.tolist(), t + 1, cv2.LINE_AA)
        by = (gy0 + gy1) / 2
    else:
        by = roof + body_h * _u(rng, 0.1, 0.2)
        if rng.random() < 0.6:  # model lettering on the boot lid
            _paste_text(img, rng.choice(BRANDS + ["1.6T", "2.0", "4MATIC", "SPORT"]), cx + Wb * _u(rng, 0.1, 0.25), by + body_h * 0.05,
                        Wb * _u(rng, 0.08, 0.16), body_h * 0.045, chrome, rng, LAT_FONT)
    br = Wb * _u(rng, 0.025, 0.05)  # badge
    cv2.ellipse(img, (int(cx), int(by)), (int(br * _u(rng, 1, 1.8)), int(br)), 0, 0, 360, chrome.tolist(), -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx), int(by)), (int(br * 0.7), int(br * 0.6)), 0, 0, 360, (chrome * 0.5).tolist(), max(1, int(br / 5)), cv2.LINE_AA)
    lc = (_col(rng, (190, 25, 30), 20) if rear else _col(rng, (235, 240, 245), 10))
    ly = roof + body_h * _u(rng, 0.02, 0.1)
    for sx in (-1, 1):  # swept lamps over the plain boxes car() drew
        x0, x1 = cx + sx * Wb * _u(rng, 0.28, 0.34), cx + sx * Wb * _u(rng, 0.44, 0.49)
        h = body_h * _u(rng, 0.06, 0.13)
        _poly(img, [(x0, ly + h * 0.4), (x1, ly), (x1, ly + h), (x0, ly + h)], lc * 0.8)
        _poly(img, [(x0 + (x1 - x0) * 0.3, ly + h * 0.35), (x1, ly + h * 0.15), (x1, ly + h * 0.6)], np.minimum(255, lc * 1.1))
    vy = roof + body_h * _u(rng, 0.5, 0.62)
    for sx in (-1, 1):  # fog lamps / reflectors / vents low on the bumper
        fx = cx + sx * Wb * _u(rng, 0.3, 0.4)
        _rect(img, fx - Wb * 0.05, vy, fx + Wb * 0.05, vy + body_h * 0.05, dark)
        if rng.random() < 0.5:
            cv2.circle(img, (int(fx), int(vy + body_h * 0.025)), max(1, int(Wb * 0.018)), (lc * 0.9).tolist(), -1, cv2.LINE_AA)
    if rng.random() < 0.5:  # lower intake under the plate
        _rect(img, cx - Wb * 0.2, body_h * 0.84, cx + Wb * 0.2, body_h * 0.92, dark)
    # Chrome trim strips, lamp and paint highlights, reflector strips and body lettering:
    # the long bright shapes the detector took for plates on real close-ups.
    for _ in range(rng.randint(1, 5)):
        y = _u(rng, roof, body_h * 0.97)
        x0 = cx + _u(rng, -0.5, 0.3) * Wb
        x1 = x0 + Wb * _u(rng, 0.06, 0.4)
        bend = _u(rng, -0.04, 0.04) * Wb
        pts = np.int32([[x, y + bend * math.sin(math.pi * (x - x0) / max(1.0, x1 - x0))] for x in np.linspace(x0, x1, 12)])
        c = chrome if rng.random() < 0.6 else np.minimum(255, col * 1.6 + 40)
        cv2.polylines(img, [pts], False, c.tolist(), max(1, int(Wb * _u(rng, 0.003, 0.015))), cv2.LINE_AA)
    for _ in range(rng.randint(0, 3)):
        ex, ey = int(cx + _u(rng, -0.45, 0.45) * Wb), int(_u(rng, roof, body_h))
        hl = np.zeros(img.shape[:2], np.float32)
        cv2.ellipse(hl, (ex, ey), (max(2, int(Wb * _u(rng, 0.03, 0.15))), max(1, int(Wb * _u(rng, 0.005, 0.02)))), _u(rng, -20, 20), 0, 360, 1.0, -1)
        hl = cv2.GaussianBlur(hl, (0, 0), max(0.5, Wb * 0.004))
        img[:] = img + hl[..., None] * _u(rng, 60, 160) * m
    if rng.random() < 0.3:  # lettering on the bumper or tailgate (dealer, fleet, driving school)
        _paste_text(img, rng.choice(["驾校", "平安", "出租", "4S", "教练车", "专车", "公务用车"]), cx + _u(rng, -0.45, 0.1) * Wb,
                    _u(rng, roof, body_h * 0.9), Wb * _u(rng, 0.08, 0.25), body_h * _u(rng, 0.03, 0.07),
                    (240, 240, 240) if col.mean() < 128 else (30, 30, 30), rng)
    np.clip(img, 0, 255, out=img)


def car(rng, nr, Wb, rear=None, detail=False):
    """Car / SUV / van from the front or rear. Wb = body width in px. `detail`
    adds what a close-up shows (_car_details)."""
    Wb = int(max(20, Wb))
    rear = rng.random() < 0.55 if rear is None else rear
    body_h = int(Wb * _u(rng, 0.55, 0.9))
    W, H = Wb + 4, body_h + 4
    s = Sprite(H, W)
    img, al = s.img, s.alpha
    col = _col(rng, rng.choice([(230, 230, 230), (20, 20, 22), (150, 150, 155), (190, 30, 30), (40, 60, 140), (200, 200, 190), (90, 60, 40), (240, 200, 40)]), 15)
    cx = W / 2
    roof = body_h * _u(rng, 0.35, 0.5)
    # greenhouse (roof + window) narrower, body below
    _poly(img, [(cx - Wb * 0.33, 2), (cx + Wb * 0.33, 2), (cx + Wb * 0.45, roof), (cx - Wb * 0.45, roof)], col, al)
    _poly(img, [(cx - Wb * 0.3, body_h * 0.06), (cx + Wb * 0.3, body_h * 0.06), (cx + Wb * 0.41, roof * 0.95), (cx - Wb * 0.41, roof * 0.95)], _col(rng, (40, 45, 55), 15))
    _rect(img, 2, roof, W - 2, body_h, col, al)
    shade = np.linspace(1.05, 0.8, H, dtype=np.float32)[:, None, None]
    img *= shade
    # lights
    ly = roof + body_h * 0.08
    lc = (200, 30, 30) if rear else (230, 235, 240)
    for sx in (-1, 1):
        lx = cx + sx * Wb * 0.38
        _rect(img, lx - Wb * 0.09, ly, lx + Wb * 0.09, ly + body_h * 0.1, lc)
        s.lights.append((lx, ly + body_h * 0.05, Wb * 0.06))
    # bumper
    _rect(img, 2, body_h * 0.82, W - 2, body_h, col * 0.6)
    if not rear:
        _rect(img, cx - Wb * 0.25, roof + body_h * 0.05, cx + Wb * 0.25, roof + body_h * 0.2, (30, 30, 30))
    if detail:
        _car_details(img, al, rng, nr, cx, Wb, roof, body_h, rear, col)
    kind = rng.choices(["blue", "nev_small", "yellow", "learner", "black", "police", "military", "hk_macau", "consulate", "embassy", "yellow_dbl", "nev_large"],
                       [30, 7, 3, 1.5, 1.2, 1, 0.7, 0.6, 0.4, 0.4, 1.5, 0.6])[0]
    pw = Wb * _u(rng, 0.22, 0.27)
    ph = pw * (0.5 if kind == "yellow_dbl" else 140 / 440)
    pcy = min(body_h - ph / 2 - 2, roof + body_h * _u(rng, 0.25, 0.42))
    pcx = cx + _u(rng, -0.03, 0.03) * Wb
    if detail and rng.random() < 0.6:  # licence-plate surround: black or chrome, often wider than the plate
        fc = (20, 20, 22) if rng.random() < 0.6 else _col(rng, (200, 200, 205), 20)
        fx, fy = pw * _u(rng, 0.52, 0.6), ph * _u(rng, 0.55, 0.8)
        _rect(img, pcx - fx, pcy - fy, pcx + fx, pcy + fy, fc)
    q, p = _paste_plate(img, al, rng, kind, pcx, pcy, pw)
    s.plates.append((q, p))
    if rng.random() < 0.25:  # dealer frame text under the plate
        _paste_text(img, rng.choice(["平安出行", "4S店", "一路顺风", "汽车销售"]), cx - pw * 0.45, pcy + ph * 0.55, pw * 0.9, ph * 0.25, (220, 220, 220), rng)
        s.traps += 1
    return s


def box_rear(rng, nr, Wb, light=False):
    """Box truck / van / minibus rear: double-row yellow plate, painted numbers, hazmat placards.
    `light`: a light van, mostly with a blue plate."""
    Wb = int(max(24, Wb))
    Hb = int(Wb * _u(rng, 0.9, 1.4))
    W, H = Wb + 4, Hb + 4
    s = Sprite(H, W)
    img, al = s.img, s.alpha
    col = _col(rng, rng.choice([(200, 200, 200), (230, 230, 230), (170, 175, 180), (60, 90, 160), (240, 240, 240)]), 12)
    _rect(img, 2, 2, W - 2, Hb * 0.86, col, al)
    _rect(img, 2, Hb * 0.86, W - 2, Hb, (35, 35, 35), al)
    cx = W / 2
    cv2.line(img, (int(cx), 4), (int(cx), int(Hb * 0.84)), (90, 90, 90), max(1, Wb // 120))
    if rng.random() < 0.6:  # red / white reflective edge
        for x in np.arange(2, W - 2, max(4, Wb / 16)):
            _rect(img, x, 2, x + Wb / 32, 2 + max(2, Hb * 0.02), (210, 40, 40))
    if rng.random() < 0.4:  # orange hazmat stripe + diamond + plate-like UN number panel
        _rect(img, 2, Hb * 0.55, W - 2, Hb * 0.6, (240, 120, 30))
        d = Wb * 0.09
        px, py = cx + Wb * 0.2, Hb * 0.3
        _poly(img, [(px, py - d), (px + d, py), (px, py + d), (px - d, py)], (240, 130, 30))
        _paste_text(img, rng.choice(["爆", "燃", "毒", "腐"]), px - d * 0.4, py - d * 0.4, d * 0.8, d * 0.8, (20, 20, 20), rng)
        ux, uy = cx - Wb * 0.25, Hb * 0.68
        _rect(img, ux, uy, ux + Wb * 0.2, uy + Wb * 0.09, (240, 130, 30))
        _paste_text(img, rng.choice(["33\n1203", "1203", "危险品", "易燃液体"]).replace("\n", " "), ux + 2, uy + 2, Wb * 0.2 - 4, Wb * 0.09 - 4, (20, 20, 20), rng)
        s.traps += 2
    if rng.random() < 0.6:  # painted enlarged plate number (required on trucks): a trap
        t = render.random_text(rng.choice(["yellow", "blue"]), rng)
        tw = Wb * _u(rng, 0.5, 0.8)
        _paste_text(img, t[:2] + " " + t[2:], cx - tw / 2, Hb * _u(rng, 0.3, 0.55), tw, tw * _u(rng, 0.12, 0.2), _col(rng, rng.choice([(30, 60, 170), (200, 30, 30), (20, 20, 20)]), 10), rng)
        s.traps += 1
    if rng.random() < 0.35:
        _paste_text(img, rng.choice(["限载3吨", "保持车距", "物流配送", "冷链运输", "城市配送"]), cx - Wb * 0.3, Hb * 0.12, Wb * 0.6, Wb * 0.08, (30, 30, 30), rng)
    for sx in (-1, 1):
        lx = cx + sx * Wb * 0.4
        _rect(img, lx - Wb * 0.05, Hb * 0.87, lx + Wb * 0.05, Hb * 0.93, (210, 30, 30))
        s.lights.append((lx, Hb * 0.9, Wb * 0.04))
    kind = rng.choices(["yellow_dbl", "trailer", "yellow", "blue", "farm_dbl"], [2, 0.5, 2, 10, 0] if light else [10, 2, 2, 2, 0.5])[0]
    pw = Wb * _u(rng, 0.17, 0.24)
    ph = pw * (0.5 if kind in ("yellow_dbl", "trailer", "farm_dbl") else 140 / 440)
    pcy = Hb * 0.86 + ph * 0.3 if rng.random() < 0.5 else Hb * 0.8 - ph / 2
    q, p = _paste_plate(img, al, rng, kind, cx + _u(rng, -0.15, 0.15) * Wb, pcy, pw)
    s.plates.append((q, p))
    if rng.random() < 0.5:  # yellow bumper bar (rear under-run guard) - yellow, plate-like colour
        _rect(img, cx - Wb * 0.4, Hb * 0.95, cx + Wb * 0.4, Hb, (235, 180, 20))
    return s


def _warp_sprite(canvas, sp, x, y, rng, persp=0.12, rot_sd=3.0):
    """Composite sprite at (x, y) (top-left) with a mild perspective; returns the homography."""
    h, w = sp.img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = lambda a: rng.uniform(-a, a)
    k = persp
    dst = np.float32([[j(k * w), j(k * h * 0.5)], [w + j(k * w), j(k * h * 0.5)], [w + j(k * w * 0.5), h + j(k * h * 0.3)], [j(k * w * 0.5), h + j(k * h * 0.3)]])
    ang = math.radians(max(-30, min(30, rng.gauss(0, rot_sd))))
    c, s_ = math.cos(ang), math.sin(ang)
    ctr = dst.mean(0)
    dst = (dst - ctr) @ np.float32([[c, s_], [-s_, c]]) + ctr + np.float32([x, y])
    M = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    H, W = canvas.shape[:2]
    x0, y0 = np.floor(dst.min(0)).astype(int)
    x1, y1 = np.ceil(dst.max(0)).astype(int)
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    sp.cover = None
    if xb <= xa or yb <= ya:
        return M
    T = np.float64([[1, 0, -xa], [0, 1, -ya], [0, 0, 1]]) @ M
    im = cv2.warpPerspective(sp.img, T, (xb - xa, yb - ya), flags=cv2.INTER_LINEAR)
    al = cv2.warpPerspective(sp.alpha, T, (xb - xa, yb - ya), flags=cv2.INTER_LINEAR)[..., None]
    canvas[ya:yb, xa:xb] = canvas[ya:yb, xa:xb] * (1 - al) + im * al
    sp.cover = (xa, ya, al[..., 0])
    return M


def _tf(M, pts):
    pts = np.asarray(pts, np.float32).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, M).reshape(-1, 2)


# ------------------------------------------------------------------ backgrounds and traps

def _road_bg(rng, nr, H, W):
    """Gantry view: asphalt with lane lines, a kerb with blocks and a dark verge."""
    c = _u(rng, 70, 150)
    img = np.full((H, W, 3), c, np.float32) * _col(rng, (1, 1, 1), 0.04)
    img *= (0.85 + 0.3 * _noise(nr, H, W, max(4, W / 20)))[..., None]
    img += _randn(H, W, 1, _u(rng, 2, 6))
    img *= np.linspace(_u(rng, 0.8, 1.2), _u(rng, 0.8, 1.2), H, dtype=np.float32)[:, None, None]
    # lane markings converging upwards
    vx = _u(rng, 0.2, 0.8) * W
    for _ in range(rng.randint(2, 5)):
        xb = _u(rng, -0.3, 1.3) * W
        xt = vx + (xb - vx) * _u(rng, 0.3, 0.6)
        col = (230, 230, 225) if rng.random() < 0.7 else (225, 185, 40)
        th = max(1, int(W / _u(rng, 150, 400)))
        if rng.random() < 0.5:
            cv2.line(img, (int(xt), 0), (int(xb), H), col, th, cv2.LINE_AA)
        else:
            for t in np.arange(0, 1, 0.12):
                p0 = (int(xt + (xb - xt) * t), int(H * t))
                p1 = (int(xt + (xb - xt) * (t + 0.05)), int(H * (t + 0.05)))
                cv2.line(img, p0, p1, col, th, cv2.LINE_AA)
    # verge + kerb blocks on one side
    if rng.random() < 0.8:
        side = rng.choice([0, 1])
        xv_b, xv_t = _u(rng, 0.0, 0.3) * W, _u(rng, 0.25, 0.45) * W
        verge = _col(rng, rng.choice([(45, 40, 35), (70, 65, 55), (60, 70, 45), (25, 25, 25)]), 12)
        poly = [(0, 0), (xv_t, 0), (xv_b, H), (0, H)]
        if side:
            poly = [(W - x, y) for x, y in poly]
        vimg = verge * (0.6 + 0.8 * _noise(nr, H, W, max(2, W / 60)))[..., None]
        m = np.zeros((H, W), np.float32)
        cv2.fillPoly(m, [np.int32(poly)], 1.0)
        img = img * (1 - m[..., None]) + vimg * m[..., None]
        kc = _col(rng, (200, 200, 195), 20)
        n = rng.randint(8, 25)
        for i in range(n):
            t = i / n
            x = xv_t + (xv_b - xv_t) * t
            if side:
                x = W - x
            bs = max(2, W / 80 * (0.5 + t))
            _rect(img, x - bs, H * t, x + bs, H * t + bs * 0.9, kc * _u(rng, 0.8, 1.0))
        if rng.random() < 0.5:  # road sign on a pole in the verge
            _sign(img, rng, x=_u(rng, 0.02, 0.2) * W if not side else _u(rng, 0.8, 0.95) * W, y=_u(rng, 0.3, 0.6) * H, w=W * _u(rng, 0.03, 0.1))
    return img


def _street_bg(rng, nr, H, W):
    img = np.zeros((H, W, 3), np.float32)
    hor = int(H * _u(rng, 0.15, 0.55))
    sky = _col(rng, rng.choice([(170, 200, 230), (210, 215, 220), (120, 150, 190)]), 15)
    img[:hor] = sky
    # buildings / trees
    x = 0
    while x < W:
        bw = _u(rng, 0.05, 0.3) * W
        bh = _u(rng, 0.3, 1.0) * hor
        if rng.random() < 0.5:
            bc = _col(rng, rng.choice([(180, 170, 160), (140, 130, 120), (200, 190, 170), (100, 100, 110)]), 20)
            _rect(img, x, hor - bh, x + bw, hor, bc)
            for wy in np.arange(hor - bh + 4, hor - 4, max(4, bh / 8)):
                for wx in np.arange(x + 3, x + bw - 3, max(4, bw / 6)):
                    _rect(img, wx, wy, wx + max(2, bw / 12), wy + max(2, bh / 20), bc * 0.6)
            if rng.random() < 0.3:
                _sign(img, rng, x + bw * 0.1, hor - bh * 0.3, bw * 0.8, shop=True)
        else:
            tc = _col(rng, (60, 110, 50), 20)
            t = _noise(nr, int(bh) + 2, int(bw) + 2, max(2, bw / 8))
            _blend(img, (t > 0.45).astype(np.float32), int(x), int(hor - bh), tc)
        x += bw
    g = _col(rng, rng.choice([(110, 110, 110), (90, 90, 95), (140, 135, 130), (70, 75, 80)]), 15)
    img[hor:] = g * (0.8 + 0.4 * _noise(nr, H - hor, W, max(3, W / 30)))[..., None]
    img[hor:] += _randn(H - hor, W, 1, 4)
    for _ in range(rng.randint(0, 4)):  # road markings
        y = _u(rng, hor, H)
        x0 = _u(rng, 0, W)
        _rect(img, x0, y, x0 + _u(rng, 0.05, 0.3) * W, y + _u(rng, 2, 10), (225, 225, 220))
    if rng.random() < 0.5:
        _sign(img, rng, _u(rng, 0, 0.8) * W, _u(rng, 0, 0.3) * H, W * _u(rng, 0.05, 0.2))
    return img, hor


def _sign(img, rng, x, y, w, shop=False):
    """Road / shop sign with text: a plate-like trap."""
    h = w * _u(rng, 0.25, 0.6)
    bg = _col(rng, rng.choice([(30, 70, 170), (20, 120, 60), (230, 230, 230), (240, 190, 20), (200, 30, 30)]), 15)
    fg = (245, 245, 245) if bg.mean() < 150 else (20, 20, 20)
    _rect(img, x, y, x + w, y + h, bg)
    cv2.rectangle(img, (int(x + 2), int(y + 2)), (int(x + w - 2), int(y + h - 2)), fg, max(1, int(w / 100)))
    _paste_text(img, rng.choice(SIGN_WORDS), x + w * 0.1, y + h * 0.2, w * 0.8, h * 0.6, fg, rng)
    if not shop:
        _rect(img, x + w / 2 - 1, y + h, x + w / 2 + 1, min(img.shape[0], y + h * 4), (120, 120, 120))


def _fake_plate(img, rng, x, y, w):
    """Plate-coloured rectangles with text that are not plates (placards, stickers, number panels)."""
    h = w * _u(rng, 0.25, 0.6)
    kind = rng.random()
    if kind < 0.4:  # orange hazmat number panel
        _rect(img, x, y, x + w, y + h, (235, 125, 25))
        cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), (20, 20, 20), max(1, int(w / 40)))
        cv2.line(img, (int(x), int(y + h / 2)), (int(x + w), int(y + h / 2)), (20, 20, 20), max(1, int(w / 60)))
        _paste_text(img, str(rng.randint(20, 99)), x + w * 0.3, y + h * 0.05, w * 0.4, h * 0.4, (20, 20, 20), rng, LAT_FONT)
        _paste_text(img, str(rng.randint(1000, 3500)), x + w * 0.15, y + h * 0.55, w * 0.7, h * 0.4, (20, 20, 20), rng, LAT_FONT)
    elif kind < 0.7:  # text sticker / board
        bg = _col(rng, rng.choice([(240, 200, 30), (30, 70, 180), (240, 240, 240), (30, 150, 80)]), 20)
        _rect(img, x, y, x + w, y + h, bg)
        _paste_text(img, rng.choice(SIGN_WORDS + SIGNBOARDS), x + w * 0.05, y + h * 0.15, w * 0.9, h * 0.7, (20, 20, 20) if bg.mean() > 140 else (240, 240, 240), rng)
    else:  # diamond placard
        d = w / 2
        cxp, cyp = x + d, y + d
        _poly(img, [(cxp, cyp - d), (cxp + d, cyp), (cxp, cyp + d), (cxp - d, cyp)], rng.choice([(240, 130, 30), (220, 30, 30), (245, 245, 245), (240, 200, 30)]))
        _paste_text(img, rng.choice(["爆", "燃", "毒", "3", "2", "8"]), cxp - d * 0.35, cyp - d * 0.35, d * 0.7, d * 0.7, (20, 20, 20), rng)


# ------------------------------------------------------------------ scenes

def _occluded(cover, pts):
    """Fraction of the points (N x 2 canvas px) covered by the newly composited sprite."""
    if cover is None:
        return 0.0
    xa, ya, al = cover
    h, w = al.shape
    n = 0
    for x, y in pts:
        xi, yi = int(x) - xa, int(y) - ya
        if 0 <= xi < w and 0 <= yi < h and al[yi, xi] > 0.5:
            n += 1
    return n / max(1, len(pts))


def _place_labels(sp, M, lab):
    cover = getattr(sp, "cover", None)
    vm = lab.get("_vmask")
    if cover is not None and vm is not None:  # where vehicles are (lit by the camera's illuminator at night)
        xa, ya, al = cover
        h, w = al.shape
        np.maximum(vm[ya:ya + h, xa:xa + w], al, out=vm[ya:ya + h, xa:xa + w])
    for p in lab["plates"]:  # plates hidden by the vehicle drawn now
        q = p["quad"]
        probe = np.concatenate([q, q.mean(0, keepdims=True), (q + q.mean(0)) / 2])
        if _occluded(cover, probe) > 0.1:
            p["occluded"] = True
    for l in lab["loads"]:
        q = l["pts"]
        if _occluded(cover, np.concatenate([q, q.mean(0, keepdims=True)])) > 0.3:
            l["occluded"] = True
    for q, p in sp.plates:
        lab["plates"].append({"quad": _tf(M, q), "double": p.layout == "double", "text": p.text, "kind": p.kind})
    for q, cover, material in sp.loads:
        pts = _tf(M, q)
        lab["loads"].append({"pts": pts, "cover": cover, "material": material})
    rows, cols = np.flatnonzero(sp.alpha.max(1) > 0.5), np.flatnonzero(sp.alpha.max(0) > 0.5)
    if len(rows) and len(cols):
        x0, x1, y0, y1 = cols[0], cols[-1], rows[0], rows[-1]
        bb = _tf(M, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        lab["vehicles"].append({"pts": bb})
    return [(_tf(M, [(x, y)])[0], r) for x, y, r in sp.lights]  # the sprite's lamps in canvas px, with radii


def _gantry(rng, nr, H, W, lab):
    img = _road_bg(rng, nr, H, W)
    lights = []
    n_far = rng.choices([0, 1, 2, 3], [0.45, 0.3, 0.17, 0.08])[0]
    main = rng.random() > 0.06  # sometimes an empty road (or only far traffic)
    ref = min(W, H * 1.4)
    slots = [(rng.random(), False) for _ in range(n_far)] + ([(rng.random(), True)] if main else [])
    for r, is_main in slots:
        light = r < 0.2
        if is_main:
            Wc = ref * _u(rng, 0.2, 0.45)
        else:
            Wc = ref * math.exp(_u(rng, math.log(0.05), math.log(0.2)))
        steep = is_main and not light and rng.random() < 0.3
        if r < 0.75 or light or steep:
            sp = truck_front(rng, nr, Wc * (0.75 if light else 1.0), light=light, steep=steep)
        else:
            sp = car(rng, nr, Wc * 0.7, rear=rng.random() < 0.4)
        h, w = sp.img.shape[:2]
        if is_main:
            x = _u(rng, 0.1, 0.9) * W - w / 2
            y = _u(rng, 0.6, 1.0) * H - h
            if rng.random() < (0.4 if steep else 0.12):  # cab cut by the bottom edge (load visible, plate not)
                y = H - h * _u(rng, 0.5, 0.8)
            elif rng.random() < 0.1:  # cut by a side edge
                x = rng.choice([-w * _u(rng, 0.2, 0.5), W - w * _u(rng, 0.5, 0.8)])
        else:
            x = _u(rng, 0.0, 1.0) * W - w / 2
            y = _u(rng, 0.0, 0.5) * H - h * 0.5
        M = _warp_sprite(img, sp, x, y, rng, persp=0.08)
        lights += _place_labels(sp, M, lab)
    return img, lights


def _street(rng, nr, H, W, lab):
    img, hor = _street_bg(rng, nr, H, W)
    lights = []
    n = rng.choices([0, 1, 2, 3, 4], [0.04, 0.5, 0.25, 0.13, 0.08])[0]
    close = rng.random() < 0.35 and n > 0  # CCPD-style: one car close up
    items = []
    for i in range(n):
        if close and i == n - 1:
            pw_frac = math.exp(_u(rng, math.log(0.15), math.log(0.75)))  # plate width / frame width
            Wb = W * pw_frac / 0.245
            y = _u(rng, 0.05, 0.75) * H - Wb * 0.5
        else:
            Wb = W * math.exp(_u(rng, math.log(0.07), math.log(0.6)))
            y = hor + _u(rng, -0.4, 0.6) * Wb
        items.append((Wb, y))
    items.sort(key=lambda t: t[0])
    for Wb, y in items:
        r = rng.random()
        if r < 0.7 or Wb > W * 0.8:
            sp = car(rng, nr, Wb)
        elif r < 0.88:
            sp = box_rear(rng, nr, Wb * 0.9)
        else:
            sp = truck_front(rng, nr, Wb * 0.9, light=rng.random() < 0.6)
        h, w = sp.img.shape[:2]
        x = _u(rng, -0.2, 1.0) * W - w * 0.4 if Wb < W else _u(rng, W - w, 0) if w > W else _u(rng, -0.1 * w, W - 0.9 * w)
        rot = 3.0 if rng.random() < 0.6 else 12.0  # CCPD-style tilted / rotated views
        M = _warp_sprite(img, sp, x, min(y, H - h * 0.3), rng, persp=0.12 if rng.random() < 0.7 else 0.22, rot_sd=rot)
        lights += _place_labels(sp, M, lab)
    return img, lights


def _closeup(rng, nr, H, W, lab, unit):
    """CCPD-style close-up: one car (sometimes a van or light truck) filling much of the
    frame, parked or in traffic, its plate 35-160 input px wide (`unit` canvas px per
    input px), drawn in detail; smaller vehicles and street behind it."""
    img, hor = _street_bg(rng, nr, H, W)
    lights = []
    for _ in range(rng.choices([0, 1, 2], [0.45, 0.35, 0.2])[0]):  # traffic behind
        Wb = W * math.exp(_u(rng, math.log(0.12), math.log(0.45)))
        sp = car(rng, nr, Wb)
        M = _warp_sprite(img, sp, _u(rng, -0.3, 0.9) * W, hor + _u(rng, -0.5, 0.3) * Wb, rng)
        lights += _place_labels(sp, M, lab)
    pw = math.exp(_u(rng, math.log(35), math.log(160))) * unit
    r = rng.random()
    if r < 0.72:
        sp = car(rng, nr, pw / _u(rng, 0.2, 0.27), detail=True)
    elif r < 0.9:
        sp = box_rear(rng, nr, pw / _u(rng, 0.15, 0.22), light=rng.random() < 0.6)
    else:
        sp = truck_front(rng, nr, pw / _u(rng, 0.15, 0.2), light=True)
    h, w = sp.img.shape[:2]
    pcx, pcy = np.asarray(sp.plates[0][0], np.float32).mean(0) if sp.plates else (w / 2, h / 2)
    x = _u(rng, 0.15, 0.85) * W - pcx  # the plate somewhere in the frame, the car often cut
    y = _u(rng, 0.3, 0.9) * H - pcy
    rot = 4.0 if rng.random() < 0.6 else 12.0
    M = _warp_sprite(img, sp, x, y, rng, persp=0.1 if rng.random() < 0.6 else 0.2, rot_sd=rot)
    lights += _place_labels(sp, M, lab)
    return img, lights


def _traps(img, rng, W, H):
    for _ in range(rng.choices([0, 1, 2, 3], [0.45, 0.3, 0.15, 0.1])[0]):
        _fake_plate(img, rng, _u(rng, 0, 0.95) * W, _u(rng, 0, 0.95) * H, W * math.exp(_u(rng, math.log(0.02), math.log(0.15))))
    if rng.random() < 0.2:  # burned-in timestamp / camera text
        t = f"{rng.randint(2013, 2026)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} " + rng.choice(["卡口01", "车道2", "抓拍", "检查站"])
        _paste_text(img, t, W * 0.01, H * _u(rng, 0.0, 0.05), W * _u(rng, 0.3, 0.6), H * 0.04, (240, 240, 240), rng)
    if rng.random() < 0.25:  # blacked-out camera text strip (as in the real checkpoint frames)
        img[: int(H * _u(rng, 0.02, 0.05))] = _u(rng, 0, 10)


def _photometric(img, rng, nr, lights, night, ir, plates=(), vmask=None):
    H, W = img.shape[:2]
    pmask = None
    if night and plates:
        pmask = np.zeros((H, W), np.float32)
        for q in plates:
            if rng.random() < 0.8:
                cv2.fillPoly(pmask, [np.round(q).astype(np.int32)], _u(rng, 0.3, 1.0), cv2.LINE_AA)
    # day shadows (diagonal poles / cables) and foreground cables / banding
    if not night and rng.random() < 0.5:
        for _ in range(rng.randint(1, 4)):
            m = np.zeros((H, W), np.float32)
            x0 = _u(rng, 0, W)
            pts = [(x0, 0), (x0 + _u(rng, 5, 40), 0), (x0 + _u(rng, -W, W), H), (x0 + _u(rng, -W, W) - 10, H)]
            cv2.fillPoly(m, [np.int32(pts)], 1.0)
            img *= 1 - m[..., None] * _u(rng, 0.2, 0.5)
    for _ in range(rng.choices([0, 1, 2, 3], [0.4, 0.3, 0.2, 0.1])[0]):  # cables across the frame
        y0, y1 = _u(rng, 0, H), _u(rng, 0, H)
        col = (20, 20, 20) if not night else (200, 170, 60)
        ov = np.zeros((H, W), np.float32)
        cv2.line(ov, (0, int(y0)), (W, int(y1)), 1.0, max(1, int(H / _u(rng, 150, 500))), cv2.LINE_AA)
        ov = cv2.GaussianBlur(ov, (0, 0), _u(rng, 0.5, 3)) * _u(rng, 0.3, 0.8)
        img[:] = img * (1 - ov[..., None]) + np.float32(col) * ov[..., None]
    if night:
        dark = _u(rng, 0.12, 0.45)
        g = np.full((H, W), dark, np.float32)
        if vmask is not None and rng.random() < 0.7:  # illuminator: vehicles near the camera stay bright
            lit = _u(rng, 0.45, 1.0)
            g = np.maximum(g, cv2.GaussianBlur(vmask, (0, 0), max(1.0, W / 200)) * lit)
        if pmask is not None:
            g = g + (1 - g) * pmask
        img *= g[..., None]
        if rng.random() < 0.6:  # camera auto gain / gamma
            np.clip(img, 0, 255, out=img)
            img[:] = 255.0 * (img / 255.0) ** _u(rng, 0.55, 0.9)
        img += _u(rng, 0, 12)
        if rng.random() < 0.6:
            img *= np.float32([_u(rng, 0.8, 1.05), _u(rng, 0.9, 1.1), _u(rng, 0.95, 1.3)])
        glow = np.zeros((H, W), np.float32)
        for (x, y), r in lights:
            if rng.random() < 0.85:
                cv2.circle(glow, (int(x), int(y)), max(1, int(r * 0.5)), 1.0, -1)
        if glow.any():
            sig = max(1.0, W / _u(rng, 150, 500))
            sm = cv2.resize(glow, (max(2, W // 4), max(2, H // 4)), interpolation=cv2.INTER_AREA)
            wide = cv2.resize(cv2.GaussianBlur(sm, (0, 0), sig), (W, H), interpolation=cv2.INTER_LINEAR)
            halo = cv2.GaussianBlur(glow, (0, 0), sig) * _u(rng, 1.5, 4) + wide * _u(rng, 0.5, 3)
            tint = np.float32([_u(rng, 0.85, 1.0), _u(rng, 0.9, 1.0), 1.0])
            img += np.clip(halo, 0, 3)[..., None] * 255 * tint
        if rng.random() < 0.3:  # glare cone / lens flare streak
            y = _u(rng, 0, H)
            streak = np.zeros((H, W), np.float32)
            cv2.line(streak, (0, int(y)), (W, int(y + _u(rng, -H * 0.1, H * 0.1))), 1.0, max(1, int(H / 200)))
            img += cv2.GaussianBlur(streak, (0, 0), _u(rng, 1, 4))[..., None] * _u(rng, 60, 160)
    if ir:
        g = img.mean(2, keepdims=True)
        img[:] = g * np.float32([1.0, 1.0, _u(rng, 1.0, 1.08)])
    if rng.random() < 0.2:  # horizontal banding (rolling shutter / interlace / IR flicker)
        per = _u(rng, 4, 40)
        b = 1 + _u(rng, 0.03, 0.12) * np.sin(np.arange(H, dtype=np.float32) / per * 2 * math.pi)
        img *= b[:, None, None]
    if not night:
        gain = math.exp(rng.gauss(0, 0.25))
        img[:] = img * gain + _u(rng, -20, 20)
        if rng.random() < 0.3:  # haze / low contrast (winter sun, as in the real day frames)
            img[:] = img * _u(rng, 0.6, 0.9) + _u(rng, 30, 80)
        if rng.random() < 0.4:
            img *= np.float32([_u(rng, 0.85, 1.15) for _ in range(3)])
    np.clip(img, 0, 255, out=img)
    r = rng.random()
    if r < 0.2:
        k = rng.randint(3, 9)
        img[:] = cv2.filter2D(img, -1, _motion_kernel(k, _u(rng, 60, 120) if rng.random() < 0.6 else _u(rng, -30, 30)))
    elif r < 0.4:
        img[:] = cv2.GaussianBlur(img, (0, 0), _u(rng, 0.4, 1.5))
    if rng.random() < 0.7:
        sd = _u(rng, 1, 6) * (2.5 if night else 1)
        img += _randn(H, W, 3, sd)
    return np.clip(img, 0, 255)


FRAME_SHAPES = [((1920, 1080), 3), ((3392, 2072), 2), ((2064, 1608), 2), ((720, 1160), 2.5), ((1280, 960), 1),
                ((2592, 2112), 0.5), ((640, 480), 0.7), ((1280, 720), 1), ((2976, 3968), 0.4), ((1099, 616), 0.5)]


def scene(rng: random.Random, in_w=IN_W, in_h=IN_H, mode: str = "mixed"):
    """mode: "mixed" (gantry 55 %, street 45 %), "gantry" (_gantry only) or "closeup" (_closeup only)."""
    nr = np.random.default_rng(rng.getrandbits(32))
    (fw, fh) = rng.choices([s for s, _ in FRAME_SHAPES], [w for _, w in FRAME_SHAPES])[0]
    if rng.random() < 0.3:
        fw, fh = int(fw * _u(rng, 0.8, 1.2)), int(fh * _u(rng, 0.8, 1.2))
    sc = min(in_w / fw, in_h / fh)
    cw, ch = max(8, int(round(fw * sc))), max(8, int(round(fh * sc)))
    k = _u(rng, 1.0, 1.4)  # render above the input resolution, then area-downsample like a camera frame
    W, H = int(cw * k), int(ch * k)
    lab = {"plates": [], "vehicles": [], "loads": [], "_vmask": np.zeros((H, W), np.float32)}
    gantry = mode == "gantry" or (mode == "mixed" and rng.random() < 0.55)
    if gantry:
        img, lights = _gantry(rng, nr, H, W, lab)
    elif mode == "closeup":
        img, lights = _closeup(rng, nr, H, W, lab, W / cw)
    else:
        img, lights = _street(rng, nr, H, W, lab)
    _traps(img, rng, W, H)
    night = rng.random() < (0.4 if gantry else 0.15)
    ir = night and rng.random() < 0.35 or (not night and rng.random() < 0.03)
    img = _photometric(img, rng, nr, lights, night, ir, [p["quad"] for p in lab["plates"]], lab["_vmask"])
    u8 = img.astype(np.uint8)
    if rng.random() < 0.75:
        ok, enc = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(35, 95)])
        u8 = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED)
    small = cv2.resize(u8, (cw, ch), interpolation=cv2.INTER_AREA)
    out = np.full((in_h, in_w, 3), PAD, np.uint8)
    out[:ch, :cw] = small
    f = np.float32([cw / W, ch / H])
    res = {"plates": [], "vehicles": [], "loads": [], "scale": sc, "content": (cw, ch), "night": night, "gantry": gantry}

    def clipbox(pts):
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        area = max(1e-6, (x1 - x0) * (y1 - y0))
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(cw, x1), min(ch, y1)
        vis = max(0, cx1 - cx0) * max(0, cy1 - cy0) / area
        return (float(cx0), float(cy0), float(cx1), float(cy1)), vis

    for p in lab["plates"]:
        if p.get("occluded"):
            continue
        q = p["quad"] * f
        box, vis = clipbox(q)
        if vis <= 0.05:
            continue
        bw, bh = box[2] - box[0], box[3] - box[1]
        ign = vis < 0.85 or bw < 6 or bh < 3
        res["plates"].append({"quad": q, "box": box, "double": p["double"], "ignore": ign, "text": p["text"], "kind": p["kind"]})
    for v in lab["vehicles"]:
        box, vis = clipbox(v["pts"] * f)
        if vis > 0.05 and box[2] - box[0] > 4:
            res["vehicles"].append({"box": box, "ignore": vis < 0.3})
    for l in lab["loads"]:
        if l.get("occluded"):
            continue
        box, vis = clipbox(l["pts"] * f)
        if vis > 0.05 and box[2] - box[0] > 4 and box[3] - box[1] > 2:
            res["loads"].append({"box": box, "cover": l["cover"], "material": l["material"], "ignore": vis < 0.3, "vis": vis})
    return np.ascontiguousarray(out[..., :3]), res


def load_crop(rng: random.Random, size=96):
    """A load-region crop for the cargo classifier, framed like a (jittered) detector box."""
    nr = np.random.default_rng(rng.getrandbits(32))
    W = rng.randint(260, 700)
    H = int(W * _u(rng, 0.6, 0.9))
    cover, material = _pick_cargo(rng)
    img = _road_bg(rng, nr, H, W)
    light = rng.random() < 0.15
    sp = truck_front(rng, nr, W * _u(rng, 0.3, 0.55), light=light, cargo=(cover, material), cab_only_prob=0.0,
                     steep=not light and rng.random() < 0.3)
    lab = {"plates": [], "vehicles": [], "loads": []}
    h, w = sp.img.shape[:2]
    x = _u(rng, 0.05, 0.6) * W
    y = _u(rng, -0.2, 0.3) * H
    M = _warp_sprite(img, sp, x, y, rng, persp=0.08)
    lab["_vmask"] = np.zeros((H, W), np.float32)
    lights = _place_labels(sp, M, lab)
    night = rng.random() < 0.45
    ir = night and rng.random() < 0.35
    img = _photometric(img, rng, nr, lights, night, ir, vmask=lab["_vmask"])
    u8 = img.astype(np.uint8)
    if rng.random() < 0.6:
        ok, enc = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(35, 95)])
        u8 = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED)
    pts = lab["loads"][0]["pts"]
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    bw, bh = x1 - x0, y1 - y0
    j = lambda: _u(rng, -0.12, 0.12)
    x0, x1 = x0 + j() * bw, x1 + j() * bw
    y0, y1 = y0 + j() * bh, y1 + j() * bh
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(W, int(x1)), min(H, int(y1))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return load_crop(rng, size)
    crop = u8[y0:y1, x0:x1]
    # low resolution: loads are often 40-200 px in the letterboxed detector input
    s = _u(rng, 0.15, 1.0)
    if s < 0.9:
        crop = cv2.resize(crop, (max(4, int(crop.shape[1] * s)), max(4, int(crop.shape[0] * s))), interpolation=cv2.INTER_AREA)
    return crop_to_input(crop, size), cover, material


def crop_to_input(crop, size=96):
    """Cargo classifier input: plain bilinear resize of the load crop to size x size (no letterbox)."""
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.BILINEAR))


def draw_labels(img, res):
    im = img.copy()
    for p in res["plates"]:
        col = (255, 0, 255) if p["ignore"] else ((0, 255, 0) if not p["double"] else (0, 255, 255))
        cv2.polylines(im, [np.round(p["quad"]).astype(np.int32)], True, col, 1)
    for v in res["vehicles"]:
        x0, y0, x1, y1 = map(int, v["box"])
        cv2.rectangle(im, (x0, y0), (x1, y1), (255, 128, 0), 1)
    for l in res["loads"]:
        x0, y0, x1, y1 = map(int, l["box"])
        cv2.rectangle(im, (x0, y0), (x1, y1), (255, 0, 0), 1)
        cv2.putText(im, f"{l['cover'][:4]}/{l['material'][:4]}", (x0 + 2, y0 + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (255, 255, 0), 1)
    return im


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="runs/scene_samples")
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--crops", action="store_true")
    ap.add_argument("--mode", choices=["mixed", "gantry", "closeup"], default="mixed")
    ap.add_argument("--real-plates", default="", help="real/plates/train: pasted as some blue plates")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.real_plates:
        use_real_plates(a.real_plates)
    rng = random.Random(a.seed)
    if a.crops:
        tiles = []
        for i in range(a.n):
            c, cov, mat = load_crop(rng)
            c = c.copy()
            cv2.putText(c, f"{cov[:4]}/{mat[:4]}", (2, 10), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (255, 255, 0), 1)
            tiles.append(c)
        rows = [np.concatenate(tiles[i:i + 8], 1) for i in range(0, len(tiles) - 7, 8)]
        Image.fromarray(np.concatenate(rows, 0)).save(os.path.join(a.out, "crops.png"))
        return
    import time
    t = time.time()
    for i in range(a.n):
        img, res = scene(rng, mode=a.mode)
        Image.fromarray(draw_labels(img, res)).save(os.path.join(a.out, f"{i:03d}.png"))
    print(f"{(time.time() - t) / a.n * 1000:.1f} ms/scene")


if __name__ == "__main__":
    main()
