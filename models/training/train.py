"""Train the plate reader on synthetic GA 36 plates (rendered and augmented on
the fly), optionally mixing in the real CCPD-style train crops.

  python train.py --seed 1 --epochs 12 --steps 300 --real-train /work/shared/data/real/plates/train
  python train.py ... --resume          # continue runs/<name>/last.pt

Double-row samples: the CTC target is trained on row_join(crop) (the same
function evaluate.py and the Rust side use); colour and layout are trained on
the plain resize. Progress: loss and synthetic hold-out exact accuracy per epoch.
Never give it real/plates/dev.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import preprocess as pp
from augment import augment, augment_real
from evaluate import load_labels_dir, read, score, synthetic_holdout
from from_onnx import train_with_frozen_bn
from model import PlateReader
from render import ALPHABET, COLORS, LAYOUTS, PROVINCES, random_plate

CHAR_IDX = {c: i + 1 for i, c in enumerate(ALPHABET)}
HERE = os.path.dirname(os.path.abspath(__file__))


class Stream(torch.utils.data.IterableDataset):
    def __init__(self, seed, epoch, real=None, real_frac=0.0, batch=128, steps=300):
        self.seed, self.epoch, self.real, self.real_frac = seed, epoch, real or [], real_frac
        self.batch, self.steps = batch, steps

    def sample(self, rng):
        if self.real and rng.random() < self.real_frac:
            it = rng.choice(self.real)
            img = augment_real(it["img"], rng)
            return img, it["text"], it["color"] or "blue", it["layout"] or "single"
        p = random_plate(rng)
        # a mild/strong mix: easy samples speed up learning the 31 provinces
        return augment(p.image, rng, strength=rng.uniform(0.4, 1.0)), p.text, p.color, p.layout

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid = info.id if info else 0
        nw = info.num_workers if info else 1
        rng = random.Random(self.seed * 1000003 + self.epoch * 7919 + wid)
        np.random.seed((self.seed * 31 + self.epoch * 17 + wid) % (2 ** 31))
        for _ in range(self.steps // nw + (1 if wid < self.steps % nw else 0)):
            xt, xp, tg, tl, col, lay, prov = [], [], [], [], [], [], []
            for _ in range(self.batch):
                img, text, c, l = self.sample(rng)
                plain = pp.plain(img)
                if l == "double":
                    xt.append(pp.to_chw(pp.row_join(img)))
                    xp.append(pp.to_chw(plain))
                else:
                    xt.append(pp.to_chw(plain))
                ids = [CHAR_IDX[ch] for ch in text]
                tg += ids
                tl.append(len(ids))
                col.append(COLORS.index(c))
                lay.append(LAYOUTS.index(l))
                prov.append(PROVINCES.index(text[0]) if text[0] in PROVINCES else len(PROVINCES))
            yield (torch.from_numpy(np.stack(xt)),
                   torch.from_numpy(np.stack(xp)) if xp else torch.zeros(0, 3, pp.INPUT_H, pp.INPUT_W),
                   torch.tensor(tg), torch.tensor(tl), torch.tensor(col), torch.tensor(lay), torch.tensor(prov))


def train_step(model, batch, opt, sched, aux_w=1.0):
    xt, xp, tg, tl, col, lay, prov = batch
    x = torch.cat([xt, xp], 0)
    ctc, c_log, l_log = model(x)
    n = xt.shape[0]
    lp = F.log_softmax(ctc[:n], -1).permute(1, 0, 2)  # T,N,C
    T = lp.shape[0]
    loss_ctc = F.ctc_loss(lp, tg, torch.full((n,), T, dtype=torch.long), tl, blank=0, zero_infinity=True)
    # colour/layout: singles from the text pass, doubles from the plain pass
    dbl = lay == 1
    idx_single = torch.nonzero(~dbl).squeeze(1)
    head_c = torch.cat([c_log[idx_single], c_log[n:]], 0)
    head_l = torch.cat([l_log[idx_single], l_log[n:]], 0)
    tc = torch.cat([col[idx_single], col[dbl]], 0)
    tlay = torch.cat([lay[idx_single], lay[dbl]], 0)
    loss_head = F.cross_entropy(head_c, tc) + F.cross_entropy(head_l, tlay)
    loss_prov = F.cross_entropy(model.province_logits()[:n], prov)
    loss = loss_ctc + 0.5 * loss_head + aux_w * loss_prov
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    sched.step()
    return loss_ctc.item(), loss_head.item() + loss_prov.item()


def torch_runner(model, device="cpu"):
    """evaluate.read's runner for a torch model on `device`: numpy in, numpy out."""
    def run(x):
        with torch.no_grad():
            c, k, l = model(torch.from_numpy(x).to(device))
        return c.float().cpu().numpy(), k.float().cpu().numpy(), l.float().cpu().numpy()
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--name", default="plate_reader")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--steps", type=int, default=300, help="steps per epoch")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--real-train", default="", help="real/plates/train folder to mix in (never dev)")
    ap.add_argument("--real-frac", type=float, default=0.15)
    ap.add_argument("--real-from-epoch", type=int, default=1)
    ap.add_argument("--holdout", type=int, default=1000)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default="", help="start from these weights (fine-tuning)")
    ap.add_argument("--freeze-bn", action="store_true",
                    help="batch norms stay in eval mode (their statistics fixed, affine still trained): "
                         "needed for a net rebuilt from ONNX by from_onnx.py, whose statistics were folded away")
    a = ap.parse_args()
    assert "/dev" not in a.real_train.rstrip("/")[-4:], "never train on real/plates/dev"

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    out = os.path.join(HERE, "runs", a.name)
    os.makedirs(out, exist_ok=True)
    model = PlateReader()
    if a.init:
        missing = model.load_state_dict(torch.load(a.init, map_location="cpu")["model"], strict=False)
        print("init from", a.init, missing, flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    total = a.epochs * a.steps
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total, pct_start=0.15 if not a.init else 0.05,
                                                div_factor=20 if not a.init else 5, final_div_factor=200)
    start_epoch = 0
    best = -1.0
    ck = os.path.join(out, "last.pt")
    if a.resume and os.path.exists(ck):
        st = torch.load(ck, map_location="cpu")
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        sched.load_state_dict(st["sched"])
        start_epoch, best = st["epoch"] + 1, st.get("best", -1.0)
        print(f"resumed from {ck} at epoch {start_epoch}", flush=True)
    real = load_labels_dir(a.real_train) if a.real_train else []
    print(f"real train crops: {len(real)}; holdout {a.holdout}; {total} steps of {a.batch}", flush=True)
    hold = synthetic_holdout(a.holdout)
    hold_imgs = [it["img"] for it in hold]

    for ep in range(start_epoch, a.epochs):
        train_with_frozen_bn(model, a.freeze_bn)
        ds = Stream(a.seed, ep, real if ep >= a.real_from_epoch else None, a.real_frac, a.batch, a.steps)
        dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=a.workers,
                                         worker_init_fn=lambda _: torch.set_num_threads(1))
        t0 = time.time()
        lc = lh = 0.0
        for i, b in enumerate(dl):
            c, h = train_step(model, b, opt, sched)
            lc, lh = lc + c, lh + h
            if (i + 1) % 50 == 0:
                print(f"ep {ep} step {i + 1}/{a.steps} ctc {lc / (i + 1):.3f} heads {lh / (i + 1):.3f} "
                      f"lr {sched.get_last_lr()[0]:.2e} {time.time() - t0:.0f}s", flush=True)
        model.eval()
        sc = score(hold, read(torch_runner(model), hold_imgs))
        acc = sc["all"]["acc"]
        per = " ".join(f"{k.split(':')[1]}={100 * v['acc']:.1f}" for k, v in sc.items() if k.startswith(("color:", "layout:")))
        print(f"EPOCH {ep} ctc {lc / a.steps:.3f} heads {lh / a.steps:.3f} holdout exact {100 * acc:.2f}% "
              f"colour-head {100 * sc['color_head']['acc']:.1f}% layout-head {100 * sc['layout_head']['acc']:.1f}% | {per} "
              f"| {time.time() - t0:.0f}s", flush=True)
        state = {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "epoch": ep,
                 "best": max(best, acc), "seed": a.seed, "args": vars(a), "holdout": sc}
        torch.save(state, ck)
        if acc >= best:
            best = acc
            torch.save(state, os.path.join(out, "best.pt"))
    with open(os.path.join(out, "train_summary.json"), "w") as f:
        json.dump({"best_holdout_exact": best, "args": vars(a)}, f, indent=1)


if __name__ == "__main__":
    main()
