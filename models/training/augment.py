"""Augmentation: turns a clean rendered plate into a realistic detector crop.

Geometry: the plate is pasted on a background (car body, bumper, road clutter),
warped by a random perspective / rotation / shear and cut out by an axis-aligned
box that is sometimes tight (cutting into the frame, as the CCPD-style crops in
shared/data/real/plates are) and sometimes loose. Photometry: low resolution,
blur and defocus, motion blur, noise, JPEG, over/under exposure, colour casts,
infrared night (grey, bloom), dirt and mud, partial occlusion, shadows.

`augment(plate_rgb, rng)` returns a uint8 RGB crop of arbitrary size; the
network input is built from it by `preprocess.plain_input` / `preprocess.row_join`.
"""
from __future__ import annotations

import math
import random

import cv2
import numpy as np


def _background(h, w, rng: random.Random) -> np.ndarray:
    kind = rng.random()
    if kind < 0.45:  # car body / bumper: smooth colour with gradient
        c0 = np.array([rng.uniform(0, 255) for _ in range(3)], np.float32)
        if rng.random() < 0.5:
            g = rng.uniform(0, 255)
            c0 = np.array([g, g, g], np.float32) + np.array([rng.uniform(-15, 15) for _ in range(3)])
        c1 = np.clip(c0 * rng.uniform(0.4, 1.3), 0, 255)
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        bg = c0 * (1 - t) + c1 * t
        bg = np.broadcast_to(bg, (h, w, 3)).copy()
    elif kind < 0.75:  # clutter: blurred noise
        nr = np.random.default_rng(rng.getrandbits(32))
        small = nr.uniform(0, 255, (max(2, h // 8), max(2, w // 8), 1)) * rng.uniform(0.3, 1.0)
        small = small + nr.uniform(-25, 25, (max(2, h // 8), max(2, w // 8), 3))
        bg = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    else:  # dark grille with horizontal bars
        bg = np.full((h, w, 3), rng.uniform(10, 90), np.float32)
        step = rng.randint(4, 12)
        for y in range(0, h, step):
            bg[y: y + step // 2] *= rng.uniform(0.5, 1.6)
    return np.clip(bg, 0, 255)


def _perspective_quad(w, h, rng: random.Random):
    """Corners of the plate after a random view (TL, TR, BR, BL)."""
    ang = math.radians(rng.gauss(0, 4) if rng.random() < 0.85 else rng.uniform(-14, 14))
    shear = rng.gauss(0, 0.08)
    yaw = rng.gauss(0, 0.08)  # one vertical edge shorter than the other
    pitch = rng.gauss(0, 0.05)
    pts = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    pts[:, 0] += shear * (pts[:, 1] - h / 2)
    # yaw: scale vertical size along x
    sx = 1 + yaw * (pts[:, 0] / w - 0.5) * 2
    pts[:, 1] = h / 2 + (pts[:, 1] - h / 2) * sx
    sy = 1 + pitch * (pts[:, 1] / h - 0.5) * 2
    pts[:, 0] = w / 2 + (pts[:, 0] - w / 2) * sy
    c, s = math.cos(ang), math.sin(ang)
    ctr = pts.mean(0)
    d = pts - ctr
    pts = ctr + np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], 1)
    pts += np.array([[rng.gauss(0, 0.01 * w), rng.gauss(0, 0.02 * h)] for _ in range(4)], np.float32)
    return pts.astype(np.float32)


def _crop_box(quad, pw, ph, rng: random.Random, double: bool = False):
    x0, y0 = quad.min(0)
    x1, y1 = quad.max(0)
    bw, bh = x1 - x0, y1 - y0
    r = rng.random()
    if r < 0.45:  # tight, CCPD style: may cut into the frame a little
        m = [rng.uniform(-0.03, 0.03), rng.uniform(-0.10, 0.06), rng.uniform(-0.03, 0.03), rng.uniform(-0.10, 0.06)]
    elif r < 0.85:  # detector-ish box
        m = [rng.uniform(-0.02, 0.08), rng.uniform(-0.05, 0.2), rng.uniform(-0.02, 0.08), rng.uniform(-0.05, 0.2)]
    else:  # loose
        m = [rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.45), rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.45)]
    if double:  # the top row must stay inside double_row.top
        m[1], m[3] = min(m[1], 0.18), min(m[3], 0.22)
    return (x0 - m[0] * bw, y0 - m[1] * bh, x1 + m[2] * bw, y1 + m[3] * bh)


def _motion_kernel(k, ang):
    ker = np.zeros((k, k), np.float32)
    ker[k // 2, :] = 1
    M = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), ang, 1)
    ker = cv2.warpAffine(ker, M, (k, k))
    return ker / max(ker.sum(), 1e-6)


def _dirt(img, rng: random.Random, strength):
    h, w = img.shape[:2]
    nrng = np.random.default_rng(rng.getrandbits(32))
    n = nrng.uniform(0, 1, (max(2, h // 6), max(2, w // 6))).astype(np.float32)
    n = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)
    mask = np.clip((n - rng.uniform(0.4, 0.75)) * 4, 0, 1) * strength
    if rng.random() < 0.5:  # mud concentrated at the bottom
        mask *= np.linspace(0.3, 1.2, h, dtype=np.float32)[:, None]
    mud = np.array([rng.uniform(60, 130), rng.uniform(50, 100), rng.uniform(30, 70)], np.float32)
    mask = np.clip(mask, 0, 0.85)[..., None]
    return img * (1 - mask) + mud * mask


def augment(plate: np.ndarray, rng: random.Random, strength: float = 1.0) -> np.ndarray:
    """Clean plate (HxWx3 uint8) -> realistic crop (uint8 RGB)."""
    ph, pw = plate.shape[:2]
    img = plate.astype(np.float32)
    # dirt / wear on the plate itself
    if rng.random() < 0.25 * strength:
        img = _dirt(img, rng, rng.uniform(0.3, 1.0))
    if rng.random() < 0.15 * strength:  # shadow band
        y = rng.randint(0, ph)
        img[: y] *= rng.uniform(0.45, 0.8)
    # canvas
    pad = int(max(pw, ph) * 0.6)
    H, W = ph + 2 * pad, pw + 2 * pad
    canvas = _background(H, W, rng)
    canvas[pad: pad + ph, pad: pad + pw] = img
    quad = _perspective_quad(pw, ph, rng)
    x0, y0, x1, y1 = _crop_box(quad, pw, ph, rng, double=ph / pw > 0.4)
    # output resolution: plate height in px (CCPD crops: ~20-60 px, down to 12)
    out_h_target = rng.choice([rng.uniform(16, 30), rng.uniform(22, 60), rng.uniform(40, 110)])
    s = out_h_target / max(1.0, (y1 - y0))
    ow, oh = max(8, int(round((x1 - x0) * s))), max(6, int(round((y1 - y0) * s)))
    # crops are sometimes stretched (CCPD crops are resized to 94x24)
    if rng.random() < 0.3:
        ow = max(8, int(ow * rng.uniform(0.85, 1.3)))
    src = np.array([[pad, pad], [pad + pw, pad], [pad + pw, pad + ph], [pad, pad + ph]], np.float32)
    dst = (quad - np.array([x0, y0], np.float32)) * np.array([ow / (x1 - x0), oh / (y1 - y0)], np.float32)
    M = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    # supersample: warp at 2x then area-downsample (anti-aliasing like a camera)
    S = np.diag([2.0, 2.0, 1.0]).astype(np.float64) @ M
    big = cv2.warpPerspective(canvas, S, (ow * 2, oh * 2), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out = cv2.resize(big, (ow, oh), interpolation=cv2.INTER_AREA)

    # blur / defocus / motion
    r = rng.random()
    if r < 0.25 * strength:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.1) * max(1.0, oh / 40))
    elif r < 0.35 * strength:
        k = rng.randint(3, 7)
        out = cv2.filter2D(out, -1, _motion_kernel(k, rng.uniform(-30, 30)))
    elif r < 0.42 * strength:
        k = rng.choice([3, 5])
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)).astype(np.float32)
        out = cv2.filter2D(out, -1, disk / disk.sum())
    # low resolution round trip
    elif rng.random() < 0.3 * strength:
        f = rng.uniform(0.45, 0.85)
        small = cv2.resize(out, (max(4, int(ow * f)), max(4, int(oh * f))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (ow, oh), interpolation=rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST]))

    # photometric
    if rng.random() < 0.12 * strength:  # infrared night: grey, bloom on the retro-reflective plate
        g = out.mean(2, keepdims=True) * rng.uniform(0.9, 1.6)
        bloom = cv2.GaussianBlur(g, (0, 0), max(1.0, oh / 8))
        if bloom.ndim == 2:
            bloom = bloom[..., None]
        g = g + rng.uniform(0.2, 0.7) * bloom
        out = np.repeat(g, 3, 2)
    else:
        if rng.random() < 0.5 * strength:  # colour cast
            out = out * np.array([rng.uniform(0.75, 1.25) for _ in range(3)], np.float32)
        if rng.random() < 0.2 * strength:  # desaturate
            g = out.mean(2, keepdims=True)
            a = rng.uniform(0.3, 0.9)
            out = out * (1 - a) + g * a
    # exposure / contrast / gamma
    if rng.random() < 0.7 * strength:
        gain = math.exp(rng.gauss(0, 0.3))
        out = out * gain + rng.uniform(-30, 30)
        c = rng.uniform(0.6, 1.3)
        out = (out - out.mean()) * c + out.mean()
    out = np.clip(out, 0, 255)
    if rng.random() < 0.3 * strength:
        gamma = math.exp(rng.gauss(0, 0.35))
        out = 255.0 * (out / 255.0) ** gamma
    # occlusion (bolts, tow bar, a hand, a sticker)
    if rng.random() < 0.08 * strength:
        ow_, oh_ = out.shape[1], out.shape[0]
        w_ = rng.randint(1, max(2, ow_ // 10))
        x_ = rng.randint(0, ow_ - 1)
        y_ = rng.randint(0, oh_ - 1)
        h_ = rng.randint(1, max(2, oh_ // 3))
        out[y_: y_ + h_, x_: x_ + w_] = rng.uniform(0, 255)
    # noise
    if rng.random() < 0.5 * strength:
        sd = rng.uniform(2, 14)
        out = out + np.random.default_rng(rng.getrandbits(32)).normal(0, sd, out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    # JPEG
    if rng.random() < 0.5 * strength:
        q = rng.randint(20, 90)
        ok, enc = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        out = cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(out)


def augment_real(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Light augmentation for real crops (fine-tuning): small affine jitter,
    exposure, colour cast, blur, noise, JPEG."""
    h, w = img.shape[:2]
    ang = rng.gauss(0, 2.0)
    sc = rng.uniform(0.93, 1.07)
    M = cv2.getRotationMatrix2D((w / 2, h / 2), ang, sc)
    M[0, 2] += rng.uniform(-0.04, 0.04) * w
    M[1, 2] += rng.uniform(-0.06, 0.06) * h
    out = cv2.warpAffine(img.astype(np.float32), M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:
        nw = max(8, int(w * rng.uniform(0.8, 1.4)))
        out = cv2.resize(out, (nw, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        out = out * np.array([rng.uniform(0.8, 1.2) for _ in range(3)], np.float32)
    if rng.random() < 0.6:
        out = out * math.exp(rng.gauss(0, 0.3)) + rng.uniform(-20, 20)
    if rng.random() < 0.2:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.3:
        out = out + np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(2, 8), out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        ok, enc = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, rng.randint(30, 90)])
        out = cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(out)
