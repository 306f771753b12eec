"""Train the plate / vehicle / load detector on cached synthetic scenes.

  python detector_train.py --name det --steps 3000 --batch 12 --seed 1 [--resume]

Reads the pickle shards written by `scene_cache.py --kind scenes` from --data (new
shards are picked up while training runs), builds CenterNet targets (see
detector_model.py for the output layout), prints progress, and writes
runs/<name>/last.pt (model, optimiser, step: resumable with --resume) every
--save-every steps. Never reads the real frames.
"""
from __future__ import annotations

import argparse
import glob
import math
import os
import pickle
import random
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from detector_model import IN_H, IN_W, PLATE_STRIDE, REGION_STRIDE, PlateDetector
from from_onnx import train_with_frozen_bn

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))


def _gauss(hm, cx, cy, sx, sy):
    """Draw an anisotropic gaussian (max-combined) centred at cell coords (cx, cy); returns peak cell."""
    H, W = hm.shape
    ci, cj = int(math.floor(cx)), int(math.floor(cy))
    rx, ry = int(3 * sx) + 1, int(3 * sy) + 1
    x0, x1 = max(0, ci - rx), min(W, ci + rx + 1)
    y0, y1 = max(0, cj - ry), min(H, cj + ry + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    xs = np.arange(x0, x1, dtype=np.float32) + 0.5
    ys = np.arange(y0, y1, dtype=np.float32) + 0.5
    g = np.exp(-((xs[None, :] - cx) ** 2) / (2 * sx * sx) - ((ys[:, None] - cy) ** 2) / (2 * sy * sy))
    if 0 <= ci < W and 0 <= cj < H:
        g[cj - y0, ci - x0] = 1.0
    hm[y0:y1, x0:x1] = np.maximum(hm[y0:y1, x0:x1], g)
    return (x0, y0, x1, y1, g)


def crop_labels(lab, ox, oy, cw, ch):
    """Labels of the crop (ox, oy, cw, ch): shifted; cut objects become ignore regions."""
    out = {"plates": [], "vehicles": [], "loads": []}

    def cut(box, need):
        x0, y0, x1, y1 = box
        a = max(1e-6, (x1 - x0) * (y1 - y0))
        nx0, ny0, nx1, ny1 = max(x0 - ox, 0), max(y0 - oy, 0), min(x1 - ox, cw), min(y1 - oy, ch)
        if nx1 <= nx0 or ny1 <= ny0:
            return None, True
        vis = (nx1 - nx0) * (ny1 - ny0) / a
        return (nx0, ny0, nx1, ny1), vis < need

    for p in lab["plates"]:
        b, ign = cut(p["box"], 0.85)
        if b is not None:
            out["plates"].append(dict(p, box=b, quad=np.asarray(p["quad"]) - np.float32([ox, oy]), ignore=p["ignore"] or ign))
    for key in ("vehicles", "loads"):
        for o in lab[key]:
            b, ign = cut(o["box"], 0.6)
            if b is not None:
                out[key].append(dict(o, box=b, ignore=o["ignore"] or ign))
    return out


def build_targets(lab, in_h=IN_H, in_w=IN_W):
    s = PLATE_STRIDE
    H8, W8 = in_h // s, in_w // s
    hm = np.zeros((H8, W8), np.float32)
    hw = np.ones((H8, W8), np.float32)  # heat-map loss weight (0 = ignore)
    reg = np.zeros((13, H8, W8), np.float32)  # double, dx, dy, lw, lh, 8 corners
    rw = np.zeros((H8, W8), np.float32)
    for p in lab["plates"]:
        x0, y0, x1, y1 = p["box"]
        if p["ignore"]:
            hw[int(y0 // s): int(math.ceil(y1 / s)) + 1, int(x0 // s): int(math.ceil(x1 / s)) + 1] = 0
            continue
        cx, cy = (x0 + x1) / 2 / s, (y0 + y1) / 2 / s
        w, h = max(1.0, x1 - x0) / s, max(1.0, y1 - y0) / s
        r = _gauss(hm, cx, cy, max(0.5, w / 6), max(0.45, h / 6))
        if r is None:
            continue
        gx0, gy0, gx1, gy1, g = r
        q = np.asarray(p["quad"], np.float32) / s
        for jj in range(gy0, gy1):
            for ii in range(gx0, gx1):
                wv = g[jj - gy0, ii - gx0]
                if wv < 0.5 or wv <= rw[jj, ii]:
                    continue
                rw[jj, ii] = wv
                ccx, ccy = ii + 0.5, jj + 0.5
                reg[0, jj, ii] = 1.0 if p["double"] else 0.0
                reg[1, jj, ii] = cx - ccx
                reg[2, jj, ii] = cy - ccy
                reg[3, jj, ii] = math.log(w)
                reg[4, jj, ii] = math.log(h)
                reg[5:13:2, jj, ii] = q[:, 0] - ccx
                reg[6:13:2, jj, ii] = q[:, 1] - ccy
    s = REGION_STRIDE
    H16, W16 = in_h // s, in_w // s
    rhm = np.zeros((2, H16, W16), np.float32)
    rhw = np.ones((2, H16, W16), np.float32)
    rreg = np.zeros((8, H16, W16), np.float32)
    rrw = np.zeros((2, H16, W16), np.float32)
    for k, key in enumerate(("vehicles", "loads")):
        for o in lab[key]:
            x0, y0, x1, y1 = o["box"]
            if o["ignore"]:
                rhw[k, int(y0 // s): int(math.ceil(y1 / s)) + 1, int(x0 // s): int(math.ceil(x1 / s)) + 1] = 0
                continue
            cx, cy = (x0 + x1) / 2 / s, (y0 + y1) / 2 / s
            w, h = max(1.0, x1 - x0) / s, max(1.0, y1 - y0) / s
            r = _gauss(rhm[k], cx, cy, max(0.6, w / 6), max(0.6, h / 6))
            if r is None:
                continue
            gx0, gy0, gx1, gy1, g = r
            for jj in range(gy0, gy1):
                for ii in range(gx0, gx1):
                    wv = g[jj - gy0, ii - gx0]
                    if wv < 0.5 or wv <= rrw[k, jj, ii]:
                        continue
                    rrw[k, jj, ii] = wv
                    rreg[4 * k: 4 * k + 4, jj, ii] = (cx - ii - 0.5, cy - jj - 0.5, math.log(w), math.log(h))
    return hm, hw, reg, rw, rhm, rhw, rreg, rrw


def focal(logit, target, weight):
    """CenterNet focal loss on logits; returns sum (normalise outside)."""
    p = torch.sigmoid(logit).clamp(1e-4, 1 - 1e-4)
    pos = (target >= 0.999).float()
    neg = 1 - pos
    lp = -torch.log(p) * (1 - p) ** 2 * pos
    ln = -torch.log(1 - p) * p ** 2 * (1 - target) ** 4 * neg
    return ((lp + ln) * weight).sum(), pos.sum()


def det_loss(out_p, out_r, t):
    hm, hw, reg, rw, rhm, rhw, rreg, rrw = t
    lf, npos = focal(out_p[:, 0], hm, hw)
    lf = lf / npos.clamp(min=1)
    wsum = rw.sum().clamp(min=1)
    l_dbl = (F.binary_cross_entropy_with_logits(out_p[:, 1], reg[:, 0], reduction="none") * rw).sum() / wsum
    l_box = (F.smooth_l1_loss(out_p[:, 2:6], reg[:, 1:5], reduction="none", beta=0.1).sum(1) * rw).sum() / wsum
    # corners: L1 relative to the plate width in cells
    wn = torch.exp(reg[:, 3]).clamp(min=0.5)
    l_cor = ((out_p[:, 6:14] - reg[:, 5:13]).abs().sum(1) / wn * rw).sum() / wsum
    lr = 0
    for k in range(2):
        f, n = focal(out_r[:, k], rhm[:, k], rhw[:, k])
        ws = rrw[:, k].sum().clamp(min=1)
        lb = (F.smooth_l1_loss(out_r[:, 2 + 4 * k: 6 + 4 * k], rreg[:, 4 * k: 4 * k + 4], reduction="none", beta=0.1).sum(1) * rrw[:, k]).sum() / ws
        lr = lr + f / n.clamp(min=1) + lb
    total = lf + l_dbl + l_box + 0.5 * l_cor + 0.5 * lr
    return total, {"hm": lf.item(), "dbl": l_dbl.item(), "box": l_box.item(), "cor": l_cor.item(), "reg": float(lr.detach())}


class Shards:
    def __init__(self, pattern, rng):
        self.pattern, self.rng = pattern, rng
        self.items, self.seen = [], set()
        self.refresh()

    def refresh(self):
        for f in sorted(glob.glob(self.pattern)):
            if f not in self.seen:
                with open(f, "rb") as fh:
                    self.items += pickle.load(fh)
                self.seen.add(f)

    def sample(self):
        enc, lab = self.items[self.rng.randrange(len(self.items))]
        img = cv2.imdecode(np.frombuffer(enc, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
        return img, lab


def photo_aug(img, rng):
    x = img.astype(np.float32)
    if rng.random() < 0.5:
        x = x * rng.uniform(0.7, 1.3) + rng.uniform(-20, 20)
    if rng.random() < 0.1:
        x = np.repeat(x.mean(2, keepdims=True), 3, 2)
    elif rng.random() < 0.15:  # colour casts: sodium lamps, green-tinted night cameras, blue dusk
        x = x * np.float32([rng.uniform(0.6, 1.3) for _ in range(3)])
    return np.clip(x, 0, 255)


CROP_H, CROP_W = 256, 384
# Plate widths in the letterboxed input: the scenes give a median of 22 px, the
# real frames/dev photos (close-ups letterboxed from 720x1160 and larger) 35-146 px
# (median 77). Zooming into a scene around a plate shows the detector plates at
# the real sizes; without it, big plates came back as a box around part of them.
ZOOM_WIDTH = (35.0, 160.0)
ZOOM_MAX = 6.0


def zoom_labels(lab, ox, oy, z):
    """Labels of the window at (ox, oy) scaled by z (before cropping to the window)."""
    def box(b):
        return [(b[0] - ox) * z, (b[1] - oy) * z, (b[2] - ox) * z, (b[3] - oy) * z]
    return {
        "plates": [dict(p, box=box(p["box"]), quad=(np.asarray(p["quad"], np.float32) - np.float32([ox, oy])) * z)
                   for p in lab["plates"]],
        "vehicles": [dict(o, box=box(o["box"])) for o in lab["vehicles"]],
        "loads": [dict(o, box=box(o["box"])) for o in lab["loads"]],
    }


def zoom_crop(img, lab, rng):
    """A CROP_W x CROP_H view magnified around one plate so that it is 35-160 px
    wide; None when the scene has no plate small enough to magnify."""
    pos = [p for p in lab["plates"] if not p["ignore"]]
    if not pos:
        return None
    p = rng.choice(pos)
    x0, y0, x1, y1 = p["box"]
    pw = max(1.0, x1 - x0)
    z = min(ZOOM_MAX, rng.uniform(*ZOOM_WIDTH) / pw)
    if z < 1.25:
        return None
    ww, wh = CROP_W / z, CROP_H / z
    # The plate anywhere inside the window (it fits: z keeps it under 160 px).
    ox = rng.uniform(min(x0, x1 - ww), max(x0, x1 - ww))
    oy = rng.uniform(min(y0, y1 - wh), max(y0, y1 - wh))
    M = np.float32([[z, 0, -ox * z], [0, z, -oy * z]])
    out = cv2.warpAffine(np.ascontiguousarray(img), M, (CROP_W, CROP_H), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(114, 114, 114))
    if rng.random() < 0.6:
        # Magnified pixels are soft; real close-ups are sharp. Unsharp masking
        # keeps "large" from meaning "blurred" to the detector.
        soft = cv2.GaussianBlur(out, (0, 0), max(0.8, z / 2))
        out = cv2.addWeighted(out, 1.8, soft, -0.8, 0)
    return out, crop_labels(zoom_labels(lab, ox, oy, z), 0, 0, CROP_W, CROP_H)


def pick_source(shards, extras, rng):
    """The main cache, or one of the extra caches [(Shards, share of samples)]."""
    if not extras:
        return shards  # no draw: runs without extra caches keep their random sequence
    r = rng.random()
    for ex, frac in extras:
        if r < frac and ex.items:
            return ex
        r -= frac
    return shards


def batch(shards, n, rng, crop=True, zoom=0.0, extras=()):
    xs, ts = [], []
    for _ in range(n):
        img, lab = pick_source(shards, extras, rng).sample()
        zoomed = zoom_crop(img, lab, rng) if crop and rng.random() < zoom else None
        if zoomed is not None:
            img, lab = zoomed
        elif crop:
            cw, ch = lab["content"]
            ox = rng.randrange(0, max(1, min(IN_W - CROP_W, cw - CROP_W // 2)) // 16 + 1) * 16
            oy = rng.randrange(0, max(1, min(IN_H - CROP_H, ch - CROP_H // 2)) // 16 + 1) * 16
            pos = [p for p in lab["plates"] if not p["ignore"]]
            if pos and rng.random() < 0.7:  # bias crops towards plates (the scarce positives)
                x0, y0, x1, y1 = rng.choice(pos)["box"]
                lo_x, hi_x = max(0, x1 - CROP_W + 8), min(IN_W - CROP_W, x0 - 8)
                lo_y, hi_y = max(0, y1 - CROP_H + 8), min(IN_H - CROP_H, y0 - 8)
                if hi_x >= lo_x and hi_y >= lo_y:
                    ox = int(rng.uniform(lo_x, hi_x)) // 16 * 16
                    oy = int(rng.uniform(lo_y, hi_y)) // 16 * 16
            ox, oy = max(0, min(ox, IN_W - CROP_W)), max(0, min(oy, IN_H - CROP_H))
            img = img[oy: oy + CROP_H, ox: ox + CROP_W]
            lab = crop_labels(lab, ox, oy, CROP_W, CROP_H)
        xs.append(photo_aug(img, rng).transpose(2, 0, 1) / 255.0)
        ts.append(build_targets(lab, img.shape[0], img.shape[1]))
    x = torch.from_numpy(np.stack(xs).astype(np.float32))
    t = [torch.from_numpy(np.stack([tt[i] for tt in ts])) for i in range(8)]
    return x, t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="det")
    ap.add_argument("--data", default="data/scenes")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save-every", type=int, default=50)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default="")
    ap.add_argument("--zoom", type=float, default=0.0, help="share of crops magnified around a plate")
    ap.add_argument("--extra", default="", help="more shard folders, comma-separated (e.g. close-up scenes) ...")
    ap.add_argument("--extra-frac", default="0", help="... and the share of samples drawn from each, comma-separated")
    ap.add_argument("--freeze-bn", action="store_true",
                    help="batch norms stay in eval mode: needed for a net rebuilt from ONNX by detector_from_onnx.py")
    ap.add_argument("--train-only", default="",
                    help="train only the parameters under these module prefixes, comma-separated (e.g. rh: the "
                         "vehicle / load head, so that the plate outputs stay exactly as they were)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    out = os.path.join("runs", a.name)
    os.makedirs(out, exist_ok=True)
    model = PlateDetector()
    only = tuple(f"{p}." for p in a.train_only.split(",") if p)
    for name, prm in model.named_parameters():
        prm.requires_grad_(not only or name.startswith(only))
    trainable = [prm for prm in model.parameters() if prm.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=a.lr, weight_decay=1e-4)
    step = 0
    ck = os.path.join(out, "last.pt")
    if a.resume and os.path.exists(ck):
        st = torch.load(ck, map_location="cpu")
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step = st["step"]
        rng.setstate(st["rng"])
        print(f"resumed at step {step}", flush=True)
    elif a.init:
        model.load_state_dict(torch.load(a.init, map_location="cpu")["model"])
    shards = Shards(os.path.join(a.data, "shard_*.pkl"), rng)
    dirs = [d for d in a.extra.split(",") if d]
    fracs = [float(f) for f in a.extra_frac.split(",")]
    if len(fracs) != len(dirs) and dirs:
        ap.error("--extra-frac needs one share per --extra folder")
    if sum(fracs) > 1:
        ap.error("the --extra-frac shares add up to more than 1")
    extras = [(Shards(os.path.join(d, "shard_*.pkl"), rng), f) for d, f in zip(dirs, fracs)]
    print(f"{len(shards.items)} scenes in {len(shards.seen)} shards" +
          "".join(f"; {len(ex.items)} scenes from {d} ({f:.0%} of samples)" for d, (ex, f) in zip(dirs, extras)), flush=True)
    train_with_frozen_bn(model, a.freeze_bn)
    t0 = time.time()
    agg = {}
    while step < a.steps:
        lr = a.lr * 0.5 * (1 + math.cos(math.pi * step / a.steps)) if step > 100 else a.lr * (step + 1) / 100
        for g in opt.param_groups:
            g["lr"] = lr
        full = step % 4 == 3
        x, t = batch(shards, a.batch // 2 if full else a.batch, rng, crop=not full, zoom=a.zoom, extras=extras)
        p, r = model(x)
        loss, parts = det_loss(p, r, t)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 5.0)
        opt.step()
        step += 1
        for k, v in parts.items():
            agg[k] = agg.get(k, 0) + v
        if step % 10 == 0:
            print(f"step {step}/{a.steps} lr {lr:.2e} " + " ".join(f"{k} {v / 10:.3f}" for k, v in agg.items()) +
                  f" | {(time.time() - t0) / 10:.2f}s/step, {len(shards.items)} scenes", flush=True)
            agg = {}
            t0 = time.time()
        if step % a.save_every == 0 or step == a.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng.getstate(), "seed": a.seed}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
            shards.refresh()
            for ex, _ in extras:
                ex.refresh()
    print("done", flush=True)


if __name__ == "__main__":
    main()
